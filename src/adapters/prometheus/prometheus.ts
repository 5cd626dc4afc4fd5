import { request } from 'undici';
import { SurgeError } from '../../errors.js';
import { basicAuthorization, withoutCredentials } from '../../util/url.js';
import { transportFailureReason } from '../../util/transport-failure.js';
import { isHttpUrl, withoutUrlCredentials } from '../../util/url.js';
import type { PromSample, PrometheusPort } from './port.js';

export interface PrometheusOptions {
  /**
   * Base URL, e.g. `http://127.0.0.1:9090` (a path prefix such as `/prometheus` is kept).
   * `user:pass@` becomes a Basic Authorization header and never appears in a message.
   */
  url: string;
  /** Extra request headers, e.g. from `prometheusHeaders` (--header, --bearer-token-file); never printed. */
  headers?: Record<string, string>;
  /** Per query time limit, ms, connecting included. Default 10 000. */
  timeoutMs?: number;
}

/** The body of every /api/v1 answer, success or error. */
interface QueryResponse {
  status?: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

type VectorItem = { metric?: Record<string, string>; value?: [number, string]; histogram?: unknown };

/**
 * The real Prometheus client (instant queries), on undici.
 * @throws SurgeError SRG_CLI_USAGE when `url` is not an http(s) URL (before any request).
 */
export function createPrometheus(opts: PrometheusOptions): PrometheusPort {
  if (!isHttpUrl(opts.url)) {
    throw new SurgeError('SRG_CLI_USAGE', `Not an http(s) URL: '${withoutUrlCredentials(opts.url, '<redacted>')}'`, {
      hint: 'Pass the Prometheus base URL, e.g. --prometheus http://127.0.0.1:9090',
    });
  }
  const where = withoutCredentials(opts.url);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  // fetch clients ignore credentials in the URL; an explicit Authorization header wins over them.
  const basic = basicAuthorization(opts.url);
  if (basic !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) headers.authorization = basic;

  async function query(promql: string, o: { signal?: AbortSignal } = {}): Promise<PromSample[]> {
    const url = new URL(where + '/api/v1/query');
    url.searchParams.set('query', promql);
    let status: number;
    let text: string;
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      const res = await request(url, { method: 'GET', headers, signal: o.signal ? AbortSignal.any([timeout, o.signal]) : timeout });
      status = res.statusCode;
      // Inside the try: the connection can still drop, or the time run out, while the body streams.
      text = await res.body.text();
    } catch (err) {
      // Ctrl-C (or a gate that stopped) while waiting for Prometheus is an interruption, not an unreachable server.
      if (o.signal?.aborted) throw new SurgeError('SRG_CLI_INTERRUPTED', `interrupted while querying Prometheus at ${where}`, { cause: err });
      throw new SurgeError('SRG_PROMETHEUS_UNREACHABLE', `Prometheus at ${where} did not answer: ${transportFailureReason(err, where, timeoutMs)}`, {
        hint: 'Check the Prometheus URL (--prometheus, or prometheus: in a runbook; the base URL, e.g. http://127.0.0.1:9090), that Prometheus runs, and network access to it.',
        cause: err,
      });
    }
    // An auth proxy in front of Prometheus answers 401/403 in HTML or plain text.
    if (status === 401 || status === 403) {
      throw new SurgeError('SRG_DATA_SOURCE', `Prometheus at ${where} refused the query (HTTP ${status}): it wants credentials`, {
        hint: 'Pass a token with --bearer-token-file, another header with --header "Name: value", or user:password@ in the URL.',
      });
    }
    let body: QueryResponse;
    try {
      body = JSON.parse(text) as QueryResponse;
    } catch {
      // A gateway answering for a Prometheus that is down or restarting: nothing answered the query.
      if (status === 502 || status === 503 || status === 504) {
        throw new SurgeError('SRG_PROMETHEUS_UNREACHABLE', `Prometheus at ${where} did not answer: the proxy in front of it said HTTP ${status}`, {
          hint: 'Check that Prometheus runs behind the proxy.',
        });
      }
      throw new SurgeError('SRG_DATA_SOURCE', `Prometheus at ${where} answered HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`, {
        hint: 'Check that the URL points at Prometheus itself: its base URL, e.g. http://127.0.0.1:9090, without /api/v1 or /graph.',
      });
    }
    if (body.status !== 'success') {
      // 400 bad_data is a PromQL syntax error, 422 execution an evaluation error, 503 timeout/canceled.
      const why = [body.errorType, body.error].filter((s) => s !== undefined && s !== '').join(': ') || `HTTP ${status} without an error message`;
      throw new SurgeError('SRG_DATA_SOURCE', `Prometheus at ${where} refused the query ${JSON.stringify(promql)}: ${why}`, {
        hint: 'Check the PromQL in the Prometheus UI (Graph tab) or with `promtool query instant`.',
      });
    }
    return samples(body.data, promql, where);
  }

  return { url: where, query };
}

/** The samples of an instant query's `data`: a vector per series, a scalar as one unlabelled sample. */
function samples(data: QueryResponse['data'], promql: string, where: string): PromSample[] {
  const type = data?.resultType;
  if (type === 'scalar' && Array.isArray(data?.result)) {
    return [{ metric: {}, value: promValue((data.result as [number, string])[1]) }];
  }
  if (type === 'vector' && Array.isArray(data?.result)) {
    return (data.result as VectorItem[]).map((s) => {
      if (s.value === undefined) {
        // A native histogram has buckets, not one number: the query has to say which number it wants.
        throw new SurgeError('SRG_DATA_SOURCE', `Prometheus at ${where} answered native histograms to ${JSON.stringify(promql)}, not one number per series`, {
          hint: 'Ask for a number, e.g. histogram_quantile(0.99, sum(rate(x[5m]))) or histogram_count(rate(x[5m])).',
        });
      }
      return { metric: s.metric ?? {}, value: promValue(s.value[1]) };
    });
  }
  throw new SurgeError('SRG_DATA_SOURCE', `Prometheus answered a "${type ?? 'missing'}" result to ${JSON.stringify(promql)}; expected an instant vector or a scalar`, {
    hint: type === 'matrix' ? 'Drop the range selector ([5m]) or wrap it in a function such as rate(x[5m]).' : `Check that ${where} is Prometheus.`,
  });
}

/** Prometheus writes values as strings: `"0.25"`, `"NaN"`, `"+Inf"`, `"-Inf"` (which Number() does not read). */
function promValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}


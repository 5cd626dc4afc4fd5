import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { SurgeError } from '../../errors.js';
import type { RawSeries } from '../types.js';
import { basicAuthorization, withoutCredentials, withoutUrlCredentials } from '../../util/url.js';

/** Where and what to read from Prometheus. */
export interface PrometheusQueryOptions {
  /** Base URL, e.g. http://127.0.0.1:9090 (a path prefix is kept). */
  url: string;
  /** PromQL range query. */
  query: string;
  /** Range start and end, epoch ms. */
  start: number;
  end: number;
  /** Resolution step, ms. */
  stepMs: number;
  /** Extra request headers (e.g. Authorization: Bearer ...). */
  headers?: Record<string, string>;
  /** PEM file with the CA that signed the server certificate. */
  caFile?: string;
  /** Skip TLS verification (self-signed test servers only). Default false. */
  insecureSkipVerify?: boolean;
  /** Points per series per request; Prometheus refuses more than 11,000. Default 10,000. */
  maxPointsPerQuery?: number;
  /** Per request timeout, ms. Default 30,000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface MatrixResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  /** A native-histogram series carries `histograms` (and no `values`) since Prometheus 2.40. */
  data?: { resultType: string; result: { metric: Record<string, string>; values?: [number, string][]; histograms?: unknown[] }[] };
}

/**
 * Reads a range query through /api/v1/query_range, split into consecutive chunks so no request
 * asks for more than `maxPointsPerQuery` points per series. Each label set becomes one series.
 */
export async function readPrometheus(opts: PrometheusQueryOptions): Promise<RawSeries[]> {
  const { Agent, request } = await import('undici');
  const maxPoints = Math.min(opts.maxPointsPerQuery ?? 10_000, 11_000);
  const stepS = opts.stepMs / 1000;
  if (!(opts.end > opts.start)) throw new SurgeError('SRG_CLI_USAGE', 'the Prometheus range end must be after its start');
  // Credentials in the URL (http://user:pass@host) become a Basic Authorization header (fetch
  // clients ignore them) and never appear in a message: `where` is the URL without them.
  if (!URL.canParse(opts.url)) {
    throw new SurgeError('SRG_CLI_USAGE', `"${withoutUrlCredentials(opts.url, '***')}" is not a URL: expected the Prometheus base URL, e.g. http://127.0.0.1:9090`);
  }
  const basic = basicAuthorization(opts.url);
  const where = withoutCredentials(opts.url);
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (basic !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) headers.authorization = basic;
  const dispatcher = new Agent({
    connect: {
      ...(opts.caFile ? { ca: readCa(opts.caFile) } : {}),
      ...(opts.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
    },
  });
  const series = new Map<string, RawSeries>();
  const chunkMs = (maxPoints - 1) * opts.stepMs;
  try {
    // Chunk boundaries are whole steps from the start, and the next chunk begins one step later,
    // so no point is fetched twice.
    for (let from = opts.start; from <= opts.end; from += chunkMs + opts.stepMs) {
      const to = Math.min(opts.end, from + chunkMs);
      const url = new URL(where + '/api/v1/query_range');
      url.searchParams.set('query', opts.query);
      url.searchParams.set('start', String(from / 1000));
      url.searchParams.set('end', String(to / 1000));
      url.searchParams.set('step', String(stepS));
      let body: MatrixResponse;
      let status: number;
      try {
        const res = await request(url, {
          method: 'GET',
          headers,
          dispatcher,
          headersTimeout: opts.timeoutMs ?? 30_000,
          bodyTimeout: opts.timeoutMs ?? 30_000,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        status = res.statusCode;
        const text = await res.body.text();
        // An auth proxy in front of Prometheus answers 401/403 in HTML or plain text.
        if (status === 401 || status === 403) {
          throw new SurgeError('SRG_DATA_SOURCE', `Prometheus at ${where} refused the query (HTTP ${status})`, { hint: 'Pass credentials with --bearer-token-file or --header.' });
        }
        try {
          body = JSON.parse(text) as MatrixResponse;
        } catch {
          throw new SurgeError('SRG_DATA_SOURCE', `Prometheus at ${where} answered HTTP ${status} with a non-JSON body: ${text.slice(0, 200)}`);
        }
      } catch (err) {
        if (err instanceof SurgeError) throw err;
        // Ctrl-C while waiting for Prometheus is an interruption (exit 130), not an unreachable server.
        if (opts.signal?.aborted) throw new SurgeError('SRG_CLI_INTERRUPTED', `interrupted while reading Prometheus at ${where}`, { cause: err });
        // A certificate it does not trust is a refusal to fix with the TLS flags (exit 2); no answer at all is exit 3.
        const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/i.test(`${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
        throw new SurgeError(tls ? 'SRG_DATA_SOURCE' : 'SRG_PROMETHEUS_UNREACHABLE', `cannot reach Prometheus at ${where}: ${(err as Error).message}`, {
          hint: 'Check --prometheus, network access and TLS options (--ca-file, --insecure-skip-verify).',
          cause: err,
        });
      }
      if (body.status !== 'success' || !body.data) {
        throw new SurgeError('SRG_DATA_SOURCE', `Prometheus query failed (HTTP ${status}): ${body.errorType ?? ''} ${body.error ?? 'no data'}`.trim(), {
          hint: 'Check the PromQL with the Prometheus UI; range queries need a matrix (e.g. sum(rate(x[5m]))).',
        });
      }
      for (const r of body.data.result) {
        if (r.values === undefined) {
          // A native histogram has buckets, not one number per step: the user has to say which number.
          const what = r.histograms !== undefined ? 'native histograms' : `a "${body.data.resultType}" result without values`;
          throw new SurgeError('SRG_DATA_FORMAT', `the Prometheus query returned ${what} for ${labelKey(r.metric)}, not one number per step: ${opts.query}`, {
            hint: 'Ask for a number: e.g. sum(rate(orders_accepted_total[5m])) for a rate, histogram_count(rate(x[5m])) for a histogram\'s event rate, or histogram_quantile(0.95, sum(rate(x[5m]))) for a quantile.',
          });
        }
        const key = labelKey(r.metric);
        let s = series.get(key);
        if (!s) series.set(key, (s = { name: key, points: [] }));
        for (const [t, v] of r.values) s.points.push({ t: Math.round(t * 1000), v: Number(v) });
      }
    }
  } finally {
    await dispatcher.close();
  }
  if (series.size === 0) {
    throw new SurgeError('SRG_DATA_EMPTY', `the Prometheus query returned no series: ${opts.query}`, { hint: 'Check the metric name, labels and --lookback.' });
  }
  return [...series.values()];
}



function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SurgeError('SRG_DATA_SOURCE', `cannot read CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** `{job="a",instance="b"}`, or the query's single series name when it has no labels. */
function labelKey(metric: Record<string, string>): string {
  const entries = Object.entries(metric).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return 'series';
  return `{${entries.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

/**
 * The extra request headers of a Prometheus read: `Name: value` lines (--header) and a bearer
 * token read from a file (--bearer-token-file). The token is never shown in a message.
 */
export async function prometheusHeaders(lines: readonly string[], bearerTokenFile?: string): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const h of lines) {
    const i = h.indexOf(':');
    if (i <= 0) throw new SurgeError('SRG_CLI_USAGE', `--header "${h}" is not "Name: value"`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  if (bearerTokenFile !== undefined) {
    const token = await readFile(bearerTokenFile, 'utf8').catch((err: unknown) => {
      throw new SurgeError('SRG_DATA_SOURCE', `cannot read --bearer-token-file ${bearerTokenFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    });
    headers.Authorization = `Bearer ${token.trim()}`;
  }
  return headers;
}

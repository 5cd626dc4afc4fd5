import { SurgeError } from '../errors.js';
import { withoutCredentials } from '../forecast/sources/prometheus.js';
import type { WatchSample, WatchSource } from './types.js';

/** Where and how to ask Prometheus. */
export interface PrometheusWatchOptions {
  /** Base URL, e.g. http://127.0.0.1:9090 (a path prefix is kept; user:pass@ becomes Basic auth). */
  url: string;
  /** Extra request headers (--header, --bearer-token-file as built by prometheusHeaders). */
  headers?: Record<string, string>;
  /** The PromQL rate() window, e.g. `1m`. Default 1m. */
  rateWindow?: string;
  /** Per query timeout, ms. Default 10,000. */
  timeoutMs?: number;
  now: () => number;
}

const INTAKE = 'route=~"/v1/orders|/v1/orders/batch",method="POST"';
const DURATION = 'surgectl_http_request_duration_seconds';

/** The PromQL of each number of a sample, over the rate window `w`. */
export function watchQueries(w: string): Record<string, string> {
  const answers = (codes: string) => `sum(rate(${DURATION}_count{${INTAKE}${codes}}[${w}]))`;
  // A stack that never answered 500 has no such series: no series is zero refusals, not "unknown".
  const refusals = (codes: string) => `${answers(codes)} or vector(0)`;
  const quantile = (q: number) => `histogram_quantile(${q}, sum by (le) (rate(${DURATION}_bucket{route="/v1/orders",method="POST"}[${w}])))`;
  return {
    accepted: `sum(rate(surgectl_orders_accepted_total[${w}]))`,
    confirmed: `sum(rate(surgectl_orders_completed_total{status="confirmed"}[${w}]))`,
    intake: answers(''),
    p50: quantile(0.5),
    p99: quantile(0.99),
    errors: refusals(',status_code=~"5..",status_code!="503"'),
    rateLimited: refusals(',status_code="429"'),
    unavailable: refusals(',status_code="503"'),
    queueDepth: 'sum(surgectl_queue_depth)',
    oldestWait: 'max(surgectl_queue_oldest_age_seconds)',
    workersBusy: 'sum(surgectl_workers{state="busy"})',
    workersSize: 'sum(surgectl_workers)',
    breaker: 'max(surgectl_payment_breaker_state)',
    flags: 'max by (flag) (surgectl_flag_enabled)',
    acceptedTotal: 'sum(surgectl_orders_accepted_total)',
    confirmedTotal: 'sum(surgectl_orders_completed_total{status="confirmed"})',
  };
}

interface VectorResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
}

type Vector = { metric: Record<string, string>; value: number }[];

const BREAKER = ['closed', 'half_open', 'open'] as const;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A sample from the answers of {@link watchQueries}: an empty vector is "no data" (null), NaN too. */
export function prometheusSample(at: number, r: Record<string, Vector>): WatchSample {
  const one = (key: string, scale = 1): number | null => {
    const v = r[key]?.[0]?.value;
    return v === undefined || !Number.isFinite(v) ? null : round(v * scale);
  };
  const breaker = one('breaker');
  const accepted = one('acceptedTotal');
  const confirmed = one('confirmedTotal');
  return {
    at,
    acceptedPerSec: one('accepted'),
    confirmedPerSec: one('confirmed'),
    intakePerSec: one('intake'),
    intakeP50Ms: one('p50', 1000),
    intakeP99Ms: one('p99', 1000),
    errorsPerSec: one('errors'),
    rateLimitedPerSec: one('rateLimited'),
    unavailablePerSec: one('unavailable'),
    queueDepth: one('queueDepth'),
    oldestWaitMs: one('oldestWait', 1000),
    workersBusy: one('workersBusy'),
    workersSize: one('workersSize'),
    breaker: breaker === null ? null : (BREAKER[Math.round(breaker)] ?? null),
    flags: (r.flags ?? [])
      .filter((s) => s.metric.flag !== undefined)
      .map((s) => ({ name: s.metric.flag as string, enabled: s.value >= 1 }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    stock: null,
    totals: accepted === null || confirmed === null ? null : { accepted, confirmed },
  };
}

/**
 * Prometheus as a watch source: one instant query (GET /api/v1/query) per number, the rates
 * over `rateWindow`. No answer is SRG_PROMETHEUS_UNREACHABLE (exit 3); a refusal or a bad
 * answer SRG_DATA_SOURCE (exit 2).
 */
export function createPrometheusWatchSource(opts: PrometheusWatchOptions): WatchSource {
  let base: URL;
  try {
    base = new URL(opts.url);
  } catch {
    throw new SurgeError('SRG_CLI_USAGE', `--prometheus must be an http(s) URL, e.g. http://127.0.0.1:9090`);
  }
  const where = withoutCredentials(opts.url);
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if ((base.username || base.password) && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    const userinfo = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
    headers.authorization = `Basic ${Buffer.from(userinfo).toString('base64')}`;
  }
  const queries = watchQueries(opts.rateWindow ?? '1m');
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function query(promql: string, at: number, signal: AbortSignal | undefined): Promise<Vector> {
    const { request } = await import('undici');
    const url = new URL(where + '/api/v1/query');
    url.searchParams.set('query', promql);
    url.searchParams.set('time', String(at / 1000));
    let status: number;
    let text: string;
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      const res = await request(url, { method: 'GET', headers, signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      if (signal?.aborted) throw new SurgeError('SRG_CLI_INTERRUPTED', `interrupted while reading Prometheus at ${where}`, { cause: err });
      throw new SurgeError('SRG_PROMETHEUS_UNREACHABLE', `cannot reach Prometheus at ${where}: ${(err as Error).message}`, {
        hint: 'Check --prometheus and network access.',
        cause: err,
      });
    }
    if (status === 401 || status === 403) {
      throw new SurgeError('SRG_DATA_SOURCE', `Prometheus at ${where} refused the query (HTTP ${status})`, { hint: 'Pass credentials with --bearer-token-file or --header.' });
    }
    let body: VectorResponse;
    try {
      body = JSON.parse(text) as VectorResponse;
    } catch {
      throw new SurgeError('SRG_DATA_SOURCE', `Prometheus at ${where} answered HTTP ${status} with a non-JSON body: ${text.slice(0, 200)}`);
    }
    if (body.status !== 'success' || body.data?.resultType !== 'vector') {
      throw new SurgeError('SRG_DATA_SOURCE', `Prometheus query failed (HTTP ${status}): ${body.errorType ?? ''} ${body.error ?? 'not a vector'}`.trim(), { hint: promql });
    }
    return body.data.result.filter((s) => s.value !== undefined).map((s) => ({ metric: s.metric, value: Number(s.value?.[1]) }));
  }

  return {
    describe: where,
    needsTwoReadings: false,
    async read(o = {}) {
      const at = opts.now();
      const entries = await Promise.all(Object.entries(queries).map(async ([k, q]) => [k, await query(q, at, o.signal)] as const));
      return prometheusSample(at, Object.fromEntries(entries));
    },
  };
}

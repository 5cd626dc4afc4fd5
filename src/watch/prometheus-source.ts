import type { PromSample, PrometheusPort } from '../adapters/prometheus/port.js';
import { createPrometheus } from '../adapters/prometheus/prometheus.js';
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

type Vector = readonly PromSample[];

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
 * over `rateWindow`, through the Prometheus adapter. No answer is SRG_PROMETHEUS_UNREACHABLE
 * (exit 3); a refusal or a bad answer SRG_DATA_SOURCE (exit 2).
 * @throws SurgeError SRG_CLI_USAGE when `url` is not an http(s) URL.
 */
export function createPrometheusWatchSource(opts: PrometheusWatchOptions): WatchSource {
  const prometheus = createPrometheus({ url: opts.url, ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
  return prometheusWatchSource(prometheus, opts);
}

/** The watch source over any {@link PrometheusPort} (the real adapter, or the fake in tests). */
export function prometheusWatchSource(prometheus: PrometheusPort, opts: { rateWindow?: string; now: () => number }): WatchSource {
  const queries = watchQueries(opts.rateWindow ?? '1m');
  return {
    describe: prometheus.url,
    needsTwoReadings: false,
    async read(o = {}) {
      const at = opts.now();
      const q = o.signal ? { signal: o.signal } : {};
      const entries = await Promise.all(Object.entries(queries).map(async ([k, promql]) => [k, await prometheus.query(promql, q)] as const));
      return prometheusSample(at, Object.fromEntries(entries));
    },
  };
}

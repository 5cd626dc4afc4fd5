import { evaluateCondition, parseMetricSelector, type ConditionResult, type MetricObservation, type MetricSelector, type MetricType } from '../probes/index.js';
import type { LiveView, RawResult, ScenarioOutcome, TimelinePoint } from './evidence.js';
import { labelsMatch, sumSamples, type PromExposition } from '../util/prom-text.js';
import { BUILTIN_METRICS, TREND_STATS, trendOf } from './metrics.js';
import type { ParsedThreshold } from './scenario.js';

/** One metric in k6's handleSummary shape. */
export interface K6Metric {
  type: MetricType;
  contains: 'time' | 'data' | 'default';
  values: Record<string, number>;
  /** Expression -> { ok }. `ok: false` means the threshold failed (k6 >= 0.30 semantics). */
  thresholds?: Record<string, { ok: boolean }>;
}

/** The data k6 passes to handleSummary(data); surgectl writes the same shape with --out. */
export interface K6Summary {
  root_group: { name: string; path: string; id: string; groups: unknown[]; checks: { name: string; passes: number; fails: number }[] };
  options: { summaryTrendStats: string[]; summaryTimeUnit: string; noColor: boolean };
  state: { isStdOutTTY: boolean; isStdErrTTY: boolean; testRunDurationMs: number };
  metrics: Record<string, K6Metric>;
}

/** One threshold's verdict. */
export interface ThresholdResult {
  /** Metric key as written, with tag filters: `http_req_duration{scenario:checkout}`. */
  readonly metric: string;
  /** The expression: `p(95)<200`. */
  readonly threshold: string;
  readonly ok: boolean;
  readonly phase: ConditionResult['phase'];
  /** The observed aggregate (ms for durations), when there was one. */
  readonly value?: number;
  readonly message?: string;
  readonly abortOnFail: boolean;
}

/** What a load test returns: k6's summary plus the verdicts and the run's own figures. */
export interface LoadTestResult {
  readonly engine: 'builtin' | 'k6';
  readonly scenario: string;
  readonly target: string;
  /** True when every threshold passed and the run was not aborted by a threshold. */
  readonly passed: boolean;
  readonly thresholds: readonly ThresholdResult[];
  readonly summary: K6Summary;
  /** Why the run stopped early (a threshold with abortOnFail, or `interrupted`). */
  readonly aborted?: string;
  /** Per load profile: scheduled vs handled arrivals (builtin engine only). */
  readonly scenarios: readonly ScenarioOutcome[];
  /** One point per second (builtin engine only). */
  readonly timeline: readonly TimelinePoint[];
  readonly durationMs: number;
  /** Things a reader should know (e.g. /metrics could not be scraped). */
  readonly warnings: readonly string[];
}

/** Everything the summary is computed from. */
export interface MetricsInput
  extends Pick<RawResult, 'series' | 'iterations' | 'dropped' | 'dataReceived' | 'ordersAccepted' | 'ordersRejected' | 'durationMs'>,
    Partial<Pick<RawResult, 'vus' | 'vusMax' | 'scenarios'>> {
  /** /metrics of the target before and after the run. */
  readonly scrapeBefore?: PromExposition;
  readonly scrapeAfter?: PromExposition;
  /** Whether the mix creates orders (order metrics are shown only then). */
  readonly createsOrders: boolean;
}

const HTTP_TAGS = new Set(['scenario', 'name', 'method', 'status', 'expected_response']);

/**
 * Answers "what is metric X{tags}" for thresholds and the summary. Returns undefined when the
 * metric was not recorded (the threshold then reports `error`, which fails it).
 */
export function observe(input: MetricsInput, sel: MetricSelector): { type: MetricType; contains: K6Metric['contains']; obs: MetricObservation } | undefined {
  const secs = Math.max(input.durationMs / 1000, 0.001);
  const counter = (count: number): MetricObservation => ({ type: 'counter', values: { count, rate: count / secs } });
  const tagKeys = Object.keys(sel.tags);
  switch (sel.metric) {
    case 'http_reqs':
    case 'http_req_duration':
    case 'http_req_failed': {
      // A scenario's own `tags` are on its series too; a key no series carries was not recorded.
      if (tagKeys.some((k) => !HTTP_TAGS.has(k) && !input.series.some((s) => k in s.tags))) return undefined;
      const picked = input.series.filter((s) => labelsMatch(s.tags, sel.tags));
      const count = picked.reduce((a, s) => a + s.count, 0);
      if (sel.metric === 'http_reqs') return { type: 'counter', contains: 'default', obs: counter(count) };
      if (sel.metric === 'http_req_failed') {
        const failed = picked.reduce((a, s) => a + s.failed, 0);
        if (count === 0) return { type: 'rate', contains: 'default', obs: { type: 'rate', values: {} } };
        return { type: 'rate', contains: 'default', obs: { type: 'rate', values: { rate: failed / count, passes: failed, fails: count - failed } } };
      }
      return { type: 'trend', contains: 'time', obs: trendOf(picked) ?? { type: 'trend', values: {} } };
    }
    case 'iterations':
    case 'dropped_iterations': {
      if (tagKeys.some((k) => k !== 'scenario')) return undefined;
      const field = sel.metric === 'iterations' ? 'iterations' : 'dropped';
      if (tagKeys.length === 0) return { type: 'counter', contains: 'default', obs: counter(input[field]) };
      const sc = input.scenarios?.find((s) => s.name === sel.tags.scenario);
      return sc ? { type: 'counter', contains: 'default', obs: counter(sc[field]) } : undefined;
    }
    case 'data_received':
      return tagKeys.length ? undefined : { type: 'counter', contains: 'data', obs: counter(input.dataReceived) };
    case 'orders_accepted':
    case 'orders_rejected':
      if (tagKeys.length) return undefined;
      return { type: 'counter', contains: 'default', obs: counter(sel.metric === 'orders_accepted' ? input.ordersAccepted : input.ordersRejected) };
    case 'vus':
    case 'vus_max': {
      if (tagKeys.length) return undefined;
      const v = sel.metric === 'vus' ? input.vus : input.vusMax === undefined ? undefined : { value: input.vusMax, min: input.vusMax, max: input.vusMax };
      return v ? { type: 'gauge', contains: 'default', obs: { type: 'gauge', values: { ...v } } } : undefined;
    }
    case 'orders_confirmed':
      return scrapedCounter(input, 'surgectl_orders_completed_total', { ...sel.tags, status: 'confirmed' }, counter);
    case 'inventory_oversold_units':
      return scrapedGauge(input, 'surgectl_inventory_oversold_units', sel.tags);
    default: {
      const t = input.scrapeAfter?.types.get(sel.metric) ?? input.scrapeAfter?.types.get(sel.metric.replace(/_total$/, ''));
      if (t === 'counter') return scrapedCounter(input, sel.metric, sel.tags, counter);
      if (t === 'gauge' || t === 'untyped') return scrapedGauge(input, sel.metric, sel.tags);
      return undefined;
    }
  }
}

/** Sum of the matching samples of a scrape; undefined when there was no scrape or no such sample. */
function sumScraped(scrape: PromExposition | undefined, name: string, filter: Readonly<Record<string, string>>): number | undefined {
  return scrape ? sumSamples(scrape.samples, name, filter) : undefined;
}

function scrapedCounter(input: MetricsInput, name: string, tags: Readonly<Record<string, string>>, counter: (n: number) => MetricObservation) {
  const after = sumScraped(input.scrapeAfter, name, tags);
  if (after === undefined) {
    // A counter with no samples yet for these labels (e.g. nothing confirmed) is a real zero when the target answered.
    const known = input.scrapeAfter && (input.scrapeAfter.types.has(name) || input.scrapeAfter.types.has(name.replace(/_total$/, '')));
    return known ? { type: 'counter' as const, contains: 'default' as const, obs: counter(0) } : undefined;
  }
  const before = sumScraped(input.scrapeBefore, name, tags) ?? 0;
  return { type: 'counter' as const, contains: 'default' as const, obs: counter(Math.max(0, after - before)) };
}

function scrapedGauge(input: MetricsInput, name: string, tags: Readonly<Record<string, string>>) {
  const v = sumScraped(input.scrapeAfter, name, tags);
  return v === undefined ? undefined : { type: 'gauge' as const, contains: 'default' as const, obs: { type: 'gauge' as const, values: { value: v, min: v, max: v } } };
}

/** Evaluates every threshold; a metric that was not recorded fails its thresholds with a reason. */
export function evaluateThresholds(input: MetricsInput, thresholds: readonly ParsedThreshold[]): ThresholdResult[] {
  return thresholds.map((t) => {
    const o = observe(input, t.selector);
    const r: ConditionResult = o
      ? evaluateCondition(t.condition, o.obs)
      : {
          phase: 'error',
          value: undefined,
          condition: t.condition.source,
          message: `metric ${t.selector.source} was not recorded (not a builtin metric or tag, and not in the target's /metrics)`,
        };
    return {
      metric: t.selector.source,
      threshold: t.condition.source,
      ok: r.phase === 'pass',
      phase: r.phase,
      ...(typeof r.value === 'number' ? { value: r.value } : {}),
      ...(r.message === undefined ? {} : { message: r.message }),
      abortOnFail: t.abortOnFail,
    };
  });
}

/**
 * The abortOnFail verdict on a running test's live figures: the first threshold with abortOnFail
 * that fails once its delayAbortEval has passed, as the reason the run stops; undefined to go on.
 * Only a real failure aborts: a metric with no data yet (phase error) is not a verdict.
 */
export function abortReason(thresholds: readonly ParsedThreshold[], live: LiveView, createsOrders: boolean): string | undefined {
  const input: MetricsInput = { ...live, dataReceived: 0, durationMs: live.elapsedMs, createsOrders };
  for (const t of thresholds) {
    if (!t.abortOnFail || live.elapsedMs < t.delayAbortEvalMs) continue;
    const o = observe(input, t.selector);
    if (o && evaluateCondition(t.condition, o.obs).phase === 'fail') return `threshold ${t.selector.source}: ${t.condition.source} failed (abortOnFail)`;
  }
  return undefined;
}

/** Builds k6's summary shape from the run's metrics and the threshold verdicts. */
export function buildSummary(input: MetricsInput, results: readonly ThresholdResult[], tty: { stdout: boolean; stderr: boolean } = { stdout: false, stderr: false }): K6Summary {
  const metrics: Record<string, K6Metric> = {};
  const add = (key: string, sel: MetricSelector) => {
    const o = observe(input, sel);
    if (!o) return;
    const values = o.type === 'trend' ? pickTrend(o.obs.values) : { ...o.obs.values };
    metrics[key] = { type: o.type, contains: o.contains, values };
  };
  const base = ['http_reqs', 'http_req_duration', 'http_req_failed', 'iterations', 'dropped_iterations', 'data_received', 'vus', 'vus_max'];
  if (input.createsOrders) base.push('orders_accepted', 'orders_rejected', 'orders_confirmed', 'inventory_oversold_units');
  for (const name of base) add(name, { source: name, metric: name, tags: {} });
  for (const r of results) {
    if (!metrics[r.metric]) {
      const sel = parseMetricSelector(r.metric);
      add(r.metric, sel);
      // A threshold on a metric that was never recorded still shows up, failed, like k6 shows it.
      metrics[r.metric] ??= { type: BUILTIN_METRICS[sel.metric]?.type ?? 'counter', contains: 'default', values: {} };
    }
    const m = metrics[r.metric]!;
    (m.thresholds ??= {})[r.threshold] = { ok: r.ok };
  }
  return {
    root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: [], checks: [] },
    options: { summaryTrendStats: [...TREND_STATS], summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: tty.stdout, isStdErrTTY: tty.stderr, testRunDurationMs: Math.round(input.durationMs * 1000) / 1000 },
    metrics,
  };
}

function pickTrend(values: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of TREND_STATS) if (values[k] !== undefined) out[k] = values[k]!;
  return out;
}

/** Metrics input from an engine result. */
export function inputFromRaw(raw: RawResult, extra: { scrapeBefore?: PromExposition; scrapeAfter?: PromExposition; createsOrders: boolean }): MetricsInput {
  return {
    series: raw.series,
    iterations: raw.iterations,
    dropped: raw.dropped,
    dataReceived: raw.dataReceived,
    ordersAccepted: raw.ordersAccepted,
    ordersRejected: raw.ordersRejected,
    vus: raw.vus,
    vusMax: raw.vusMax,
    scenarios: raw.scenarios,
    durationMs: raw.durationMs,
    createsOrders: extra.createsOrders,
    ...(extra.scrapeBefore ? { scrapeBefore: extra.scrapeBefore } : {}),
    ...(extra.scrapeAfter ? { scrapeAfter: extra.scrapeAfter } : {}),
  };
}

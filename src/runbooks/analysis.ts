import { z } from 'zod';
import type { PromSample, PrometheusPort } from '../adapters/prometheus/port.js';
import { isSurgeError } from '../errors.js';
import { evaluateCondition, parseCondition, type Condition } from '../probes/index.js';
import { DURATION_EXAMPLES, parseDuration } from '../util/duration.js';

/**
 * The analysis gate of the cutover runbooks: Prometheus queries measured again and again and
 * judged with Argo Rollouts' AnalysisTemplate semantics (successCondition / failureCondition,
 * failureLimit, inconclusiveLimit, consecutiveErrorLimit, count, interval, initialDelay), with
 * conditions in the project's one condition syntax (src/probes) instead of Argo's expr language.
 */

/** One metric of an analysis: a PromQL query measured `count` times, `intervalMs` apart. */
export interface AnalysisMetric {
  name: string;
  /** PromQL; its result must be one number (the first sample's value). */
  query: string;
  /** ms between measurements. Default 10000 in the schema of whoever builds it; here always given. */
  intervalMs: number;
  /** Measurements to take. */
  count: number;
  /** Conditions in the project's one condition syntax (src/probes: parseCondition/evaluateCondition), evaluated against the measured number, e.g. `value<0.01`. At least one of the two. */
  successCondition?: string;
  failureCondition?: string;
  /** Failed measurements tolerated; the metric fails when failures exceed it. Argo default 0. */
  failureLimit: number;
  /** Inconclusive measurements tolerated. Argo default 0. */
  inconclusiveLimit: number;
  /** Consecutive measurement errors (query failed, no data, NaN) tolerated. Argo default 4. */
  consecutiveErrorLimit: number;
  /** ms to wait before the first measurement. Default 0. */
  initialDelayMs?: number;
}

/** Argo Rollouts' completed phases, from best to worst: successful, inconclusive, error, failed. */
export type AnalysisPhase = 'successful' | 'failed' | 'inconclusive' | 'error';

/** One measurement of a metric. */
export interface Measurement {
  /** When the query was sent (the instant Prometheus evaluated), ISO 8601. */
  at: string;
  phase: AnalysisPhase;
  /** The number measured; null when there was none (query failed, no data, NaN). */
  value: number | null;
  /** Why it is not successful, in words. */
  message?: string;
}

/** How one metric ended, with every measurement taken. */
export interface MetricRun {
  name: string;
  query: string;
  phase: AnalysisPhase;
  measurements: Measurement[];
  /** Why it ended as it did when that is not plain success (the limit passed, or why it was stopped early). */
  message?: string;
}

/** The outcome of {@link runAnalysis}: the worst phase of its metrics (failed > error > inconclusive > successful). */
export interface AnalysisRun {
  phase: AnalysisPhase;
  /** In the order the metrics were given. */
  metrics: MetricRun[];
  /** Why the analysis is not successful: the unsuccessful metrics, or `interrupted`. */
  message?: string;
  /** ISO 8601. */
  startedAt: string;
  endedAt: string;
}

/** What {@link runAnalysis} needs from the outside world. */
export interface AnalysisDeps {
  prometheus: PrometheusPort;
  /** The clock, ms since the epoch. */
  now(): number;
  /** Waits `ms`; rejects (or resolves) early when `signal` aborts. The analysis gives up on the wait at the abort either way. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Aborting it ends the analysis promptly: phase `error`, message `interrupted`. */
  signal?: AbortSignal;
  /** Called after every measurement, for progress lines. */
  onMeasurement?(metric: string, m: Measurement): void;
}

const count = (what: string, min: number) =>
  z.number({ error: `expected a whole number >= ${min} (${what})` }).int({ error: `expected a whole number >= ${min} (${what})` }).min(min, { error: `expected a whole number >= ${min} (${what})` });
const duration = (what: string, positive: boolean) =>
  z.string({ error: `expected a duration string (${what}): ${DURATION_EXAMPLES}` }).refine((v) => {
    const ms = parseDuration(v);
    return ms !== undefined && (positive ? ms > 0 : ms >= 0);
  }, { error: `expected ${positive ? 'a positive' : 'a'} duration (${what}): ${DURATION_EXAMPLES}` });
const condition = z.string({ error: 'expected a condition string such as value<0.01' });

/** An analysis metric as written in a runbook (Argo's field names, our durations and conditions). */
const RawMetric = z.strictObject(
  {
    name: z.string({ error: 'expected the metric name (a string)' }).trim().min(1, { error: 'must not be empty' }),
    query: z.string({ error: 'expected a PromQL query (a string)' }).trim().min(1, { error: 'must not be empty' }),
    /** Time between measurements. Default 10s. */
    interval: duration('time between measurements', true).default('10s'),
    /** Measurements to take. Default 1. */
    count: count('measurements to take', 1).default(1),
    successCondition: condition.optional(),
    failureCondition: condition.optional(),
    /** Failed measurements tolerated. Default 0. */
    failureLimit: count('failed measurements tolerated', 0).default(0),
    /** Inconclusive measurements tolerated. Default 0. */
    inconclusiveLimit: count('inconclusive measurements tolerated', 0).default(0),
    /** Consecutive errors (query failed, no data, NaN) tolerated. Default 4. */
    consecutiveErrorLimit: count('consecutive measurement errors tolerated', 0).default(4),
    /** Wait before the first measurement. Default 0s. */
    initialDelay: duration('wait before the first measurement', false).optional(),
  },
  { error: (i) => (i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}; expected name, query, interval, count, successCondition, failureCondition, failureLimit, inconclusiveLimit, consecutiveErrorLimit, initialDelay` : 'expected a metric: an object with name, query and successCondition and/or failureCondition') },
);

/**
 * Validates one analysis metric as written in a runbook and applies the defaults (interval 10s,
 * count 1, failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit 4, initialDelay none).
 * Every problem is listed, each prefixed by `where` and the key (`steps[2].analysis.metrics[0].count: ...`);
 * `metric` is set only when there is none.
 */
export function parseAnalysisMetric(raw: unknown, where: string): { metric?: AnalysisMetric; problems: string[] } {
  const parsed = RawMetric.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const at = `${where}${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
      const got = i.path.length > 0 && i.code !== 'unrecognized_keys' ? `, got ${shown(i.input)}` : '';
      return `${at}: ${i.message}${got}`;
    });
    // The conditions are checked too when another key is wrong, so one pass shows every problem.
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
      const r = raw as Record<string, unknown>;
      for (const key of ['successCondition', 'failureCondition'] as const) {
        if (typeof r[key] === 'string') problems.push(...conditionProblems(r[key], `${where}.${key}`));
      }
      if (r.successCondition === undefined && r.failureCondition === undefined) problems.push(noCondition(where));
    }
    return { problems };
  }
  const m = parsed.data;
  const problems: string[] = [];
  if (m.successCondition === undefined && m.failureCondition === undefined) problems.push(noCondition(where));
  if (m.successCondition !== undefined) problems.push(...conditionProblems(m.successCondition, `${where}.successCondition`));
  if (m.failureCondition !== undefined) problems.push(...conditionProblems(m.failureCondition, `${where}.failureCondition`));
  if (problems.length > 0) return { problems };
  return {
    metric: {
      name: m.name,
      query: m.query,
      intervalMs: parseDuration(m.interval) as number,
      count: m.count,
      ...(m.successCondition === undefined ? {} : { successCondition: m.successCondition }),
      ...(m.failureCondition === undefined ? {} : { failureCondition: m.failureCondition }),
      failureLimit: m.failureLimit,
      inconclusiveLimit: m.inconclusiveLimit,
      consecutiveErrorLimit: m.consecutiveErrorLimit,
      ...(m.initialDelay === undefined ? {} : { initialDelayMs: parseDuration(m.initialDelay) as number }),
    },
    problems,
  };
}

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const noCondition = (where: string) => `${where}: needs a successCondition, a failureCondition or both, e.g. successCondition: value<0.01`;

function conditionProblems(text: string, where: string): string[] {
  try {
    // Threshold syntax only: the measured number is compared as is, whatever the aggregation word (value, rate, p(99)) says.
    parseCondition(text, { where });
    return [];
  } catch (err) {
    if (isSurgeError(err)) return [err.message];
    throw err;
  }
}

/** Thrown inside a metric's loop when the analysis stops it (another metric ended it, or the signal). */
class Stopped extends Error {}

const INTERRUPTED = 'interrupted';
const WORST_LAST: readonly AnalysisPhase[] = ['successful', 'inconclusive', 'error', 'failed'];

/**
 * Runs the metrics concurrently, each until it passes one of its limits or has `count`
 * conclusive measurements, and returns what happened. As in Argo Rollouts: a measurement is
 * failed when the failureCondition holds, else successful when the successCondition holds; with
 * only one condition, the other outcome is its negation; with both and neither holding it is
 * inconclusive; a query that fails, answers no data or NaN is an error, which does not count
 * toward `count` (it is retried after the interval). A metric ends failed when failures exceed
 * failureLimit, inconclusive when inconclusive measurements exceed inconclusiveLimit, error when
 * consecutive errors exceed consecutiveErrorLimit. The first metric to end other than successful
 * stops the others (their waits and queries are aborted; they keep their measurements and are
 * successful, "stopped", as Argo terminates them). Never throws for a failing query: the
 * outcome is data. Aborting `deps.signal` ends it promptly with phase `error`, message `interrupted`.
 * @throws SurgeError SRG_CONDITION_SYNTAX for a condition {@link parseAnalysisMetric} would have refused (before any query).
 */
export async function runAnalysis(metrics: readonly AnalysisMetric[], deps: AnalysisDeps): Promise<AnalysisRun> {
  const judges = metrics.map((m) => ({
    success: m.successCondition === undefined ? undefined : parseCondition(m.successCondition, { where: `${m.name}.successCondition` }),
    failure: m.failureCondition === undefined ? undefined : parseCondition(m.failureCondition, { where: `${m.name}.failureCondition` }),
  }));
  const startedAt = iso(deps.now());
  const halt = new AbortController();
  /** Why the metrics still running were stopped: `interrupted`, or the metric that ended the analysis. */
  let haltedBy: string | undefined;
  const stop = (why: string) => {
    if (halt.signal.aborted) return;
    haltedBy = why;
    halt.abort();
  };
  const interrupt = () => stop(INTERRUPTED);
  if (deps.signal?.aborted) interrupt();
  else deps.signal?.addEventListener('abort', interrupt, { once: true });
  let runs: MetricRun[];
  try {
    runs = await Promise.all(
      metrics.map((m, i) =>
        runMetric(m, judges[i] as Judge, deps, halt.signal, () => haltedBy ?? INTERRUPTED, (r) => {
          if (r.phase !== 'successful') stop(`metric "${m.name}" ended ${r.phase}`);
        }),
      ),
    );
  } finally {
    deps.signal?.removeEventListener('abort', interrupt);
  }
  const endedAt = iso(deps.now());
  if (haltedBy === INTERRUPTED) return { phase: 'error', metrics: runs, message: INTERRUPTED, startedAt, endedAt };
  const phase = runs.reduce<AnalysisPhase>((w, r) => (WORST_LAST.indexOf(r.phase) > WORST_LAST.indexOf(w) ? r.phase : w), 'successful');
  const bad = runs.filter((r) => r.phase !== 'successful');
  return {
    phase,
    metrics: runs,
    ...(bad.length === 0 ? {} : { message: bad.map((r) => `${r.name} ${r.phase}: ${r.message ?? ''}`).join('; ') }),
    startedAt,
    endedAt,
  };
}

interface Judge {
  success: Condition | undefined;
  failure: Condition | undefined;
}

async function runMetric(m: AnalysisMetric, judge: Judge, deps: AnalysisDeps, signal: AbortSignal, haltedBy: () => string, onEnd: (r: MetricRun) => void): Promise<MetricRun> {
  const measurements: Measurement[] = [];
  const run = (phase: AnalysisPhase, message?: string): MetricRun => ({ name: m.name, query: m.query, phase, measurements, ...(message === undefined ? {} : { message }) });
  const end = (phase: AnalysisPhase, message?: string): MetricRun => {
    const r = run(phase, message);
    onEnd(r);
    return r;
  };
  let failed = 0;
  let inconclusive = 0;
  let consecutiveErrors = 0;
  let conclusive = 0;
  try {
    if ((m.initialDelayMs ?? 0) > 0) await pause(deps, m.initialDelayMs as number, signal);
    for (;;) {
      const x = await measure(m, judge, deps, signal);
      measurements.push(x);
      deps.onMeasurement?.(m.name, x);
      if (x.phase === 'error') consecutiveErrors++;
      else {
        consecutiveErrors = 0;
        conclusive++;
        if (x.phase === 'failed') failed++;
        if (x.phase === 'inconclusive') inconclusive++;
      }
      const last = x.message === undefined ? '' : `; last: ${x.message}`;
      if (failed > m.failureLimit) return end('failed', `${failed} failed measurement(s), more than failureLimit ${m.failureLimit}${last}`);
      if (inconclusive > m.inconclusiveLimit) return end('inconclusive', `${inconclusive} inconclusive measurement(s), more than inconclusiveLimit ${m.inconclusiveLimit}${last}`);
      if (consecutiveErrors > m.consecutiveErrorLimit) return end('error', `${consecutiveErrors} consecutive measurement errors, more than consecutiveErrorLimit ${m.consecutiveErrorLimit}${last}`);
      if (conclusive >= m.count) return end('successful');
      await pause(deps, m.intervalMs, signal);
    }
  } catch (err) {
    if (!(err instanceof Stopped)) throw err;
    const why = haltedBy();
    if (why === INTERRUPTED) return run('error', INTERRUPTED);
    return run('successful', `stopped after ${conclusive} of ${m.count} measurement(s): ${why}`);
  }
}

/** One measurement: the query, its first sample, judged by the conditions. Throws only {@link Stopped}. */
async function measure(m: AnalysisMetric, judge: Judge, deps: AnalysisDeps, signal: AbortSignal): Promise<Measurement> {
  if (signal.aborted) throw new Stopped();
  const at = iso(deps.now());
  let samples: PromSample[];
  try {
    samples = await untilAborted(deps.prometheus.query(m.query, { signal }), signal);
  } catch (err) {
    if (signal.aborted) throw new Stopped();
    const why = isSurgeError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    return { at, phase: 'error', value: null, message: `the query failed: ${why}` };
  }
  const first = samples[0];
  if (first === undefined) return { at, phase: 'error', value: null, message: 'the query returned no data (an empty vector)' };
  const value = first.value;
  if (Number.isNaN(value)) return { at, phase: 'error', value: null, message: 'the query returned NaN' };
  const f = judge.failure && evaluateCondition(judge.failure, value);
  const s = judge.success && evaluateCondition(judge.success, value);
  const broken = [f, s].find((r) => r?.phase === 'error');
  if (broken) return { at, phase: 'error', value, message: `${broken.condition} could not be evaluated: ${broken.message ?? ''}` };
  if (f?.phase === 'pass') return { at, phase: 'failed', value, message: `${value} meets failureCondition ${f.condition}` };
  if (s?.phase === 'pass') return { at, phase: 'successful', value };
  if (s && !f) return { at, phase: 'failed', value, message: `${value} does not meet successCondition ${s.condition}` };
  if (f && !s) return { at, phase: 'successful', value };
  return { at, phase: 'inconclusive', value, message: `${value} meets neither successCondition ${s?.condition ?? ''} nor failureCondition ${f?.condition ?? ''}` };
}

/** Waits `ms` with the injected sleep, giving up at once when `signal` aborts (even if that sleep does not listen). */
async function pause(deps: AnalysisDeps, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw new Stopped();
  try {
    await untilAborted(deps.sleep(ms, signal), signal);
  } catch (err) {
    if (signal.aborted) throw new Stopped();
    throw err;
  }
  if (signal.aborted) throw new Stopped();
}

/** `p`, or a rejection as soon as `signal` aborts, whichever comes first. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new Stopped());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      // The abandoned promise may still reject later (an aborted request): nobody is left to handle it.
      p.catch(() => undefined);
      reject(new Stopped());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

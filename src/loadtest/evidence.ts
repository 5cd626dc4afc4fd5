import type { Series } from './metrics.js';
import { dueArrivals, type ProfilePlan } from './schedule.js';
import type { ExecutorConfig } from './scenario.js';

/**
 * What the builtin engine reports, and the pure functions that assemble it from the engine's
 * counters: one timeline point and one progress line per second, one outcome per load profile,
 * the live view abortOnFail thresholds are judged on, and the raw result the summary is built from.
 */

/** Live figures, about once per second. */
export interface Progress {
  /** Since the first scenario started, ms. */
  readonly elapsedMs: number;
  /** Planned length of the run, ms. */
  readonly plannedMs: number;
  /** Requests answered in the last interval, per second. */
  readonly rps: number;
  /** p95 latency of the last interval, ms (0 when nothing was answered). */
  readonly p95Ms: number;
  readonly requests: number;
  readonly failed: number;
  readonly dropped: number;
  /** Requests in flight now. */
  readonly vus: number;
}

/** One second of the run, for the HTML report. */
export interface TimelinePoint {
  /** Seconds since the start (end of the interval). */
  readonly t: number;
  readonly requests: number;
  readonly failed: number;
  readonly dropped: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly vus: number;
}

/** Per load profile: what was scheduled and what happened. */
export interface ScenarioOutcome {
  readonly name: string;
  readonly executor: ExecutorConfig['executor'];
  /**
   * Arrivals the schedule called for up to where the scenario ended (open model); the iterations
   * planned in all (per-vu-iterations, shared-iterations); iterations run (constant-vus, ramping-vus).
   */
  readonly scheduled: number;
  /** Arrivals the engine handled: iterations started plus dropped ones (open model), or iterations run (closed model). */
  readonly arrivals: number;
  /** Requests answered or failed. */
  readonly iterations: number;
  readonly dropped: number;
  /** VUs allocated at the end (never above maxVUs). */
  readonly vusAllocated: number;
  /** How long arrivals ran by the engine's clock, ms. */
  readonly activeMs: number;
}

/** What the engine hands the summary builder. */
export interface RawResult {
  readonly series: readonly Series[];
  readonly iterations: number;
  readonly dropped: number;
  /** Response bytes, headers excluded. */
  readonly dataReceived: number;
  readonly ordersAccepted: number;
  readonly ordersRejected: number;
  /** Requests in flight: at the end (`value`) and at most (`max`). */
  readonly vus: { value: number; min: number; max: number };
  /** VUs allocated over the run, every profile together. */
  readonly vusMax: number;
  readonly timeline: readonly TimelinePoint[];
  readonly scenarios: readonly ScenarioOutcome[];
  /** Wall-clock length of the run, ms (first start to last request settled). */
  readonly durationMs: number;
  /** Why the run stopped early, when it did. */
  readonly aborted?: string;
}

/** Read access to the metrics while the run is going (for abortOnFail). */
export interface LiveView {
  readonly elapsedMs: number;
  readonly series: readonly Series[];
  readonly dropped: number;
  readonly iterations: number;
  readonly ordersAccepted: number;
  readonly ordersRejected: number;
  /** Per load profile so far (for thresholds tagged `{scenario:name}`). */
  readonly scenarios: readonly ScenarioOutcome[];
}

/** What the engine counted for one profile. */
export interface ProfileCounts {
  /** Open model: arrivals started (those dropped included). */
  readonly started: number;
  readonly iterations: number;
  readonly dropped: number;
  readonly allocated: number;
  /** Ms since the profile's start when it ended; undefined while it runs. */
  readonly endedAtMs: number | undefined;
}

/**
 * A profile's outcome `sinceStartMs` after its start (or up to where it ended). `scheduled` is
 * the schedule's own count for the time it ran, so `arrivals === scheduled` proves the engine kept
 * the schedule whatever latency did.
 */
export function profileOutcome(plan: ProfilePlan, counts: ProfileCounts, sinceStartMs: number): ScenarioOutcome {
  const active = Math.max(0, counts.endedAtMs ?? sinceStartMs);
  const closed = plan.closed;
  return {
    name: plan.name,
    executor: plan.ex.executor,
    scheduled: closed ? (plan.totalIterations ?? counts.iterations) : dueArrivals(plan.ex, Math.min(active, plan.durMs)),
    arrivals: closed ? counts.iterations : counts.started,
    iterations: counts.iterations,
    dropped: counts.dropped,
    vusAllocated: counts.allocated,
    activeMs: active,
  };
}

/** One interval's counts. */
export interface IntervalCounts {
  /** Ms since the run's start when the interval closed. */
  readonly elapsedMs: number;
  readonly requests: number;
  readonly failed: number;
  /** Arrivals dropped during the interval. */
  readonly dropped: number;
  /** Requests in flight when it closed. */
  readonly vus: number;
  /** Latency percentile (0..100) of the interval's requests, ms; asked only when there were some. */
  readonly percentileMs: (p: number) => number;
}

/** The timeline point of one interval; percentiles are 0 when nothing was answered. */
export function intervalPoint(c: IntervalCounts): TimelinePoint {
  const pct = (p: number) => (c.requests > 0 ? c.percentileMs(p) : 0);
  return {
    t: Math.round(c.elapsedMs / 100) / 10,
    requests: c.requests,
    failed: c.failed,
    dropped: c.dropped,
    p50Ms: pct(50),
    p95Ms: pct(95),
    p99Ms: pct(99),
    vus: c.vus,
  };
}

/** The progress line's figures after an interval of `intervalMs` that ended in `point`. */
export function progressOf(
  point: TimelinePoint,
  run: { elapsedMs: number; plannedMs: number; intervalMs: number; totalRequests: number; totalFailed: number; totalDropped: number },
): Progress {
  return {
    elapsedMs: run.elapsedMs,
    plannedMs: run.plannedMs,
    rps: point.requests / Math.max(0.001, run.intervalMs / 1000),
    p95Ms: point.p95Ms,
    requests: run.totalRequests,
    failed: run.totalFailed,
    dropped: run.totalDropped,
    vus: point.vus,
  };
}

/** The engine's totals at the end of a run. */
export interface RunTotals {
  readonly series: readonly Series[];
  readonly iterations: number;
  readonly dataReceived: number;
  readonly ordersAccepted: number;
  readonly ordersRejected: number;
  /** Requests still in flight at the end (given up after the grace period). */
  readonly inFlight: number;
  /** Most requests in flight at once. */
  readonly peakInFlight: number;
  /** VUs allocated over the run. */
  readonly vusAllocated: number;
  readonly timeline: readonly TimelinePoint[];
  readonly scenarios: readonly ScenarioOutcome[];
  readonly durationMs: number;
  readonly aborted: string | undefined;
}

/** The raw result of a run; dropped iterations are the sum over its profiles. */
export function assembleRawResult(t: RunTotals): RawResult {
  return {
    series: t.series,
    iterations: t.iterations,
    dropped: t.scenarios.reduce((a, s) => a + s.dropped, 0),
    dataReceived: t.dataReceived,
    ordersAccepted: t.ordersAccepted,
    ordersRejected: t.ordersRejected,
    vus: { value: t.inFlight, min: 0, max: t.peakInFlight },
    vusMax: t.vusAllocated,
    timeline: t.timeline,
    scenarios: t.scenarios,
    durationMs: t.durationMs,
    ...(t.aborted === undefined ? {} : { aborted: t.aborted }),
  };
}

import { activeMs, type ExecutorConfig, type Scenario } from './scenario.js';

/**
 * The arrival schedule of the builtin engine, as pure functions of the scenario and the clock:
 * what each load profile must have started by a given moment, when it waits, runs and ends, and
 * whether an arrival gets a VU or is dropped. The engine (engine.ts) only applies these decisions.
 */

/** One load profile, planned: where it sits in the run and how many VUs it may use. */
export interface ProfilePlan {
  readonly name: string;
  readonly ex: ExecutorConfig;
  /** Offset of its start from the run's start (startTime), ms. */
  readonly startMs: number;
  /** How long arrivals run (without startTime or gracefulStop), ms. */
  readonly durMs: number;
  /** How long in-flight requests may finish after it ends (gracefulStop), ms. */
  readonly gracefulMs: number;
  /** VUs made ready before the start (preAllocatedVUs; 0 for the VU-based executors, which start their VUs as the schedule asks). */
  readonly preAllocated: number;
  /** Most VUs at once (maxVUs, default preAllocatedVUs; `vus`, or ramping-vus' highest target, for the VU-based ones). */
  readonly maxVUs: number;
  /** Closed model (constant-vus, ramping-vus, per-vu-iterations, shared-iterations): a VU starts its next iteration when the last one ended. */
  readonly closed: boolean;
  /** Iterations the profile runs in all before it ends (iteration executors); undefined when time ends it. */
  readonly totalIterations: number | undefined;
}

/** The whole run, planned. */
export interface SchedulePlan {
  readonly profiles: readonly ProfilePlan[];
  /** Where the last profile ends, ms from the start (without gracefulStop). */
  readonly plannedMs: number;
  /** Sum of every profile's maxVUs: the most requests that can be in flight at once. */
  readonly maxVUs: number;
  /** http.timeout, ms. */
  readonly timeoutMs: number;
}

/** Plans every profile of the scenario; its durations are already milliseconds. */
export function planSchedule(scenario: Scenario): SchedulePlan {
  const profiles = Object.entries(scenario.scenarios).map(([name, ex]): ProfilePlan => {
    const base = { name, ex, startMs: ex.startTime, durMs: activeMs(ex), gracefulMs: ex.gracefulStop };
    switch (ex.executor) {
      case 'constant-arrival-rate':
      case 'ramping-arrival-rate':
        return { ...base, preAllocated: ex.preAllocatedVUs, maxVUs: ex.maxVUs ?? ex.preAllocatedVUs, closed: false, totalIterations: undefined };
      case 'constant-vus':
        return { ...base, preAllocated: 0, maxVUs: ex.vus, closed: true, totalIterations: undefined };
      case 'ramping-vus':
        return { ...base, preAllocated: 0, maxVUs: Math.max(ex.startVUs, ...ex.stages.map((st) => st.target)), closed: true, totalIterations: undefined };
      case 'per-vu-iterations':
        return { ...base, preAllocated: 0, maxVUs: ex.vus, closed: true, totalIterations: ex.vus * ex.iterations };
      case 'shared-iterations':
        return { ...base, preAllocated: 0, maxVUs: ex.vus, closed: true, totalIterations: ex.iterations };
    }
  });
  return {
    profiles,
    plannedMs: Math.max(...profiles.map((p) => p.startMs + p.durMs)),
    maxVUs: profiles.reduce((a, p) => a + p.maxVUs, 0),
    timeoutMs: scenario.http.timeout,
  };
}

/** Cumulative arrivals N(t), the integral of the rate profile, for t in ms since the profile's start; t is clamped by the caller. */
export function arrivalsBy(ex: ExecutorConfig, tMs: number): number {
  if (ex.executor !== 'constant-arrival-rate' && ex.executor !== 'ramping-arrival-rate') return 0;
  if (ex.executor === 'constant-arrival-rate') return (ex.rate / ex.timeUnit) * tMs;
  let acc = 0;
  let prev = ex.startRate;
  let left = tMs;
  for (const st of ex.stages) {
    if (left <= 0) break;
    const span = Math.min(left, st.duration);
    const rateAtEnd = prev + (st.target - prev) * (st.duration === 0 ? 1 : span / st.duration);
    acc += ((prev + rateAtEnd) / 2) * span;
    left -= span;
    prev = st.target;
  }
  return acc / ex.timeUnit;
}

/** Whole arrivals due by t: floor(N(t)), with a hair of slack so 49.9999999 after float sums counts as 50. */
export function dueArrivals(ex: ExecutorConfig, tMs: number): number {
  return Math.floor(arrivalsBy(ex, tMs) + 1e-9);
}

/**
 * VUs a closed-model profile should be running `tMs` after its start. ramping-vus changes its
 * count one VU at a time, evenly over each stage, as k6 does: `from + sign × floor(|to − from| ×
 * t / stageLength)` (a zero-length stage jumps at once); the others hold `vus` throughout.
 */
export function vusAt(ex: ExecutorConfig, tMs: number): number {
  switch (ex.executor) {
    case 'constant-vus':
    case 'per-vu-iterations':
    case 'shared-iterations':
      return ex.vus;
    case 'ramping-vus': {
      let from = ex.startVUs;
      let left = tMs;
      for (const st of ex.stages) {
        if (left < st.duration) {
          const diff = st.target - from;
          return from + Math.sign(diff) * Math.floor((Math.abs(diff) * left) / st.duration + 1e-9);
        }
        left -= st.duration;
        from = st.target;
      }
      return from;
    }
    default:
      return 0;
  }
}

/**
 * Whether a VU of a closed-model profile may start another iteration: shared-iterations while the
 * profile has started fewer than `iterations`, per-vu-iterations while this VU has, the others always.
 */
export function mayIterate(ex: ExecutorConfig, profileStarted: number, vuStarted: number): boolean {
  if (ex.executor === 'shared-iterations') return profileStarted < ex.iterations;
  if (ex.executor === 'per-vu-iterations') return vuStarted < ex.iterations;
  return true;
}

/** What one profile does on a tick. */
export type ProfileStep =
  /** Its startTime has not come. */
  | { readonly kind: 'wait' }
  /** Open model: start arrivals until `due` have started in total. */
  | { readonly kind: 'arrive'; readonly due: number }
  /** Closed model: `vus` VUs should be running (more start, extra ones stop after their iteration). */
  | { readonly kind: 'fill'; readonly vus: number }
  /**
   * It is over: at `endedAtMs` (ms since its start, within 0..durMs). An open profile that ran to
   * its end first starts the arrivals still `due` for its full length; a stopped one does not.
   */
  | { readonly kind: 'end'; readonly endedAtMs: number; readonly due?: number };

/**
 * The decision for one profile at `tMs` since its start (negative before startTime). Stopping
 * (an interrupt, an abortOnFail threshold) ends every profile at once, also one that has not started.
 * `iterationsDone` is how many iterations the profile has finished: an iteration executor ends when
 * it reaches `totalIterations`, before its maxDuration.
 */
export function stepProfile(plan: ProfilePlan, tMs: number, stopping: boolean, iterationsDone = 0): ProfileStep {
  const done = plan.totalIterations !== undefined && iterationsDone >= plan.totalIterations && tMs >= 0;
  if (stopping || tMs >= plan.durMs || done) {
    const endedAtMs = Math.max(0, Math.min(tMs, plan.durMs));
    if (stopping || plan.closed) return { kind: 'end', endedAtMs };
    return { kind: 'end', endedAtMs, due: dueArrivals(plan.ex, plan.durMs) };
  }
  if (tMs < 0) return { kind: 'wait' };
  return plan.closed ? { kind: 'fill', vus: vusAt(plan.ex, tMs) } : { kind: 'arrive', due: dueArrivals(plan.ex, tMs) };
}

/** Where an arrival goes: a free VU, a new one (below maxVUs), or nowhere (a dropped iteration, as in k6). */
export function admitArrival(free: number, allocated: number, maxVUs: number): 'reuse' | 'allocate' | 'drop' {
  if (free > 0) return 'reuse';
  return allocated < maxVUs ? 'allocate' : 'drop';
}

/**
 * The next one-second boundary after `now`, from the one just reached. A tick that comes late
 * (a busy event loop) skips the seconds it missed instead of closing several empty intervals.
 */
export function nextIntervalBoundary(boundary: number, now: number): number {
  return boundary + 1000 * Math.max(1, Math.floor((now - boundary) / 1000) + 1);
}

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
  /** VUs made ready before the start (preAllocatedVUs; 0 for constant-vus, which starts all its VUs at once). */
  readonly preAllocated: number;
  /** Most VUs at once (maxVUs, default preAllocatedVUs; `vus` for constant-vus). */
  readonly maxVUs: number;
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
    const open = ex.executor !== 'constant-vus';
    return {
      name,
      ex,
      startMs: ex.startTime,
      durMs: activeMs(ex),
      gracefulMs: ex.gracefulStop,
      preAllocated: open ? ex.preAllocatedVUs : 0,
      maxVUs: open ? (ex.maxVUs ?? ex.preAllocatedVUs) : ex.vus,
    };
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
  if (ex.executor === 'constant-vus') return 0;
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

/** What one profile does on a tick. */
export type ProfileStep =
  /** Its startTime has not come. */
  | { readonly kind: 'wait' }
  /** Open model: start arrivals until `due` have started in total. */
  | { readonly kind: 'arrive'; readonly due: number }
  /** Closed model: every VU should be running. */
  | { readonly kind: 'fill' }
  /**
   * It is over: at `endedAtMs` (ms since its start, within 0..durMs). An open profile that ran to
   * its end first starts the arrivals still `due` for its full length; a stopped one does not.
   */
  | { readonly kind: 'end'; readonly endedAtMs: number; readonly due?: number };

/**
 * The decision for one profile at `tMs` since its start (negative before startTime). Stopping
 * (an interrupt, an abortOnFail threshold) ends every profile at once, also one that has not started.
 */
export function stepProfile(plan: ProfilePlan, tMs: number, stopping: boolean): ProfileStep {
  if (stopping || tMs >= plan.durMs) {
    const endedAtMs = Math.max(0, Math.min(tMs, plan.durMs));
    if (stopping || plan.ex.executor === 'constant-vus') return { kind: 'end', endedAtMs };
    return { kind: 'end', endedAtMs, due: dueArrivals(plan.ex, plan.durMs) };
  }
  if (tMs < 0) return { kind: 'wait' };
  return plan.ex.executor === 'constant-vus' ? { kind: 'fill' } : { kind: 'arrive', due: dueArrivals(plan.ex, tMs) };
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

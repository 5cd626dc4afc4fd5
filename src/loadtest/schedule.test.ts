import { describe, expect, it } from 'vitest';
import { admitArrival, arrivalsBy, dueArrivals, mayIterate, nextIntervalBoundary, planSchedule, stepProfile, vusAt, type ProfilePlan } from './schedule.js';
import { parseScenario, type ScenarioInput } from './scenario.js';

function planOf(scenarios: ScenarioInput['scenarios'], extra: Partial<ScenarioInput> = {}) {
  return planSchedule(parseScenario({ target: 'http://127.0.0.1:1', requests: [{ kind: 'http', path: '/' }], scenarios, ...extra }).scenario);
}

describe('planSchedule', () => {
  it('places each profile by its startTime and length, with its VU bounds', () => {
    const plan = planOf(
      {
        warm: { executor: 'constant-arrival-rate', rate: 10, duration: '30s', preAllocatedVUs: 5, maxVUs: 50 },
        peak: { executor: 'ramping-arrival-rate', startTime: '20s', gracefulStop: '5s', preAllocatedVUs: 8, stages: [{ target: 100, duration: '10s' }, { target: 0, duration: '5s' }] },
        browse: { executor: 'constant-vus', vus: 3, duration: '1m' },
      },
      { http: { timeout: '2s' } },
    );
    expect(plan.profiles.map((p) => [p.name, p.startMs, p.durMs, p.gracefulMs, p.preAllocated, p.maxVUs])).toEqual([
      ['warm', 0, 30_000, 30_000, 5, 50],
      // maxVUs defaults to preAllocatedVUs, as in k6.
      ['peak', 20_000, 15_000, 5_000, 8, 8],
      // A closed model has nothing pre-allocated: it starts all its VUs at once.
      ['browse', 0, 60_000, 30_000, 0, 3],
    ]);
    expect(plan.plannedMs).toBe(60_000);
    expect(plan.maxVUs).toBe(61);
    expect(plan.timeoutMs).toBe(2_000);
  });
});

describe('arrivals due', () => {
  const [constant] = planOf({ a: { executor: 'constant-arrival-rate', rate: 3, timeUnit: '1s', duration: '10s' } }).profiles as [ProfilePlan];

  it('counts whole arrivals by the integral of the rate, never early', () => {
    expect(dueArrivals(constant.ex, 0)).toBe(0);
    expect(dueArrivals(constant.ex, 333)).toBe(0);
    expect(dueArrivals(constant.ex, 334)).toBe(1);
    expect(dueArrivals(constant.ex, 1000)).toBe(3);
    // 0.1 + 0.2 style float sums must not lose an arrival at an exact boundary.
    const tenth = planOf({ a: { executor: 'constant-arrival-rate', rate: 0.3, timeUnit: '100ms', duration: '1s' } }).profiles[0]!;
    expect(arrivalsBy(tenth.ex, 1000)).toBeCloseTo(3, 9);
    expect(dueArrivals(tenth.ex, 1000)).toBe(3);
  });

  it('is zero for a closed model, which has no schedule', () => {
    const closed = planOf({ c: { executor: 'constant-vus', vus: 2, duration: '1s' } }).profiles[0]!;
    expect(arrivalsBy(closed.ex, 500)).toBe(0);
  });

  it('ramps linearly from startRate through each stage, a zero-length stage jumping at once', () => {
    const ramp = planOf({
      r: { executor: 'ramping-arrival-rate', startRate: 10, timeUnit: '1s', stages: [{ target: 10, duration: '1s' }, { target: 30, duration: '2s' }, { target: 30, duration: '1ms' }] },
    }).profiles[0]!;
    expect(arrivalsBy(ramp.ex, 1000)).toBeCloseTo(10);
    // 10 -> 30 over 2 s: 40 more.
    expect(arrivalsBy(ramp.ex, 3000)).toBeCloseTo(50);
    expect(arrivalsBy(ramp.ex, 2000)).toBeCloseTo(25);
    // Past the last stage nothing more is scheduled.
    expect(arrivalsBy(ramp.ex, 60_000)).toBeCloseTo(50.03);
  });
});

describe('stepProfile', () => {
  const [open, closed] = planOf({
    open: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '2s', startTime: '1s' },
    closed: { executor: 'constant-vus', vus: 2, duration: '2s' },
  }).profiles as [ProfilePlan, ProfilePlan];

  it('waits before startTime, then arrives by the schedule', () => {
    expect(stepProfile(open, -1, false)).toEqual({ kind: 'wait' });
    expect(stepProfile(open, 0, false)).toEqual({ kind: 'arrive', due: 0 });
    expect(stepProfile(open, 550, false)).toEqual({ kind: 'arrive', due: 5 });
    expect(stepProfile(closed, 10, false)).toEqual({ kind: "fill", vus: closed.maxVUs });
  });

  it('an open profile that ran its length catches up to its full schedule as it ends', () => {
    // A late tick (2.5 s) still ends at 2 s, with every one of the 20 arrivals due.
    expect(stepProfile(open, 2500, false)).toEqual({ kind: 'end', endedAtMs: 2000, due: 20 });
    expect(stepProfile(closed, 2000, false)).toEqual({ kind: 'end', endedAtMs: 2000 });
  });

  it('stopping ends every profile where it is, without catching up, also one not started yet', () => {
    expect(stepProfile(open, 700, true)).toEqual({ kind: 'end', endedAtMs: 700 });
    expect(stepProfile(open, -500, true)).toEqual({ kind: 'end', endedAtMs: 0 });
    expect(stepProfile(closed, 3000, true)).toEqual({ kind: 'end', endedAtMs: 2000 });
  });
});

describe('admitArrival', () => {
  it('reuses a free VU, else adds one below maxVUs, else drops the arrival', () => {
    expect(admitArrival(1, 5, 5)).toBe('reuse');
    expect(admitArrival(0, 4, 5)).toBe('allocate');
    expect(admitArrival(0, 5, 5)).toBe('drop');
  });
});

describe('nextIntervalBoundary', () => {
  it('moves one second on, or past every second a late tick missed', () => {
    expect(nextIntervalBoundary(1000, 1000)).toBe(2000);
    expect(nextIntervalBoundary(1000, 1999)).toBe(2000);
    expect(nextIntervalBoundary(1000, 2000)).toBe(3000);
    expect(nextIntervalBoundary(1000, 3500)).toBe(4000);
  });
});

describe('VU-based executors (closed model)', () => {
  const ex = (e: Record<string, unknown>) =>
    parseScenario({ target: 'http://127.0.0.1:1', requests: [{ kind: 'http', path: '/' }], scenarios: { a: e } }).scenario;

  it('ramping-vus changes its VU count one at a time, evenly over each stage, as k6 does', () => {
    const s = ex({ executor: 'ramping-vus', startVUs: 2, stages: [{ target: 6, duration: '4s' }, { target: 6, duration: '2s' }, { target: 0, duration: '3s' }, { target: 3, duration: '0s' }] });
    const r = s.scenarios.a!;
    const at = (t: number) => vusAt(r, t);
    // Up 2 -> 6 over 4 s: one more VU each second.
    expect([0, 999, 1000, 2500, 3999].map(at)).toEqual([2, 2, 3, 4, 5]);
    // Held at 6, then down 6 -> 0 over 3 s: one fewer every 500 ms; a zero-length stage jumps.
    expect([4000, 5999, 6000, 6499, 6500, 7500, 8999, 9000, 20_000].map(at)).toEqual([6, 6, 6, 6, 5, 3, 1, 3, 3]);
    const plan = planSchedule(s).profiles[0]!;
    expect(plan).toMatchObject({ closed: true, maxVUs: 6, preAllocated: 0, durMs: 9000, totalIterations: undefined });
    expect(stepProfile(plan, 2500, false)).toEqual({ kind: 'fill', vus: 4 });
    expect(stepProfile(plan, 9000, false)).toEqual({ kind: 'end', endedAtMs: 9000 });
  });

  it('per-vu-iterations and shared-iterations budget iterations and end when done or at maxDuration', () => {
    const perVu = planSchedule(ex({ executor: 'per-vu-iterations', vus: 3, iterations: 4, maxDuration: '5s' })).profiles[0]!;
    const shared = planSchedule(ex({ executor: 'shared-iterations', vus: 3, iterations: 10 })).profiles[0]!;
    expect(perVu).toMatchObject({ closed: true, maxVUs: 3, totalIterations: 12, durMs: 5000 });
    expect(shared).toMatchObject({ closed: true, maxVUs: 3, totalIterations: 10, durMs: 600_000 });
    expect(mayIterate(perVu.ex, 11, 3)).toBe(true);
    expect(mayIterate(perVu.ex, 2, 4)).toBe(false);
    expect(mayIterate(shared.ex, 9, 100)).toBe(true);
    expect(mayIterate(shared.ex, 10, 0)).toBe(false);
    expect(stepProfile(perVu, 100, false, 11)).toEqual({ kind: 'fill', vus: 3 });
    expect(stepProfile(perVu, 100, false, 12)).toEqual({ kind: 'end', endedAtMs: 100 });
    expect(stepProfile(perVu, 5000, false, 3)).toEqual({ kind: 'end', endedAtMs: 5000 });
    expect(stepProfile(shared, -10, false, 0)).toEqual({ kind: 'wait' });
  });
});

import { describe, expect, it } from 'vitest';
import { assembleRawResult, intervalPoint, profileOutcome, progressOf, type RunTotals, type ScenarioOutcome } from './evidence.js';
import { newSeries } from './metrics.js';
import { planSchedule, type ProfilePlan } from './schedule.js';
import { parseScenario } from './scenario.js';

const [open, closed] = planSchedule(
  parseScenario({
    target: 'http://127.0.0.1:1',
    requests: [{ kind: 'http', path: '/' }],
    scenarios: {
      open: { executor: 'constant-arrival-rate', rate: 100, timeUnit: '1s', duration: '10s', preAllocatedVUs: 5, maxVUs: 10 },
      closed: { executor: 'constant-vus', vus: 2, duration: '10s' },
    },
  }).scenario,
).profiles as [ProfilePlan, ProfilePlan];

describe('profileOutcome', () => {
  it('an open profile: the schedule for the time it ran against the arrivals it handled', () => {
    const running = profileOutcome(open, { started: 250, iterations: 240, dropped: 10, allocated: 10, endedAtMs: undefined }, 2500);
    expect(running).toEqual({ name: 'open', executor: 'constant-arrival-rate', scheduled: 250, arrivals: 250, iterations: 240, dropped: 10, vusAllocated: 10, activeMs: 2500 });
  });

  it('an ended profile counts up to where it ended, never past its length', () => {
    const stopped = profileOutcome(open, { started: 70, iterations: 70, dropped: 0, allocated: 5, endedAtMs: 700 }, 9_000);
    expect(stopped).toMatchObject({ scheduled: 70, arrivals: 70, activeMs: 700 });
    const late = profileOutcome(open, { started: 1000, iterations: 1000, dropped: 0, allocated: 5, endedAtMs: 10_000 }, 12_000);
    expect(late).toMatchObject({ scheduled: 1000, activeMs: 10_000 });
  });

  it('a profile that has not started has done nothing', () => {
    expect(profileOutcome(open, { started: 0, iterations: 0, dropped: 0, allocated: 5, endedAtMs: undefined }, -3000)).toMatchObject({ scheduled: 0, arrivals: 0, activeMs: 0 });
  });

  it('a closed profile has no schedule: what it ran is what it was asked', () => {
    expect(profileOutcome(closed, { started: 0, iterations: 37, dropped: 0, allocated: 2, endedAtMs: undefined }, 1000)).toMatchObject({
      executor: 'constant-vus',
      scheduled: 37,
      arrivals: 37,
      iterations: 37,
    });
  });
});

describe('intervalPoint and progressOf', () => {
  it('one second of the run: counts, dropped arrivals, latency percentiles in ms', () => {
    const asked: number[] = [];
    const point = intervalPoint({ elapsedMs: 3049.6, requests: 90, failed: 3, dropped: 4, vus: 7, percentileMs: (p) => (asked.push(p), p / 10) });
    expect(point).toEqual({ t: 3, requests: 90, failed: 3, dropped: 4, p50Ms: 5, p95Ms: 9.5, p99Ms: 9.9, vus: 7 });
    expect(asked).toEqual([50, 95, 99]);
    expect(intervalPoint({ elapsedMs: 3050, requests: 1, failed: 0, dropped: 0, vus: 0, percentileMs: () => 1 }).t).toBe(3.1);
  });

  it('an interval without answers has no latency, and does not ask the histogram', () => {
    const point = intervalPoint({ elapsedMs: 1000, requests: 0, failed: 0, dropped: 12, vus: 10, percentileMs: () => { throw new Error('empty histogram read'); } });
    expect(point).toMatchObject({ requests: 0, dropped: 12, p50Ms: 0, p95Ms: 0, p99Ms: 0 });
  });

  it('the progress line: rate over the interval as it really lasted, totals over the run', () => {
    const point = intervalPoint({ elapsedMs: 2000, requests: 150, failed: 0, dropped: 0, vus: 3, percentileMs: () => 2 });
    expect(progressOf(point, { elapsedMs: 2000, plannedMs: 10_000, intervalMs: 1500, totalRequests: 400, totalFailed: 5, totalDropped: 1 })).toEqual({
      elapsedMs: 2000,
      plannedMs: 10_000,
      rps: 100,
      p95Ms: 2,
      requests: 400,
      failed: 5,
      dropped: 1,
      vus: 3,
    });
    // A zero-length interval (the run ended on a boundary) is not a division by zero.
    expect(progressOf(point, { elapsedMs: 2000, plannedMs: 10_000, intervalMs: 0, totalRequests: 0, totalFailed: 0, totalDropped: 0 }).rps).toBe(150_000);
  });
});

describe('assembleRawResult', () => {
  it('sums dropped iterations over the profiles and keeps the abort reason only when there is one', () => {
    const outcome = (name: string, dropped: number): ScenarioOutcome => ({ name, executor: 'constant-arrival-rate', scheduled: 10, arrivals: 10, iterations: 10 - dropped, dropped, vusAllocated: 1, activeMs: 1000 });
    const totals: RunTotals = {
      series: [newSeries({ scenario: 'a' })],
      iterations: 15,
      dataReceived: 2048,
      ordersAccepted: 4,
      ordersRejected: 1,
      inFlight: 2,
      peakInFlight: 9,
      vusAllocated: 12,
      timeline: [],
      scenarios: [outcome('a', 3), outcome('b', 2)],
      durationMs: 1234,
      aborted: undefined,
    };
    const raw = assembleRawResult(totals);
    expect(raw).toMatchObject({ iterations: 15, dropped: 5, dataReceived: 2048, vus: { value: 2, min: 0, max: 9 }, vusMax: 12, durationMs: 1234 });
    expect('aborted' in raw).toBe(false);
    expect(assembleRawResult({ ...totals, aborted: 'interrupted' }).aborted).toBe('interrupted');
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from './gates.js';
import { scaleToMachine } from './plan.js';
import { judgeStep, nextProbeRate, PROBE_MAX_STEPS, probeLadder, probeOutcome, runProbe, SAFE_SHARE, type ProbeMeasurement, type ProbeStep } from './probe.js';

/** A step at `rate` that the stack answered in full, in 2 s, at p99 `p99Ms`; `over` changes any figure. */
function measured(rate: number, over: Partial<ProbeMeasurement> = {}): ProbeMeasurement {
  const n = Math.round(rate * 2);
  return { ratePerSec: rate, durationMs: 2_010, requests: n, failed: 0, scheduled: n, dropped: 0, p95Ms: 3, p99Ms: 6, ...over };
}

const held = (rate: number) => judgeStep(measured(rate), DEFAULT_LIMITS);
const notHeld = (rate: number) => judgeStep(measured(rate, { p99Ms: 2_000 }), DEFAULT_LIMITS);

/**
 * A machine that answers up to `capacity` orders/s: above it, a 2 s step answers only `capacity`
 * per second, its backlog drains after the step, and latency grows with the backlog.
 */
function machine(capacity: number): (rate: number) => Promise<ProbeMeasurement> {
  return async (rate) => {
    const scheduled = Math.round(rate * 2);
    if (rate <= capacity) return measured(rate, { p99Ms: 2 + (rate / capacity) * 10 });
    const durationMs = (scheduled / capacity) * 1000;
    return measured(rate, { durationMs, p95Ms: durationMs - 2_000, p99Ms: durationMs - 1_900 });
  };
}

describe('the probe ladder', () => {
  it('climbs by doubling to the rate the rehearsal could use, none below 5/s but that rate itself', () => {
    expect(probeLadder(122.52)).toEqual([30.63, 61.26, 122.52]);
    expect(probeLadder(13.33)).toEqual([6.67, 13.33]);
    expect(probeLadder(2)).toEqual([2]);
  });

  it('starts a large rate from a warm-up rung of 100/s, in equal ratios', () => {
    expect(probeLadder(4_000)).toEqual([100, 632.46, 4_000]);
    expect(probeLadder(400)).toEqual([100, 200, 400]);
  });
});

describe('judging a step', () => {
  it('holds when nothing failed or dropped, latency is within both gates and the stack kept up', () => {
    expect(judgeStep(measured(100), DEFAULT_LIMITS)).toMatchObject({ held: true, verdict: 'held', answeredPerSec: 99.5 });
  });

  it('names every reason a step did not hold', () => {
    const s = judgeStep(measured(100, { failed: 3, dropped: 4, p95Ms: 300, p99Ms: 1_200 }), DEFAULT_LIMITS);
    expect(s.held).toBe(false);
    expect(s.verdict).toBe('3 of 200 failed; 4 of 200 dropped; p95 300 ms over the 250 ms gate; p99 1,200 ms over the 1000 ms gate');
  });

  it('does not hold a step the stack fell behind on, even with latency within the gates', () => {
    // 2,000 arrivals answered over 2.3 s: 870/s of 1,000/s, p99 still below the 1 s gate.
    const s = judgeStep(measured(1_000, { durationMs: 2_300, p95Ms: 200, p99Ms: 240 }), DEFAULT_LIMITS);
    expect(s).toMatchObject({ held: false, verdict: 'answered 869.57/s of 1,000/s', answeredPerSec: 869.57 });
  });

  it('does not hold a step nothing was answered in', () => {
    expect(judgeStep(measured(50, { requests: 0, p95Ms: undefined, p99Ms: undefined }), DEFAULT_LIMITS)).toMatchObject({ held: false, verdict: 'nothing answered' });
  });

  it('judges by the limits given (the rehearsal passes its gate limits)', () => {
    expect(judgeStep(measured(100, { p99Ms: 1_500 }), { p95Ms: 1_000, p99Ms: 3_000 }).held).toBe(true);
  });
});

describe('the next step', () => {
  const ladder = [25, 50, 100];

  it('starts at the lowest rung and climbs while steps hold; done at the top', () => {
    expect(nextProbeRate([], ladder)).toBe(25);
    expect(nextProbeRate([held(25)], ladder)).toBe(50);
    expect(nextProbeRate([held(25), held(50)], ladder)).toBe(100);
    expect(nextProbeRate([held(25), held(50), held(100)], ladder)).toBeUndefined();
  });

  it('after a step that does not hold, goes halfway (geometrically) between the highest that held and the lowest that did not, until they are within 20%', () => {
    expect(nextProbeRate([held(25), notHeld(50)], ladder)).toBe(35.36);
    expect(nextProbeRate([held(25), notHeld(50), held(35.36)], ladder)).toBe(42.05);
    expect(nextProbeRate([held(25), notHeld(50), notHeld(35.36)], ladder)).toBe(29.73);
    expect(nextProbeRate([held(25), notHeld(50), held(35.36), held(42.05)], ladder)).toBeUndefined();
    expect(nextProbeRate([held(25), held(50), notHeld(100), notHeld(70.71)], ladder)).toBe(59.46);
    expect(nextProbeRate([held(25), held(50), notHeld(100), notHeld(70.71), notHeld(59.46)], ladder)).toBeUndefined();
  });

  it('when the lowest rung does not hold, steps down by halves until one holds (then between) or 1/s is passed', () => {
    expect(nextProbeRate([notHeld(25)], ladder)).toBe(12.5);
    expect(nextProbeRate([notHeld(25), notHeld(12.5)], ladder)).toBe(6.25);
    expect(nextProbeRate([notHeld(25), held(12.5)], ladder)).toBe(17.68);
    expect(nextProbeRate([notHeld(1.5)], [1.5])).toBeUndefined();
  });

  it('never asks for more than the most steps', () => {
    const steps: ProbeStep[] = [notHeld(400), notHeld(200), notHeld(100), notHeld(50), notHeld(25)];
    expect(steps).toHaveLength(PROBE_MAX_STEPS);
    expect(nextProbeRate(steps, [400])).toBeUndefined();
  });
});

describe('what the probe found', () => {
  it('takes the highest rate that held, and says so with its p99 and the rate that did not', () => {
    const r = probeOutcome([held(25), judgeStep(measured(50, { p99Ms: 1_450 }), DEFAULT_LIMITS), held(35.36)], 100);
    expect(r).toMatchObject({ sustainedPerSec: 35.36, maxPerSec: 35.36, share: SAFE_SHARE, needPerSec: 100 });
    expect(r.basis).toBe('probed: 35.36/s sustained at p99 6 ms; 50/s was not (p99 1,450 ms over the 1000 ms gate)');
  });

  it('says when the top rung held: the probe asks no more than the rehearsal can use', () => {
    expect(probeOutcome([held(30.63), held(61.26), held(122.52)], 122.52).basis).toBe('probed: 122.52/s sustained at p99 6 ms, the most the probe asks');
  });

  it('when no step held, takes what the stack answered at the lowest rate (at least 1/s) and says why', () => {
    const slow = judgeStep(measured(10, { durationMs: 5_000 }), DEFAULT_LIMITS);
    const r = probeOutcome([notHeld(20), slow], 40);
    expect(r.sustainedPerSec).toBeUndefined();
    expect(r.maxPerSec).toBe(4);
    expect(r.basis).toBe('probed: no step held (10/s: answered 4/s of 10/s); taking the 4/s it answered');
    const dead = judgeStep(measured(5, { requests: 0, p95Ms: undefined, p99Ms: undefined }), DEFAULT_LIMITS);
    expect(probeOutcome([dead], 5).maxPerSec).toBe(1);
  });
});

describe('running the probe', () => {
  it('on a machine faster than the peak needs: climbs the ladder, and the peak is rehearsed at full size', async () => {
    const asked: number[] = [];
    const settled: number[] = [];
    const measure = machine(5_000);
    const r = await runProbe({
      needPerSec: 91.89 / SAFE_SHARE,
      limits: DEFAULT_LIMITS,
      measure: (rate) => (asked.push(rate), measure(rate)),
      settle: async () => void settled.push(asked.length),
    });
    expect(asked).toEqual([30.63, 61.26, 122.52]);
    // The stack works off each step's orders before the next one starts.
    expect(settled).toEqual([1, 2]);
    const s = scaleToMachine(91.89, { maxPerSec: r.maxPerSec, basis: r.basis, share: r.share });
    expect(s).toMatchObject({ factor: 1, targetPerSec: 91.89 });
  });

  it('on a machine slower than the peak needs: brackets its rate, and the rehearsal runs at 75% of what held', async () => {
    const asked: number[] = [];
    const measure = machine(1_700);
    const r = await runProbe({ needPerSec: 5_000 / SAFE_SHARE, limits: DEFAULT_LIMITS, measure: (rate) => (asked.push(rate), measure(rate)) });
    expect(asked).toEqual([100, 816.5, 6666.67, 2333.1, 1380.21]);
    expect(r.steps.map((s) => s.held)).toEqual([true, true, false, false, true]);
    expect(r.maxPerSec).toBe(1380.21);
    const s = scaleToMachine(5_000, { maxPerSec: r.maxPerSec, basis: r.basis, share: r.share });
    // min(peak, 75% of the probed rate)
    expect(s.targetPerSec).toBe(Math.min(5_000, Math.round(0.75 * 1380.21 * 100) / 100));
    expect(s.statement).toMatch(/^forecast peak 300,000 orders\/min = 5000\/s; scaled to 1035.16\/s for this machine \(75% of 1,380.21\/s; probed: 1,380.21\/s sustained at p99 [\d.]+ ms; 2,333.1\/s was not \(.+\)\): factor 0.207$/);
  });

  it('stops asking for steps once the signal fires', async () => {
    const ctrl = new AbortController();
    const asked: number[] = [];
    await runProbe({
      needPerSec: 400,
      limits: DEFAULT_LIMITS,
      measure: async (rate) => {
        asked.push(rate);
        ctrl.abort();
        return measured(rate);
      },
      signal: ctrl.signal,
    });
    expect(asked).toEqual([100]);
  });
});

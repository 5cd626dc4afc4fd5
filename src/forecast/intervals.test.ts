import { describe, expect, it } from 'vitest';
import { runBacktest } from './backtest.js';
import { forecast } from './forecast.js';
import { calibrate, calibrationSet, countNoiseBounds, intervalsFor, levelWeights, type CalibrationSet } from './intervals.js';
import type { Model } from './models/index.js';
import { mulberry32, poisson } from '../util/prng.js';
import type { RawSeries } from './types.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5); // a Monday

function poissonSampler(seed: number): (mean: number) => number {
  const rand = mulberry32(seed);
  return (mean) => poisson(rand, mean);
}

function gaussian(seed: number): () => number {
  const rand = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
}

/** P(X <= k) for X ~ Poisson(mu). */
function poissonCdf(mu: number, k: number): number {
  if (k < 0) return 0;
  let p = Math.exp(-mu);
  let c = p;
  for (let i = 1; i <= k; i++) c += p *= mu / i;
  return c;
}

describe('countNoiseBounds: a count is never forecast more tightly than its Poisson noise', () => {
  it('leaves at most 2.5% / 10% of a Poisson count outside each side, and is the tightest such interval', () => {
    for (const mu of [0.3, 1, 2.5, 7, 40, 150, 400, 650]) {
      const b = countNoiseBounds(mu);
      expect(poissonCdf(mu, b.lo95 - 1), `mu ${mu} lo95`).toBeLessThanOrEqual(0.025);
      expect(1 - poissonCdf(mu, b.hi95), `mu ${mu} hi95`).toBeLessThanOrEqual(0.025);
      expect(poissonCdf(mu, b.lo80 - 1), `mu ${mu} lo80`).toBeLessThanOrEqual(0.1);
      expect(1 - poissonCdf(mu, b.hi80), `mu ${mu} hi80`).toBeLessThanOrEqual(0.1);
      if (mu > 200) continue; // the normal approximation may be one count wider than needed
      // one step tighter on either side would break the bound
      expect(1 - poissonCdf(mu, b.hi95 - 1), `mu ${mu} hi95 tight`).toBeGreaterThan(0.025);
      if (b.lo95 > 0) expect(poissonCdf(mu, b.lo95), `mu ${mu} lo95 tight`).toBeGreaterThan(0.025);
    }
    expect(countNoiseBounds(0)).toEqual({ lo80: 0, hi80: 0, lo95: 0, hi95: 0 });
  });

  it('covers simulated Poisson draws', () => {
    const draw = poissonSampler(5);
    for (const mu of [0.5, 3, 60]) {
      const b = countNoiseBounds(mu);
      let in80 = 0;
      let in95 = 0;
      const n = 4000;
      for (let i = 0; i < n; i++) {
        const x = draw(mu);
        if (x >= b.lo80 && x <= b.hi80) in80++;
        if (x >= b.lo95 && x <= b.hi95) in95++;
      }
      expect(in80 / n, `mu ${mu}`).toBeGreaterThanOrEqual(0.79);
      expect(in95 / n, `mu ${mu}`).toBeGreaterThanOrEqual(0.94);
    }
  });

  it('a forecast of a low Poisson count series holds its noise at every step, and fresh draws fall inside', async () => {
    // 0.2 to 3.8 orders an hour with a daily shape: the kind of series whose backtest is mostly 0s and 1s.
    const mean = (i: number) => 2 + 1.8 * Math.sin((2 * Math.PI * (i % 24)) / 24);
    const draw = poissonSampler(9);
    const hours = 24 * 42;
    const all = Array.from({ length: hours + 48 }, (_, i) => draw(mean(i)));
    const series: RawSeries = { name: 'quiet', points: all.slice(0, hours).map((v, i) => ({ t: T0 + i * HOUR, v })) };
    const f = (await forecast({ series: [series], horizonMs: 48 * HOUR, heavyModels: 'off', now: () => 0 })).series[0];
    expect(f?.points).toHaveLength(48);
    let in95 = 0;
    f?.points.forEach((p, i) => {
      const b = countNoiseBounds(p.value);
      expect(p.hi95).toBeGreaterThanOrEqual(b.hi95);
      expect(p.lo95).toBeLessThanOrEqual(b.lo95);
      expect(p.hi80).toBeGreaterThanOrEqual(b.hi80);
      const v = all[hours + i] as number;
      if (v >= p.lo95 && v <= p.hi95) in95++;
    });
    expect(in95 / 48).toBeGreaterThanOrEqual(0.9);
  });

  it('does not apply to rates (values that are not whole counts)', async () => {
    const g = gaussian(4);
    const series: RawSeries = { name: 'rate', points: Array.from({ length: 24 * 28 }, (_, i) => ({ t: T0 + i * HOUR, v: 0.5 + 0.01 * g() })) };
    const f = (await forecast({ series: [series], horizonMs: 24 * HOUR, heavyModels: 'off', now: () => 0 })).series[0];
    // a Poisson(0.5) band would reach 2; the rate's own noise is 0.01
    expect(Math.max(...(f?.points ?? []).map((p) => p.hi95))).toBeLessThan(0.7);
  });
});

describe('levelWeights and calibrate: the band follows the level of a multiplicative season', () => {
  // Peak 10x the trough, errors proportional to the level (10% sd): the usual shape of order counts.
  const profile = (i: number) => 100 * (0.2 + 1.8 * Math.max(0, Math.sin((2 * Math.PI * (i % 24)) / 24)) ** 2);
  const window = (g: () => number, from: number) => {
    const f = Float64Array.from({ length: 48 }, (_, i) => profile(from + i));
    const a = f.map((v) => v * (1 + 0.1 * g()));
    return { f, a };
  };

  it('weighs a step by its level relative to the window mean, floored at a tenth of it, and leaves non-positive forecasts alone', () => {
    const w = levelWeights(Float64Array.from([0, 50, 100, 250]));
    expect(Array.from(w)).toEqual([0.1, 0.5, 1, 2.5]);
    expect(Array.from(levelWeights(Float64Array.from([-3, -1, 0])))).toEqual([1, 1, 1]);
  });

  it('covers the peak hours and the quiet hours alike', () => {
    const g = gaussian(21);
    const set: CalibrationSet = { horizon: 48, actuals: [], forecasts: [], scales: [] };
    for (let o = 0; o < 12; o++) {
      const { f, a } = window(g, o * 48);
      set.forecasts.push(f);
      set.actuals.push(a);
      set.scales.push(10);
    }
    const ci = calibrate(set);
    const peak = { in80: 0, in95: 0, n: 0 };
    const quiet = { in80: 0, in95: 0, n: 0 };
    for (let rep = 0; rep < 50; rep++) {
      const { f, a } = window(g, 0);
      const iv = intervalsFor(f, ci, 10);
      for (let i = 0; i < 48; i++) {
        const bucket = (f[i] as number) > 100 ? peak : (f[i] as number) < 40 ? quiet : undefined;
        if (!bucket) continue;
        const v = a[i] as number;
        bucket.n++;
        if (v >= (iv.lo80[i] as number) && v <= (iv.hi80[i] as number)) bucket.in80++;
        if (v >= (iv.lo95[i] as number) && v <= (iv.hi95[i] as number)) bucket.in95++;
      }
    }
    for (const [name, b] of [
      ['peak', peak],
      ['quiet', quiet],
    ] as const) {
      expect(b.in80 / b.n, name).toBeGreaterThan(0.72);
      expect(b.in80 / b.n, name).toBeLessThan(0.88);
      expect(b.in95 / b.n, name).toBeGreaterThan(0.9);
      expect(b.in95 / b.n, name).toBeLessThan(0.99);
    }
  });
});

describe('calibrationSet: more origins for the chosen model than for the selection', () => {
  const y = Float64Array.from({ length: 24 * 40 }, (_, i) => 100 + 20 * Math.sin((2 * Math.PI * i) / 24) + (i % 7));
  const light: Model = { name: 'naive', heavy: false, forecast: (t, h) => new Float64Array(h).fill(t[t.length - 1] as number) };
  const heavy: Model = { ...light, name: 'heavy', heavy: true };

  it('re-runs a light model back to the oldest origin with minTrain steps to fit on, up to 12', () => {
    const run = runBacktest(y, [light], { horizon: 48, origins: 3, minTrain: 48, scalePeriod: 24 });
    const set = calibrationSet(y, [light], run, run.forecasts.get('naive') ?? [], { minTrain: 48, scalePeriod: 24 });
    expect(set.actuals).toHaveLength(12);
    // the selection origins stay the newest three, in order
    expect(set.actuals.slice(-3)).toEqual(run.actuals);
    // the oldest window starts one horizon after the one before it
    const firstEnd = y.length - 48 - 11 * 48;
    expect(Array.from(set.actuals[0] as Float64Array)).toEqual(Array.from(y.slice(firstEnd, firstEnd + 48)));
    expect(Array.from(set.forecasts[0] as Float64Array)).toEqual(new Array(48).fill(y[firstEnd - 1]));
    // a short history holds fewer
    const short = y.subarray(0, 24 * 10);
    const shortRun = runBacktest(short, [light], { horizon: 48, origins: 3, minTrain: 96, scalePeriod: 24 });
    expect(calibrationSet(short, [light], shortRun, shortRun.forecasts.get('naive') ?? [], { minTrain: 96, scalePeriod: 24 }).actuals).toHaveLength(3);
  });

  it('stops at 6 when a member is an augurs (heavy) model, whose fits are slow', () => {
    const run = runBacktest(y, [light, heavy], { horizon: 48, origins: 3, minTrain: 48, scalePeriod: 24 });
    const fc = (run.forecasts.get('naive') ?? []).map((f) => f.slice());
    expect(calibrationSet(y, [light, heavy], run, fc, { minTrain: 48, scalePeriod: 24 }).actuals).toHaveLength(6);
  });

  it('never calibrates on fewer origins than the selection used (--origins 20)', () => {
    const run = runBacktest(y, [light], { horizon: 48, origins: 20, minTrain: 24, scalePeriod: 24 });
    expect(run.origins).toBe(19);
    expect(calibrationSet(y, [light], run, run.forecasts.get('naive') ?? [], { minTrain: 24, scalePeriod: 24 }).actuals).toHaveLength(19);
  });
});

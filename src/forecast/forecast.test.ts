import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { forecast } from './forecast.js';
import { candidateModels } from './models/index.js';
import { decompHolt, seasonalNaive } from './models/baselines.js';
import { mulberry32 } from './sample.js';
import { calendarPeriods, detectSeasonality } from './seasonality.js';
import type { RawSeries } from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 5); // a Monday

/** Hourly series from a value function, with Gaussian noise of sd `noise`. */
function hourly(name: string, hours: number, f: (i: number) => number, noise = 0, seed = 1): RawSeries {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  return { name, points: Array.from({ length: hours }, (_, i) => ({ t: T0 + i * HOUR, v: f(i) + noise * gauss() })) };
}

const dailyShape = (i: number) => 100 + 40 * Math.sin((2 * Math.PI * (i % 24)) / 24);
const weekend = (i: number) => (Math.floor(i / 24) % 7 >= 5 ? 60 : 0);

describe('seasonality detection', () => {
  const periods = calendarPeriods(HOUR);
  const detect = (s: RawSeries) => detectSeasonality(Float64Array.from(s.points.map((p) => p.v)), periods).map((p) => p.name);

  it('finds daily only, daily and weekly, or nothing, as built', () => {
    expect(detect(hourly('d', 24 * 42, dailyShape, 3))).toEqual(['daily']);
    expect(detect(hourly('dw', 24 * 42, (i) => dailyShape(i) + weekend(i), 3))).toEqual(['daily', 'weekly']);
    expect(detect(hourly('noise', 24 * 42, () => 100, 10))).toEqual([]);
  });
});

describe('models', () => {
  it('decomposition recovers a known daily + weekly shape', () => {
    const y = Float64Array.from({ length: 24 * 35 }, (_, i) => dailyShape(i) + weekend(i));
    const f = decompHolt(y, [24, 168], 168);
    const truth = Array.from({ length: 168 }, (_, i) => dailyShape(y.length + i) + weekend(y.length + i));
    const maxErr = Math.max(...truth.map((v, i) => Math.abs(v - (f[i] as number))));
    expect(maxErr).toBeLessThan(1.5);
  });

  it('augurs MSTL recovers the same shape', async () => {
    const y = Float64Array.from({ length: 24 * 35 }, (_, i) => dailyShape(i) + weekend(i) + 0.01 * i);
    const [mstl] = await candidateModels({ periods: [24, 168], periodNames: ['daily', 'weekly'] }, { positive: true, heavy: true, only: 'mstl' });
    const f = (mstl as NonNullable<typeof mstl>).forecast(y, 48);
    const truth = Array.from({ length: 48 }, (_, i) => dailyShape(y.length + i) + weekend(y.length + i) + 0.01 * (y.length + i));
    const mae = truth.reduce((a, v, i) => a + Math.abs(v - (f[i] as number)), 0) / 48;
    expect(mae).toBeLessThan(2);
  });

  it('Prophet (augurs + its Stan optimizer) recovers the same shape, and runs only when asked for', async () => {
    const y = Float64Array.from({ length: 24 * 35 }, (_, i) => dailyShape(i) + weekend(i) + 0.01 * i);
    const ctx = { periods: [24, 168], periodNames: ['daily', 'weekly'] };
    const [prophet] = await candidateModels(ctx, { positive: true, heavy: true, only: 'prophet' });
    expect(prophet?.name).toBe('prophet');
    const f = (prophet as NonNullable<typeof prophet>).forecast(y, 48);
    expect(f).toHaveLength(48);
    const truth = Array.from({ length: 48 }, (_, i) => dailyShape(y.length + i) + weekend(y.length + i) + 0.01 * (y.length + i));
    const mae = truth.reduce((a, v, i) => a + Math.abs(v - (f[i] as number)), 0) / 48;
    // ten Fourier terms cannot draw the square weekend step exactly (2.5 here, against a 40-unit daily swing)
    expect(mae).toBeLessThan(3);
    const auto = await candidateModels(ctx, { positive: true, heavy: true });
    expect(auto.map((m) => m.name)).not.toContain('prophet');
  });

  it('seasonal naive repeats the last cycle', () => {
    expect(Array.from(seasonalNaive(Float64Array.from([1, 2, 3, 4, 5]), 2, 3))).toEqual([4, 5, 4]);
  });
});

describe('backtest selection', () => {
  it('picks seasonal naive when the last week repeats exactly and older weeks differ', async () => {
    const rand = mulberry32(7);
    const pattern = Array.from({ length: 168 }, () => 50 + 100 * rand());
    const n = 24 * 7 * 6;
    const shiftAt = n - 72 - 168 - 24;
    const s = hourly('exact-week', n, (i) => (pattern[i % 168] as number) + (i >= shiftAt ? 80 : 0));
    const r = await forecast({ series: [s], horizonMs: DAY, seasonality: ['daily', 'weekly'], heavyModels: 'off', now: () => 0 });
    const f = r.series[0];
    expect(f?.model).toBe('snaive-weekly');
    expect(f?.backtest.candidates[0]?.mase).toBe(0);
    expect(f?.backtest.origins).toBe(3);
  });

  it('prefers an averaging model over seasonal naive on a stable pattern with heavy noise', async () => {
    const s = hourly('noisy', 24 * 7 * 8, (i) => dailyShape(i) + weekend(i), 25, 3);
    const r = await forecast({ series: [s], horizonMs: 2 * DAY, seasonality: ['daily', 'weekly'], heavyModels: 'off', origins: 6, now: () => 0 });
    const f = r.series[0];
    const naive = f?.backtest.candidates.find((c) => c.model === 'snaive-weekly');
    expect(f?.model.startsWith('snaive')).toBe(false);
    expect(f?.backtest.candidates[0]?.mase).toBeLessThan(0.8 * (naive?.mase ?? 0));
  });
});

describe('prediction intervals', () => {
  it('cover close to their nominal level on data with known noise, in the backtest and on fresh data', async () => {
    const gen = (seed: number) => hourly('known-noise', 24 * 7 * 10, (i) => dailyShape(i) + weekend(i), 8, seed);
    const full = gen(11);
    const histLen = 24 * 7 * 9;
    const history = { name: 'known-noise', points: full.points.slice(0, histLen) };
    const r = await forecast({ series: [history], horizonMs: 7 * DAY, heavyModels: 'off', origins: 5, now: () => 0 });
    const f = r.series[0];
    const chosen = f?.backtest.candidates.find((c) => c.model === f.model);
    expect(chosen?.coverage80).toBeGreaterThan(0.68);
    expect(chosen?.coverage80).toBeLessThan(0.92);
    expect(chosen?.coverage95).toBeGreaterThan(0.85);
    // Fresh data: the week after the history, from the same process.
    const future = full.points.slice(histLen);
    let in80 = 0;
    let in95 = 0;
    f?.points.forEach((p, i) => {
      const v = (future[i] as { v: number }).v;
      if (v >= p.lo80 && v <= p.hi80) in80++;
      if (v >= p.lo95 && v <= p.hi95) in95++;
    });
    expect(in80 / 168).toBeGreaterThan(0.68);
    expect(in80 / 168).toBeLessThan(0.95);
    expect(in95 / 168).toBeGreaterThan(0.85);
  });
  it('hold the point forecast even when the model lags a trend in every backtest origin', async () => {
    // Orders grow 2/h: naive and a level-only fit are behind at every origin, so all their backtest
    // errors are positive; the intervals must still read lo95 <= lo80 <= point <= hi80 <= hi95.
    const s = hourly('growing', 24 * 21, (i) => 100 + 2 * i + 20 * Math.sin((2 * Math.PI * i) / 24), 1, 3);
    for (const model of ['auto', 'naive']) {
      const r = await forecast({ series: [s], horizonMs: 2 * DAY, model, heavyModels: 'off', now: () => 0 });
      const f = r.series[0];
      expect(f?.points).toHaveLength(48);
      const outOfOrder = (f?.points ?? []).filter((p) => !(p.lo95 <= p.lo80 && p.lo80 <= p.value && p.value <= p.hi80 && p.hi80 <= p.hi95));
      expect(outOfOrder, `${model} -> ${f?.model}`).toEqual([]);
      expect(f?.peak.hi95).toBeGreaterThanOrEqual(f?.peak.value ?? Infinity);
    }
  });
});

describe('campaigns', () => {
  const n = 24 * 7 * 6;
  const pastStart = T0 + (n - 168 + 24) * HOUR; // a day in the last week of history
  const inPast = (i: number) => T0 + i * HOUR >= pastStart && T0 + i * HOUR < pastStart + DAY;
  const s = hourly('promo', n, (i) => (dailyShape(i) + weekend(i)) * (inPast(i) ? 3 : 1), 2, 5);
  const futureStart = pastStart + 7 * DAY;

  it('keeps a past campaign out of the baseline and measures its uplift', async () => {
    const campaigns = [{ name: 'past', start: pastStart, end: pastStart + DAY, uplift: 9 }];
    const r = await forecast({ series: [s], horizonMs: 7 * DAY, campaigns, heavyModels: 'off', now: () => 0 });
    const f = r.series[0];
    const past = f?.campaigns.find((c) => c.name === 'past');
    expect(past?.kind).toBe('past');
    expect(past?.source).toBe('observed');
    expect(past?.uplift).toBeGreaterThan(2.8);
    expect(past?.uplift).toBeLessThan(3.2);
    // The same weekday one week later must look ordinary: a Tuesday peaks at 140 without the campaign.
    const sameDay = f?.points.filter((p) => Date.parse(p.t) >= futureStart && Date.parse(p.t) < futureStart + DAY) ?? [];
    expect(Math.max(...sameDay.map((p) => p.value))).toBeLessThan(165);

    const without = await forecast({ series: [s], horizonMs: 7 * DAY, heavyModels: 'off', seasonality: ['daily', 'weekly'], model: 'snaive-weekly', now: () => 0 });
    const inflated = without.series[0]?.points.filter((p) => Date.parse(p.t) >= futureStart && Date.parse(p.t) < futureStart + DAY) ?? [];
    expect(Math.max(...inflated.map((p) => p.value))).toBeGreaterThan(400);
  });

  it('applies an uplift "like" a past window to a future one', async () => {
    const campaigns = [
      { name: 'past', start: pastStart, end: pastStart + DAY, uplift: 1 },
      { name: 'next', start: futureStart, end: futureStart + DAY, like: 'past' },
    ];
    const r = await forecast({ series: [s], horizonMs: 7 * DAY, campaigns, heavyModels: 'off', now: () => 0 });
    const f = r.series[0];
    const next = f?.campaigns.find((c) => c.name === 'next');
    expect(next?.kind).toBe('future');
    expect(next?.uplift).toBeGreaterThan(2.8);
    expect(f?.peak.campaign).toBe('next');
    expect(f?.peak.value).toBeGreaterThan(2.8 * 140);
  });
});

describe('a campaign under way when the history ends', () => {
  it('carries on over the rest of its window with the uplift observed so far', async () => {
    const n = 24 * 7 * 6;
    const end = T0 + n * HOUR;
    // The promotion started 12 hours before the last point and runs for a day: 12 more hours ahead.
    const start = end - 12 * HOUR;
    const promo = (i: number) => T0 + i * HOUR >= start;
    const s = hourly('ongoing', n, (i) => (dailyShape(i) + weekend(i)) * (promo(i) ? 3 : 1), 2, 7);
    const campaigns = [{ name: 'ongoing-sale', start, end: start + DAY, uplift: 9 }];
    const r = await forecast({ series: [s], horizonMs: 2 * DAY, campaigns, heavyModels: 'off', now: () => 0 });
    const f = r.series[0];
    const c = f?.campaigns.find((x) => x.name === 'ongoing-sale');
    expect(c?.source).toBe('observed');
    expect(c?.uplift).toBeGreaterThan(2.8);
    expect(c?.uplift).toBeLessThan(3.2);
    const during = f?.points.slice(0, 12) ?? [];
    const after = f?.points.slice(12, 36) ?? [];
    expect(during.every((p) => p.campaign === 'ongoing-sale')).toBe(true);
    expect(after.every((p) => p.campaign === undefined)).toBe(true);
    // Three times the ordinary level of those hours (40..140 x 3), not the ordinary level.
    during.forEach((p, i) => {
      const ordinary = dailyShape(n + i) + weekend(n + i);
      expect(p.value / ordinary).toBeGreaterThan(2.5);
      expect(p.value / ordinary).toBeLessThan(3.5);
    });
    expect(f?.peak.campaign).toBe('ongoing-sale');
  });
});

describe('bad input', () => {
  it('says the history is too short for the horizon (exit 10)', async () => {
    const s = hourly('short', 48, dailyShape);
    const err = await forecast({ series: [s], horizonMs: 7 * DAY, now: () => 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_DATA_TOO_SHORT');
    expect((err as SurgeError).exitCode).toBe(10);
    expect((err as SurgeError).message).toMatch(/"short": 48 points \(2d\) of history is too short for a 1w horizon/);
  });

  it('says the history is too short for an asked seasonality', async () => {
    const s = hourly('short', 24 * 10, dailyShape);
    const err = await forecast({ series: [s], horizonMs: DAY, seasonality: ['weekly'], now: () => 0 }).catch((e: unknown) => e);
    expect((err as SurgeError).code).toBe('SRG_DATA_TOO_SHORT');
    expect((err as SurgeError).message).toMatch(/too short for weekly seasonality/);
  });

  it('refuses an unknown model (exit 2)', async () => {
    const err = await forecast({ series: [hourly('x', 500, dailyShape)], horizonMs: DAY, model: 'prophet9', now: () => 0 }).catch((e: unknown) => e);
    expect((err as SurgeError).code).toBe('SRG_FORECAST_MODEL');
    expect((err as SurgeError).exitCode).toBe(2);
  });
});

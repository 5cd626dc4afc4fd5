import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { forecast } from './forecast.js';
import { parseRegressorSpec } from './regressors.js';
import { mulberry32 } from './sample.js';
import type { RawSeries } from './types.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 6); // a Monday
const DAYS = 300;
const H = 14;

/** Emails sent the day before each day (the file is stamped with the day they act on): bursts on random days. */
function emails(seed: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: DAYS + H }, () => (rand() < 0.25 ? 2000 + Math.round(6000 * rand()) : Math.round(200 * rand())));
}

function orders(drive: readonly number[] | undefined, seed: number): RawSeries {
  const rand = mulberry32(seed);
  const points = Array.from({ length: DAYS }, (_, i) => {
    const weekly = i % 7 >= 5 ? 300 : 0;
    return { t: T0 + i * DAY, v: Math.round(1000 + weekly + (drive ? 0.2 * (drive[i] as number) : 0) + 60 * (rand() - 0.5)) };
  });
  return { name: 'orders', points };
}

const asSeries = (name: string, v: readonly number[]): RawSeries => ({ name, points: v.map((x, i) => ({ t: T0 + i * DAY, v: x })) });

describe('regressors', () => {
  it('a series driven by emails: the backtest takes the regressor, its coefficient is found, the forecast follows it', async () => {
    const x = emails(11);
    const r = await forecast({ series: [orders(x, 5)], horizonMs: H * DAY, heavyModels: 'off', regressors: [{ name: 'emails', file: 'emails.csv', series: asSeries('emails', x) }] });
    const f = r.series[0]!;
    const reg = f.regressors?.[0];
    expect(reg?.used, reg?.reason).toBe(true);
    expect(f.model).toContain('prophet(emails)');
    expect(reg?.coefficient).toBeGreaterThan(0.17);
    expect(reg?.coefficient).toBeLessThan(0.23);
    expect(reg?.unit).toBe('per-second per unit of emails');
    expect(reg?.backtest.withRegressor).toBeLessThan((reg?.backtest.without as number) * 0.6);
    // The big email days of the horizon are the big forecast days.
    const future = x.slice(DAYS);
    const truth = future.map((e, i) => 1000 + ((DAYS + i) % 7 >= 5 ? 300 : 0) + 0.2 * e);
    const mae = f.points.reduce((a, p, i) => a + Math.abs(p.value - (truth[i] as number)), 0) / H;
    expect(mae).toBeLessThan(120);
  }, 60_000);

  it('a noise regressor is rejected by the backtest and the plain forecast kept, saying so', async () => {
    const noise = emails(99);
    const r = await forecast({ series: [orders(undefined, 5)], horizonMs: H * DAY, heavyModels: 'off', regressors: [{ name: 'noise', series: asSeries('noise', noise) }] });
    const f = r.series[0]!;
    const reg = f.regressors?.[0];
    expect(reg?.used).toBe(false);
    expect(reg?.reason).toMatch(/^not used: backtest MASE [\d.]+ with noise vs .*; plain forecast kept \(/);
    expect(reg?.backtest.withRegressor).toBeGreaterThan(0.95 * Math.min(reg?.backtest.prophetWithout ?? Infinity, reg?.backtest.without ?? Infinity));
    expect(f.model).not.toContain('noise');
    // "Plain forecast kept": the very forecast a run without --regressor gives.
    const plain = (await forecast({ series: [orders(undefined, 5)], horizonMs: H * DAY, heavyModels: 'off' })).series[0]!;
    expect(f.model).toBe(plain.model);
    expect(f.points).toEqual(plain.points);
    expect(f.backtest.candidates.map((c) => c.model)).toEqual(expect.arrayContaining(['prophet(noise)', 'prophet']));
  }, 60_000);

  it('5-minute orders fitted hourly take an hourly regressor: aligned on the hourly grid, history and horizon', async () => {
    const HOUR = 3_600_000;
    const rand = mulberry32(21);
    const hours = 24 * 30;
    const push = Array.from({ length: hours + 24 }, () => (rand() < 0.15 ? 400 : 0));
    // Hourly rows, read between the hours by linear interpolation (as the forecast reads them).
    const x5 = (i: number) => {
      const h = Math.floor(i / 12);
      const f = (i % 12) / 12;
      return (push[h] as number) * (1 - f) + (push[Math.min(push.length - 1, h + 1)] as number) * f;
    };
    const shape = (i: number) => 100 + 40 * Math.sin((2 * Math.PI * (Math.floor(i / 12) % 24)) / 24);
    const points = Array.from({ length: hours * 12 }, (_, i) => ({ t: T0 + i * 300_000, v: shape(i) + 0.5 * x5(i) + 10 * (rand() - 0.5) }));
    const reg = { name: 'push', series: { name: 'push', points: push.map((v, h) => ({ t: T0 + h * HOUR, v })) } };
    const f = (await forecast({ series: [{ name: 'orders', points }], horizonMs: DAY, heavyModels: 'off', regressors: [reg] })).series[0]!;
    expect(f.backtest.aggregation).toBe(12);
    expect(f.regressors?.[0]?.used, f.regressors?.[0]?.reason).toBe(true);
    expect(f.regressors?.[0]?.coefficient).toBeGreaterThan(0.45);
    expect(f.regressors?.[0]?.coefficient).toBeLessThan(0.55);
    // The horizon follows the pushes hour by hour.
    const at = (h: number) => f.points.slice(h * 12, h * 12 + 12).reduce((a, p) => a + p.value, 0) / 12;
    for (let h = 0; h < 24; h++) {
      let expected = 0;
      for (let j = 0; j < 12; j++) expected += (shape((hours + h) * 12 + j) + 0.5 * x5((hours + h) * 12 + j)) / 12;
      expect(Math.abs(at(h) - expected)).toBeLessThan(25);
    }
  }, 60_000);

  it('refuses a regressor that stops before the end of the horizon, naming the missing range', async () => {
    const x = emails(11).slice(0, DAYS + 5);
    const err = await forecast({ series: [orders(x, 5)], horizonMs: H * DAY, heavyModels: 'off', regressors: [{ name: 'emails', file: 'emails.csv', series: asSeries('emails', x) }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_DATA_TOO_SHORT');
    const last = new Date(T0 + (DAYS + H - 1) * DAY).toISOString().replace('.000', '');
    const from = new Date(T0 + (DAYS + 5) * DAY).toISOString().replace('.000', '');
    expect((err as SurgeError).message).toContain(`regressor "emails" (emails.csv) does not cover series "orders": missing ${from} .. ${last} (horizon)`);
  });

  it('parses name=file and refuses anything else', () => {
    expect(parseRegressorSpec('emails=data/emails.csv')).toEqual({ name: 'emails', file: 'data/emails.csv' });
    expect(() => parseRegressorSpec('emails.csv')).toThrow(/not name=file/);
  });
});

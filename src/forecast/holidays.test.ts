import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { forecast } from './forecast.js';
import { knownHolidayCountries, loadHolidays } from './holidays.js';
import { mulberry32 } from './sample.js';
import type { RawSeries } from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function gaussian(seed: number): () => number {
  const rand = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
}

/** Daily orders with a weekly shape and 3% noise; `effect(dayStart)` multiplies a day (1 = ordinary). */
function daily(from: number, to: number, effect: (t: number) => number, seed = 7): RawSeries {
  const g = gaussian(seed);
  const points = [];
  for (let t = from; t < to; t += DAY) {
    const dow = new Date(t).getUTCDay();
    const base = 1000 * (dow === 0 || dow === 6 ? 1.3 : dow === 5 ? 1.15 : 1);
    points.push({ t, v: Math.round(base * effect(t) * (1 + 0.03 * g())) });
  }
  return { name: 'orders', points };
}

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const THANKSGIVINGS = ['2023-11-23', '2024-11-28', '2025-11-27'].map(day);

describe('holiday calendars', () => {
  it('ship us, gb, de and fr with the moving dates right for 2024-2028', async () => {
    expect(await knownHolidayCountries()).toEqual(expect.arrayContaining(['de', 'fr', 'gb', 'us']));
    const all = await loadHolidays('us,gb,de,fr');
    const dates = (key: string) => (all.find((h) => `${h.country}:${h.name}` === key)?.dates ?? []).map((d) => new Date(d).toISOString().slice(0, 10)).filter((d) => d >= '2024' && d < '2029');
    expect(dates('us:thanksgiving')).toEqual(['2024-11-28', '2025-11-27', '2026-11-26', '2027-11-25', '2028-11-23']);
    expect(dates('gb:good-friday')).toEqual(['2024-03-29', '2025-04-18', '2026-04-03', '2027-03-26', '2028-04-14']);
    expect(dates('de:pfingstmontag')).toEqual(['2024-05-20', '2025-06-09', '2026-05-25', '2027-05-17', '2028-06-05']);
    expect(dates('fr:ascension')).toEqual(['2024-05-09', '2025-05-29', '2026-05-14', '2027-05-06', '2028-05-25']);
    expect(dates('us:memorial-day')).toEqual(['2024-05-27', '2025-05-26', '2026-05-25', '2027-05-31', '2028-05-29']);
  });

  it('refuses an unknown country code as a usage error naming the known ones', async () => {
    const err = await loadHolidays('us,xx').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_CLI_USAGE');
    expect((err as SurgeError).message).toMatch(/"xx"/);
    expect((err as SurgeError).hint).toMatch(/de, fr, gb, us/);
  });
});

describe('holiday effects', () => {
  it('learns a Thanksgiving dip from three past years and applies it on the one in the horizon', async () => {
    const holidays = await loadHolidays(['us']);
    const end = day('2026-11-10');
    const dip = (t: number) => (THANKSGIVINGS.includes(t) || t === day('2026-11-26') ? 0.5 : 1);
    const s = daily(day('2023-06-01'), end, dip);
    const r = await forecast({ series: [s], horizonMs: 28 * DAY, holidays, heavyModels: 'off' });
    const f = r.series[0]!;
    const tg = f.holidays?.find((h) => h.name === 'us:thanksgiving');
    expect(tg?.inHistory.map((o) => o.date)).toEqual(['2023-11-23', '2024-11-28', '2025-11-27']);
    expect(tg?.effect).toBeGreaterThan(0.45);
    expect(tg?.effect).toBeLessThan(0.55);
    expect(tg?.inHorizon).toEqual(['2026-11-26']);
    expect(tg?.applied).toBe(true);
    // The Thursday itself is about half of the Thursdays around it.
    const at = (iso: string) => f.points.find((p) => p.t === `${iso}T00:00:00Z`)!;
    expect(at('2026-11-26').holiday).toBe('us:thanksgiving');
    const ratio = at('2026-11-26').value / ((at('2026-11-19').value + at('2026-12-03').value) / 2);
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.55);
    // ... and its past occurrences did not drag the ordinary Thursdays down.
    expect(at('2026-11-19').value).toBeGreaterThan(930);
    // Without --holidays the same forecast has no dip there.
    const plain = (await forecast({ series: [s], horizonMs: 28 * DAY, heavyModels: 'off' })).series[0]!;
    const p26 = plain.points.find((p) => p.t === '2026-11-26T00:00:00Z')!;
    expect(p26.value).toBeGreaterThan(900);
    expect(plain.holidays).toBeUndefined();
  });

  it('learns an hourly spike on a German holiday (Tag der Deutschen Einheit) and applies it in the horizon', async () => {
    const holidays = await loadHolidays('de');
    const g = gaussian(3);
    const start = day('2024-09-01');
    const end = day('2026-09-28');
    const spikes = ['2024-10-03', '2025-10-03', '2026-10-03'].map(day);
    const points = [];
    for (let t = start; t < end; t += HOUR) {
      const hr = new Date(t).getUTCHours();
      const base = 50 + 40 * Math.sin((Math.PI * Math.max(0, hr - 6)) / 18);
      const m = spikes.some((d) => t >= d && t < d + DAY) ? 2 : 1;
      points.push({ t, v: base * m * (1 + 0.05 * g()) });
    }
    const r = await forecast({ series: [{ name: 'de-orders', points }], horizonMs: 14 * DAY, holidays, heavyModels: 'off' });
    const f = r.series[0]!;
    const einheit = f.holidays?.find((h) => h.name === 'de:tag-der-deutschen-einheit');
    expect(einheit?.inHistory).toHaveLength(2);
    expect(einheit?.effect).toBeGreaterThan(1.85);
    expect(einheit?.effect).toBeLessThan(2.15);
    expect(einheit?.applied).toBe(true);
    const sum = (from: number) => f.points.filter((p) => Date.parse(p.t) >= from && Date.parse(p.t) < from + DAY).reduce((a, p) => a + p.value, 0);
    const ratio = sum(day('2026-10-03')) / ((sum(day('2026-10-02')) + sum(day('2026-10-04'))) / 2);
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.2);
    expect(f.points.find((p) => p.t === '2026-10-03T12:00:00Z')?.holiday).toBe('de:tag-der-deutschen-einheit');
  });

  it('keeps the plain forecast when a holiday was seen only once, and says so', async () => {
    const holidays = await loadHolidays('us');
    const end = day('2025-11-10');
    const s = daily(day('2024-09-01'), end, (t) => (t === day('2024-11-28') || t === day('2025-11-27') ? 0.5 : 1));
    const f = (await forecast({ series: [s], horizonMs: 28 * DAY, holidays, heavyModels: 'off' })).series[0]!;
    const tg = f.holidays?.find((h) => h.name === 'us:thanksgiving');
    expect(tg?.inHistory).toHaveLength(1);
    expect(tg?.applied).toBe(false);
    expect(tg?.reason).toMatch(/one past occurrence/);
    expect(f.points.find((p) => p.t === '2025-11-27T00:00:00Z')?.holiday).toBeUndefined();
  });

  /** Hourly orders (a daily shape, 4% noise, not whole numbers) with `effect(t)` multiplying some hours. */
  const hourly = (from: number, to: number, effect: (t: number) => number, seed = 5): RawSeries => {
    const g = gaussian(seed);
    const points = [];
    for (let t = from; t < to; t += HOUR) {
      const hr = new Date(t).getUTCHours();
      points.push({ t, v: (100 + 60 * Math.sin((Math.PI * hr) / 24)) * effect(t) * (1 + 0.04 * g()) });
    }
    return { name: 'orders', points };
  };
  const oneDay = (iso: string) => [{ country: 'xx', name: 'closing-day', title: 'a day the shop knows about', dates: [day(iso)] }];

  it('carries a holiday under way when the history ends over the rest of its day, at the effect seen so far', async () => {
    // The history ends at 16:00 on the holiday; demand has been at x0.4 since midnight.
    const hol = day('2026-03-10');
    const end = hol + 16 * HOUR;
    const s = hourly(day('2026-01-26'), end, (t) => (t >= hol ? 0.4 : 1));
    const f = (await forecast({ series: [s], horizonMs: 48 * HOUR, holidays: oneDay('2026-03-10'), heavyModels: 'off', now: () => 0 })).series[0]!;
    const h = f.holidays?.[0];
    expect(h?.applied).toBe(true);
    expect(h?.reason).toMatch(/under way when the history ends: x0\.\d+ observed over its first 16 h/);
    expect(h?.effect).toBeGreaterThan(0.36);
    expect(h?.effect).toBeLessThan(0.44);
    // The same series with demand as usual, for the yardstick of the days after.
    const usual = (await forecast({ series: [hourly(day('2026-01-26'), end, () => 1)], horizonMs: 48 * HOUR, heavyModels: 'off', now: () => 0 })).series[0]!;
    const at = (x: typeof f, iso: string) => x.points.find((p) => p.t === iso)!;
    // the rest of the day at about x0.4 of the usual, and named
    const evening = at(f, '2026-03-10T20:00:00Z');
    expect(evening.holiday).toBe('xx:closing-day');
    expect(evening.value / at(usual, '2026-03-10T20:00:00Z').value).toBeGreaterThan(0.34);
    expect(evening.value / at(usual, '2026-03-10T20:00:00Z').value).toBeLessThan(0.46);
    // the next day back to normal: the dip was kept out of the fit, not read as a new level
    const next = at(f, '2026-03-11T12:00:00Z').value / at(usual, '2026-03-11T12:00:00Z').value;
    expect(next).toBeGreaterThan(0.93);
    expect(next).toBeLessThan(1.07);
    // Blind, the dip drags the next day down.
    const blind = (await forecast({ series: [s], horizonMs: 48 * HOUR, heavyModels: 'off', now: () => 0 })).series[0]!;
    expect(at(blind, '2026-03-11T12:00:00Z').value / at(usual, '2026-03-11T12:00:00Z').value).toBeLessThan(0.93);
  });

  it('widens the band, and leaves the point alone, on a holiday in the horizon the history cannot size', async () => {
    const s = hourly(day('2026-01-26'), day('2026-03-09'), () => 1);
    const known = (await forecast({ series: [s], horizonMs: 48 * HOUR, holidays: oneDay('2026-03-10'), heavyModels: 'off', now: () => 0 })).series[0]!;
    const plain = (await forecast({ series: [s], horizonMs: 48 * HOUR, heavyModels: 'off', now: () => 0 })).series[0]!;
    const h = known.holidays?.[0];
    expect(h?.applied).toBe(false);
    expect(h?.reason).toMatch(/not in the history: no effect to estimate; its day in the horizon gets the interval of an unknown effect \(x0\.5\.\.x2 at 80%, x0\.25\.\.x3 at 95%\)/);
    known.points.forEach((p, i) => {
      const q = plain.points[i]!;
      expect(p.value).toBe(q.value);
      if (p.t.startsWith('2026-03-10')) {
        expect(p.hi95).toBeCloseTo(3 * q.hi95, 3);
        expect(p.lo95).toBeCloseTo(0.25 * q.lo95, 3);
        expect(p.hi80).toBeCloseTo(2 * q.hi80, 3);
        expect(p.lo80).toBeCloseTo(0.5 * q.lo80, 3);
      } else {
        expect([p.lo95, p.lo80, p.hi80, p.hi95]).toEqual([q.lo95, q.lo80, q.hi80, q.hi95]);
      }
    });
  });
});

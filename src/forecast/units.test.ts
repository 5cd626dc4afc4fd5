import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { capacityPlan } from './capacity-plan.js';
import { forecast } from './forecast.js';
import { calendarPeriods } from './seasonality.js';
import { regularise } from './series.js';
import { parseSeriesCsv } from './sources/file.js';
import { readPrometheus } from './sources/prometheus.js';
import type { ForecastResult, SeriesForecast } from './types.js';
import { likelyCountUnit, unitSeconds } from './units.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A one-point forecast document in `unit`, for the plan arithmetic. */
function doc(unit: SeriesForecast['unit'], value: number, stepSeconds = 3600): ForecastResult {
  const p = { t: '2026-11-27T10:00:00Z', value, lo80: value, hi80: value, lo95: value, hi95: value };
  return {
    apiVersion: 'surgectl/v1',
    kind: 'Forecast',
    generatedAt: '2026-11-20T00:00:00Z',
    horizonMs: stepSeconds * 1000,
    series: [{ name: 's', stepSeconds, ...(unit ? { unit } : {}), model: 'naive', seasonality: [], history: { start: '', end: '', points: 0, hygiene: { inputPoints: 0, unsorted: 0, duplicates: 0, gapsFilled: 0, resampled: 0, counterResets: 0 } }, backtest: { origins: 1, horizon: 1, aggregation: 1, candidates: [], selected: '' }, campaigns: [], peak: p, points: [p], tail: [] }],
  };
}

describe('capacity plan converts every unit to orders per second', () => {
  const cases: [SeriesForecast['unit'], number, number][] = [
    [undefined, 7200, 7200], // files written before units: per-second
    ['per-second', 7200, 7200],
    ['per-minute', 7200, 120],
    ['per-hour', 7200, 2],
    ['per-day', 86_400 * 3, 3],
    ['per-step', 7200, 2], // a 1-hour step
  ];
  for (const [unit, value, perSecond] of cases) {
    it(`${unit ?? 'no unit'}: ${value} -> ${perSecond}/s`, () => {
      const plan = capacityPlan({ forecast: doc(unit, value), services: [{ name: 'intake', perReplicaRps: 1 }], headroom: 0, maxFactor: 1 });
      expect(plan.spec.demand.sizedValue).toBeCloseTo(perSecond, 9);
      expect(plan.spec.demand.point).toBeCloseTo(perSecond, 4);
      expect(plan.spec.services[0]?.replicas).toBe(Math.ceil(perSecond));
    });
  }
  it('per-step on a 15-minute step divides by 900', () => {
    expect(unitSeconds('per-step', 900)).toBe(900);
    const plan = capacityPlan({ forecast: doc('per-step', 1800, 900), services: [{ name: 'intake', perReplicaRps: 1 }], headroom: 0 });
    expect(plan.spec.demand.sizedValue).toBe(2);
  });
});

describe('likelyCountUnit: when per-second is implausible', () => {
  it('whole numbers on an hourly step are per-hour; on a daily step per-day; on 15 minutes per-step', () => {
    const counts = Array.from({ length: 48 }, (_, i) => 100 + (i % 7));
    expect(likelyCountUnit(counts, 3600)).toBe('per-hour');
    expect(likelyCountUnit(counts, 86_400)).toBe('per-day');
    expect(likelyCountUnit(counts, 900)).toBe('per-step');
    expect(likelyCountUnit(counts, 60)).toBe('per-minute');
  });
  it('rates (fractions) are plausible per-second, unless hourly values run in the thousands', () => {
    const rates = Array.from({ length: 48 }, (_, i) => 12.5 + i / 3);
    expect(likelyCountUnit(rates, 3600)).toBeUndefined();
    expect(likelyCountUnit(rates.map((v) => v * 1000), 3600)).toBe('per-hour');
    expect(likelyCountUnit(rates.map((v) => v * 1000), 300)).toBeUndefined();
    // sub-minute steps are scrape rates
    expect(likelyCountUnit(Array.from({ length: 48 }, () => 5), 15)).toBeUndefined();
  });
});

describe('hygiene of exported counts', () => {
  it('an empty cell is a gap; text is still an error', () => {
    const [s] = parseSeriesCsv('ts,orders\n2026-01-01 00:00,5\n2026-01-01 01:00,\n2026-01-01 02:00,7\n', 'x.csv');
    const clean = regularise(s!);
    expect(Array.from(clean.values)).toEqual([5, 6, 7]);
    expect(clean.hygiene).toMatchObject({ emptyValues: 1, gapsFilled: 1, longestGapSteps: 1 });
    expect(() => parseSeriesCsv('ts,orders\n2026-01-01 00:00,n/a\n', 'x.csv')).toThrow(/x\.csv:2: value "n\/a" is not a number/);
  });
  it('regularise refuses negatives naming their times unless allowed (Prometheus and library input)', () => {
    const raw = { name: 'p', points: [0, 1, 2].map((i) => ({ t: i * HOUR, v: i === 1 ? -3 : 4 })) };
    expect(() => regularise(raw, { allowNegative: false })).toThrow(/series "p" has 1 negative value: 1970-01-01T01:00:00Z \(-3\)/);
    expect(regularise(raw).values[1]).toBe(-3);
  });
});

describe('daily and weekly rows', () => {
  it('daily rows get weekly and yearly periods, weekly rows a yearly one', () => {
    expect(calendarPeriods(DAY).map((p) => `${p.name}:${p.steps}`)).toEqual(['weekly:7', 'yearly:365']);
    expect(calendarPeriods(7 * DAY).map((p) => `${p.name}:${p.steps}`)).toEqual(['yearly:52']);
  });
  it('a year of daily orders with busy weekends: weekly seasonality found, weekend peaks forecast', async () => {
    const t0 = Date.UTC(2025, 0, 6); // a Monday
    const points = Array.from({ length: 365 }, (_, i) => ({ t: t0 + i * DAY, v: Math.round(40_000 * (i % 7 >= 5 ? 1.4 : 1) * (1 + 0.03 * Math.sin(i * 2.3))) }));
    const r = await forecast({ series: [{ name: 'daily', points }], horizonMs: 28 * DAY, unit: 'per-day', heavyModels: 'off', now: () => 0 });
    const s = r.series[0]!;
    expect(s.unit).toBe('per-day');
    expect(s.seasonality).toContain(7);
    const weekday = (t: string) => (new Date(t).getUTCDay() + 6) % 7;
    expect(weekday(s.peak.t)).toBeGreaterThanOrEqual(5);
    const sat = s.points.filter((p) => weekday(p.t) === 5).map((p) => p.value);
    const tue = s.points.filter((p) => weekday(p.t) === 1).map((p) => p.value);
    expect(Math.min(...sat) / Math.max(...tue)).toBeGreaterThan(1.25);
  });
});

describe('Prometheus native histograms', () => {
  it('get a clear SRG_DATA_FORMAT naming the fix instead of a crash', async () => {
    // The documented query_range answer for a native histogram series: `histograms`, no `values`.
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { __name__: 'http_request_duration_seconds' }, histograms: [[1_700_000_000, { count: '10', sum: '3.2', buckets: [[0, '0.5', '1', '10']] }]] }] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const err = await readPrometheus({ url, query: 'http_request_duration_seconds', start: 0, end: HOUR, stepMs: 300_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SRG_DATA_FORMAT', message: expect.stringContaining('native histograms') });
      expect((err as { hint: string }).hint).toMatch(/histogram_quantile|rate\(/);
    } finally {
      server.close();
    }
  });
});

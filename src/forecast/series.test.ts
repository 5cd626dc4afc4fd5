import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { aggregate, regularise } from './series.js';
import { parseSeriesCsv, parseSeriesJson, readSeriesFile } from './sources/file.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function expectSurge(fn: () => unknown, code: string, exitCode: number, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe(code);
    expect((err as SurgeError).exitCode).toBe(exitCode);
    if (message) expect((err as SurgeError).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('regularise', () => {
  it('sorts, averages duplicate timestamps, fills gaps and reports each fix', () => {
    const points = [
      { t: T0 + 2 * MIN, v: 30 },
      { t: T0, v: 10 },
      { t: T0 + MIN, v: 19 },
      { t: T0 + MIN, v: 21 },
      { t: T0 + 5 * MIN, v: 60 },
    ];
    const s = regularise({ name: 'x', points }, { stepMs: MIN });
    expect(Array.from(s.values)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(s.start).toBe(T0);
    expect(s.hygiene).toMatchObject({ inputPoints: 5, unsorted: 1, duplicates: 1, gapsFilled: 2, resampled: 0 });
  });

  it('moves irregular timestamps onto the grid of the inferred step', () => {
    const points = [0, 61, 119, 181, 240].map((sec, i) => ({ t: T0 + sec * 1000, v: i }));
    const s = regularise({ name: 'x', points });
    expect(s.stepMs).toBe(60_000);
    expect(Array.from(s.values)).toEqual([0, 1, 2, 3, 4]);
    expect(s.hygiene.resampled).toBe(3);
  });

  it('keeps the phase of the timestamps: hourly rows at :30 and weekly rows on Mondays stay where they are', () => {
    const HOUR = 3_600_000;
    const halfPast = Date.UTC(2026, 0, 1, 4, 30); // 10:00 in India (+05:30)
    const s = regularise({ name: 'ist', points: [0, 1, 2, 4, 5].map((i) => ({ t: halfPast + i * HOUR, v: i })) });
    expect(s.stepMs).toBe(HOUR);
    expect(s.start).toBe(halfPast);
    expect(Array.from(s.values)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.hygiene).toMatchObject({ resampled: 0, gapsFilled: 1 });

    const monday = Date.UTC(2025, 0, 6);
    const WEEK = 7 * 86_400_000;
    const w = regularise({ name: 'weekly', points: Array.from({ length: 10 }, (_, i) => ({ t: monday + i * WEEK, v: i })) });
    expect(w.stepMs).toBe(WEEK);
    expect(new Date(w.start).toISOString()).toBe('2025-01-06T00:00:00.000Z');
    expect(w.hygiene.resampled).toBe(0);

    // Jitter either side of :00 is still put on :00.
    const j = regularise({ name: 'jitter', points: [-2, 59, 121, 178, 241].map((sec, i) => ({ t: T0 + sec * 1000, v: i })) });
    expect(j.start).toBe(T0);
    expect(j.values).toHaveLength(5);
  });

  it('turns a counter with a reset into a per-second rate', () => {
    // 1/s for 3 minutes, restart at minute 3 (counter starts again at 60), then 1/s again.
    const v = [0, 60, 120, 60, 120];
    const s = regularise({ name: 'c', points: v.map((x, i) => ({ t: T0 + i * MIN, v: x })) }, { counter: true });
    expect(Array.from(s.values)).toEqual([1, 1, 1, 1]);
    expect(s.hygiene.counterResets).toBe(1);
  });

  it('refuses an empty series and a single point', () => {
    expectSurge(() => regularise({ name: 'e', points: [] }), 'SRG_DATA_EMPTY', 10, /"e" has no usable points/);
    expectSurge(() => regularise({ name: 'one', points: [{ t: T0, v: 1 }] }), 'SRG_DATA_TOO_SHORT', 10, /only 1 distinct point/);
  });

  it('aggregates to block means aligned with the end of the series', () => {
    const { values, offset } = aggregate(Float64Array.from([9, 1, 2, 3, 4]), 2);
    expect(offset).toBe(1);
    expect(Array.from(values)).toEqual([1.5, 3.5]);
  });
});

describe('file parsing', () => {
  it('reads timestamp,value CSV with ISO and unix-second timestamps', () => {
    const [s] = parseSeriesCsv('timestamp,value\n2026-01-01T00:00:00Z,1.5\n1767225660,2\n', 'f.csv', 'orders');
    expect(s?.name).toBe('orders');
    expect(s?.points).toEqual([
      { t: T0, v: 1.5 },
      { t: T0 + MIN, v: 2 },
    ]);
  });

  it('reads a date and time without a zone as UTC whatever the machine time zone', () => {
    const saved = process.env.TZ;
    // A zone with daylight saving: read as local time, 02:30 on 2026-03-08 does not exist there.
    process.env.TZ = 'America/New_York';
    try {
      const [s] = parseSeriesCsv('timestamp,value\n2026-03-08T01:30:00,1\n2026-03-08 02:30:00,2\n2026-03-08T03:30,3\n', 'f.csv');
      const H = 3_600_000;
      const t = Date.UTC(2026, 2, 8, 1, 30);
      expect(s?.points).toEqual([
        { t, v: 1 },
        { t: t + H, v: 2 },
        { t: t + 2 * H, v: 3 },
      ]);
      // An explicit zone still counts, and a date alone is midnight UTC as before.
      const [z] = parseSeriesCsv('timestamp,value\n2026-03-08T01:30:00+01:00,1\n2026-03-08,2\n', 'f.csv');
      expect(z?.points.map((p) => p.t)).toEqual([t - H, Date.UTC(2026, 2, 8)]);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('reads a JSON file written with a byte order mark, and calls an empty JSON file empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'surgectl-series-'));
    try {
      const bom = join(dir, 'bom.json');
      await writeFile(bom, '\ufeff' + JSON.stringify([{ timestamp: '2026-01-01T00:00:00Z', value: 3 }]));
      expect((await readSeriesFile(bom))[0]?.points).toEqual([{ t: T0, v: 3 }]);
      const csv = join(dir, 'bom.csv');
      await writeFile(csv, '\ufefftimestamp,value\r\n2026-01-01T00:00:00Z,4\r\n');
      expect((await readSeriesFile(csv))[0]?.points).toEqual([{ t: T0, v: 4 }]);
      const empty = join(dir, 'empty.json');
      await writeFile(empty, '\n');
      const err = await readSeriesFile(empty).catch((e: unknown) => e);
      expect((err as SurgeError).code).toBe('SRG_DATA_EMPTY');
      expect((err as SurgeError).message).toMatch(/empty\.json is empty/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('splits long format into one series per id', () => {
    const out = parseSeriesCsv('series,timestamp,value\na,2026-01-01T00:00:00Z,1\nb,2026-01-01T00:00:00Z,5\na,2026-01-01T00:01:00Z,2\n');
    expect(out.map((s) => [s.name, s.points.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('reads JSON rows', () => {
    const out = parseSeriesJson(JSON.stringify([{ value: 3, timestamp: '2026-01-01T00:00:00Z' }]));
    expect(out[0]?.points).toEqual([{ t: T0, v: 3 }]);
  });

  it('names the problem in bad files', () => {
    expectSurge(() => parseSeriesCsv('', 'f.csv'), 'SRG_DATA_EMPTY', 10, /f\.csv is empty/);
    expectSurge(() => parseSeriesCsv('timestamp,value\n', 'f.csv'), 'SRG_DATA_EMPTY', 10, /no rows/);
    expectSurge(() => parseSeriesCsv('timestamp,value,region\n2026-01-01,1,eu\n', 'f.csv'), 'SRG_DATA_FORMAT', 10, /unknown column "region"/);
    expectSurge(() => parseSeriesCsv('timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,lots\n', 'f.csv'), 'SRG_DATA_FORMAT', 10, /f\.csv:3: value "lots" is not a number/);
    expectSurge(() => parseSeriesCsv('timestamp,value\nyesterday,1\n', 'f.csv'), 'SRG_DATA_FORMAT', 10, /"yesterday" is not a timestamp/);
    expectSurge(() => parseSeriesJson('{"a":1}', 'f.json'), 'SRG_DATA_FORMAT', 10, /JSON array/);
  });
});

describe('regularise at scale', () => {
  it('handles a year of 5-minute counter samples', () => {
    const n = 105_120;
    // Restarts at i = 50,000 and 100,000; the counter counts from 0 again, so the first new sample is 600.
    const points = Array.from({ length: n }, (_, i) => ({ t: T0 + i * 300_000, v: ((i % 50_000) + 1) * 600 }));
    const s = regularise({ name: 'big', points }, { counter: true });
    expect(s.values.length).toBe(n - 1);
    expect(s.hygiene.counterResets).toBe(2);
    expect(s.values.every((v) => v === 2)).toBe(true);
  });
});

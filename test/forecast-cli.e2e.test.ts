import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/forecast-cli.js';

/**
 * `surgectl forecast` fails before it writes anything: every flag and output path is checked
 * first, and a run that fails leaves no partial set of outputs. Flags are usage errors (exit 2)
 * that name the flag, the value given and what was expected.
 */
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'surgectl-forecast-cli-'));
  const s = await runCli(['forecast', 'sample', '--days', '10', '--step', '1h', '--out', 'h.csv'], { cwd: dir });
  expect(s.code, s.stderr).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh working directory; the history is read from the parent. */
function fresh(): string {
  const w = join(dir, `w${++n}`);
  mkdirSync(w);
  return w;
}

describe('forecast: no partial outputs', () => {
  it('--rows abc is refused before --out is written', async () => {
    const w = fresh();
    const r = await runCli(['forecast', '--input', '../h.csv', '--horizon', '2d', '--rows', 'abc', '--out', 'rows.json'], { cwd: w });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --rows must be a whole number >= 0 or 'all', got 'abc'/);
    expect(readdirSync(w)).toEqual([]);
  });

  it('--plot naming a directory is refused before anything is written (no --out file, no temp file)', async () => {
    const w = fresh();
    mkdirSync(join(w, 'chart.svg'));
    const r = await runCli(['forecast', '--input', '../h.csv', '--horizon', '2d', '--out', 'part.json', '--plot', 'chart.svg'], { cwd: w });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --plot .*chart\.svg.* is a directory/);
    expect(r.stdout).toBe('');
    expect(readdirSync(w)).toEqual(['chart.svg']);
    expect(readdirSync(join(w, 'chart.svg'))).toEqual([]);
  });

  it('--out under a file (not a directory) is refused before the forecast runs', async () => {
    const w = fresh();
    const r = await runCli(['forecast', '--input', '../h.csv', '--horizon', '2d', '--out', '../h.csv/f.json', '--plot', 'f.svg'], { cwd: w });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --out .*h\.csv\/f\.json: .*h\.csv is not a directory/);
    expect(readdirSync(w)).toEqual([]);
  });

  it('sample --campaigns-out naming a directory leaves no --out CSV behind', async () => {
    const w = fresh();
    mkdirSync(join(w, 'cal'));
    const r = await runCli(['forecast', 'sample', '--days', '3', '--out', 'part.csv', '--campaigns-out', 'cal'], { cwd: w });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --campaigns-out .*cal.* is a directory/);
    expect(readdirSync(w)).toEqual(['cal']);
  });

  it('a good run still writes both files', async () => {
    const w = fresh();
    const f = await runCli(['forecast', '--input', '../h.csv', '--horizon', '1d', '--out', 'out/f.json', '--plot', 'out/f.html', '--rows', '2'], { cwd: w });
    expect(f.code, f.stderr).toBe(0);
    expect(readdirSync(join(w, 'out')).sort()).toEqual(['f.html', 'f.json']);
    const s = await runCli(['forecast', 'sample', '--days', '3', '--out', 's.csv', '--campaigns-out', 's.yaml'], { cwd: w });
    expect(s.code, s.stderr).toBe(0);
    expect(readdirSync(w).sort()).toEqual(['out', 's.csv', 's.yaml']);
  });
});

describe('forecast: flags are usage errors that name the flag', () => {
  it('--prometheus that is not a URL: exit 2 naming --prometheus, not the config key', async () => {
    const r = await runCli(['forecast', '--prometheus', 'not-a-url', '--query', 'up'], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --prometheus must be an http\(s\) URL, e\.g\. http:\/\/127\.0\.0\.1:9090, got 'not-a-url'/);
    expect(r.stderr).not.toContain('forecast.prometheus');
  });

  it('--input and --prometheus together are refused instead of ignoring one', async () => {
    const r = await runCli(['forecast', '--input', 'h.csv', '--prometheus', 'http://127.0.0.1:9', '--query', 'up', '--horizon', '1d'], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] .*--input.*--prometheus/);
    expect(r.stdout).toBe('');
  });

  it('sample --end without a zone is UTC, so the same flags give the same data on every machine', async () => {
    const w = fresh();
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const r = await runCli(['forecast', 'sample', '--days', '1', '--step', '1h', '--end', '2026-11-20T00:00:00', '--out', 's.csv'], { cwd: w });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/wrote 24 points \(2026-11-19T00:00:00\.000Z \.\. 2026-11-19T23:00:00\.000Z/);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('sample --days abc says what was given and what was expected', async () => {
    const w = fresh();
    const r = await runCli(['forecast', 'sample', '--days', 'abc', '--out', 'x.csv'], { cwd: w });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--days must be a number from 1 to 3660, got 'abc'/);
    expect(r.stderr).not.toMatch(/NaN/);
    expect(readdirSync(w)).toEqual([]);
  });
});

describe('forecast -> capacity plan on a declining history', () => {
  it('sizing on the p95 upper bound never plans fewer replicas than the point forecast needs', async () => {
    // Demand falls 2 orders/s every hour: the last value overshoots every backtest origin, so all the
    // errors of --model naive are negative; the interval must still reach up to the point forecast.
    const w = fresh();
    const t0 = Date.UTC(2026, 9, 1);
    const rows = Array.from({ length: 24 * 21 }, (_, i) => `${new Date(t0 + i * 3_600_000).toISOString()},${2000 - 2 * i}`);
    writeFileSync(join(w, 'falling.csv'), `timestamp,value\n${rows.join('\n')}\n`);
    const f = await runCli(['forecast', '--input', 'falling.csv', '--horizon', '1d', '--model', 'naive', '--out', 'f.json'], { cwd: w });
    expect(f.code, f.stderr).toBe(0);
    const r = await runCli(['capacity', 'plan', '--forecast', 'f.json', '--per-replica-rps', '100', '--headroom', '0', '--services', 'intake', '-o', 'json'], { cwd: w });
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { spec: { demand: { point: number; lo95: number; hi95: number; sizedValue: number }; services: { replicas: number; asg: { min: number } }[] } };
    const { demand, services } = plan.spec;
    expect(demand.point).toBe(994);
    expect(demand.lo95).toBeLessThanOrEqual(demand.point);
    expect(demand.sizedValue).toBeGreaterThanOrEqual(demand.point);
    expect(services[0]?.replicas).toBeGreaterThanOrEqual(10);
    expect(services[0]?.asg.min).toBe(10);
  });
});

/** Orders per hour as a BI tool exports them: whole counts in the thousands, 5 weeks, evening peak. */
function hourlyCounts(opts: { hours?: number; blank?: number[]; missing?: number[]; negative?: number[] } = {}): string {
  const t0 = Date.UTC(2026, 9, 5);
  const lines = ['date,orders'];
  for (let i = 0; i < (opts.hours ?? 24 * 35); i++) {
    if (opts.missing?.includes(i)) continue;
    const h = i % 24;
    const v = Math.round(1800 + 1800 * Math.exp(-((h - 20) ** 2) / 8) + 60 * Math.sin(i * 1.7));
    const cell = opts.blank?.includes(i) ? '' : String(opts.negative?.includes(i) ? -v : v);
    lines.push(`${new Date(t0 + i * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')},${cell}`);
  }
  return lines.join('\n') + '\n';
}

describe('units: orders per hour reach the plan as orders per second', () => {
  it('--unit per-hour: the forecast says its unit and the plan divides by 3,600 with the arithmetic shown', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), hourlyCounts());
    const f = await runCli(['forecast', '--input', 'orders.csv', '--unit', 'per-hour', '--horizon', '2d', '--out', 'f.json', '--rows', '2'], { cwd: w });
    expect(f.code, f.stderr).toBe(0);
    expect(f.stderr).not.toContain('look like counts');
    expect(f.stdout).toContain('values in orders/h');
    expect(f.stdout).toMatch(/FORECAST \/H/i);
    const doc = JSON.parse(readFileSync(join(w, 'f.json'), 'utf8')) as { series: { unit: string; peak: { hi95: number } }[] };
    expect(doc.series[0]?.unit).toBe('per-hour');
    const r = await runCli(['capacity', 'plan', '--forecast', 'f.json', '--per-replica-rps', '0.25', '--headroom', '0', '--services', 'intake', '-o', 'json'], { cwd: w });
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { spec: { demand: { sizedValue: number; sizedInUnit: number; unit: string }; services: { replicas: number; arithmetic: string[] }[] } };
    const peakPerHour = Math.max(...(JSON.parse(readFileSync(join(w, 'f.json'), 'utf8')) as { series: { points: { hi95: number }[] }[] }).series[0]!.points.map((p) => p.hi95));
    expect(plan.spec.demand.unit).toBe('per-hour');
    expect(plan.spec.demand.sizedInUnit).toBeCloseTo(peakPerHour, 6);
    expect(plan.spec.demand.sizedValue).toBeCloseTo(peakPerHour / 3600, 6);
    // ~3,600 orders an hour is ~1 order a second: 4-5 replicas at 0.25/s each, not 14,000.
    expect(plan.spec.services[0]!.replicas).toBe(Math.ceil(peakPerHour / 3600 / 0.25 - 1e-9));
    expect(plan.spec.services[0]!.replicas).toBeLessThan(10);
    expect(plan.spec.services[0]!.arithmetic[0]).toMatch(/^rate {4}= p95 upper bound [\d.]+\/h \/ 3600 s = [\d.]+\/s$/);
  });

  it('without --unit, hourly counts get a warning naming per-hour, and the plan shows the rate both ways', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), hourlyCounts());
    const f = await runCli(['forecast', '--input', 'orders.csv', '--horizon', '1d', '--out', 'f.json', '--rows', '0'], { cwd: w });
    expect(f.code, f.stderr).toBe(0);
    expect(f.stderr).toMatch(/look like counts per hour.*--unit per-hour/);
    const doc = JSON.parse(readFileSync(join(w, 'f.json'), 'utf8')) as { series: { unit: string; unitAssumed: boolean; likelyUnit: string }[] };
    expect(doc.series[0]).toMatchObject({ unit: 'per-second', unitAssumed: true, likelyUnit: 'per-hour' });
    const r = await runCli(['capacity', 'plan', '--forecast', 'f.json', '--per-replica-rps', '100', '--services', 'intake'], { cwd: w });
    expect(r.code, r.stderr).toBe(0);
    const m = /sized on p95 = ([\d.]+)\/s \(unit assumed.*look per-hour, which would be ([\d.]+)\/s\)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1]) / Number(m![2])).toBeCloseTo(3600, 0);
  });

  it('forecast.unit in surgectl.yaml is used when --unit is not given', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), hourlyCounts());
    writeFileSync(join(w, 'surgectl.yaml'), 'forecast:\n  unit: per-hour\n');
    const f = await runCli(['forecast', '--input', 'orders.csv', '--horizon', '1d', '-o', 'json'], { cwd: w });
    expect(f.code, f.stderr).toBe(0);
    expect((JSON.parse(f.stdout) as { series: { unit: string }[] }).series[0]?.unit).toBe('per-hour');
  });

  it('--unit outside the list is a usage error naming the choices', async () => {
    const r = await runCli(['forecast', '--input', '../h.csv', '--unit', 'per-fortnight'], { cwd: fresh() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/per-fortnight.*per-second.*per-hour/s);
  });
});

describe('hygiene: empty cells and missing rows are gaps; long holes and negatives are refused', () => {
  it('empty value cells and missing rows are filled and counted', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), hourlyCounts({ blank: [100, 101], missing: [300, 301, 302] }));
    const f = await runCli(['forecast', '--input', 'orders.csv', '--unit', 'per-hour', '--horizon', '1d', '-o', 'json'], { cwd: w });
    expect(f.code, f.stderr).toBe(0);
    const h = (JSON.parse(f.stdout) as { series: { history: { hygiene: Record<string, number> } }[] }).series[0]!.history.hygiene;
    expect(h).toMatchObject({ emptyValues: 2, gapsFilled: 5, longestGapSteps: 3 });
  });

  it('--max-gap refuses a longer hole with exit 10 naming its range, and writes nothing', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), hourlyCounts({ blank: [200], missing: [300, 301, 302, 303] }));
    const r = await runCli(['forecast', '--input', 'orders.csv', '--unit', 'per-hour', '--max-gap', '3h', '--horizon', '1d', '--out', 'f.json'], { cwd: w });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('SRG_DATA_GAP');
    expect(r.stderr).toContain('no data from 2026-10-17T12:00:00Z to 2026-10-17T15:00:00Z (4 steps, 4h), longer than --max-gap 3h');
    expect(readdirSync(w)).toEqual(['orders.csv']);
    const ok = await runCli(['forecast', '--input', 'orders.csv', '--unit', 'per-hour', '--max-gap', '4h', '--horizon', '1d', '-o', 'json'], { cwd: w });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('negative values are refused naming the lines, unless --allow-negative', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), hourlyCounts({ negative: [10, 11] }));
    const r = await runCli(['forecast', '--input', 'orders.csv', '--unit', 'per-hour', '--horizon', '1d'], { cwd: w });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('SRG_DATA_NEGATIVE');
    expect(r.stderr).toMatch(/2 negative values: \S*orders\.csv:12 \(-\d+\), \S*orders\.csv:13 \(-\d+\)/);
    const ok = await runCli(['forecast', '--input', 'orders.csv', '--unit', 'per-hour', '--horizon', '1d', '--allow-negative', '-o', 'json'], { cwd: w });
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('forecast --holidays and --regressor', () => {
  const DAY = 86_400_000;
  const T0 = Date.UTC(2023, 5, 5); // a Monday
  const END = Date.UTC(2026, 10, 9); // history to 2026-11-08; 28 days ahead holds Thanksgiving 2026-11-26
  const days = (END - T0) / DAY;
  const thanksgiving = ['2023-11-23', '2024-11-28', '2025-11-27', '2026-11-26'].map((d) => Date.parse(`${d}T00:00:00Z`));
  // Emails sent the day before, stamped with the day they act on: a burst every 9th day, history and horizon.
  const emails = (i: number) => (i % 9 === 0 ? 5000 : 100);
  let seed = 3;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 40;
  const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
  const ordersCsv = () => {
    const rows = ['timestamp,value'];
    for (let i = 0; i < days; i++) {
      const t = T0 + i * DAY;
      const base = 1000 + (i % 7 >= 5 ? 300 : 0) + 0.1 * emails(i) + noise();
      rows.push(`${iso(t)},${Math.round(base * (thanksgiving.includes(t) ? 0.5 : 1))}`);
    }
    return rows.join('\n') + '\n';
  };
  const emailsCsv = (until: number) => ['timestamp,value', ...Array.from({ length: until }, (_, i) => `${iso(T0 + i * DAY)},${emails(i)}`)].join('\n') + '\n';

  it('learns Thanksgiving and the email effect, applies both, and reports them in JSON and table', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), ordersCsv());
    writeFileSync(join(w, 'emails.csv'), emailsCsv(days + 28));
    const args = ['forecast', '--input', 'orders.csv', '--unit', 'per-day', '--horizon', '28d', '--holidays', 'us', '--regressor', 'emails=emails.csv', '--heavy-models', 'off'];
    const j = await runCli([...args, '--out', 'f.json'], { cwd: w });
    expect(j.code, j.stderr).toBe(0);
    expect(j.stdout).toMatch(/^holiday us:thanksgiving: x0\.\d+ from 2023-11-23 x0\.\d+, 2024-11-28 x0\.\d+, 2025-11-27 x0\.\d+; in the horizon 2026-11-26; applied/m);
    expect(j.stdout).toMatch(/^regressor emails: coefficient 0\.\d+ per-day per unit of emails; used: backtest MASE/m);
    const s = (JSON.parse(readFileSync(join(w, 'f.json'), 'utf8')) as { series: Record<string, unknown>[] }).series[0] as {
      holidays: { name: string; effect: number; applied: boolean; inHorizon: string[] }[];
      regressors: { name: string; file: string; coefficient: number; used: boolean; backtest: Record<string, number> }[];
      points: { t: string; value: number; holiday?: string }[];
    };
    const tg = s.holidays.find((h) => h.name === 'us:thanksgiving')!;
    expect(tg.applied).toBe(true);
    // One of the three Thanksgivings is measured against weeks with an email burst (x0.76): the median holds.
    expect(Math.abs(tg.effect - 0.5)).toBeLessThan(0.05);
    expect(s.regressors[0]).toMatchObject({ name: 'emails', file: 'emails.csv', used: true });
    expect(Math.abs(s.regressors[0]!.coefficient - 0.1)).toBeLessThan(0.02);
    expect(s.points.find((p) => p.t === '2026-11-26T00:00:00Z')?.holiday).toBe('us:thanksgiving');
  }, 60_000);

  it('refuses an unknown country code with exit 2 naming the known ones, writing nothing', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), ordersCsv());
    const r = await runCli(['forecast', '--input', 'orders.csv', '--unit', 'per-day', '--horizon', '28d', '--holidays', 'us,zz', '--out', 'f.json'], { cwd: w });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --holidays: no holiday calendar for "zz"/);
    expect(r.stderr).toMatch(/de, fr, gb, us/);
    expect(readdirSync(w)).toEqual(['orders.csv']);
  });

  it('takes the holidays from surgectl.yaml forecast.holidays', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), ordersCsv());
    writeFileSync(join(w, 'surgectl.yaml'), 'forecast:\n  holidays: [us]\n');
    const r = await runCli(['forecast', '--input', 'orders.csv', '--unit', 'per-day', '--horizon', '28d', '--heavy-models', 'off', '-o', 'json'], { cwd: w });
    expect(r.code, r.stderr).toBe(0);
    const s = (JSON.parse(r.stdout) as { series: { holidays?: { name: string; applied: boolean }[] }[] }).series[0]!;
    expect(s.holidays?.find((h) => h.name === 'us:thanksgiving')?.applied).toBe(true);
  });

  it('refuses a regressor that ends before the horizon does (exit 10, the missing range named), writing nothing', async () => {
    const w = fresh();
    writeFileSync(join(w, 'orders.csv'), ordersCsv());
    writeFileSync(join(w, 'emails.csv'), emailsCsv(days + 7));
    const r = await runCli(['forecast', '--input', 'orders.csv', '--unit', 'per-day', '--horizon', '28d', '--regressor', 'emails=emails.csv', '--out', 'f.json'], { cwd: w });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('[SRG_DATA_TOO_SHORT] regressor "emails" (emails.csv) does not cover series "orders": missing 2026-11-16T00:00:00Z .. 2026-12-06T00:00:00Z (horizon)');
    expect(readdirSync(w).sort()).toEqual(['emails.csv', 'orders.csv']);
  });

  it('refuses --regressor without name=file as a usage error', async () => {
    const w = fresh();
    const r = await runCli(['forecast', '--input', '../h.csv', '--horizon', '1d', '--regressor', 'emails.csv', '--out', 'f.json'], { cwd: w });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --regressor "emails\.csv" is not name=file/);
    expect(readdirSync(w)).toEqual([]);
  });
});

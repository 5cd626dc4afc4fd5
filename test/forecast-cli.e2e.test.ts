import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
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

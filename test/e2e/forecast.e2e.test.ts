import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ScalePlanSchema } from '../../src/forecast/capacity-plan.js';
import { parseScalePlan } from '../../src/scale/plan-file.js';
import { existsSync } from 'node:fs';
import type { ForecastResult } from '../../src/forecast/types.js';
import { runCli } from '../support/forecast-cli.js';

const CALENDAR = resolve('scenarios/campaigns/black-friday.yaml');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'surgectl-forecast-e2e-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('surgectl forecast -> capacity plan (the surge-prep path)', () => {
  it('generates the sample, forecasts Black Friday from last year, and writes a scale plan', async () => {
    const sample = await runCli(['forecast', 'sample', '--days', '365', '--seed', '42', '--out', 'orders.csv'], { cwd: dir });
    expect(sample.code).toBe(0);
    expect(sample.stdout).toMatch(/wrote 105120 points/);
    const again = await runCli(['forecast', 'sample', '--days', '365', '--seed', '42', '--out', 'again.csv'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(await readFile(join(dir, 'again.csv'), 'utf8')).toBe(await readFile(join(dir, 'orders.csv'), 'utf8'));

    const f = await runCli(['forecast', '--input', 'orders.csv', '--horizon', '12d', '--campaigns', CALENDAR, '--out', 'f.json', '--plot', 'f.svg', '--rows', '5'], { cwd: dir });
    expect(f.stderr).toMatch(/wrote .*f\.json/);
    expect(f.code).toBe(0);
    expect(f.stdout).toMatch(/^peak \d/m);
    expect(f.stdout).toMatch(/MODEL +MASE +SMAPE % +80% COVER +95% COVER/);
    expect(f.stdout).toMatch(/forecast starts/);
    expect(f.stdout.includes(String.fromCharCode(27))).toBe(false);
    const doc = JSON.parse(await readFile(join(dir, 'f.json'), 'utf8')) as ForecastResult;
    const s = doc.series[0];
    expect(s?.name).toBe('orders');
    expect(s?.points).toHaveLength(12 * 288);
    expect(s?.campaigns.find((c) => c.name === 'black-friday-2025')?.kind).toBe('past');
    const bf = s?.campaigns.find((c) => c.name === 'black-friday-2026');
    // The generator put a 3.5x Black Friday into the sample; the observed uplift must be close to it.
    expect(bf?.uplift).toBeGreaterThan(3.2);
    expect(bf?.uplift).toBeLessThan(3.8);
    expect(s?.peak.campaign).toBe('black-friday-2026');
    expect(s?.peak.lo95).toBeLessThanOrEqual(s?.peak.value ?? 0);
    expect(s?.peak.hi95).toBeGreaterThanOrEqual(s?.peak.value ?? 0);
    expect(await readFile(join(dir, 'f.svg'), 'utf8')).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\n$/);

    const plan = await runCli(['capacity', 'plan', '--forecast', 'f.json', '--per-replica-rps', '20', '--headroom', '25%', '--services', 'intake,worker:2', '--out', 'plan.yaml'], { cwd: dir });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/desired = ceil\(/);
    const parsed = ScalePlanSchema.parse(parseYaml(await readFile(join(dir, 'plan.yaml'), 'utf8')));
    const peak = s?.peak.hi95 ?? 0;
    expect(parsed.spec.demand.sizedValue).toBe(peak);
    expect(parsed.spec.services.map((x) => x.replicas)).toEqual([Math.ceil((peak / 20) * 1.25), Math.ceil(((2 * peak) / 20) * 1.25)]);
  });

  it('capacity plan --targets embeds each service\'s live objects, ready for `scale apply`; an unknown service is refused (exit 10)', async () => {
    await writeFile(join(dir, 'targets.yaml'), 'worker:\n  - {kind: Deployment, name: worker, namespace: shop}\n  - {kind: BundledStack, url: "http://127.0.0.1:8080"}\n');
    const plan = await runCli(['capacity', 'plan', '--forecast', 'f.json', '--per-replica-rps', '20', '--services', 'intake,worker', '--targets', 'targets.yaml', '--out', 'plan-t.yaml'], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    const written = ScalePlanSchema.parse(parseYaml(await readFile(join(dir, 'plan-t.yaml'), 'utf8')));
    expect(written.spec.services.map((x) => [x.name, x.targets])).toEqual([
      ['intake', undefined],
      ['worker', [{ kind: 'Deployment', name: 'worker', namespace: 'shop' }, { kind: 'BundledStack', url: 'http://127.0.0.1:8080', role: 'workers' }]],
    ]);
    // `scale` reads them from the plan; intake's come from surgectl.yaml's scale.targets here.
    const scale = parseScalePlan(written, 'plan-t.yaml', { intake: [{ kind: 'Deployment', name: 'intake' }] });
    expect(scale.services.find((x) => x.name === 'worker')?.targets).toHaveLength(2);
    await writeFile(join(dir, 'typo.yaml'), 'wroker:\n  - {kind: Deployment, name: worker}\n');
    const typo = await runCli(['capacity', 'plan', '--forecast', 'f.json', '--per-replica-rps', '20', '--services', 'intake,worker', '--targets', 'typo.yaml', '--out', 'never.yaml'], { cwd: dir });
    expect(typo.code).toBe(10);
    expect(typo.stderr).toMatch(/SRG_CAPACITY_INPUT.*names service\(s\) the plan does not size: wroker/);
    expect(existsSync(join(dir, 'never.yaml'))).toBe(false);
  });

  it('prints -o json for pipelines', async () => {
    const r = await runCli(['forecast', '--input', 'orders.csv', '--horizon', '1d', '--model', 'snaive-weekly', '-o', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as ForecastResult;
    expect(doc.kind).toBe('Forecast');
    expect(doc.series[0]?.model).toBe('snaive-weekly');
    expect(doc.series[0]?.backtest.selected).toMatch(/forced/);
  });

  it('takes defaults from surgectl.yaml, then SURGECTL_FORECAST_*, then flags', async () => {
    const cfgDir = await mkdtemp(join(dir, 'cfg-'));
    await writeFile(join(cfgDir, 'surgectl.yaml'), 'forecast:\n  horizon: 2d\n  model: seasonal-mean\n');
    const input = join(dir, 'orders.csv');
    const points = async (argv: string[], env?: Record<string, string>) => {
      const r = await runCli(['forecast', '--input', input, '-o', 'json', ...argv], { cwd: cfgDir, ...(env ? { env } : {}) });
      expect(r.stderr).not.toMatch(/error/);
      const doc = JSON.parse(r.stdout) as ForecastResult;
      return [doc.series[0]?.points.length, doc.series[0]?.model];
    };
    expect(await points([])).toEqual([2 * 288, 'seasonal-mean']);
    expect(await points([], { SURGECTL_FORECAST_HORIZON: '1d' })).toEqual([288, 'seasonal-mean']);
    expect(await points(['--horizon', '3h', '--model', 'snaive-daily'], { SURGECTL_FORECAST_HORIZON: '1d' })).toEqual([36, 'snaive-daily']);
    await writeFile(join(cfgDir, 'surgectl.yaml'), 'forecast:\n  horizon: soon\n');
    const bad = await runCli(['forecast', '--input', input], { cwd: cfgDir });
    expect(bad.code).toBe(10);
    expect(bad.stderr).toMatch(/forecast\.horizon/);
  });

  it('forecasts each series of a long-format file in one call', async () => {
    const lines = ['series,timestamp,value'];
    for (const name of ['eu', 'us']) {
      for (let i = 0; i < 24 * 21; i++) lines.push(`${name},${new Date(Date.UTC(2026, 9, 1) + i * 3_600_000).toISOString()},${(name === 'eu' ? 10 : 30) + 5 * Math.sin((2 * Math.PI * i) / 24)}`);
    }
    await writeFile(join(dir, 'long.csv'), lines.join('\n'));
    const r = await runCli(['forecast', '--input', 'long.csv', '--horizon', '2d', '-o', 'json', '--plot', 'both.html'], { cwd: dir });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as ForecastResult;
    expect(doc.series.map((x) => x.name)).toEqual(['eu', 'us']);
    expect(doc.series[1]?.peak.value).toBeGreaterThan(33);
    // the chart shows every series, each with its own table
    const html = await readFile(join(dir, 'both.html'), 'utf8');
    expect([...html.matchAll(/<h2>(\w+)<\/h2>/g)].map((m) => m[1])).toEqual(['eu', 'us']);
    expect(html.match(/<svg xmlns/g)).toHaveLength(2);
    expect(html.match(/<table>/g)).toHaveLength(2);
    const svg = await runCli(['forecast', '--input', 'long.csv', '--horizon', '2d', '--plot', 'both.svg'], { cwd: dir });
    expect(svg.code).toBe(0);
    const doc2 = await readFile(join(dir, 'both.svg'), 'utf8');
    expect(doc2).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 960 720"/);
    expect(doc2).toContain('>eu: ');
    expect(doc2).toContain('>us: ');

    // Prophet runs when asked for, and is backtested like the others
    const p = await runCli(['forecast', '--input', 'long.csv', '--horizon', '1d', '--model', 'prophet', '-o', 'json'], { cwd: dir });
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const pdoc = JSON.parse(p.stdout) as ForecastResult;
    expect(pdoc.series.map((x) => [x.name, x.model])).toEqual([
      ['eu', 'prophet'],
      ['us', 'prophet'],
    ]);
    // the series are noise-free sines: MASE is degenerate there (its scale is ~0), the error is not
    for (const x of pdoc.series) expect(x.backtest.candidates.map((c) => [c.model, c.smape < 1])).toEqual([['prophet', true]]);
  });
});

describe('bad input gets a clear error and the documented exit code', () => {
  const cases: [string, string, string[], number, RegExp][] = [
    ['empty file', '', [], 10, /SRG_DATA_EMPTY.*is empty/],
    ['one point', 'timestamp,value\n2026-01-01T00:00:00Z,5\n', [], 10, /SRG_DATA_TOO_SHORT.*only 1 distinct point/],
    ['non-numeric value', 'timestamp,value\n2026-01-01T00:00:00Z,5\n2026-01-01T01:00:00Z,five\n', [], 10, /SRG_DATA_FORMAT.*:3: value "five" is not a number/],
    ['unknown column', 'timestamp,value,colour\n2026-01-01T00:00:00Z,5,red\n', [], 10, /SRG_DATA_FORMAT.*unknown column "colour"/],
    ['horizon too long', 'timestamp,value\n' + Array.from({ length: 48 }, (_, i) => `${new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString()},${i}`).join('\n'), ['--horizon', '7d'], 10, /SRG_DATA_TOO_SHORT.*too short for a 1w horizon/],
    ['unknown model', 'timestamp,value\n2026-01-01T00:00:00Z,5\n', ['--model', 'magic'], 2, /SRG_FORECAST_MODEL.*unknown model "magic"/],
    ['bad horizon', 'timestamp,value\n2026-01-01T00:00:00Z,5\n', ['--horizon', '7x'], 2, /SRG_CLI_USAGE.*--horizon must be a positive duration: .*, got '7x'/],
  ];
  for (const [name, text, extra, code, message] of cases) {
    it(name, async () => {
      const file = `${name.replace(/\W+/g, '-')}.csv`;
      await writeFile(join(dir, file), text);
      const r = await runCli(['forecast', '--input', file, ...extra], { cwd: dir });
      expect(r.stderr.replace(/\n/g, ' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
      expect(r.code).toBe(code);
      expect(r.stdout).toBe('');
    });
  }

  it('a missing file or no source at all is a usage error', async () => {
    expect((await runCli(['forecast', '--input', 'nope.csv'], { cwd: dir })).code).toBe(2);
    const none = await runCli(['forecast'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--input <file> or --prometheus/);
  });

  it('capacity plan refuses a file that is not a forecast (exit 10)', async () => {
    await writeFile(join(dir, 'nf.json'), '{"kind":"Other"}');
    const r = await runCli(['capacity', 'plan', '--forecast', 'nf.json', '--per-replica-rps', '10'], { cwd: dir });
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/SRG_CAPACITY_INPUT.*not a surgectl forecast/);
  });
});

describe('help', () => {
  for (const argv of [['forecast'], ['forecast', 'run'], ['forecast', 'sample'], ['capacity', 'plan']]) {
    it(`${argv.join(' ')} --help has examples`, async () => {
      const r = await runCli([...argv, '--help'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n {2}\$ surgectl /);
    });
  }
});

import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, runMain } from './support/cli.js';
import { REPO_ROOT, tempDir } from './support/stack.js';

/**
 * `surgectl loadtest` and its output files: paths are checked before the run, a write that still
 * fails afterwards is a user error that keeps the printed results and leaves no partial set of
 * files; `import` reports a bad summary file as an input error; flags are usage errors.
 */

const SMOKE = join(REPO_ROOT, 'scenarios', 'load', 'smoke.yaml');

interface Target {
  url: string;
  hits: number;
  /** Runs once, at the next request. */
  onFirstRequest?: () => void;
  close(): Promise<void>;
}

async function startTarget(): Promise<Target> {
  const target: Target = { url: '', hits: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    target.hits++;
    const first = target.onFirstRequest;
    delete target.onFirstRequest;
    first?.();
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  target.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return target;
}

let dir: { path: string; remove(): void };
let work: string;
let n = 0;
let target: Target;

beforeAll(async () => {
  dir = tempDir('surgectl-loadtest-cli-');
  target = await startTarget();
});
afterAll(async () => {
  await target?.close();
  dir?.remove();
});
afterEach(() => {
  delete target.onFirstRequest;
});

/** A fresh working directory per test, so leftovers are easy to see. */
function freshDir(): string {
  work = join(dir.path, `w${++n}`);
  mkdirSync(work);
  return work;
}

function scenario(thresholds: Record<string, string[]> = { http_req_failed: ['rate<0.5'] }): string {
  const path = join(work, 'scenario.yaml');
  writeFileSync(
    path,
    stringify({
      name: 'outputs',
      target: target.url,
      scrapeMetrics: false,
      requests: [{ kind: 'http', path: '/' }],
      scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1s', preAllocatedVUs: 5, maxVUs: 20, gracefulStop: '2s' } },
      thresholds,
    }),
  );
  return path;
}

const K6_SUMMARY = {
  root_group: { name: '', path: '', id: 'x', groups: [], checks: [] },
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 1000 },
  metrics: {
    http_req_duration: { type: 'trend', contains: 'time', values: { avg: 12, 'p(95)': 150 }, thresholds: { 'p(95)<200': { ok: true } } },
  },
};

describe('loadtest run: output paths are checked before the run', () => {
  it('--out naming a directory fails fast with a usage error, before any request', async () => {
    freshDir();
    const file = scenario();
    mkdirSync(join(work, 'results'));
    const before = target.hits;
    const r = await runMain(['loadtest', 'run', file, '--no-progress', '--out', 'results'], { cwd: work });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('[SRG_CLI_USAGE]');
    expect(r.stderr).toContain('--out');
    expect(r.stderr).toContain(join(work, 'results'));
    expect(r.stderr).toMatch(/is a directory/);
    expect(target.hits).toBe(before);
    expect(readdirSync(work).sort()).toEqual(['results', 'scenario.yaml']);
  });

  it('--junit in a directory that does not exist fails fast and names the flag and the path', async () => {
    freshDir();
    const file = scenario();
    const before = target.hits;
    const r = await runMain(['loadtest', 'run', file, '--no-progress', '--out', 'ok.json', '--junit', '/nonexistent-dir/r.xml'], { cwd: work });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --junit \/nonexistent-dir\/r\.xml: .*\/nonexistent-dir.* does not exist/);
    expect(target.hits).toBe(before);
    expect(readdirSync(work)).toEqual(['scenario.yaml']);
  });

  it('refuses two report flags naming the same file', async () => {
    freshDir();
    const file = scenario();
    const r = await runMain(['loadtest', 'run', file, '--no-progress', '--junit', 'same.out', '--html', './same.out'], { cwd: work });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --junit and --html both name .*same\.out/);
  });
});

describe('loadtest run: a write that fails after the run', () => {
  it('still prints the results, reports the write as a user error (exit 2) and leaves no partial set of files', async () => {
    freshDir();
    const file = scenario();
    const sub = join(work, 'sub');
    mkdirSync(sub);
    // The path was fine when checked; it disappears while the test runs.
    target.onFirstRequest = () => rmSync(sub, { recursive: true, force: true });
    const r = await runMain(['loadtest', 'run', file, '--no-progress', '--out', 'results.json', '--junit', 'sub/report.xml'], { cwd: work });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stdout).toMatch(/PASSED: every threshold held/);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] .*--junit .*sub\/report\.xml/);
    // results.json alone would be a partial set; no temp files either.
    expect(readdirSync(work)).toEqual(['scenario.yaml']);
  });

  it('a report path that turned into a directory during the run: the reports already renamed into place are removed too', async () => {
    freshDir();
    const file = scenario();
    target.onFirstRequest = () => mkdirSync(join(work, 'report.xml'));
    const r = await runMain(['loadtest', 'run', file, '--no-progress', '--out', 'results.json', '--junit', 'report.xml'], { cwd: work });
    expect(r.stdout).toMatch(/PASSED: every threshold held/);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] Cannot write --junit .*report\.xml: EISDIR; no output was written/);
    expect(readdirSync(work).sort()).toEqual(['report.xml', 'scenario.yaml']);
    expect(readdirSync(join(work, 'report.xml'))).toEqual([]);
  });

  it('keeps exit 20 when a threshold failed too, and says the reports were not written', async () => {
    freshDir();
    const file = scenario({ http_reqs: ['count<1'] });
    const sub = join(work, 'sub');
    mkdirSync(sub);
    target.onFirstRequest = () => rmSync(sub, { recursive: true, force: true });
    const r = await runMain(['loadtest', 'run', file, '--no-progress', '--out', 'results.json', '--html', 'sub/report.html'], { cwd: work });
    expect(r.stdout).toMatch(/FAILED: 1 threshold\(s\) failed/);
    expect(r.code, r.stderr).toBe(20);
    expect(r.stderr).toContain('[SRG_LOADTEST_THRESHOLD]');
    expect(r.stderr).toMatch(/--html .*sub\/report\.html/);
    expect(readdirSync(work)).toEqual(['scenario.yaml']);
  });
});

describe('loadtest import', () => {
  it('--html naming a directory: exit 2 before writing anything (no ok.xml, no temp file)', async () => {
    freshDir();
    writeFileSync(join(work, 'k6sum.json'), JSON.stringify(K6_SUMMARY));
    mkdirSync(join(work, 'report'));
    const r = await runMain(['loadtest', 'import', 'k6sum.json', '--junit', 'ok.xml', '--html', 'report'], { cwd: work });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --html .*report.* is a directory/);
    expect(readdirSync(work).sort()).toEqual(['k6sum.json', 'report']);
  });

  it('the built CLI gives the same answer for --junit in a missing directory', async () => {
    freshDir();
    writeFileSync(join(work, 'k6sum.json'), JSON.stringify(K6_SUMMARY));
    const r = await runCli(['loadtest', 'import', 'k6sum.json', '--junit', '/nonexistent-dir/r.xml'], { cwd: work });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --junit \/nonexistent-dir\/r\.xml/);
    expect(readdirSync(work)).toEqual(['k6sum.json']);
  });

  it('a missing summary file is an input error (exit 10), like a missing scenario', async () => {
    freshDir();
    const r = await runMain(['loadtest', 'import', 'missing.json'], { cwd: work });
    expect(r.code, r.stderr).toBe(10);
    expect(r.stderr).toMatch(/\[SRG_LOADTEST_SCENARIO\] Cannot read the k6 summary .*missing\.json: ENOENT/);
    expect(r.stderr).not.toContain('K6_FAILED');
  });

  it('malformed JSON and JSON without metrics are input errors (exit 10) that say what was expected', async () => {
    freshDir();
    writeFileSync(join(work, 'bad.json'), '{');
    writeFileSync(join(work, 'nometrics.json'), '{"state": {}}');
    for (const f of ['bad.json', 'nometrics.json']) {
      const r = await runMain(['loadtest', 'import', f], { cwd: work });
      expect(r.code, r.stderr).toBe(10);
      expect(r.stderr).toContain('[SRG_LOADTEST_SCENARIO]');
      expect(r.stderr).toContain(f);
      expect(r.stderr).toMatch(/handleSummary/);
      expect(r.stderr).toMatch(/"metrics" object/);
    }
  });
});

describe('loadtest flags are usage errors that name the flag', () => {
  it('--target that is not an http(s) URL, for run and export', async () => {
    for (const argv of [['loadtest', 'run', SMOKE], ['loadtest', 'export', '--k6', SMOKE]]) {
      const r = await runMain([...argv, '--target', 'ftp://x'], { cwd: dir.path });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("[SRG_CLI_USAGE] --target must be an http(s) URL, e.g. http://127.0.0.1:8080, got 'ftp://x'");
      expect(r.stderr).not.toContain('SRG_LOADTEST_SCENARIO');
    }
  });

  it('--parallelism says what was given and what is expected', async () => {
    const r = await runMain(['loadtest', 'export', '--k6-operator', '--parallelism', 'abc', SMOKE], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("[SRG_CLI_USAGE] --parallelism must be a whole number >= 1, got 'abc'");
    expect(r.stderr).not.toMatch(/NaN/);
  });

  it('--rate and --duration say what was given and what is expected, before any request', async () => {
    freshDir();
    const file = scenario();
    const before = target.hits;
    for (const [flag, value, expected] of [
      ['--rate', '0', "--rate must be a positive number, got '0'"],
      ['--rate', 'fast', "--rate must be a positive number, got 'fast'"],
      ['--duration', 'soon', "--duration must be a positive duration: a number with a unit (ms, s, m, h, d, w), e.g. 500ms, 30s, 2m, 1h30m, got 'soon'"],
      ['--duration', '0s', "--duration must be a positive duration"],
    ] as const) {
      const r = await runMain(['loadtest', 'run', file, '--no-progress', flag, value], { cwd: work });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`[SRG_CLI_USAGE] ${expected}`);
    }
    expect(target.hits).toBe(before);
  });

  it('asks for exactly one of --k6 and --k6-operator', async () => {
    for (const argv of [['loadtest', 'export', SMOKE], ['loadtest', 'export', '--k6', '--k6-operator', SMOKE]]) {
      const r = await runMain(argv, { cwd: dir.path });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('[SRG_CLI_USAGE] Pass exactly one of --k6 or --k6-operator');
    }
  });

  it('a failed threshold exits 20 with one error line naming the metric, after the printed result', async () => {
    freshDir();
    const file = scenario({ http_reqs: ['count<1'], http_req_failed: ['rate<0.5'] });
    const r = await runMain(['loadtest', 'run', file, '--no-progress'], { cwd: work });
    expect(r.code, r.stderr).toBe(20);
    expect(r.stdout).toMatch(/FAILED: 1 threshold\(s\) failed/);
    expect(r.stderr).toContain("[SRG_LOADTEST_THRESHOLD] thresholds on metrics 'http_reqs' have been crossed (1 of 2 failed)");
    expect(r.stderr.split('\n').filter((l) => l.includes('SRG_'))).toHaveLength(1);
  });

  it('a run whose paths are fine writes every report and nothing else', async () => {
    freshDir();
    const file = scenario();
    const r = await runMain(['loadtest', 'run', file, '--no-progress', '--out', 'r.json', '--junit', 'r.xml', '--html', 'r.html'], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(work).sort()).toEqual(['r.html', 'r.json', 'r.xml', 'scenario.yaml']);
    expect(JSON.parse(readFileSync(join(work, 'r.json'), 'utf8'))).toHaveProperty('metrics');
    expect(existsSync(join(work, 'r.xml'))).toBe(true);
  });
});

describe('loadtest with a k6 script (test/fixtures/k6)', () => {
  const K6 = join(REPO_ROOT, 'test', 'fixtures', 'k6');

  it('runs the script unchanged on the builtin engine with --mix, gated by its own thresholds', async () => {
    freshDir();
    const before = target.hits;
    const r = await runMain(
      ['loadtest', 'run', join(K6, 'storefront.js'), '--mix', join(K6, 'storefront-mix.yaml'), '--target', target.url, '--no-progress', '--out', 'results.json'],
      { cwd: work, env: { CHECKOUT_RATE: '10' } },
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('k6 options accepted but not acted on by surgectl: discardResponseBodies, summaryTrendStats, userAgent');
    expect(r.stdout).toMatch(/✓ iterations\{scenario:warmup\} count==6/);
    expect(r.stdout).toMatch(/✓ http_req_duration\{flow:checkout\} p\(95\)<1000/);
    const results = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8')) as { surgectl: { scenarios: { name: string; executor: string; iterations: number }[] } };
    const byName = Object.fromEntries(results.surgectl.scenarios.map((s) => [s.name, s]));
    expect(byName.warmup).toMatchObject({ executor: 'per-vu-iterations', iterations: 6 });
    // CHECKOUT_RATE=10 from the environment, over 1.5 s.
    expect(byName.checkout).toMatchObject({ executor: 'constant-arrival-rate', iterations: 15 });
    expect(target.hits - before).toBeGreaterThan(21);
  });

  it('without k6 on PATH and without --mix, says what is missing (exit 2) and sends nothing', async () => {
    freshDir();
    const before = target.hits;
    const r = await runMain(['loadtest', 'run', join(K6, 'smoke-shortcut.js'), '--target', target.url, '--no-progress'], { cwd: work });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] Running the k6 script .*smoke-shortcut\.js with the builtin engine needs --mix/);
    expect(target.hits).toBe(before);
  });

  it('validate reads a script, and refuses computed options and externally-controlled with exit 10', async () => {
    freshDir();
    const ok = await runMain(['loadtest', 'validate', join(K6, 'ramp-stages.js')], { cwd: work });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ramp-stages\.js: valid \(1 scenario\(s\), 3 threshold\(s\), 120\.5s\)/);
    expect(ok.stderr).toContain('k6 options accepted but not acted on by surgectl: noConnectionReuse, setupTimeout');
    const computed = await runMain(['loadtest', 'validate', join(K6, 'computed-options.js')], { cwd: work });
    expect(computed.code).toBe(10);
    expect(computed.stderr).toMatch(/\[SRG_LOADTEST_SCENARIO\] .*computed-options\.js:9: cannot read options\.stages without running the script: `rampTo\(Math\.max\(5, 10\)\)`/);
    const external = await runMain(['loadtest', 'validate', join(K6, 'externally-controlled.js')], { cwd: work });
    expect(external.code).toBe(10);
    expect(external.stderr).toMatch(/externally-controlled executor is not supported .*use constant-vus, or ramping-vus/);
  });

  it('runs the script with k6 itself when k6 is on PATH; its crossed thresholds exit 20', async () => {
    freshDir();
    const bin = join(work, 'bin');
    mkdirSync(bin);
    const exported = {
      root_group: { name: '', path: '', id: 'x', groups: [], checks: [] },
      metrics: {
        http_reqs: { count: 40, rate: 20 },
        http_req_duration: { avg: 120, min: 3, med: 90, max: 900, 'p(90)': 400, 'p(95)': 700, thresholds: { 'p(95)<500': true, 'avg<300': false } },
        http_req_failed: { passes: 0, fails: 40, value: 0, thresholds: { 'rate<0.01': false } },
      },
    };
    writeFileSync(join(work, 'export.json'), JSON.stringify(exported));
    // A stand-in for k6 that checks it was given the user's own script and --summary-export.
    writeFileSync(
      join(bin, 'k6'),
      `#!/bin/sh\n[ "$1" = run ] || exit 2\n[ "$3" = --summary-export ] || exit 3\nfor a; do last="$a"; done\ngrep -q "vus: 2" "$last" || exit 4\ncp "${join(work, 'export.json')}" "$4"\nexit 99\n`,
    );
    chmodSync(join(bin, 'k6'), 0o755);
    const r = await runMain(['loadtest', 'run', join(K6, 'smoke-shortcut.js'), '--no-progress', '--junit', 'report.xml'], { cwd: work, env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stdout + r.stderr).toBe(20);
    expect(r.stdout).toMatch(/✗ http_req_duration p\(95\)<500/);
    expect(r.stdout).toMatch(/✓ http_req_duration avg<300/);
    expect(r.stdout).toMatch(/✓ http_req_failed rate<0\.01/);
    expect(r.stderr).toMatch(/\[SRG_LOADTEST_THRESHOLD\]/);
    expect(readFileSync(join(work, 'report.xml'), 'utf8')).toContain('http_req_duration: p(95)&lt;500');
  });
});

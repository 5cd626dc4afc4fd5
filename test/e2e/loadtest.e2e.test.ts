import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../src/cli.js';
import { runMain } from '../support/cli.js';
import { startTrivialServer } from '../support/loadtest-servers.js';
import { startTestStack, tempDir, type TestStack } from '../support/stack.js';

/**
 * `surgectl loadtest` as a user runs it (main() in-process, captured output) against the REAL
 * bundled order stack on loopback: orders go through intake, the pipeline and the gateway.
 */
let stack: TestStack;
const dir = tempDir('surgectl-loadtest-e2e-');

beforeAll(async () => {
  stack = await startTestStack({ workers: 4, seedInventory: 100_000 });
});
afterAll(async () => {
  await stack?.dispose();
  dir.remove();
});

function writeScenario(name: string, thresholds: Record<string, unknown[]>, extra: Record<string, unknown> = {}): string {
  const path = join(dir.path, `${name}.yaml`);
  writeFileSync(
    path,
    stringify({
      name,
      target: stack.url,
      requests: [
        { kind: 'create-order', name: 'checkout', weight: 3 },
        { kind: 'get-status', name: 'order_status', weight: 1 },
      ],
      scenarios: { steady: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '2s', preAllocatedVUs: 10, maxVUs: 200, gracefulStop: '10s' } },
      thresholds,
      ...extra,
    }),
  );
  return path;
}

describe('surgectl loadtest run (real stack)', () => {
  it('passes its thresholds, prints the summary and writes JSON, JUnit and HTML reports', async () => {
    const file = writeScenario('green', {
      // No latency or dropped-iteration gates here: the shared test machine's speed is not what this proves.
      http_req_failed: ['rate<0.05'],
      orders_accepted: ['count>0'],
      orders_confirmed: ['count>0'],
      inventory_oversold_units: ['value==0'],
    });
    const r = await runMain(['loadtest', 'run', file, '--out', 'results.json', '--junit', 'report.xml', '--html', 'report.html'], { cwd: dir.path });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ orders_confirmed count>0/);
    expect(r.stdout).toMatch(/PASSED: every threshold held/);

    const results = JSON.parse(readFileSync(join(dir.path, 'results.json'), 'utf8')) as {
      metrics: Record<string, { type: string; contains: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
      state: { testRunDurationMs: number };
      surgectl: { passed: boolean };
    };
    expect(results.metrics.http_req_duration).toMatchObject({ type: 'trend', contains: 'time' });
    expect(Object.keys(results.metrics.http_req_duration!.values)).toEqual(['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)']);
    expect(results.metrics.orders_confirmed?.thresholds).toEqual({ 'count>0': { ok: true } });
    expect(results.metrics.inventory_oversold_units?.values.value).toBe(0);
    expect(results.metrics.http_reqs!.values.count! + results.metrics.dropped_iterations!.values.count!).toBe(40);
    expect(results.state.testRunDurationMs).toBeGreaterThan(0);
    expect(results.surgectl.passed).toBe(true);

    const junit = readFileSync(join(dir.path, 'report.xml'), 'utf8');
    expect(XMLValidator.validate(junit)).toBe(true);
    expect(junit).not.toContain('<failure');
    const html = readFileSync(join(dir.path, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Latency over time');
    expect(html).toContain('Throughput over time');
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1|www\.w3\.org)/);
  });

  it('exits 20 when a threshold fails, and the JUnit XML parses and names the failed threshold', async () => {
    const file = writeScenario('red', { http_req_duration: ['p(95)<0.001'], http_req_failed: ['rate<0.05'] });
    const r = await runMain(['loadtest', 'run', file, '--junit', 'red.xml', '--no-progress'], { cwd: dir.path });
    expect(r.code, r.stdout + r.stderr).toBe(20);
    expect(r.stdout).toMatch(/✗ http_req_duration p\(95\)<0\.001/);
    expect(r.stdout).toMatch(/FAILED: 1 threshold\(s\) failed/);

    const xml = readFileSync(join(dir.path, 'red.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
      testsuites: { tests: string; failures: string; testsuite: { testcase: { name: string; failure?: { message: string } }[] } };
    };
    expect(doc.testsuites).toMatchObject({ tests: '2', failures: '1' });
    const cases = doc.testsuites.testsuite.testcase;
    const failed = cases.filter((c) => c.failure);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.name).toBe('http_req_duration: p(95)<0.001');
    expect(failed[0]!.failure!.message).toMatch(/^threshold p\(95\)<0\.001 on http_req_duration failed: observed \d/);
    expect(cases.find((c) => c.name === 'http_req_failed: rate<0.05')?.failure).toBeUndefined();
  });

  it('prints -o json with the verdicts for machines', async () => {
    const file = writeScenario('json', { http_req_failed: ['rate<0.05'] });
    const r = await runMain(['-o', 'json', 'loadtest', 'run', file, '--duration', '1s'], { cwd: dir.path });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { passed: boolean; engine: string; thresholds: { ok: boolean }[]; scenarios: { activeMs: number }[] };
    expect(out).toMatchObject({ passed: true, engine: 'builtin', thresholds: [{ ok: true }] });
  });
});

describe('surgectl loadtest (no stack needed)', () => {
  it('rejects a bad scenario with exit 10 and one line per bad field', async () => {
    const path = join(dir.path, 'bad.yaml');
    writeFileSync(path, stringify({ target: 'nope', requests: [], scenarios: { s: { executor: 'constant-arrival-rate', duration: '1s' } }, thresholds: { http_req_failed: ['rate<<1'] } }));
    const r = await runMain(['loadtest', 'run', path], { cwd: dir.path });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('[SRG_LOADTEST_SCENARIO]');
    expect(r.stderr).toMatch(/^ {2}- target: /m);
    expect(r.stderr).toMatch(/^ {2}- requests: /m);
    expect(r.stderr).toMatch(/^ {2}- scenarios\.s\.rate: /m);
    expect(r.stderr).toMatch(/^ {2}- thresholds\.http_req_failed\.0: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('says so when the target cannot be reached', async () => {
    const path = writeScenarioAt(join(dir.path, 'down.yaml'), 'http://127.0.0.1:9');
    const r = await runMain(['loadtest', 'run', path], { cwd: dir.path });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\[SRG_LOADTEST_UNREACHABLE\] Cannot reach http:\/\/127\.0\.0\.1:9\/v1\/inventory/);
  });

  it('exports a k6 script and refuses --engine k6 without k6 on PATH', async () => {
    const path = writeScenarioAt(join(dir.path, 'k6.yaml'), 'http://127.0.0.1:8080');
    const ex = await runMain(['loadtest', 'export', '--k6', path], { cwd: dir.path });
    expect(ex.code).toBe(0);
    expect(ex.stdout).toMatch(/^import http from 'k6\/http';$/m);
    expect(ex.stdout).toContain("executor\": \"constant-arrival-rate\"");
    const run = await runMain(['loadtest', 'run', path, '--engine', 'k6'], { cwd: dir.path, env: { PATH: '/nonexistent' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('[SRG_LOADTEST_K6_MISSING]');
    expect(run.stderr).toMatch(/hint: Install k6/);
  });

  it('imports a k6 handleSummary JSON: exit 20 on a failed threshold, JUnit names it', async () => {
    const path = join(dir.path, 'k6-summary.json');
    writeFileSync(
      path,
      JSON.stringify({
        root_group: { name: '', path: '', id: 'x', groups: [], checks: [] },
        state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 1000 },
        metrics: {
          http_req_duration: { type: 'trend', contains: 'time', values: { avg: 12, 'p(95)': 250 }, thresholds: { 'p(95)<200': { ok: false } } },
          dropped_iterations: { type: 'counter', contains: 'default', values: { count: 0, rate: 0 }, thresholds: { 'count<1': { ok: true } } },
        },
      }),
    );
    const r = await runMain(['loadtest', 'import', path, '--junit', 'k6.xml'], { cwd: dir.path });
    expect(r.code).toBe(20);
    expect(r.stdout).toMatch(/✗ http_req_duration p\(95\)<200 {2}observed 250/);
    const xml = readFileSync(join(dir.path, 'k6.xml'), 'utf8');
    expect(xml).toMatch(/<failure message="threshold p\(95\)&lt;200 on http_req_duration failed: observed 250"/);
  });

  it('shows a live progress line on a terminal, rewritten in place', async () => {
    const srv = await startTrivialServer();
    try {
      const path = join(dir.path, 'live.yaml');
      writeFileSync(
        path,
        stringify({
          target: srv.url,
          scrapeMetrics: false,
          requests: [{ kind: 'http', path: '/' }],
          scenarios: { s: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '2500ms', maxVUs: 500 } },
        }),
      );
      let stdout = '';
      let stderr = '';
      const code = await main(['loadtest', 'run', path], {
        env: { NO_COLOR: '1' },
        cwd: dir.path,
        argv0: 'surgectl',
        stdout: { write: (s: string) => (stdout += s), isTTY: false },
        stderr: { write: (s: string) => (stderr += s), isTTY: true },
        now: () => Date.now(),
        signal: new AbortController().signal,
      });
      expect(code).toBe(0);
      // eslint-disable-next-line no-control-regex -- the terminal escape is what is being checked
      expect(stderr).toMatch(/\r\u001b\[2K\d+\.\ds\/3s {2}\d+ req\/s {2}p95 [\d.]+ms {2}errors 0\.00% {2}dropped 0 {2}vus \d+/);
      // The line is cleared before the summary is printed.
      expect(stderr.endsWith('\r\u001b[2K')).toBe(true);
      expect(stdout).toContain('PASSED');
    } finally {
      await srv.close();
    }
  });

  it('validates the shipped flash-sale scenario and has help with examples', async () => {
    const v = await runMain(['loadtest', 'validate', join(import.meta.dirname, '../../scenarios/load/flash-sale.yaml')]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/valid \(2 scenario\(s\), 7 threshold\(s\), 120s\)/);
    // --help wins over everything else on the line: no run, so no --out file.
    const scenario = writeScenarioAt(join(dir.path, 'help.yaml'), 'http://127.0.0.1:9');
    const h = await runMain(['loadtest', 'run', scenario, '--out', join(dir.path, 'never.json'), '--help'], { cwd: dir.path });
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Examples:');
    expect(h.stderr).toBe('');
    expect(existsSync(join(dir.path, 'never.json'))).toBe(false);
  });
});

function writeScenarioAt(path: string, target: string): string {
  writeFileSync(
    path,
    stringify({
      target,
      requests: [{ kind: 'create-order' }],
      scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1s' } },
    }),
  );
  return path;
}

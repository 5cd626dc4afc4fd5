import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Reporter } from '../reporter.js';
import { exportK6Operator, exportK6Script, importK6Summary, k6Duration, runK6 } from './k6.js';
import { loadScenarioFile, parseScenario } from './scenario.js';

type Manifest = { data: Record<string, string>; spec: { arguments: string } } & Record<string, unknown>;

const FLASH = resolve(import.meta.dirname, '../../scenarios/load/flash-sale.yaml');

/**
 * Loads an exported script the way k6 would see it, with k6's modules (k6/http, k6/execution,
 * k6/metrics) replaced by recorders that follow their documented signatures.
 */
function loadScript(script: string, responses: (method: string, url: string) => { status: number; body: string }) {
  const calls: { method: string; url: string; body: string | null; params: { headers?: Record<string, string>; tags?: Record<string, string> } }[] = [];
  const metrics: Record<string, { kind: string; adds: { v: number; tags?: Record<string, string> }[] }> = {};
  const response = (method: string, url: string) => {
    const r = responses(method, url);
    return {
      status: r.status,
      body: r.body,
      // k6's Response.json(selector) takes a GJSON path; the script uses top-level keys only.
      json: (sel?: string) => {
        const v = JSON.parse(r.body) as Record<string, unknown>;
        return sel ? v[sel] : v;
      },
    };
  };
  const http = {
    get: (url: string, params: never) => (calls.push({ method: 'GET', url, body: null, params }), response('GET', url)),
    post: (url: string, body: string, params: never) => (calls.push({ method: 'POST', url, body, params }), response('POST', url)),
    request: (method: string, url: string, body: string | null, params: never) => (calls.push({ method, url, body, params }), response(method, url)),
    expectedStatuses: (...s: number[]) => ({ statuses: s }),
  };
  let iteration = 0;
  const exec = {
    scenario: {
      name: 'sale',
      get iterationInTest() {
        return iteration++;
      },
    },
    test: { abort: (why: string) => { throw new Error(`aborted: ${why}`); } },
  };
  const metric = (kind: string) =>
    class {
      constructor(readonly name: string) {
        metrics[name] = { kind, adds: [] };
      }
      add(v: number, tags?: Record<string, string>) {
        metrics[this.name]!.adds.push(tags ? { v, tags } : { v });
      }
    };
  const body = script
    .replace("import http from 'k6/http';", 'const http = __k6.http;')
    .replace("import exec from 'k6/execution';", 'const exec = __k6.exec;')
    .replace("import { Counter, Gauge, Rate, Trend } from 'k6/metrics';", 'const { Counter, Gauge, Rate, Trend } = __k6.metrics;')
    .replace(/^export (const|function) /gm, '$1 ');
  expect(body).not.toMatch(/^\s*(import|export)\s/m);
  const mod = new Function('__k6', '__ENV', `${body}\nreturn { options, setup, mix, teardown, handleSummary };`)(
    { http, exec, metrics: { Counter: metric('counter'), Gauge: metric('gauge'), Rate: metric('rate'), Trend: metric('trend') } },
    { TARGET: 'http://127.0.0.1:8080', RUN_ID: 'run1' },
  ) as {
    options: { scenarios: Record<string, Record<string, unknown>>; thresholds: Record<string, unknown>; summaryTrendStats: string[] };
    setup(): { skus: string[]; before: unknown[] };
    mix(data: unknown): void;
    teardown(data: unknown): void;
    handleSummary(data: unknown): Record<string, string>;
  };
  return { mod, calls, metrics };
}

describe('k6 export', () => {
  it('declares each custom metric with the type its thresholds need and never redeclares a built-in one', () => {
    const loaded = parseScenario({
      name: 'types',
      target: 'http://127.0.0.1:8080',
      scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '1s' } },
      requests: [{ kind: 'get-status' }],
      thresholds: { checkout_ms: ['p(95)<300'], payment_errors: ['rate<0.1'], retries: ['count<5'], backlog: ['value<100'], group_duration: ['avg<500'] },
    });
    const script = exportK6Script(loaded);
    const scraped = JSON.parse(/const SCRAPED = (\[[\s\S]*?\]);/.exec(script)?.[1] ?? '[]') as { metric: string; kind: string }[];
    expect(Object.fromEntries(scraped.map((m) => [m.metric, m.kind]))).toEqual({ checkout_ms: 'trend', payment_errors: 'rate', retries: 'counter', backlog: 'gauge' });
    const { metrics } = loadScript(script, () => ({ status: 200, body: '{}' }));
    expect(Object.keys(metrics)).not.toContain('group_duration');
  });

  it("writes options.scenarios with k6's executors and the thresholds as written", async () => {
    const loaded = await loadScenarioFile(FLASH);
    const { mod } = loadScript(exportK6Script(loaded), () => ({ status: 200, body: '{}' }));
    expect(mod.options.scenarios.browse).toEqual({ executor: 'constant-vus', vus: 4, duration: '2m', startTime: '0s', gracefulStop: '30s', exec: 'mix' });
    expect(mod.options.scenarios.sale).toMatchObject({
      executor: 'ramping-arrival-rate',
      startRate: 50,
      timeUnit: '1s',
      preAllocatedVUs: 50,
      maxVUs: 400,
      stages: [
        { target: 50, duration: '20s' },
        { target: 500, duration: '10s' },
        // Read once as milliseconds and written back as k6 text: 60s is the same duration as 1m to k6.
        { target: 500, duration: '1m' },
        { target: 100, duration: '30s' },
      ],
      exec: 'mix',
    });
    expect(mod.options.thresholds).toEqual(loaded.scenario.thresholds);
    expect(mod.options.thresholds['http_req_duration{name:checkout}']).toEqual([{ threshold: 'p(99)<800', abortOnFail: true, delayAbortEval: '30s' }]);
    expect(mod.options.summaryTrendStats).toContain('p(99)');
  });

  it('writes durations as k6 text, days for weeks (k6 has no w unit), and the request timeout', () => {
    expect([0, 500, 1500, 30_000, 90_000, 120_000, 86_400_000, 1_209_600_000].map(k6Duration)).toEqual(['0s', '500ms', '1500ms', '30s', '90s', '2m', '1d', '14d']);
    const loaded = parseScenario({
      target: 'http://127.0.0.1:8080',
      requests: [{ kind: 'http', path: '/' }],
      http: { timeout: 2500 },
      scenarios: { long: { executor: 'constant-arrival-rate', rate: 1, timeUnit: '1m', duration: '2w', startTime: '1h30m' } },
    });
    const script = exportK6Script(loaded);
    const { mod } = loadScript(script, () => ({ status: 200, body: '{}' }));
    expect(mod.options.scenarios.long).toMatchObject({ timeUnit: '1m', duration: '14d', startTime: '90m', gracefulStop: '30s' });
    expect(script).toContain('const TIMEOUT = "2500ms";');
  });

  it('runs the request mix: inventory skus, unique idempotency keys, name tags, order counters, scraped metrics', async () => {
    const loaded = await loadScenarioFile(FLASH);
    let confirmed = 3;
    const { mod, calls, metrics } = loadScript(exportK6Script(loaded), (method, url) => {
      if (url.endsWith('/v1/inventory')) return { status: 200, body: JSON.stringify({ items: [{ sku: 'A' }, { sku: 'B' }] }) };
      if (url.endsWith('/metrics'))
        return { status: 200, body: `# TYPE surgectl_orders_completed_total counter\nsurgectl_orders_completed_total{status="confirmed"} ${confirmed}\nsurgectl_inventory_oversold_units 0\n` };
      if (method === 'POST' && url.endsWith('/v1/orders')) return { status: 202, body: JSON.stringify({ orderId: `o-${calls.length}` }) };
      if (url.endsWith('/v1/orders/batch')) return { status: 207, body: JSON.stringify({ results: [{ status: 202, orderId: 'b1' }, { status: 422 }] }) };
      return { status: 200, body: '{}' };
    });
    const data = mod.setup();
    expect(data.skus).toEqual(['A', 'B']);
    for (let i = 0; i < 200; i++) mod.mix(data);
    confirmed = 40;
    mod.teardown(data);

    const creates = calls.filter((c) => c.method === 'POST' && c.url === 'http://127.0.0.1:8080/v1/orders');
    expect(creates.length).toBeGreaterThan(60);
    const keys = creates.map((c) => c.params.headers?.['Idempotency-Key']);
    expect(new Set(keys).size).toBe(keys.length);
    for (const c of creates) {
      const o = JSON.parse(c.body!) as { customerId: string; items: { sku: string; qty: number }[] };
      expect(o.customerId).toMatch(/^c-\d+$/);
      for (const it of o.items) expect(['A', 'B']).toContain(it.sku);
      expect(c.params.tags).toEqual({ name: 'checkout' });
    }
    const statuses = calls.filter((c) => c.method === 'GET' && c.url.includes('/v1/orders/'));
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.every((c) => /\/v1\/orders\/o-\d+|\/v1\/orders\/b1/.test(c.url))).toBe(true);
    expect(metrics.orders_accepted!.adds.length).toBeGreaterThan(0);
    // Scraped in teardown as the delta over the run, like the builtin engine.
    expect(metrics.orders_confirmed).toEqual({ kind: 'counter', adds: [{ v: 37, tags: { status: 'confirmed' } }] });
    expect(metrics.inventory_oversold_units).toEqual({ kind: 'gauge', adds: [{ v: 0, tags: {} }] });
    expect(Object.keys(mod.handleSummary({ metrics: {} }))).toEqual(['summary.json']);
  });

  it('writes a k6-operator TestRun and its ConfigMap', async () => {
    const loaded = await loadScenarioFile(FLASH);
    const docs = parseAllDocuments(await exportK6Operator(loaded, { parallelism: 4, namespace: 'load' })).map((d) => d.toJS() as Manifest);
    expect(docs).toHaveLength(2);
    const [cm, tr] = docs;
    expect(cm).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'flash-sale-script', namespace: 'load' } });
    expect(cm!.data['script.js']).toContain('export const options');
    expect(tr).toMatchObject({
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name: 'flash-sale', namespace: 'load' },
      spec: { parallelism: 4, script: { configMap: { name: 'flash-sale-script', file: 'script.js' } }, separate: false, cleanup: 'post' },
    });
    expect(tr!.spec.arguments).toContain('TARGET=http://127.0.0.1:8080');
  });

  it('refuses a script over the 1 MiB ConfigMap limit and a bad parallelism', async () => {
    const skus = Array.from({ length: 60_000 }, (_, i) => `SKU-${String(i).padStart(12, '0')}`);
    const big = parseScenario({
      target: 'http://127.0.0.1:8080',
      requests: [{ kind: 'create-order' }],
      payload: { skus },
      scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '1s' } },
    });
    await expect(exportK6Operator(big, { parallelism: 2 })).rejects.toMatchObject({ code: 'SRG_LOADTEST_EXPORT', message: expect.stringMatching(/at most 1048576/) });
    await expect(exportK6Operator(big, { parallelism: 0 })).rejects.toMatchObject({ code: 'SRG_LOADTEST_EXPORT' });
  });
});

/** handleSummary's data as k6 documents it (trimmed). */
const K6_SUMMARY = {
  root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: [], checks: [] },
  options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'], summaryTimeUnit: '', noColor: false },
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 30_015.4 },
  metrics: {
    http_req_duration: {
      type: 'trend',
      contains: 'time',
      values: { avg: 140.36, min: 119.08, med: 140.96, max: 154.63, 'p(90)': 146.88, 'p(95)': 148.21 },
      thresholds: { 'p(95)<1500': { ok: true }, 'p(90)<100': { ok: false } },
    },
    http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0, passes: 0, fails: 45 }, thresholds: { 'rate<0.01': { ok: true } } },
    http_reqs: { type: 'counter', contains: 'default', values: { count: 45, rate: 6.56 } },
    vus: { type: 'gauge', contains: 'default', values: { value: 1, min: 1, max: 1 } },
  },
};

describe('k6 import', () => {
  it("reads handleSummary's data: verdicts from ok, observed values from the metric", () => {
    const r = importK6Summary(K6_SUMMARY, { scenario: 'k6', target: 'http://x', exitCode: 99 });
    expect(r.engine).toBe('k6');
    expect(r.passed).toBe(false);
    expect(r.durationMs).toBeCloseTo(30_015.4);
    expect(r.thresholds).toEqual([
      { metric: 'http_req_duration', threshold: 'p(95)<1500', ok: true, phase: 'pass', value: 148.21, abortOnFail: false },
      { metric: 'http_req_duration', threshold: 'p(90)<100', ok: false, phase: 'fail', value: 146.88, message: 'observed p(90)=146.88, wanted p(90)<100', abortOnFail: false },
      { metric: 'http_req_failed', threshold: 'rate<0.01', ok: true, phase: 'pass', value: 0, abortOnFail: false },
    ]);
    expect(r.summary.metrics.http_reqs?.values.count).toBe(45);
  });

  it('passes when every threshold is ok', () => {
    const ok = structuredClone(K6_SUMMARY);
    ok.metrics.http_req_duration.thresholds['p(90)<100'] = { ok: true };
    expect(importK6Summary(ok, { scenario: 'k6', target: 'x', exitCode: 0 }).passed).toBe(true);
  });

  it('refuses the --summary-export format, whose booleans are inverted', () => {
    const legacy = { metrics: { http_req_duration: { type: 'trend', contains: 'time', values: { avg: 1 }, thresholds: { 'p(95)<200': false } } } };
    expect(() => importK6Summary(legacy, { scenario: 'k6', target: 'x' })).toThrow(/needs a boolean "ok"/);
    expect(() => importK6Summary({ nope: 1 }, { scenario: 'k6', target: 'x' })).toThrow(/no "metrics" object/);
  });
});

describe('run --engine k6', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const loaded = parseScenario({
    target: 'http://127.0.0.1:8080',
    requests: [{ kind: 'http', path: '/' }],
    scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '1s' } },
    thresholds: { http_req_duration: ['p(90)<100'] },
  });

  /** A stand-in `k6` on PATH that behaves like `k6 run`: writes handleSummary's file and exits. */
  function fakeK6(exitCode: number, summary: unknown): string {
    const dir = mkdtempSync(join(tmpdir(), 'surgectl-fake-k6-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    writeFileSync(
      join(dir, 'k6'),
      `#!/bin/sh\n[ "$1" = run ] || exit 2\ngrep -q "export function handleSummary" "$3" || exit 3\ncp "${join(dir, 'summary.json')}" "$SURGECTL_SUMMARY"\necho "running (fake k6)" >&2\nexit ${exitCode}\n`,
    );
    chmodSync(join(dir, 'k6'), 0o755);
    return dir;
  }

  it('an interrupted k6 run is interrupted (exit 130 upstream), not a k6 failure, and keeps its summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'surgectl-fake-k6-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(K6_SUMMARY));
    // Like k6 on SIGINT: stop, run handleSummary, exit 105 (external abort). Bounded to ~10 s.
    writeFileSync(
      join(dir, 'k6'),
      `#!/bin/sh\ntrap 'cp "${join(dir, 'summary.json')}" "$SURGECTL_SUMMARY"; exit 105' INT\necho "running (fake k6)" >&2\ni=0\nwhile [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\nexit 0\n`,
    );
    chmodSync(join(dir, 'k6'), 0o755);
    const ac = new AbortController();
    const reporter: Reporter = { notify: (m) => (m.includes('running (fake k6)') ? ac.abort() : undefined), confirm: () => Promise.resolve(false) };
    const r = await runK6(loaded, { pathEnv: dir, env: {}, signal: ac.signal, reporter });
    expect(r.aborted).toBe('interrupted');
    expect(r.thresholds.map((t) => [t.threshold, t.ok])).toEqual([
      ['p(95)<1500', true],
      ['p(90)<100', false],
      ['rate<0.01', true],
    ]);
  });

  it('an interrupted k6 run without a summary is SRG_CLI_INTERRUPTED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'surgectl-fake-k6-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'k6'), `#!/bin/sh\ntrap 'exit 105' INT\necho "running (fake k6)" >&2\ni=0\nwhile [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\nexit 0\n`);
    chmodSync(join(dir, 'k6'), 0o755);
    const ac = new AbortController();
    const reporter: Reporter = { notify: (m) => (m.includes('running (fake k6)') ? ac.abort() : undefined), confirm: () => Promise.resolve(false) };
    await expect(runK6(loaded, { pathEnv: dir, env: {}, signal: ac.signal, reporter })).rejects.toMatchObject({ code: 'SRG_CLI_INTERRUPTED', exitCode: 130 });
  });

  it('says clearly when k6 is not on PATH', async () => {
    await expect(runK6(loaded, { pathEnv: '/nonexistent', env: {} })).rejects.toMatchObject({ code: 'SRG_LOADTEST_K6_MISSING', exitCode: 2 });
  });

  it("maps k6's exit 99 to a failed result and imports the summary", async () => {
    const dir = fakeK6(99, K6_SUMMARY);
    const r = await runK6(loaded, { pathEnv: dir, env: {} });
    expect(r.passed).toBe(false);
    expect(r.thresholds.find((t) => !t.ok)?.threshold).toBe('p(90)<100');
  });

  it('fails with SRG_LOADTEST_K6_FAILED on other exit codes, showing k6 output', async () => {
    const dir = fakeK6(107, K6_SUMMARY);
    await expect(runK6(loaded, { pathEnv: dir, env: {} })).rejects.toMatchObject({
      code: 'SRG_LOADTEST_K6_FAILED',
      message: 'k6 exited with 107',
      details: ['running (fake k6)'],
    });
  });
});

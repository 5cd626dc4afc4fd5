import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHaproxy } from '../src/adapters/haproxy/haproxy.js';
import { parseScenario, runLoadTest } from '../src/loadtest/index.js';
import type { LoadTestResult } from '../src/loadtest/index.js';
import type { RunbookJournal } from '../src/runbooks/types.js';
import { runCli } from './support/cli.js';
import { startHaproxy, type TestHaproxy } from './support/haproxy.js';
import { startScrapingPrometheus, type TestPrometheus } from './support/prometheus.js';
import { CLI_JS, ensureBuilt, startTestStack, tempDir, waitFor, type TestStack } from './support/stack.js';

/**
 * Blue-green cutover with the real parts: two bundled stacks (blue, green) behind a real HAProxy,
 * a real Prometheus scraping each as its own job, the built CLI driving HAProxy's runtime API,
 * and the loadtest engine sending a steady open-model load through HAProxy the whole time.
 */
describe('surgectl cutover (HAProxy, Prometheus, two stacks)', () => {
  let blue: TestStack;
  let green: TestStack;
  let haproxy: TestHaproxy;
  let prom: TestPrometheus;
  const dir = tempDir('surgectl-cutover-');

  beforeAll(async () => {
    ensureBuilt();
    [blue, green] = await Promise.all([startTestStack({ workers: 16, seedInventory: 1_000_000 }), startTestStack({ workers: 16, seedInventory: 1_000_000 })]);
    const port = (u: string) => Number(new URL(u).port);
    haproxy = await startHaproxy({ servers: [{ name: 'blue', port: port(blue.url), weight: 100 }, { name: 'green', port: port(green.url), weight: 0 }] });
    prom = await startScrapingPrometheus({ jobs: { blue: [new URL(blue.url).host], green: [new URL(green.url).host] }, scrapeInterval: '1s' });
    // Both servers up in HAProxy (its health checks on /healthz) before any traffic.
    const hp = createHaproxy({ endpoint: haproxy.statsEndpoint });
    await waitFor('blue and green up in HAProxy', async () => (await hp.servers('orders')).every((s) => s.up) || undefined, { timeoutMs: 15_000 });
  }, 90_000);
  afterAll(async () => {
    await Promise.allSettled([haproxy?.stop(), prom?.stop()]);
    await Promise.allSettled([blue?.dispose(), green?.dispose()]);
    dir.remove();
  });

  const weights = async () => Object.fromEntries((await createHaproxy({ endpoint: haproxy.statsEndpoint }).servers('orders')).map((s) => [s.name, s.weight]));
  const setWeights = async (w: Record<string, number>) => {
    const hp = createHaproxy({ endpoint: haproxy.statsEndpoint });
    for (const [k, v] of Object.entries(w)) await hp.setWeight('orders', k, v);
  };
  const ordersIn = async (s: TestStack) => {
    const st = (await (await fetch(`${s.url}/admin/status`, { headers: { authorization: `Bearer ${s.adminToken}` } })).json()) as { orders: { byStatus: Record<string, number> } };
    return Object.values(st.orders.byStatus).reduce((a, b) => a + b, 0);
  };
  const cutoverArgs = (extra: string[]) => [
    '--yes',
    'cutover',
    '--haproxy',
    haproxy.statsEndpoint,
    '--prometheus',
    prom.url,
    '--interval',
    '1s',
    '--initial-delay',
    '3s',
    '--count',
    '2',
    '--window',
    '5s',
    '--scale-down-delay',
    '1s',
    ...extra,
  ];
  /** A steady open-model load of `rate` orders/s through HAProxy for `seconds`. */
  const load = (rate: number, seconds: number) =>
    runLoadTest(
      parseScenario({
        name: 'cutover-load',
        target: haproxy.url,
        requests: [{ kind: 'create-order', name: 'checkout', weight: 1 }],
        scenarios: { steady: { executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration: `${seconds}s`, preAllocatedVUs: 50, maxVUs: 400 } },
      }),
    );
  const failedOf = (r: LoadTestResult) => Math.round((r.summary.metrics.http_req_failed?.values.rate ?? 1) * (r.summary.metrics.http_reqs?.values.count ?? 0));

  it('moves traffic to green and back under 200 orders/s with zero failed requests, every acknowledged order kept', async () => {
    const before = (await ordersIn(blue)) + (await ordersIn(green));
    const running = load(200, 30);
    const to = await runCli(cutoverArgs(['--to', 'green', '--to-url', green.url, '--weights', '50,100', '--smoke-rate', '20', '--smoke-duration', '2s', '-o', 'json']), { cwd: dir.path, timeoutMs: 90_000 });
    expect(to.stderr).toMatch(/✔ shift-50/);
    expect(to.code).toBe(0);
    const journal = JSON.parse(to.stdout) as RunbookJournal;
    expect(journal.status).toBe('completed');
    expect(journal.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['precheck-health:completed', 'precheck-smoke:completed', 'shift-50:completed', 'shift-100:completed', 'post-switch-analysis:completed']);
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    const back = await runCli(['--yes', 'cutover', '--rollback', '-o', 'json'], { cwd: dir.path, timeoutMs: 30_000 });
    expect(back.code).toBe(0);
    expect((JSON.parse(back.stdout) as RunbookJournal).status).toBe('rolled-back');
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    const result = await running;
    const requests = result.summary.metrics.http_reqs?.values.count ?? 0;
    expect(requests).toBeGreaterThan(200 * 30 * 0.9);
    expect(failedOf(result)).toBe(0);
    // Both colors served traffic, and every 2xx answer is an order one of the two stores holds.
    const smokeOrders = journal.steps[1]?.output as { requests: number };
    await waitFor('orders settled', async () => ((await ordersIn(blue)) + (await ordersIn(green)) - before === requests + smokeOrders.requests ? true : undefined), { timeoutMs: 10_000 });
    expect(await ordersIn(green)).toBeGreaterThan(smokeOrders.requests);
    // The audit log has one line per phase, each with who and which journal.
    const audit = readFileSync(join(dir.path, '.surgectl', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: string; phase: string; result: string; user: string });
    expect(audit.filter((a) => a.step === 'shift-50').map((a) => `${a.phase}:${a.result}`)).toEqual(['precondition:passed', 'action:completed', 'verify:passed', 'rollback:completed']);
  }, 120_000);

  it('a green that fails its analysis gets no traffic left: moved back automatically, exit 20, the journal says why', async () => {
    await setWeights({ blue: 100, green: 0 });
    const drop = (ratio: number) => fetch(`${green.url}/admin/faults/drop-requests`, { method: 'PUT', headers: { authorization: `Bearer ${green.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ ratio }) });
    expect((await drop(1)).status).toBe(200);
    try {
      const running = load(50, 15);
      const r = await runCli(cutoverArgs(['--to', 'green', '--to-url', green.url, '--weights', '20,100', '--no-smoke', '--journal', 'failing.json']), { cwd: dir.path, timeoutMs: 60_000 });
      await running;
      expect(r.code).toBe(20);
      expect(r.stderr).toMatch(/SRG_RUNBOOK_STEP_FAILED/);
      const j = JSON.parse(readFileSync(join(dir.path, 'failing.json'), 'utf8')) as RunbookJournal;
      expect(j.status).toBe('rolled-back');
      expect(j.steps.find((s) => s.step === 'shift-20')?.error).toMatch(/verify failed: analysis failed: error-rate failed/);
      expect(j.steps.find((s) => s.step === 'shift-100')?.status).toBe('pending');
      expect(await weights()).toEqual({ blue: 100, green: 0 });
    } finally {
      await drop(0);
    }
  }, 90_000);

  it('a cutover interrupted between steps (SIGINT) exits 130 and `runbook resume` finishes it', async () => {
    await setWeights({ blue: 100, green: 0 });
    const running = load(50, 25);
    const child = spawn(process.execPath, [CLI_JS, ...cutoverArgs(['--to', 'green', '--to-url', green.url, '--weights', '50,100', '--no-smoke', '--journal', 'interrupted.json'])], {
      cwd: dir.path,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const path = join(dir.path, 'interrupted.json');
    // Between steps: shift-50 has moved half the traffic and its analysis is waiting for data.
    await waitFor('half the traffic on green', async () => ((await weights()).green === 50 ? true : undefined), { timeoutMs: 45_000, intervalMs: 20 });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const j = JSON.parse(readFileSync(path, 'utf8')) as RunbookJournal;
    expect(j.status).toBe('interrupted');
    expect(j.steps.find((s) => s.step === 'shift-50')).toMatchObject({ status: 'running', undo: { blue: 100, green: 0 } });
    expect(stderr).toMatch(/runbook resume/);
    expect(await weights()).toEqual({ blue: 50, green: 50 });
    const resumed = await runCli(['--yes', 'runbook', 'resume', 'interrupted.json', '--reason', 'terminal lost'], { cwd: dir.path, timeoutMs: 60_000 });
    expect(resumed.stderr).toMatch(/resuming blue-green-haproxy at step shift-50/);
    expect(resumed.code).toBe(0);
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    const done = JSON.parse(readFileSync(path, 'utf8')) as RunbookJournal;
    expect(done.status).toBe('completed');
    expect(done.resumes).toEqual([expect.objectContaining({ reason: 'terminal lost' })]);
    expect(failedOf(await running)).toBe(0);
    // The journals are where the run said they are.
    expect(readdirSync(dir.path)).toContain('interrupted.json');
  }, 120_000);
});

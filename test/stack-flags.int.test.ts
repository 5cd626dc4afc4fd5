import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StackFlagList } from '../src/order-core/api/admin-contract.js';
import type { OrderView } from '../src/order-core/domain/types.js';
import { DEFAULT_FLAGS } from '../src/order-core/flags.js';
import { createUnleashFlags as unleashFlagProvider } from '../src/order-core/flags-unleash.js';
import { startStack, type RunningStack } from '../src/order-core/stack.js';
import { main } from '../src/cli.js';
import type { Runtime } from '../src/runtime.js';
import { runMain } from './support/cli.js';
import { httpClient, startTestStack, tempDir, waitFor, type HttpClient } from './support/stack.js';
import { createUnleashFlags, startUnleash, type TestUnleash } from './support/unleash-server.js';

// A REAL unleash-server on PostgreSQL and the real unleash-client inside a real stack, over real
// sockets. startUnleash() throws when the server cannot start, so this never passes without one.

/** A pino logger writing JSON lines into `lines` (and the raw text, to look for secrets). */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString();
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, raw: () => raw };
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function switchInUnleash(u: TestUnleash, name: string, on: boolean): Promise<void> {
  const res = await request(`${u.url}/api/admin/projects/default/features/${name}/environments/development/${on ? 'on' : 'off'}`, { method: 'POST', headers: { authorization: u.adminToken } });
  await res.body.text();
  expect(res.statusCode).toBe(200);
}

let seq = 0;
/** Places one order and waits until the pipeline confirmed it; returns its view. */
async function confirmedOrder(http: HttpClient): Promise<OrderView> {
  const key = `flags-${process.pid}-${++seq}`;
  const res = await http.postOrder({ customerId: `cust-${seq}`, items: [{ sku: 'SKU-0001', qty: 2 }] }, key);
  expect(res.status).toBe(202);
  const { orderId } = res.body as { orderId: string };
  return waitFor(`order ${orderId} confirmed`, async () => {
    const view = (await http.call('GET', `/v1/orders/${orderId}`)).body as OrderView;
    return view.status === 'confirmed' ? view : undefined;
  });
}

const flagList = async (http: HttpClient) => (await http.admin('GET', '/admin/flags')).body as StackFlagList;
const valueOf = (list: StackFlagList, name: string) => list.flags.find((f) => f.name === name)?.enabled;

describe('the bundled stack reads its flags from a real Unleash', () => {
  let unleash: TestUnleash;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    unleash = await startUnleash();
    await createUnleashFlags(
      unleash,
      DEFAULT_FLAGS.map((f) => ({ name: f.name, on: ['development'] })),
    );
  }, 120_000);
  afterAll(async () => {
    await unleash?.stop();
  }, 30_000);
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function start(opts: { unleashUrl: string; refreshMs: number }): Promise<{ stack: RunningStack; http: HttpClient; log: ReturnType<typeof capturingLogger> }> {
    const dir = tempDir('surgectl-stack-flags-');
    cleanups.push(() => dir.remove());
    const log = capturingLogger();
    const stack = await startStack({
      port: 0,
      paymentPort: 0,
      workers: 2,
      paymentLatencyMs: 0,
      dataDir: dir.path,
      cwd: dir.path,
      defaultMetrics: false,
      logger: log.logger,
      unleashUrl: opts.unleashUrl,
      unleashClientToken: unleash.clientToken,
      unleashRefreshIntervalMs: opts.refreshMs,
    });
    cleanups.push(() => stack.stop({ drainTimeoutMs: 5_000 }).then(() => undefined));
    const http = httpClient(stack.url, { adminToken: stack.adminToken, connections: 4 });
    cleanups.push(() => http.close());
    return { stack, http, log };
  }

  it('follows a flag switched in Unleash within its refresh interval: API, pipeline, gauge and one log line', async () => {
    const { http, log } = await start({ unleashUrl: unleash.url, refreshMs: 500 });
    const fetched = await waitFor('a first fetch from Unleash', async () => {
      const list = await flagList(http);
      return list.refreshedAt !== null ? list : undefined;
    });
    expect(fetched.source).toBe('unleash');
    expect(fetched.instance).toMatch(/^.+:\d+:\d{4}-\d\d-\d\dT/);
    expect(fetched.flags.map((f) => [f.name, f.enabled, f.overridden])).toEqual(DEFAULT_FLAGS.map((f) => [f.name, true, false]));

    const before = await confirmedOrder(http);
    expect(before.notification).toMatchObject({ status: 'queued' });
    expect(before.notification).toHaveProperty('recommendations');
    expect((before.notification as { recommendations: string[] }).recommendations.length).toBeGreaterThan(0);
    expect(before.loyaltyPoints).toBeGreaterThan(0);

    // recommendations off in Unleash: the stack sees it within a refresh or two
    await switchInUnleash(unleash, 'recommendations', false);
    const switchedAt = Date.now();
    const after = await waitFor(
      'recommendations off in GET /admin/flags',
      async () => {
        const list = await flagList(http);
        return valueOf(list, 'recommendations') === false ? list : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(Date.parse(after.refreshedAt!)).toBeGreaterThan(Date.parse(fetched.refreshedAt!));
    // Unleash's own change takes a moment to reach its client API; the bound is loose on purpose
    expect(Date.now() - switchedAt).toBeLessThan(5_000);
    const noRecs = await confirmedOrder(http);
    expect(noRecs.notification).toEqual({ status: 'queued' });
    expect(noRecs.loyaltyPoints).toBeGreaterThan(0);
    const metrics = (await http.call('GET', '/metrics')).text;
    expect(metrics).toContain('surgectl_flag_enabled{flag="recommendations"} 0');
    expect(metrics).toContain('surgectl_flag_enabled{flag="loyalty-points"} 1');

    // notifications and loyalty points off too: the notify step records the skip, no ledger write
    await switchInUnleash(unleash, 'order-notifications', false);
    await switchInUnleash(unleash, 'loyalty-points', false);
    await waitFor('both off in GET /admin/flags', async () => {
      const list = await flagList(http);
      return valueOf(list, 'order-notifications') === false && valueOf(list, 'loyalty-points') === false;
    });
    const shed = await confirmedOrder(http);
    expect(shed.notification).toEqual({ status: 'skipped', reason: 'notification skipped by flag order-notifications' });
    expect(shed.history.find((h) => h.status === 'confirmed')?.reason).toBe('notification skipped by flag order-notifications');
    expect(shed).not.toHaveProperty('loyaltyPoints');

    // the stack cannot switch what Unleash owns
    const put = await http.admin('PUT', '/admin/flags/recommendations', { enabled: true });
    expect(put.status).toBe(409);
    expect(put.body).toMatchObject({ error: { code: 'ORDER_FLAGS_FROM_UNLEASH' } });

    // one log line per change (not per refresh), and the client token never in the logs
    const changes = log.lines.filter((l) => l.msg === 'feature flag changed');
    expect(changes.map((l) => [l.flag, l.from, l.to, l.source])).toEqual([
      ['recommendations', true, false, 'unleash'],
      ['order-notifications', true, false, 'unleash'],
      ['loyalty-points', true, false, 'unleash'],
    ]);
    expect(log.raw()).not.toContain(unleash.clientToken.split('.')[1]!);

    // back on for the other tests
    for (const f of DEFAULT_FLAGS) await switchInUnleash(unleash, f.name, true);
  }, 60_000);

  it('starts and serves with the default values while Unleash is down', async () => {
    const { http, log } = await start({ unleashUrl: `http://127.0.0.1:${await closedPort()}`, refreshMs: 200 });
    const list = await flagList(http);
    expect(list).toMatchObject({ source: 'unleash', refreshedAt: null });
    expect(list.flags.map((f) => [f.name, f.enabled])).toEqual(DEFAULT_FLAGS.map((f) => [f.name, f.defaultEnabled]));
    const order = await confirmedOrder(http);
    expect(order.notification).toMatchObject({ status: 'queued' });
    await waitFor('the outage logged', () => log.lines.some((l) => l.msg === 'cannot read flags from Unleash; keeping the values in use'));
    expect(log.raw()).not.toContain(unleash.clientToken.split('.')[1]!);
  }, 30_000);

  it('unleash-client provider: ready/changed/unchanged move refreshedAt; flags Unleash lacks keep their default', async () => {
    const log = capturingLogger();
    const flags = unleashFlagProvider({
      url: unleash.url,
      clientToken: unleash.clientToken,
      refreshIntervalMs: 200,
      logger: log.logger,
      definitions: [
        ...DEFAULT_FLAGS,
        { name: 'not-in-unleash-on', defaultEnabled: true, description: '' },
        { name: 'not-in-unleash-off', defaultEnabled: false, description: '' },
      ],
    });
    cleanups.push(() => flags.close());
    expect(flags.refreshedAt()).toBeUndefined();
    const first = await waitFor('first fetch', () => flags.refreshedAt());
    // 304s (unchanged) count as fresh fetches too
    await waitFor('a later refresh', () => (flags.refreshedAt() ?? 0) > first);
    expect(flags.isEnabled('recommendations')).toBe(true);
    expect(flags.isEnabled('not-in-unleash-on')).toBe(true);
    expect(flags.isEnabled('not-in-unleash-off')).toBe(false);
    await expect(flags.set('recommendations', false)).rejects.toMatchObject({ code: 'SRG_STACK_FLAG_READONLY' });
    expect(log.lines.filter((l) => l.level === 40 || l.level === 50)).toEqual([]);
  }, 30_000);
});

describe('the bundled stack with local flags', () => {
  it('sheds notification, recommendations and loyalty points when switched off, and brings them back', async () => {
    const stack = await startTestStack({ workers: 2 });
    const http = httpClient(stack.url, { adminToken: stack.adminToken, connections: 4 });
    try {
      for (const f of DEFAULT_FLAGS) expect((await http.admin('PUT', `/admin/flags/${f.name}`, { enabled: false })).status).toBe(200);
      const list = await flagList(http);
      expect(list.source).toBe('local');
      expect(list.refreshedAt).not.toBeNull();
      const off = await confirmedOrder(http);
      expect(off.notification).toEqual({ status: 'skipped', reason: 'notification skipped by flag order-notifications' });
      expect(off).not.toHaveProperty('loyaltyPoints');
      expect((await http.call('GET', '/metrics')).text).toContain('surgectl_flag_enabled{flag="order-notifications"} 0');

      // notifications back on, recommendations still off: a notification without recommendations
      await http.admin('DELETE', '/admin/flags/order-notifications');
      const noRecs = await confirmedOrder(http);
      expect(noRecs.notification).toEqual({ status: 'queued' });
      expect(noRecs).not.toHaveProperty('loyaltyPoints');

      for (const f of DEFAULT_FLAGS) await http.admin('DELETE', `/admin/flags/${f.name}`);
      const on = await confirmedOrder(http);
      expect((on.notification as { recommendations?: string[] }).recommendations?.length).toBeGreaterThan(0);
      expect(on.loyaltyPoints).toBeGreaterThan(0);
      expect(on.history.find((h) => h.status === 'confirmed')).not.toHaveProperty('reason');
    } finally {
      await http.close();
      await stack.dispose();
    }
  }, 30_000);
});

describe('surgectl stack up --unleash-url (in process)', () => {
  it('takes the client token from UNLEASH_CLIENT_TOKEN only, and neither prints nor logs it', async () => {
    const dir = tempDir('surgectl-stack-flags-cli-');
    const secret = 'default:development.never-shown-0123456789abcdef';
    const port = await closedPort();
    try {
      const abort = new AbortController();
      let stdout = '';
      let stderr = '';
      const runtime: Runtime = {
        env: { NO_COLOR: '1', UNLEASH_CLIENT_TOKEN: secret },
        cwd: dir.path,
        argv0: 'surgectl',
        // stop the stack as soon as it printed where it listens (what Ctrl+C does)
        stdout: { write: (s: string) => void ((stdout += s), s.includes('adminToken') && abort.abort()), isTTY: false },
        stderr: { write: (s: string) => void (stderr += s), isTTY: false },
        now: () => Date.now(),
        signal: abort.signal,
      };
      const code = await main(['-o', 'json', 'stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', dir.path, '--unleash-url', `http://127.0.0.1:${port}`, '--unleash-refresh', '1s'], runtime);
      expect(code, stderr).toBe(0);
      expect(stdout + stderr).not.toContain('never-shown');
      // the log file is written asynchronously (buffered); wait for the last line of the stop
      const log = await waitFor('the stop logged', () => {
        const text = readFileSync(join(dir.path, 'stack.log'), 'utf8');
        return text.includes('order stack stopped') ? text : undefined;
      });
      expect(log).toContain(`unleash http://127.0.0.1:${port}`);
      expect(log).not.toContain('never-shown');

      const noToken = await runMain(['stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', dir.path, '--unleash-url', `http://127.0.0.1:${port}`], { cwd: dir.path });
      expect(noToken.code).toBe(10);
      expect(noToken.stderr).toContain('--unleash-url');
      expect(noToken.stderr).toContain('UNLEASH_CLIENT_TOKEN');
    } finally {
      dir.remove();
    }
  }, 30_000);
});

import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { httpClient, tempDir } from '../../test/support/stack.js';
import { SurgeError } from '../errors.js';
import { exposureWarning, runStackForeground, startStack, type RunningStack, type StackStartedInfo, type StartStackOptions } from './stack.js';
import type { OrderReads } from './storage/ports.js';
import { capturingLogger } from '../../test/support/order-engine.js';

/** The REAL stack in this process (gateway thread, SQLite engine, HTTP API on real sockets). */

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(opts: StartStackOptions = {}): Promise<RunningStack & { dir: string }> {
  const dir = tempDir('surgectl-core-stack-');
  cleanups.push(() => dir.remove());
  const stack = await startStack({ port: 0, paymentPort: 0, dataDir: dir.path, paymentLatencyMs: 0, defaultMetrics: false, logger: pino({ level: 'silent' }), ...opts });
  cleanups.push(() => stack.stop({ drainTimeoutMs: 2_000 }));
  return Object.assign(stack, { dir: dir.path });
}

async function takenPort(): Promise<number> {
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
  return (blocker.address() as { port: number }).port;
}

describe('startStack', () => {
  it('logs and counts a cancel once, whoever asked for it', async () => {
    const { logger, lines } = capturingLogger();
    // no workers: the order stays accepted, so it can be cancelled
    const stack = await start({ workers: 0, logger });
    const http = httpClient(stack.url);
    cleanups.push(() => http.close());
    const placed = await http.postOrder({ customerId: 'c1', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'cancel-once');
    expect(placed.status).toBe(202);
    const orderId = (placed.body as { orderId: string }).orderId;
    const cancelled = await http.call('POST', `/v1/orders/${orderId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect((cancelled.body as { status: string }).status).toBe('cancelled');
    // a second cancel of a cancelled order answers with it and cancels nothing
    expect((await http.call('POST', `/v1/orders/${orderId}/cancel`)).status).toBe(200);
    const metrics = (await http.call('GET', '/metrics')).text;
    expect(metrics).toMatch(/surgectl_orders_completed_total\{status="cancelled"\} 1\n/);
    const logged = lines.filter((l) => l.msg === 'order cancelled');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ orderId, reason: 'cancelled by customer' });
  });

  it('runs with the defaults of the options not given, a relative data dir resolved against cwd', async () => {
    const dir = tempDir('surgectl-core-cwd-');
    cleanups.push(() => dir.remove());
    const stack = await start({ dataDir: 'data', cwd: dir.path, workers: 2 });
    expect(stack.options).toMatchObject({ dataDir: join(dir.path, 'data'), workers: 2, leaseMs: 30_000, maxBacklog: 20_000, rateLimit: 'off', host: '127.0.0.1' });
    expect(Object.isFrozen(stack.options)).toBe(true);
    expect(stack.engine.pool.size()).toBe(2);
    // the public stack hands out the store port, not the SQLite class behind it
    expectTypeOf(stack.engine.store).toEqualTypeOf<OrderReads>();
  });

  it.each([
    ['port', undefined, 'pick another with port ('],
    ['port', { port: '--port' }, 'pick another with --port ('],
    // the payment port is refused on the gateway's own thread: the hint is rebuilt to name the option too
    ['paymentPort', undefined, 'pick another with paymentPort ('],
    ['paymentPort', { paymentPort: '--payment-port' }, 'pick another with --payment-port ('],
  ] as const)('refuses a taken %s with a hint naming it as the caller labels it (%o)', async (option, optionLabels, hint) => {
    const port = await takenPort();
    const err = await start({ [option]: port, ...(optionLabels ? { optionLabels } : {}) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_STACK_PORT_IN_USE');
    expect((err as SurgeError).message).toContain(`127.0.0.1:${port}`);
    expect((err as SurgeError).hint).toContain(hint);
  });

  it('names the data dir option as labelled when the data dir is held by another stack', async () => {
    const first = await start({ workers: 0 });
    const byName = await startStack({ port: 0, paymentPort: 0, dataDir: first.dir, defaultMetrics: false, logger: pino({ level: 'silent' }) }).catch((e: unknown) => e);
    expect((byName as SurgeError).code).toBe('SRG_STACK_LOCKED');
    expect((byName as SurgeError).hint).toContain('or use another dataDir;');
    const labelled = await startStack({
      port: 0,
      paymentPort: 0,
      dataDir: first.dir,
      defaultMetrics: false,
      logger: pino({ level: 'silent' }),
      optionLabels: { dataDir: '--data-dir' },
    }).catch((e: unknown) => e);
    expect((labelled as SurgeError).hint).toContain('or use another --data-dir;');
  });
});

describe('listeners and secrets', () => {
  it('keeps the payment simulator on loopback whatever host the API takes, and it still charges the workers\' orders', async () => {
    const stack = await start({ host: 'localhost', workers: 1 });
    expect(stack.paymentUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const http = httpClient(stack.url);
    cleanups.push(() => http.close());
    const placed = await http.postOrder({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'sec-1');
    expect(placed.status).toBe(202);
    const orderId = (placed.body as { orderId: string }).orderId;
    await waitUntil(async () => ((await http.call('GET', `/v1/orders/${orderId}`)).body as { status: string }).status === 'confirmed');
    // a charge forged by anyone else who reaches the port is refused
    const forged = await fetch(`${stack.paymentUrl}/v1/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'forged-1', authorization: `Bearer ${stack.adminToken}` },
      body: JSON.stringify({ orderId: 'forged', amountCents: 1 }),
    });
    expect(forged.status).toBe(401);
  });

  it('stack up prints a generated admin token but never one it was given', async () => {
    const dir = tempDir('surgectl-core-fg-');
    cleanups.push(() => dir.remove());
    const run = async (adminToken: string | undefined) => {
      const abort = new AbortController();
      const notes: string[] = [];
      let info: StackStartedInfo | undefined;
      await runStackForeground({
        port: 0,
        paymentPort: 0,
        dataDir: dir.path,
        logFile: join(dir.path, 'stack.log'),
        logLevel: 'silent',
        workers: 0,
        adminToken,
        optionLabels: { adminToken: 'SURGECTL_STACK_ADMIN_TOKEN' },
        cwd: dir.path,
        signal: abort.signal,
        reporter: { notify: (m) => void notes.push(m) },
        onStarted: (i) => {
          info = i;
          abort.abort();
        },
      });
      return { info: info!, notes };
    };
    const given = await run('given-admin-token-0123456789');
    expect(JSON.stringify(given.info)).not.toContain('given-admin-token-0123456789');
    expect(given.info.adminToken).toBe('<from SURGECTL_STACK_ADMIN_TOKEN>');
    // on loopback there is nothing to warn about
    expect(given.notes.join('\n')).not.toMatch(/beyond loopback/);
    const generated = await run(undefined);
    expect(generated.info.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('exposureWarning', () => {
  const base = { host: '127.0.0.1', port: 8080, paymentHost: '127.0.0.1', paymentPort: 8089 };
  it('says nothing on loopback (127.0.0.0/8, ::1, localhost)', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST']) expect(exposureWarning({ ...base, host, paymentHost: host })).toBeUndefined();
  });
  it('names what is exposed beyond loopback, with the option as the user set it', () => {
    const w = exposureWarning({ ...base, host: '0.0.0.0' }, { host: '--host' });
    expect(w).toContain('--host 0.0.0.0');
    expect(w).toMatch(/intake API.*admin API.*\/metrics.*port 8080/);
    expect(w).not.toContain('payment gateway');
    const p = exposureWarning({ ...base, paymentHost: '10.0.0.5' }, { paymentHost: '--payment-host' });
    expect(p).toMatch(/--payment-host 10\.0\.0\.5: the payment gateway simulator.*port 8089/);
    expect(exposureWarning({ ...base, host: '::' })).toContain('host ::');
  });
});

async function waitUntil(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

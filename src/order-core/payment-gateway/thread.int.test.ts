import { createServer } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SurgeError } from '../../errors.js';
import { ADMIN_TOKEN, CHARGE_TOKEN, tempDir, capturingLogger } from '../../../test/support/order-engine.js';
import { startPaymentGatewayThread, type PaymentGatewayThread } from './thread.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(opts: { port?: number; failureRate?: number; logger?: pino.Logger } = {}): Promise<PaymentGatewayThread> {
  const tmp = tempDir('surgectl-gwthread-');
  cleanups.push(() => tmp.remove());
  const gw = await startPaymentGatewayThread({
    host: '127.0.0.1',
    port: opts.port ?? 0,
    dataDir: tmp.dir,
    failureRate: opts.failureRate ?? 0,
    latencyMs: 0,
    adminToken: ADMIN_TOKEN,
    chargeToken: CHARGE_TOKEN,
    logger: opts.logger ?? pino({ level: 'silent' }),
  });
  cleanups.push(() => gw.close());
  return gw;
}

const charge = (url: string, key: string, body: unknown) =>
  fetch(`${url}/v1/charges`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key, authorization: `Bearer ${CHARGE_TOKEN}` }, body: JSON.stringify(body) });

describe('payment gateway simulator on its own thread', () => {
  it('serves charges with idempotency, and its knobs change what the thread answers', async () => {
    const gw = await start();
    const first = await charge(gw.url, 'ord_t1', { orderId: 'ord_t1', amountCents: 500 });
    expect(first.status).toBe(201);
    const again = await charge(gw.url, 'ord_t1', { orderId: 'ord_t1', amountCents: 500 });
    expect(again.status).toBe(200);

    expect(await gw.getConfig()).toEqual({ failureRate: 0, latencyMs: 0 });
    expect(await gw.setConfig({ failureRate: 1 })).toEqual({ failureRate: 1, latencyMs: 0 });
    expect((await charge(gw.url, 'ord_t2', { orderId: 'ord_t2', amountCents: 500 })).status).toBe(503);
    // the HTTP admin endpoint and the thread handle see the same settings
    const viaHttp = (await (await fetch(`${gw.url}/admin/config`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as unknown;
    expect(viaHttp).toEqual({ failureRate: 1, latencyMs: 0 });
    expect(await gw.setConfig({ failureRate: 0 })).toEqual({ failureRate: 0, latencyMs: 0 });
    expect((await charge(gw.url, 'ord_t2', { orderId: 'ord_t2', amountCents: 500 })).status).toBe(201);
  });

  it('rejects a bad setting with the SurgeError the simulator throws, and keeps the old value', async () => {
    const gw = await start();
    const err = await gw.setConfig({ failureRate: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_CONFIG_INVALID');
    expect((err as SurgeError).message).toMatch(/failureRate must be a number from 0 to 1/);
    expect(await gw.getConfig()).toEqual({ failureRate: 0, latencyMs: 0 });
  });

  it('reports a taken port as SRG_STACK_PORT_IN_USE, the error the CLI explains', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const err = await start({ port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_STACK_PORT_IN_USE');
  });

  it('relays its log lines through the given logger, with their level and fields', async () => {
    const { logger, lines } = capturingLogger('info');
    const gw = await start({ logger });
    // fastify in the thread logs where it listens, at info, through the simulator's child logger
    await expect.poll(() => lines.find((l) => l.component === 'payment-gateway'), { timeout: 5_000 }).toBeDefined();
    const line = lines.find((l) => l.component === 'payment-gateway') as Record<string, unknown>;
    expect(line.level).toBe(30);
    expect(line.msg).toBe(`Server listening at ${gw.url}`);
    // a logger at warn gets none of the info lines
    const quiet = capturingLogger('warn');
    await start({ logger: quiet.logger });
    expect(quiet.lines).toEqual([]);
  });

  it('stops listening on close, and close is safe to call twice', async () => {
    const gw = await start();
    await gw.close();
    await gw.close();
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
    await expect(gw.getConfig()).rejects.toThrow(/not running/);
  });
});

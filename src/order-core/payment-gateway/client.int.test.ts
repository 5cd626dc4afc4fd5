import { afterEach, describe, expect, it } from 'vitest';
import { CHARGE_TOKEN, startGateway, tempDir } from '../../../test/support/order-engine.js';
import { PaymentDeclined, TransientPaymentError } from '../domain/outcomes.js';
import { createPaymentClient } from './client.js';
import { DECLINE_TOKEN } from './server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(gatewayOpts: { failureRate?: number; latencyMs?: number }, timeoutMs: number) {
  const tmp = tempDir('surgectl-gwc-');
  cleanups.push(() => tmp.remove());
  const gw = await startGateway(tmp.dir, gatewayOpts);
  cleanups.push(() => gw.close());
  const attempts: string[] = [];
  const client = createPaymentClient({
    baseUrl: gw.url,
    timeoutMs,
    authToken: CHARGE_TOKEN,
    maxAttempts: 1,
    breaker: { volumeThreshold: 100 },
    onAttempt: (o) => attempts.push(o),
  });
  cleanups.push(() => client.close());
  return { gw, client, attempts };
}

const send = async () => true;

describe('payment client against the gateway simulator', () => {
  it('charges, and a replay of the key gets the same charge', async () => {
    const { client, attempts } = await setup({}, 2_000);
    const signal = new AbortController().signal;
    const a = await client.charge({ orderId: 'ord_1', amountCents: 100, idempotencyKey: 'ord_1' }, signal, send);
    const b = await client.charge({ orderId: 'ord_1', amountCents: 100, idempotencyKey: 'ord_1' }, signal, send);
    expect(b.chargeId).toBe(a.chargeId);
    expect(attempts).toEqual(['ok', 'ok']);
  });

  it('gives up on a gateway slower than the timeout with a transient "timeout" error', async () => {
    const { client, attempts } = await setup({ latencyMs: 1_500 }, 200);
    const started = Date.now();
    const err = await client.charge({ orderId: 'ord_2', amountCents: 100, idempotencyKey: 'ord_2' }, new AbortController().signal, send).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientPaymentError);
    expect((err as TransientPaymentError).kind).toBe('timeout');
    expect((err as Error).message).toMatch(/did not answer within 200 ms/);
    // well before the gateway would have answered
    expect(Date.now() - started).toBeLessThan(1_400);
    expect(attempts).toEqual(['timeout']);
  });

  it("stops at once when the job's signal is aborted, with the signal's reason", async () => {
    const { client, attempts } = await setup({ latencyMs: 1_500 }, 5_000);
    const job = new AbortController();
    const reason = new Error('worker killed');
    setTimeout(() => job.abort(reason), 50);
    await expect(client.charge({ orderId: 'ord_3', amountCents: 100, idempotencyKey: 'ord_3' }, job.signal, send)).rejects.toBe(reason);
    expect(attempts).toEqual([]);
  });

  it('reports a decline as final, and a gateway failure as transient "error"', async () => {
    const { client, attempts } = await setup({}, 2_000);
    const signal = new AbortController().signal;
    await expect(client.charge({ orderId: 'ord_4', amountCents: 100, token: DECLINE_TOKEN, idempotencyKey: 'ord_4' }, signal, send)).rejects.toBeInstanceOf(PaymentDeclined);
    const failing = await setup({ failureRate: 1 }, 2_000);
    const err = await failing.client.charge({ orderId: 'ord_5', amountCents: 100, idempotencyKey: 'ord_5' }, signal, send).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientPaymentError);
    expect((err as TransientPaymentError).kind).toBe('error');
    expect(attempts).toEqual(['declined']);
    expect(failing.attempts).toEqual(['error']);
  });
});

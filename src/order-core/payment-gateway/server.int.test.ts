import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, CHARGE_TOKEN, startGateway, tempDir } from '../../../test/support/order-engine.js';
import type { PaymentGatewayHandle } from './server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gateway(opts: { failureRate?: number; latencyMs?: number } = {}, dir?: string): Promise<PaymentGatewayHandle & { dir: string }> {
  let d = dir;
  if (d === undefined) {
    const tmp = tempDir('surgectl-gw-');
    cleanups.push(() => tmp.remove());
    d = tmp.dir;
  }
  const gw = await startGateway(d, opts);
  const realClose = gw.close.bind(gw);
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await realClose();
  });
  const close = async () => {
    closed = true;
    await realClose();
  };
  return Object.assign(gw, { dir: d, close });
}

const charge = (url: string, key: string | undefined, body: unknown, authorization = `Bearer ${CHARGE_TOKEN}`) =>
  fetch(`${url}/v1/charges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization, ...(key !== undefined ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });

describe('payment gateway simulator', () => {
  it('charges once per idempotency key, also across a restart on the same ledger', async () => {
    const gw = await gateway();
    const first = await charge(gw.url, 'ord_1', { orderId: 'ord_1', amountCents: 1200 });
    expect(first.status).toBe(201);
    const c1 = (await first.json()) as { chargeId: string; status: string };
    expect(c1.status).toBe('succeeded');
    const again = await charge(gw.url, 'ord_1', { orderId: 'ord_1', amountCents: 1200 });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { chargeId: string }).chargeId).toBe(c1.chargeId);
    expect((await charge(gw.url, 'ord_1', { orderId: 'ord_1', amountCents: 999 })).status).toBe(409);
    await gw.close();
    const gw2 = await gateway({}, gw.dir);
    const after = await charge(gw2.url, 'ord_1', { orderId: 'ord_1', amountCents: 1200 });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { chargeId: string }).chargeId).toBe(c1.chargeId);
    const list = (await (await fetch(`${gw2.url}/v1/charges?orderId=ord_1`)).json()) as { charges: unknown[] };
    expect(list.charges).toHaveLength(1);
  });

  it('declines tok_decline with 402 card_declined, the same on a repeat', async () => {
    const gw = await gateway();
    for (let i = 0; i < 2; i++) {
      const res = await charge(gw.url, 'ord_d', { orderId: 'ord_d', amountCents: 100, token: 'tok_decline' });
      expect(res.status).toBe(402);
      expect(((await res.json()) as { code: string }).code).toBe('card_declined');
    }
  });

  it('rejects a missing key or a bad body with 400', async () => {
    const gw = await gateway();
    expect((await charge(gw.url, undefined, { orderId: 'x', amountCents: 1 })).status).toBe(400);
    expect((await charge(gw.url, 'k', { orderId: 'x', amountCents: -1 })).status).toBe(400);
    expect((await charge(gw.url, 'k', { amountCents: 1 })).status).toBe(400);
  });

  it('fails every call with 503 at failureRate 1 and records nothing; admin config needs the bearer token', async () => {
    const gw = await gateway({ failureRate: 1 });
    expect((await charge(gw.url, 'ord_f', { orderId: 'ord_f', amountCents: 1 })).status).toBe(503);
    expect(((await (await fetch(`${gw.url}/v1/charges?orderId=ord_f`)).json()) as { charges: unknown[] }).charges).toHaveLength(0);
    expect((await fetch(`${gw.url}/admin/config`)).status).toBe(401);
    expect((await fetch(`${gw.url}/admin/config`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    const bad = await fetch(`${gw.url}/admin/config`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ failureRate: 2 }) });
    expect(bad.status).toBe(400);
    const put = await fetch(`${gw.url}/admin/config`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ failureRate: 0, latencyMs: 3 }) });
    expect(await put.json()).toEqual({ failureRate: 0, latencyMs: 3 });
    expect(gw.getConfig()).toEqual({ failureRate: 0, latencyMs: 3 });
    expect((await charge(gw.url, 'ord_f', { orderId: 'ord_f', amountCents: 1 })).status).toBe(201);
  });

  it('refuses a charge without the stack\'s charge token with 401 and records nothing', async () => {
    const gw = await gateway();
    const forged = await fetch(`${gw.url}/v1/charges`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'ord_x' }, body: JSON.stringify({ orderId: 'ord_x', amountCents: 1 }) });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    // the admin token is not a charge token, nor is a prefix of the real one
    expect((await charge(gw.url, 'ord_x', { orderId: 'ord_x', amountCents: 1 }, `Bearer ${ADMIN_TOKEN}`)).status).toBe(401);
    expect((await charge(gw.url, 'ord_x', { orderId: 'ord_x', amountCents: 1 }, `Bearer ${CHARGE_TOKEN.slice(0, -1)}`)).status).toBe(401);
    expect(((await (await fetch(`${gw.url}/v1/charges?orderId=ord_x`)).json()) as { charges: unknown[] }).charges).toHaveLength(0);
    expect((await charge(gw.url, 'ord_x', { orderId: 'ord_x', amountCents: 1 }, `bearer ${CHARGE_TOKEN}`)).status).toBe(201);
  });

  it('takes the admin Bearer scheme in any case, like the stack does', async () => {
    const gw = await gateway();
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      expect((await fetch(`${gw.url}/admin/config`, { headers: { authorization: `${scheme} ${ADMIN_TOKEN}` } })).status).toBe(200);
    }
    expect((await fetch(`${gw.url}/admin/config`, { headers: { authorization: `Basic ${ADMIN_TOKEN}` } })).status).toBe(401);
    expect((await fetch(`${gw.url}/admin/config`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).status).toBe(401);
  });

  it('concurrent calls with one key produce one charge', async () => {
    const gw = await gateway({ latencyMs: 20 });
    const results = await Promise.all(Array.from({ length: 20 }, () => charge(gw.url, 'ord_c', { orderId: 'ord_c', amountCents: 5 })));
    const bodies = (await Promise.all(results.map((r) => r.json()))) as { chargeId: string }[];
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(new Set(bodies.map((b) => b.chargeId)).size).toBe(1);
  });
});

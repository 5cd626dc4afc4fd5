import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../src/order-core/domain/types.js';
import { httpClient, startTestStack, waitFor, writeSeedFile, tempDir, type HttpClient, type TestStack } from './support/stack.js';

/** The real stack over a real socket: lifecycle, idempotency under concurrency, admin, metrics. */
let stack: TestStack;
let http: HttpClient;
const seedDir = tempDir('surgectl-seed-');

beforeAll(async () => {
  const seed = writeSeedFile(seedDir.path, [
    { sku: 'TEE-1', stock: 50, priceCents: 1500 },
    { sku: 'MUG-1', stock: 5, priceCents: 900 },
  ]);
  stack = await startTestStack({ seedInventory: seed, workers: 4 });
  http = httpClient(stack.url, { adminToken: stack.adminToken });
});
afterAll(async () => {
  await http?.close();
  await stack?.dispose();
  seedDir.remove();
});

const order = (sku = 'TEE-1', qty = 1) => ({ customerId: 'cust-1', items: [{ sku, qty }] });
const getOrder = async (id: string) => (await http.call('GET', `/v1/orders/${id}`)).body as OrderView;

describe('order lifecycle on a real stack', () => {
  it('goes accepted -> reserved -> paid -> confirmed with timestamps, and stock moves to sold', async () => {
    const res = await http.postOrder(order('TEE-1', 2), 'life-1');
    expect(res.status).toBe(202);
    const accepted = res.body as { orderId: string; status: string; statusUrl: string; queuePosition: number };
    expect(accepted.status).toBe('accepted');
    expect(accepted.statusUrl).toBe(`/v1/orders/${accepted.orderId}`);
    expect(accepted.queuePosition).toBeGreaterThanOrEqual(1);

    const done = await waitFor('order confirmed', async () => {
      const o = await getOrder(accepted.orderId);
      return o.status === 'confirmed' ? o : undefined;
    });
    expect(done.history.map((h) => h.status)).toEqual(['accepted', 'reserved', 'paid', 'confirmed']);
    const times = done.history.map((h) => Date.parse(h.at));
    for (const t of times) expect(Number.isFinite(t)).toBe(true);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(done.queuePosition).toBeUndefined();

    const inv = (await http.call('GET', '/v1/inventory')).body as { items: { sku: string; available: number; reserved: number; sold: number }[] };
    expect(inv.items.find((i) => i.sku === 'TEE-1')).toMatchObject({ sold: 2, reserved: 0, available: 48 });

    // The gateway charged it once, for the right amount.
    const pay = httpClient(stack.paymentUrl);
    const charges = (await pay.call('GET', `/v1/charges?orderId=${accepted.orderId}`)).body as { charges: { amountCents: number }[] };
    await pay.close();
    expect(charges.charges).toHaveLength(1);
    expect(charges.charges[0]!.amountCents).toBe(3000);
  });

  it('turns 50 concurrent requests with one Idempotency-Key into one order', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => http.postOrder(order('TEE-1', 1), 'dup-key-1')));
    const ids = new Set(results.map((r) => (r.body as { orderId: string }).orderId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(49);
    const [id] = [...ids];
    await waitFor('duplicate order confirmed', async () => (await getOrder(id!)).status === 'confirmed');
    const status = (await http.admin('GET', '/admin/status')).body as { orders: { byStatus: Record<string, number> } };
    // life-1 and this one: nothing else was created.
    expect(status.orders.byStatus.confirmed).toBe(2);
  });

  it('refuses the same key with another body (409) and cancels an order that is not paid yet', async () => {
    const conflict = await http.postOrder(order('MUG-1', 1), 'dup-key-1');
    expect(conflict.status).toBe(409);
    expect((conflict.body as { error: { code: string } }).error.code).toBe('ORDER_IDEMPOTENCY_CONFLICT');

    // Hold the consumer so the order stays unpaid while we cancel it.
    expect((await http.admin('POST', '/admin/faults/consumer/pause')).status).toBe(200);
    const res = await http.postOrder(order('MUG-1', 2), 'cancel-me');
    const id = (res.body as { orderId: string }).orderId;
    const cancelled = await http.call('POST', `/v1/orders/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect((cancelled.body as OrderView).status).toBe('cancelled');
    await http.admin('POST', '/admin/faults/consumer/resume');
    const confirmedId = (await http.postOrder(order('MUG-1', 1), 'after-cancel')).body as { orderId: string };
    await waitFor('order after cancel confirmed', async () => (await getOrder(confirmedId.orderId)).status === 'confirmed');
    const again = await http.call('POST', `/v1/orders/${confirmedId.orderId}/cancel`);
    expect(again.status).toBe(409);
    expect((await getOrder(id)).status).toBe('cancelled');
    const inv = (await http.call('GET', '/v1/inventory')).body as { items: { sku: string; available: number; sold: number }[] };
    expect(inv.items.find((i) => i.sku === 'MUG-1')).toMatchObject({ available: 4, sold: 1 });
  });

  it('serves /metrics with accepted orders, the request histogram and oversold 0', async () => {
    const res = await http.call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/surgectl_orders_accepted_total [1-9]/);
    expect(res.text).toContain('surgectl_inventory_oversold_units 0');
    expect(res.text).toMatch(/surgectl_http_request_duration_seconds_count\{route="\/v1\/orders",method="POST",status_code="202"\} \d+/);
    expect(res.text).toMatch(/surgectl_orders_completed_total\{status="confirmed"\} [1-9]/);
  });

  it('pauses and resumes intake, resizes workers and reports it in /admin/status', async () => {
    expect((await http.admin('PUT', '/admin/workers', { count: 6 })).body).toEqual({ size: 6 });
    await http.admin('POST', '/admin/intake/pause');
    const refused = await http.postOrder(order(), 'while-paused');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await http.call('GET', '/readyz')).status).toBe(503);
    const s = (await http.admin('GET', '/admin/status')).body as { intake: { paused: boolean }; workers: { size: number }; payment: unknown };
    expect(s.intake.paused).toBe(true);
    expect(s.workers.size).toBe(6);
    expect(s.payment).toEqual({ failureRate: 0, latencyMs: 0 });
    await http.admin('POST', '/admin/intake/resume');
    expect((await http.call('GET', '/readyz')).status).toBe(200);
    expect((await http.postOrder(order(), 'after-resume')).status).toBe(202);
    expect((await http.call('GET', '/admin/status')).status).toBe(401);
  });

  it('restarts the store under the admin fault and keeps serving', async () => {
    const r = await http.admin('POST', '/admin/faults/restart-store');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ restarted: true });
    const res = await http.postOrder(order(), 'after-restart');
    expect(res.status).toBe(202);
    const id = (res.body as { orderId: string }).orderId;
    await waitFor('order after store restart confirmed', async () => (await getOrder(id)).status === 'confirmed');
  });
});

describe('stopping a stack', () => {
  it('drains within the limit the caller gives, not the configured one on top of it', async () => {
    // a charge that takes 30 s and a configured drain limit far beyond the test's time
    const slow = await startTestStack({ workers: 1, paymentLatencyMs: 30_000, paymentTimeoutMs: 60_000, drainTimeoutMs: 600_000 });
    const client = httpClient(slow.url);
    try {
      expect((await client.postOrder(order('SKU-0001'), 'slow-1')).status).toBe(202);
      await waitFor('the order being worked on', () => slow.engine.pool.busy() === 1);
      // returns with the job still in flight (it is redelivered at the next start) instead of
      // waiting out the configured 600 s drain after the caller's 0
      expect(await slow.stop({ drainTimeoutMs: 0 })).toEqual({ drained: false, inFlight: 1 });
    } finally {
      await client.close();
      await slow.dispose();
    }
  }, 20_000);
});

describe('load shedding on a real stack', () => {
  it('holds maxBacklog under concurrent orders: those not yet committed count too', async () => {
    const shed = await startTestStack({ workers: 0, maxBacklog: 5 });
    const client = httpClient(shed.url);
    try {
      // 20 open connections first, so the orders arrive together rather than one connect apart
      await Promise.all(Array.from({ length: 20 }, () => client.call('GET', '/healthz')));
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.postOrder(order('SKU-0001'), `shed-${i}`)));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([...Array(5).fill(202), ...Array(15).fill(503)]);
      for (const r of results.filter((x) => x.status === 503)) expect((r.body as { error: { code: string } }).error.code).toBe('ORDER_SHED');
      expect((await shed.engine.store.stats()).queueDepth).toBe(5);
      // waiting with no worker to set a pace: a position, and an ETA that is null, not missing
      const first = results.find((r) => r.status === 202)!.body as { orderId: string; estimatedWaitMs: unknown };
      expect(first.estimatedWaitMs).toBeNull();
      const view = (await client.call('GET', `/v1/orders/${first.orderId}`)).body as Record<string, unknown>;
      expect(view.queuePosition).toEqual(expect.any(Number));
      expect(view).toHaveProperty('estimatedWaitMs', null);
    } finally {
      await client.close();
      await shed.dispose();
    }
  });
});

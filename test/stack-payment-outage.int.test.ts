import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OrderView } from '../src/order-core/domain/types.js';
import { httpClient, startTestStack, waitFor, type HttpClient, type TestStack } from './support/stack.js';

/**
 * The payment gateway fails every call: the breaker opens, orders wait in payment_pending
 * instead of failing, and once the gateway heals every order completes, charged once.
 */
let stack: TestStack;
let http: HttpClient;
beforeAll(async () => {
  stack = await startTestStack({ seedInventory: 100, workers: 4, paymentFailureRate: 1 });
  http = httpClient(stack.url, { adminToken: stack.adminToken });
});
afterAll(async () => {
  await http?.close();
  await stack?.dispose();
});

interface Status {
  breaker: string;
  orders: { byStatus: Record<string, number> };
  payment: { failureRate: number };
}
const status = async () => (await http.admin('GET', '/admin/status')).body as Status;

it('holds orders in payment_pending while the breaker is open and completes all of them after the gateway heals', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const res = await http.postOrder({ customerId: `c${i}`, items: [{ sku: 'SKU-0001', qty: 1 }] }, `outage-${i}`);
    expect(res.status).toBe(202);
    ids.push((res.body as { orderId: string }).orderId);
  }

  const during = await waitFor(
    'breaker open with all 30 orders waiting for payment',
    async () => {
      const s = await status();
      return s.breaker === 'open' && s.orders.byStatus.payment_pending === 30 ? s : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  expect(during.orders.byStatus.payment_failed ?? 0).toBe(0);
  expect(during.orders.byStatus.confirmed ?? 0).toBe(0);
  const metrics = (await http.call('GET', '/metrics')).text;
  expect(metrics).toContain('surgectl_payment_breaker_state 2');

  const healed = await http.admin('PUT', '/admin/faults/payment', { failureRate: 0 });
  expect(healed.body).toMatchObject({ failureRate: 0 });

  const after = await waitFor(
    'all 30 orders confirmed after the gateway healed',
    async () => {
      const s = await status();
      return s.orders.byStatus.confirmed === 30 ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  expect(after.orders.byStatus.payment_failed ?? 0).toBe(0);
  expect(after.breaker).toBe('closed');

  const pay = httpClient(stack.paymentUrl);
  for (const id of ids) {
    const o = (await http.call('GET', `/v1/orders/${id}`)).body as OrderView;
    expect(o.history.map((h) => h.status)).toContain('payment_pending');
    const charges = (await pay.call('GET', `/v1/charges?orderId=${id}`)).body as { charges: { status: string }[] };
    expect(charges.charges.filter((c) => c.status === 'succeeded')).toHaveLength(1);
  }
  await pay.close();
}, 120_000);

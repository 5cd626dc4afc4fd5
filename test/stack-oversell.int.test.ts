import { afterAll, beforeAll, expect, it } from 'vitest';
import { httpClient, startTestStack, tempDir, waitFor, writeSeedFile, type HttpClient, type TestStack } from './support/stack.js';

/** A flash sale: 1,000 buyers at once for 100 units must end with exactly 100 sold, none oversold. */
let stack: TestStack;
let http: HttpClient;
const seedDir = tempDir('surgectl-seed-');

beforeAll(async () => {
  stack = await startTestStack({ seedInventory: writeSeedFile(seedDir.path, [{ sku: 'HOT-1', stock: 100, priceCents: 4999 }]), workers: 8 });
  http = httpClient(stack.url, { adminToken: stack.adminToken, connections: 64 });
});
afterAll(async () => {
  await http?.close();
  await stack?.dispose();
  seedDir.remove();
});

it('sells exactly 100 of 100 units to 1,000 concurrent orders: 100 confirmed, 900 sold_out, oversold 0', async () => {
  const results = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => http.postOrder({ customerId: `buyer-${i}`, items: [{ sku: 'HOT-1', qty: 1 }] }, `flash-${i}`)),
  );
  expect(results.map((r) => r.status).filter((s) => s !== 202)).toEqual([]);
  const ids = new Set(results.map((r) => (r.body as { orderId: string }).orderId));
  expect(ids.size).toBe(1000);

  const status = await waitFor(
    'all 1,000 orders final',
    async () => {
      const s = (await http.admin('GET', '/admin/status')).body as { orders: { byStatus: Record<string, number> }; oversold: number };
      return s.orders.byStatus.confirmed! + s.orders.byStatus.sold_out! === 1000 ? s : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 200 },
  );
  expect(status.orders.byStatus.confirmed).toBe(100);
  expect(status.orders.byStatus.sold_out).toBe(900);
  expect(status.oversold).toBe(0);

  const inv = (await http.call('GET', '/v1/inventory')).body as { items: { sku: string; available: number; reserved: number; sold: number }[] };
  expect(inv.items).toEqual([{ sku: 'HOT-1', available: 0, reserved: 0, sold: 100 }]);

  const metrics = (await http.call('GET', '/metrics')).text;
  expect(metrics).toContain('surgectl_inventory_oversold_units 0');
  expect(metrics).toContain('surgectl_orders_completed_total{status="confirmed"} 100');
  expect(metrics).toContain('surgectl_orders_completed_total{status="sold_out"} 900');
  expect(metrics).toContain('surgectl_orders_accepted_total 1000');
});

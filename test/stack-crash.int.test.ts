import { afterAll, expect, it } from 'vitest';
import type { OrderView } from '../src/order-core/domain/types.js';
import { httpClient, spawnStackProcess, tempDir, waitFor, type StackProcess } from './support/stack.js';

/**
 * `surgectl stack up` is SIGKILLed in the middle of a load; a new process on the same data dir
 * must hold every order it acknowledged with 202 and process each exactly once (the gateway
 * ledger shows one charge per order).
 */
const dir = tempDir('surgectl-crash-');
const procs: StackProcess[] = [];
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  dir.remove();
});

it('keeps every acknowledged order across a SIGKILL and charges each exactly once', async () => {
  const args = ['--workers', '4', '--seed-inventory', '100000', '--payment-latency-ms', '2'];
  const first = await spawnStackProcess({ dataDir: dir.path, args });
  procs.push(first);
  const http = httpClient(first.info.url, { connections: 16 });

  const acked = new Map<string, string>(); // idempotency key -> order id
  let stop = false;
  let seq = 0;
  const loadDeadline = Date.now() + 20_000;
  const client = async () => {
    while (!stop && Date.now() < loadDeadline && seq < 5_000) {
      const key = `crash-${++seq}`;
      try {
        const res = await http.postOrder({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }, key);
        if (res.status === 202) acked.set(key, (res.body as { orderId: string }).orderId);
      } catch {
        return; // the process died under us: this request was never acknowledged
      }
    }
  };
  const clients = Array.from({ length: 16 }, client);
  // Kill once a good number of orders are in and the workers are busy with them.
  await waitFor('300 acknowledged orders', () => acked.size >= 300, { timeoutMs: 20_000, intervalMs: 10 });
  first.child.kill('SIGKILL');
  stop = true;
  const exit = await first.exited;
  expect(exit.signal).toBe('SIGKILL');
  await Promise.all(clients);
  await http.close().catch(() => undefined);
  expect(acked.size).toBeGreaterThanOrEqual(300);

  const second = await spawnStackProcess({ dataDir: dir.path, args });
  procs.push(second);
  const token = second.info.adminToken;
  const http2 = httpClient(second.info.url, { adminToken: token, connections: 16 });
  const final = await waitFor(
    'every order final after the restart',
    async () => {
      const s = (await http2.admin('GET', '/admin/status')).body as { queue: { depth: number }; orders: { byStatus: Record<string, number> } };
      const b = s.orders.byStatus;
      const open = (b.accepted ?? 0) + (b.reserved ?? 0) + (b.payment_pending ?? 0) + (b.paid ?? 0);
      return open === 0 && s.queue.depth === 0 ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  expect(final.orders.byStatus.payment_failed ?? 0).toBe(0);

  const pay = httpClient(second.info.paymentUrl, { connections: 16 });
  const missing: string[] = [];
  const wrong: string[] = [];
  await Promise.all(
    [...acked.values()].map(async (id) => {
      const res = await http2.call('GET', `/v1/orders/${id}`);
      if (res.status !== 200) return missing.push(id);
      const o = res.body as OrderView;
      const charges = (await pay.call('GET', `/v1/charges?orderId=${id}`)).body as { charges: unknown[] };
      if (o.status !== 'confirmed' || charges.charges.length !== 1) wrong.push(`${id}: ${o.status}, ${charges.charges.length} charge(s)`);
    }),
  );
  expect(missing).toEqual([]);
  expect(wrong).toEqual([]);

  // No double processing anywhere: units sold equal confirmed orders (qty 1 each, one sku).
  const inv = (await http2.call('GET', '/v1/inventory')).body as { items: { sku: string; sold: number; reserved: number }[] };
  const sku = inv.items.find((i) => i.sku === 'SKU-0001')!;
  expect(sku.sold).toBe(final.orders.byStatus.confirmed);
  expect(sku.reserved).toBe(0);

  await pay.close();
  await http2.close();
  second.child.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
}, 150_000);

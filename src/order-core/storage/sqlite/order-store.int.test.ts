import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptRequest, silentLogger, stackConfig, startEngine, tempDir } from '../../../../test/support/order-engine.js';
import { defaultCatalog } from '../../catalog.js';
import { LOCK_FILE } from './lock.js';
import { ORDERS_DB_FILE, SqliteOrderStore } from './order-store.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function openStore(dir: string) {
  const store = new SqliteOrderStore({ dir, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0 });
  cleanups.push(() => store.close());
  return store;
}

describe('sqlite order store', () => {
  it('opens an existing store repeatedly without redoing migrations, in WAL mode with synchronous=FULL', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const a = openStore(tmp.dir);
    a.seed(undefined, () => defaultCatalog(2));
    await a.close();
    const b = openStore(tmp.dir);
    expect(b.seed(undefined, () => defaultCatalog(9))).toEqual({ mode: 'kept', skus: 25 });
    expect(b.listInventory()[0]).toEqual({ sku: 'SKU-0001', available: 2, reserved: 0, sold: 0 });
    await b.close();
    const raw = new Database(join(tmp.dir, ORDERS_DB_FILE), { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(3);
    } finally {
      raw.close();
    }
  });

  it('refuses to cancel once a charge may have been sent, and refuses an unknown order', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const store = openStore(tmp.dir);
    store.seed(undefined, () => defaultCatalog(5));
    const out = await store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 2 }] }));
    if (out.kind !== 'created') throw new Error(out.kind);
    const id = out.order.orderId;
    const [job] = await store.leaseBatch(['t1'], 10_000);
    expect(job).toEqual({ orderId: id, token: 't1', redelivered: false });
    expect(await store.reserve(id, 't1', true)).toEqual({ status: 'reserved', payStarted: true });
    expect(store.cancel(id, 'customer_request')).toBe(false);
    expect(store.getOrder(id)!.status).toBe('reserved');
    expect(store.cancel('ord_missing', 'x')).toBe(false);
    // a wrong lease token changes nothing
    await expect(store.failPayment(id, 'not-the-token', 'x')).rejects.toThrow(/lease/);
    expect(store.listInventory()[0]).toEqual({ sku: 'SKU-0001', available: 3, reserved: 2, sold: 0 });
  });

  it('one failing write in a group is rolled back alone', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const store = openStore(tmp.dir);
    store.seed(undefined, () => defaultCatalog(5));
    const results = await Promise.allSettled([
      store.accept(acceptRequest({ customerId: 'a', items: [{ sku: 'SKU-0001', qty: 1 }] })),
      store.write(() => {
        store.setFlagOverride('loyalty-points', false);
        throw new Error('boom');
      }),
      store.accept(acceptRequest({ customerId: 'b', items: [{ sku: 'SKU-0001', qty: 1 }] })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await expect(store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 0 }] }))).rejects.toThrow(RangeError);
    await expect(store.accept(acceptRequest({ customerId: 'c', items: [] }))).rejects.toThrow(RangeError);
    expect(store.flagOverrides().has('loyalty-points')).toBe(false);
    expect(store.stats().byStatus.accepted).toBe(2);
  });

  it('a bad seed file stops the engine start with SRG_STACK_SEED and leaves no lock behind', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const seed = join(tmp.dir, 'seed.yaml');
    writeFileSync(seed, '- sku: A\n  stock: lots\n');
    await expect(startEngine(stackConfig({ dataDir: tmp.dir, seedInventory: seed }), 'http://127.0.0.1:9')).rejects.toMatchObject({
      code: 'SRG_STACK_SEED',
      details: ['row 1: stock must be a number'],
    });
    expect(existsSync(join(tmp.dir, LOCK_FILE))).toBe(false);
  });

  it('can reserve new orders in the lease commit; a sold-out one comes back already acked', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const store = openStore(tmp.dir);
    store.seed(undefined, () => defaultCatalog(1));
    const ids: string[] = [];
    for (const customerId of ['a', 'b']) {
      const out = await store.accept(acceptRequest({ customerId, items: [{ sku: 'SKU-0002', qty: 1 }] }));
      if (out.kind !== 'created') throw new Error(out.kind);
      ids.push(out.order.orderId);
    }
    const jobs = await store.leaseBatch(['t1', 't2'], 10_000, { reserve: true, startPayment: true });
    expect(jobs.map((j) => [j.orderId, j.reserved?.status, j.reserved?.payStarted])).toEqual([
      [ids[0], 'reserved', true],
      [ids[1], 'sold_out', undefined],
    ]);
    expect(store.getRow(ids[0]!)).toMatchObject({ status: 'reserved', pay_attempts: 1, lease_owner: 't1' });
    expect(store.getRow(ids[1]!)).toMatchObject({ status: 'sold_out', lease_owner: null, next_attempt_at: null });
    expect(store.getOrder(ids[1]!)!.reason).toBe('sku SKU-0002 sold out (wanted 1, available 0)');
  });
});

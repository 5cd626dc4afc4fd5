import { existsSync, fdatasync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acceptRequest, silentLogger, stackConfig, startEngine, tempDir } from '../../../../test/support/order-engine.js';
import { defaultCatalog } from '../../catalog.js';
import { GiveUp } from '../../domain/outcomes.js';
import { LOCK_FILE } from './lock.js';
import { EXACT_POSITIONS, ORDERS_DB_FILE, SqliteOrderStore } from './order-store.js';
import { migrate } from './schema.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function openStore(dir: string) {
  const store = new SqliteOrderStore({ dir, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0 });
  cleanups.push(() => store.close());
  return store;
}

/**
 * A seeded store whose WAL fdatasyncs complete only when the test calls the `pending` callbacks
 * (and really sync then), and a read-only connection that sees what is committed meanwhile.
 */
function storeWithHeldSyncs() {
  const tmp = tempDir();
  cleanups.push(() => tmp.remove());
  const pending: ((err: NodeJS.ErrnoException | null) => void)[] = [];
  const datasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    pending.push((err) => (err ? cb(err) : fdatasync(fd, cb)));
  }) as typeof fdatasync;
  const store = new SqliteOrderStore({ dir: tmp.dir, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, datasync });
  cleanups.push(() => store.close());
  store.seed(undefined, () => defaultCatalog(5));
  const raw = new Database(join(tmp.dir, ORDERS_DB_FILE), { readonly: true });
  cleanups.push(() => {
    raw.close();
  });
  return { store, pending, raw };
}

describe('sqlite order store', () => {
  it('opens an existing store repeatedly without redoing migrations, in WAL mode', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const a = openStore(tmp.dir);
    a.seed(undefined, () => defaultCatalog(2));
    await a.close();
    const b = openStore(tmp.dir);
    expect(b.seed(undefined, () => defaultCatalog(9))).toEqual({ mode: 'kept', skus: 25 });
    expect(b.inventoryNow()[0]).toEqual({ sku: 'SKU-0001', available: 2, reserved: 0, sold: 0 });
    await b.close();
    const raw = new Database(join(tmp.dir, ORDERS_DB_FILE), { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(6);
    } finally {
      raw.close();
    }
  });

  it('runs synchronous=NORMAL and answers an accept only after the WAL fdatasync that covers its commit has completed', async () => {
    const { store, pending, raw } = storeWithHeldSyncs();
    // NORMAL, not FULL: durability comes from the explicit fdatasync below, off the event loop.
    expect(store.durabilitySettings()).toEqual({ journalMode: 'wal', synchronous: 'NORMAL' });
    let answered = false;
    const accepted = store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] })).then((o) => {
      answered = true;
      return o;
    });
    await vi.waitFor(() => expect(pending.length).toBeGreaterThan(0), { timeout: 5_000, interval: 5 });
    // Committed to the WAL (another connection sees it) but not yet synced: no answer yet.
    // (an accepted order is one row of the intake journal until the pipeline takes it)
    await vi.waitFor(() => expect(raw.prepare('SELECT count(*) AS n FROM intake').get()).toEqual({ n: 1 }), { timeout: 5_000, interval: 5 });
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    pending.shift()!(null);
    expect((await accepted).kind).toBe('created');
  });

  it('commits accepts that arrive during an fdatasync together once it ends, and answers them after the next one', async () => {
    const { store, pending, raw } = storeWithHeldSyncs();
    const journaled = () => (raw.prepare('SELECT count(*) AS n FROM intake').get() as { n: number }).n;
    const answered: string[] = [];
    const place = (name: string) => store.accept(acceptRequest({ customerId: name, items: [{ sku: 'SKU-0001', qty: 1 }] })).then((o) => answered.push(`${name}:${o.kind}`));
    const first = place('a');
    await vi.waitFor(() => expect(pending.length).toBe(1), { timeout: 5_000, interval: 5 });
    expect(journaled()).toBe(1);
    // two more turns while that fdatasync runs: nothing is committed for them yet
    const later = [place('b')];
    await new Promise((r) => setImmediate(r));
    later.push(place('c'));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(journaled()).toBe(1);
    // still counted as waiting (the load shedder and queue positions see them)
    expect(store.queueDepth()).toBe(3);
    pending.shift()!(null);
    await first;
    // committed in one go as the first fdatasync ended, covered by the next one only
    await vi.waitFor(() => expect(pending.length).toBe(1), { timeout: 5_000, interval: 5 });
    expect(journaled()).toBe(3);
    expect(answered).toEqual(['a:created']);
    pending.shift()!(null);
    await Promise.all(later);
    expect(answered).toEqual(['a:created', 'b:created', 'c:created']);
  });

  it('recommends in-stock best sellers, never what was bought, and ranks again after a second', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    let clock = 1_700_000_000_000;
    const store = new SqliteOrderStore({ dir: tmp.dir, logger: silentLogger(), now: () => clock, reservationTtlMs: 60_000, throughputPerSec: () => 0 });
    cleanups.push(() => store.close());
    store.seed(['A', 'B', 'C', 'D', 'E'].map((sku) => ({ sku, name: sku, priceCents: 100, stock: sku === 'D' ? 3 : 50 })), () => []);
    const features = { notifications: true, recommendations: true, loyaltyPoints: false };
    let seq = 0;
    /** Accepts, reserves and confirms one order; returns its notification's recommendations. */
    const buy = async (sku: string, qty: number, notify = features) => {
      const out = await store.accept(acceptRequest({ customerId: 'c', items: [{ sku, qty }] }));
      if (out.kind !== 'created') throw new Error(out.kind);
      const token = `t${++seq}`;
      const [job] = await store.leaseBatch([token], 60_000, { reserve: true, startPayment: true });
      expect(job?.reserved?.status).toBe('reserved');
      await store.settle(job!.orderId, token, `ch_${seq}`, notify, job!.row);
      return store.outboxPayload(job!.orderId)?.recommendations as string[] | undefined;
    };
    // nothing sold yet: ties go by sku, and the bought sku is left out
    expect(await buy('A', 1)).toEqual(['B', 'C', 'D']);
    clock += 1_000;
    // ranked inside the confirm, after this order's units were sold: D (2) leads but was bought
    expect(await buy('D', 2)).toEqual(['A', 'B', 'C']);
    clock += 1_000;
    // D (2 sold) leads, then A and E (1 each, by sku); E was bought
    expect(await buy('E', 1)).toEqual(['D', 'A', 'B']);
    // D's last unit goes to an order without a notification (no ranking taken)...
    await buy('D', 1, { notifications: false, recommendations: false, loyaltyPoints: false });
    expect(store.inventoryNow().find((i) => i.sku === 'D')?.available).toBe(0);
    // ...so within the same second the earlier ranking is reused, sold-out D included
    expect(await buy('B', 1)).toEqual(['D', 'A', 'E']);
    clock += 1_000;
    // ranked again: the sold-out D is no longer recommended (A, B, E sold 1 each; C was bought)
    expect(await buy('C', 1)).toEqual(['A', 'B', 'E']);
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
    expect(store.cancelNow(id, 'customer_request')).toBe(false);
    expect(store.orderView(id)!.status).toBe('reserved');
    expect(store.cancelNow('ord_missing', 'x')).toBe(false);
    // a wrong lease token changes nothing
    await expect(store.failPayment(id, 'not-the-token', 'x')).rejects.toThrow(/lease/);
    expect(store.inventoryNow()[0]).toEqual({ sku: 'SKU-0001', available: 3, reserved: 2, sold: 0 });
  });

  it('tells whoever asked to cancel exactly once per cancelled order, after it is on disk', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const cancelled: [string, string][] = [];
    const onCancelled = (orderId: string, reason: string) => {
      // on disk: a second connection already sees it
      const raw = new Database(join(tmp.dir, ORDERS_DB_FILE), { readonly: true });
      try {
        expect(raw.prepare('SELECT status FROM orders WHERE id = ?').get(orderId)).toEqual({ status: 'cancelled' });
      } finally {
        raw.close();
      }
      cancelled.push([orderId, reason]);
    };
    const store = new SqliteOrderStore({ dir: tmp.dir, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, onCancelled });
    cleanups.push(() => store.close());
    store.seed(undefined, () => defaultCatalog(5));
    const out = await store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }));
    if (out.kind !== 'created') throw new Error(out.kind);
    expect(store.cancelNow(out.order.orderId, 'cancelled by customer')).toBe(true);
    // refused cancels (already final, unknown) are not reported
    expect(store.cancelNow(out.order.orderId, 'again')).toBe(false);
    expect(store.cancelNow('ord_missing', 'x')).toBe(false);
    expect(cancelled).toEqual([[out.order.orderId, 'cancelled by customer']]);
  });

  it('a write whose lease is lost rejects with GiveUp; a charge is marked only while the order awaits payment', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const store = openStore(tmp.dir);
    store.seed(undefined, () => defaultCatalog(5));
    const out = await store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }));
    if (out.kind !== 'created') throw new Error(out.kind);
    const id = out.order.orderId;
    await store.leaseBatch(['t1'], 10_000);
    // accepted: not yet payable
    expect(await store.markPayAttempt(id, 't1')).toBe(false);
    const lost = await store.expire(id, 'not-the-token').catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(GiveUp);
    expect((lost as GiveUp).message).toBe(`lease on order ${id} was lost`);
    expect(await store.reserve(id, 't1', false)).toEqual({ status: 'reserved', payStarted: false });
    expect(await store.markPayAttempt(id, 't1')).toBe(true);
    await store.deferPayment(id, 't1', Date.now(), 'gateway down');
    const [again] = await store.leaseBatch(['t2'], 10_000);
    expect(again?.orderId).toBe(id);
    expect(store.getRow(id)?.status).toBe('payment_pending');
    expect(await store.markPayAttempt(id, 't2')).toBe(true);
    await store.settle(id, 't2', 'ch_1', { notifications: false, recommendations: false, loyaltyPoints: false });
    // confirmed: no charge may start any more, whatever the token
    expect(await store.markPayAttempt(id, 't2')).toBe(false);
    expect(store.getRow(id)).toMatchObject({ status: 'confirmed', pay_attempts: 2 });
  });

  it('one failing write in a group is rolled back alone', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const store = openStore(tmp.dir);
    store.seed(undefined, () => defaultCatalog(5));
    const results = await Promise.allSettled([
      store.accept(acceptRequest({ customerId: 'a', items: [{ sku: 'SKU-0001', qty: 1 }] })),
      store.write(() => {
        // runs (and writes) synchronously up to its promise: inside this transaction, rolled back with it
        void store.setFlagOverride('loyalty-points', false);
        throw new Error('boom');
      }),
      store.accept(acceptRequest({ customerId: 'b', items: [{ sku: 'SKU-0001', qty: 1 }] })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await expect(store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 0 }] }))).rejects.toThrow(RangeError);
    await expect(store.accept(acceptRequest({ customerId: 'c', items: [] }))).rejects.toThrow(RangeError);
    expect((await store.flagOverrides()).has('loyalty-points')).toBe(false);
    expect(store.statsNow().byStatus.accepted).toBe(2);
  });

  it('stops taking writes after a failed fdatasync until it is reopened, and a retried key finds its order', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    let failNext = false;
    const datasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      if (!failNext) return fdatasync(fd, cb);
      failNext = false;
      setImmediate(() => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    }) as typeof fdatasync;
    const store = new SqliteOrderStore({ dir: tmp.dir, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, datasync });
    cleanups.push(() => store.close());
    store.seed(undefined, () => defaultCatalog(5));
    const order = { customerId: 'a', items: [{ sku: 'SKU-0001', qty: 1 }] };
    expect((await store.accept(acceptRequest(order, 'k1'))).kind).toBe('created');

    failNext = true;
    await expect(store.accept(acceptRequest(order, 'k2'))).rejects.toThrow('EIO');
    // the disk may have dropped what it could not write: nothing more is acknowledged, not even
    // writes whose own fdatasync would succeed, until the store is reopened
    expect(store.isHealthy()).toBe(false);
    await expect(store.accept(acceptRequest(order, 'k3'))).rejects.toThrow(/stopped taking writes.*EIO.*reopened/);
    await expect(store.leaseBatch(['t1'], 60_000)).rejects.toThrow(/stopped taking writes/);
    await expect(store.setFlagOverride('loyalty-points', true)).rejects.toThrow(/stopped taking writes/);
    expect(() => store.cancelNow('ord_none', 'x')).toThrow(/stopped taking writes/);

    store.restart();
    expect(store.isHealthy()).toBe(true);
    // k2 was committed though never acknowledged: the client's retry gets that order, not a second
    const retried = await store.accept(acceptRequest(order, 'k2'));
    expect(retried.kind).toBe('existing');
    expect((await store.accept(acceptRequest(order, 'k3'))).kind).toBe('created');
    expect(store.statsNow().byStatus.accepted).toBe(3);
  });

  it('after a reopen that fails, writes are refused instead of left hanging, until a reopen succeeds', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const store = openStore(tmp.dir);
    store.seed(undefined, () => defaultCatalog(5));
    const open = store.open.bind(store);
    store.open = () => {
      throw new Error('EMFILE: too many open files');
    };
    const queued = store.accept(acceptRequest({ customerId: 'a', items: [{ sku: 'SKU-0001', qty: 1 }] }));
    expect(() => store.restart()).toThrow('EMFILE');
    // committed before the close
    expect((await queued).kind).toBe('created');
    await expect(store.accept(acceptRequest({ customerId: 'b', items: [{ sku: 'SKU-0001', qty: 1 }] }))).rejects.toThrow(/stopped taking writes/);
    expect(store.isHealthy()).toBe(false);
    store.open = open;
    store.restart();
    expect((await store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }))).kind).toBe('created');
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
    expect(store.orderView(ids[1]!)!.reason).toBe('sku SKU-0002 sold out (wanted 1, available 0)');
  });

  it('counts queue positions exactly near the head and estimates them, bounded, further back', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const store = openStore(tmp.dir);
    store.seed(undefined, () => defaultCatalog(1_000_000));
    const total = EXACT_POSITIONS + 300;
    const ids: string[] = [];
    for (let i = 0; i < total; i += 100) {
      const outs = await Promise.all(
        Array.from({ length: Math.min(100, total - i) }, (_, j) => store.accept(acceptRequest({ customerId: `c${i + j}`, items: [{ sku: 'SKU-0001', qty: 1 }] }))),
      );
      for (const o of outs) if (o.kind === 'created') ids.push(o.order.orderId);
    }
    expect(ids).toHaveLength(total);
    // the orders are due once their accept time has passed
    await new Promise((r) => setTimeout(r, 5));
    expect(store.orderView(ids[0]!)!.queuePosition).toBe(1);
    expect(store.orderView(ids[EXACT_POSITIONS - 1]!)!.queuePosition).toBe(EXACT_POSITIONS);
    // two jobs leave the head: everyone moves up
    await store.leaseBatch(['t1', 't2'], 60_000);
    expect(store.orderView(ids[EXACT_POSITIONS - 1]!)!.queuePosition).toBe(EXACT_POSITIONS - 2);
    const far = ids.slice(EXACT_POSITIONS + 10).map((id) => store.orderView(id)!.queuePosition!);
    for (const p of far) {
      expect(p).toBeGreaterThan(EXACT_POSITIONS);
      expect(p).toBeLessThanOrEqual(store.statsNow().queueDepth);
    }
    expect(far).toEqual([...far].sort((a, b) => a - b));
    expect(far.at(-1)).toBe(total - 2);
  });

  describe('trigger-kept counters', () => {
    /** The figures stats() reads from counters, recounted the slow way. */
    function recount(dir: string) {
      const raw = new Database(join(dir, ORDERS_DB_FILE), { readonly: true });
      try {
        const byStatus = Object.fromEntries(raw.prepare('SELECT status, COUNT(*) AS n FROM orders GROUP BY status').all().map((r) => [(r as { status: string }).status, (r as { n: number }).n]));
        const sold = Object.fromEntries(
          raw.prepare("SELECT sku, SUM(qty) AS q FROM reservations WHERE state = 'sold' GROUP BY sku").all().map((r) => [(r as { sku: string }).sku, (r as { q: number }).q]),
        );
        const audit = Object.fromEntries(raw.prepare('SELECT sku, qty FROM sold_audit WHERE qty <> 0').all().map((r) => [(r as { sku: string }).sku, (r as { qty: number }).qty]));
        return { byStatus, sold, audit };
      } finally {
        raw.close();
      }
    }
    const nonZero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, n]) => n !== 0));

    it('match a full recount after every kind of step, and a rolled-back write leaves them alone', async () => {
      const tmp = tempDir();
      cleanups.push(() => tmp.remove());
      const store = openStore(tmp.dir);
      store.seed([{ sku: 'A', name: 'a', priceCents: 100, stock: 5 }, { sku: 'B', name: 'b', priceCents: 100, stock: 100 }], () => []);
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const out = await store.accept(acceptRequest({ customerId: `c${i}`, items: [{ sku: i < 4 ? 'A' : 'B', qty: 2 }] }));
        if (out.kind !== 'created') throw new Error(out.kind);
        ids.push(out.order.orderId);
      }
      expect(store.cancelNow(ids[7]!, 'customer')).toBe(true);
      const jobs = await store.leaseBatch(['t0', 't1', 't2', 't3', 't4', 't5', 't6'], 60_000, { reserve: true, startPayment: false });
      expect(jobs.map((j) => j.reserved?.status)).toEqual(['reserved', 'reserved', 'sold_out', 'sold_out', 'reserved', 'reserved', 'reserved']);
      const features = { notifications: true, recommendations: false, loyaltyPoints: false };
      await store.settle(jobs[0]!.orderId, 't0', 'ch_0', features);
      await store.settle(jobs[4]!.orderId, 't4', 'ch_4', features);
      await store.failPayment(jobs[1]!.orderId, 't1', 'declined');
      await store.deferPayment(jobs[5]!.orderId, 't5', Date.now() + 60_000, 'gateway down');
      await expect(
        store.write(() => {
          store.cancelNow(ids[6]!, 'inside a write that fails');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');

      const stats = store.statsNow();
      const slow = recount(tmp.dir);
      expect(nonZero(stats.byStatus)).toEqual(slow.byStatus);
      expect(stats.byStatus).toMatchObject({ accepted: 0, confirmed: 2, payment_failed: 1, sold_out: 2, payment_pending: 1, reserved: 1, cancelled: 1 });
      expect(slow.audit).toEqual(slow.sold);
      expect(slow.sold).toEqual({ A: 2, B: 2 });
      expect(stats.oversold).toBe(0);
    });

    it('are filled from the existing rows when an older store is migrated', async () => {
      const tmp = tempDir();
      cleanups.push(() => tmp.remove());
      const raw = new Database(join(tmp.dir, ORDERS_DB_FILE));
      expect(migrate(raw, 3)).toBe(3);
      raw.exec(`INSERT INTO products (sku, name, price_cents, stock, reserved, sold) VALUES ('A', 'a', 100, 10, 0, 3);
        INSERT INTO orders (id, idem_key, request_hash, customer_id, items, amount_cents, status, history, created_at, updated_at)
          VALUES ('o1', 'k1', 'h', 'c', '[]', 1, 'confirmed', '[]', 0, 0), ('o2', 'k2', 'h', 'c', '[]', 1, 'confirmed', '[]', 0, 0),
                 ('o3', 'k3', 'h', 'c', '[]', 1, 'accepted', '[]', 0, 0);
        INSERT INTO reservations (order_id, sku, qty, state) VALUES ('o1', 'A', 1, 'sold'), ('o2', 'A', 2, 'sold'), ('o3', 'A', 4, 'released');
        -- an oversell the old store recorded must still show after the migration
        INSERT INTO reservations (order_id, sku, qty, state) VALUES ('o9', 'A', 9, 'sold');`);
      raw.close();
      const store = openStore(tmp.dir);
      const stats = store.statsNow();
      expect(nonZero(stats.byStatus)).toEqual({ confirmed: 2, accepted: 1 });
      expect(stats.oversold).toBe(2);
      const slow = recount(tmp.dir);
      expect(slow.audit).toEqual({ A: 12 });
    });
  });

  describe('intake journal', () => {
    const order = (customerId: string) => ({ customerId, items: [{ sku: 'SKU-0001', qty: 1 }] });
    const storeIn = (dir: string, extra: Partial<ConstructorParameters<typeof SqliteOrderStore>[0]> = {}) => {
      const store = new SqliteOrderStore({ dir, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, ...extra });
      cleanups.push(() => store.close());
      return store;
    };

    it('keeps an accepted order as one journal row until a lease moves it, and answers replays and conflicts from both places, across a restart', async () => {
      const tmp = tempDir();
      cleanups.push(() => tmp.remove());
      const a = storeIn(tmp.dir);
      a.seed(undefined, () => defaultCatalog(5));
      const first = acceptRequest(order('c1'), 'journal-k1');
      const second = acceptRequest(order('c2'), 'journal-k2');
      const created1 = await a.accept(first);
      const created2 = await a.accept(second);
      if (created1.kind !== 'created' || created2.kind !== 'created') throw new Error('expected two new orders');
      expect([created1.order.queuePosition, created2.order.queuePosition]).toEqual([1, 2]);
      const raw = new Database(join(tmp.dir, ORDERS_DB_FILE), { readonly: true });
      cleanups.push(() => {
        raw.close();
      });
      expect(raw.prepare('SELECT COUNT(*) AS n FROM intake').get()).toEqual({ n: 2 });
      expect(raw.prepare('SELECT COUNT(*) AS n FROM orders').get()).toEqual({ n: 0 });
      await a.close();

      // after a restart the journal's keys are known again: same key and body = the same order
      const b = storeIn(tmp.dir);
      const replay = await b.accept(first);
      expect(replay).toMatchObject({ kind: 'existing', order: { orderId: created1.order.orderId, status: 'accepted', queuePosition: 1 } });
      expect(await b.accept({ ...acceptRequest(order('someone else'), 'journal-k1') })).toEqual({ kind: 'conflict', orderId: created1.order.orderId });
      expect(b.orderView(created2.order.orderId)).toMatchObject({ status: 'accepted', queuePosition: 2, history: [{ status: 'accepted', at: created2.order.createdAt }] });
      expect(b.statsNow()).toMatchObject({ queueDepth: 2, byStatus: { accepted: 2 } });

      // the lease writes the wide row and takes the order off the journal in one commit
      const [job] = await b.leaseBatch(['t1'], 10_000);
      expect(job).toEqual({ orderId: created1.order.orderId, token: 't1', redelivered: false });
      expect(raw.prepare('SELECT COUNT(*) AS n FROM intake').get()).toEqual({ n: 1 });
      expect(raw.prepare('SELECT id, idem_key, status, lease_owner FROM orders').all()).toEqual([{ id: created1.order.orderId, idem_key: 'journal-k1', status: 'accepted', lease_owner: 't1' }]);
      expect(b.orderView(created2.order.orderId)!.queuePosition).toBe(1);
      // the key is now answered from the orders table's unique index
      expect(await b.accept(first)).toMatchObject({ kind: 'existing', order: { orderId: created1.order.orderId } });
      expect(await b.accept({ ...acceptRequest(order('someone else'), 'journal-k1') })).toEqual({ kind: 'conflict', orderId: created1.order.orderId });
      expect(b.statsNow()).toMatchObject({ queueDepth: 1, byStatus: { accepted: 2 } });
    });

    it('cancels a journaled order like any other (its row is written first) and never leases it', async () => {
      const tmp = tempDir();
      cleanups.push(() => tmp.remove());
      const store = storeIn(tmp.dir);
      store.seed(undefined, () => defaultCatalog(5));
      const r = await store.accept(acceptRequest(order('c')));
      if (r.kind !== 'created') throw new Error('expected a new order');
      expect(store.cancelNow(r.order.orderId, 'customer_request')).toBe(true);
      expect(store.orderView(r.order.orderId)).toMatchObject({ status: 'cancelled', reason: 'customer_request' });
      expect(store.orderView(r.order.orderId)!.history.map((h) => h.status)).toEqual(['accepted', 'cancelled']);
      expect(store.journalSize()).toBe(0);
      expect(await store.leaseBatch(['t1'], 10_000)).toEqual([]);
      expect(store.statsNow()).toMatchObject({ queueDepth: 0, byStatus: { accepted: 0, cancelled: 1 } });
    });

    it('forgets the orders of a group commit the disk refused, so a retry with the same key creates the order', async () => {
      const tmp = tempDir();
      cleanups.push(() => tmp.remove());
      let full = true;
      const store = storeIn(tmp.dir, {
        beforeGroupCommit: () => {
          if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        },
      });
      store.seed(undefined, () => defaultCatalog(5));
      const req = acceptRequest(order('c'));
      await expect(store.accept(req)).rejects.toThrow('disk is full');
      expect(store.journalSize()).toBe(0);
      full = false;
      const again = await store.accept(req);
      expect(again.kind).toBe('created');
      expect(store.journalSize()).toBe(1);
      // a lease rolled back with its group puts the orders back in the journal, in their order
      const more = [await store.accept(acceptRequest(order('c2'))), await store.accept(acceptRequest(order('c3')))];
      full = true;
      await expect(store.leaseBatch(['t1', 't2'], 10_000)).rejects.toThrow('disk is full');
      expect(store.journalSize()).toBe(3);
      full = false;
      const jobs = await store.leaseBatch(['t1', 't2', 't3'], 10_000);
      expect(jobs.map((j) => j.orderId)).toEqual([again, ...more].map((o) => (o.kind === 'created' ? o.order.orderId : '?')));
    });

    it('writes a journaled order reserved, or sold out and done, in the lease that moves it (one write of its row)', async () => {
      const tmp = tempDir();
      cleanups.push(() => tmp.remove());
      const store = storeIn(tmp.dir);
      store.seed(undefined, () => defaultCatalog(1));
      const a = await store.accept(acceptRequest(order('a')));
      const b = await store.accept(acceptRequest(order('b')));
      if (a.kind !== 'created' || b.kind !== 'created') throw new Error('expected two new orders');
      const jobs = await store.leaseBatch(['t1', 't2'], 10_000, { reserve: true, startPayment: true });
      expect(jobs.map((j) => [j.orderId, j.reserved?.status, j.reserved?.payStarted, j.row?.status])).toEqual([
        [a.order.orderId, 'reserved', true, 'reserved'],
        [b.order.orderId, 'sold_out', undefined, undefined],
      ]);
      expect(store.getRow(a.order.orderId)).toMatchObject({ status: 'reserved', lease_owner: 't1', pay_attempts: 1 });
      expect(store.getRow(b.order.orderId)).toMatchObject({ status: 'sold_out', lease_owner: null, next_attempt_at: null, reason: expect.stringContaining('SKU-0001 sold out') });
      expect(store.orderView(b.order.orderId)!.history.map((h) => h.status)).toEqual(['accepted', 'sold_out']);
      expect(store.inventoryNow()[0]).toEqual({ sku: 'SKU-0001', available: 0, reserved: 1, sold: 0 });
      expect(store.statsNow()).toMatchObject({ queueDepth: 0, byStatus: { accepted: 0, reserved: 1, sold_out: 1 }, oversold: 0 });
      // the reserved order settles from the row the lease handed out
      await store.settle(a.order.orderId, 't1', 'ch_1', { notifications: true, recommendations: false, loyaltyPoints: false }, jobs[0]!.row);
      expect(store.orderView(a.order.orderId)!.history.map((h) => h.status)).toEqual(['accepted', 'reserved', 'paid', 'confirmed']);
      expect(store.inventoryNow()[0]).toEqual({ sku: 'SKU-0001', available: 0, reserved: 0, sold: 1 });
    });

    it('serves orders a version-5 store left in the orders table first, then the journal, after the migration', async () => {
      const tmp = tempDir();
      cleanups.push(() => tmp.remove());
      const raw = new Database(join(tmp.dir, ORDERS_DB_FILE));
      expect(migrate(raw, 5)).toBe(5);
      raw.exec(`INSERT INTO products (sku, name, price_cents, stock) VALUES ('SKU-0001', 'a', 100, 10);
        INSERT INTO orders (id, idem_key, request_hash, customer_id, items, amount_cents, status, history, created_at, updated_at, next_attempt_at)
          VALUES ('ord_old', 'old-key', 'old-hash', 'c', '[{"sku":"SKU-0001","qty":1}]', 100, 'accepted', '[{"status":"accepted","at":"1970-01-01T00:00:00.001Z"}]', 1, 1, 1);`);
      raw.close();
      const store = storeIn(tmp.dir);
      const fresh = await store.accept(acceptRequest(order('c')));
      if (fresh.kind !== 'created') throw new Error('expected a new order');
      expect(fresh.order.queuePosition).toBe(2);
      expect(store.orderView('ord_old')!.queuePosition).toBe(1);
      expect(await store.accept({ order: order('c'), idempotencyKey: 'old-key', requestHash: 'other' })).toEqual({ kind: 'conflict', orderId: 'ord_old' });
      const jobs = await store.leaseBatch(['t1', 't2'], 10_000, { reserve: true, startPayment: false });
      expect(jobs.map((j) => [j.orderId, j.reserved?.status])).toEqual([
        ['ord_old', 'reserved'],
        [fresh.order.orderId, 'reserved'],
      ]);
    });
  });
});

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acceptRequest, silentLogger, tempDir } from '../../../test/support/order-engine.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../../test/support/postgres.js';
import type { CatalogEntry } from '../catalog.js';
import { GiveUp } from '../domain/outcomes.js';
import type { OrderView } from '../domain/types.js';
import type { FlagOverrideStore } from '../flags.js';
import { NOTIFY_SKIPPED_BY_FLAG, type OrderReads, type SettleWork, type WorkLease, type WorkStore } from './ports.js';
import { PostgresOrderStore } from './postgres/order-store.js';
import { migrate } from './postgres/schema.js';
import { SqliteOrderStore } from './sqlite/order-store.js';

// ONE behavioural suite for every order store backend (docs/architecture.md: "one behavioural
// suite parameterised by backend"), through the ports both stores implement.

/** What the suite drives: the async ports, flag overrides and seeding (SQLite seeds synchronously). */
type StoreUnderTest = OrderReads &
  WorkStore &
  FlagOverrideStore & { seed(entries: CatalogEntry[] | undefined, fallback: () => CatalogEntry[]): { mode: 'fresh' | 'restock' | 'kept'; skus: number } | Promise<{ mode: 'fresh' | 'restock' | 'kept'; skus: number }> };

const RESERVATION_TTL_MS = 60_000;
const ALL_ON: SettleWork = { notifications: true, recommendations: true, loyaltyPoints: true };

interface Backend {
  name: 'sqlite' | 'postgres';
  /** Set up once per suite (the PostgreSQL database). */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A store on empty tables, with its clock. */
  open(now: () => number): Promise<StoreUnderTest>;
}

const pgUp = await requirePostgres('store.contract.int.test.ts (postgres)');

function sqliteBackend(): Backend {
  const dirs: { remove(): void }[] = [];
  return {
    name: 'sqlite',
    setup: async () => undefined,
    teardown: async () => {
      for (const d of dirs.splice(0)) d.remove();
    },
    open: async (now) => {
      const tmp = tempDir('surgectl-contract-');
      dirs.push(tmp);
      return new SqliteOrderStore({ dir: tmp.dir, logger: silentLogger(), now, reservationTtlMs: RESERVATION_TTL_MS, throughputPerSec: () => 0 });
    },
  };
}

function postgresBackend(): Backend {
  let db: TestDatabase | undefined;
  return {
    name: 'postgres',
    setup: async () => {
      db = await createTestDatabase('surgectl_contract');
      await migrate(db.url);
    },
    teardown: async () => {
      await db?.drop();
    },
    open: async (now) => {
      if (db === undefined) throw new Error('postgres backend not set up');
      // one database per suite: every test starts on empty tables (the schema stays)
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        await c.query('TRUNCATE orders, idempotency_keys, reservations, outbox, loyalty_ledger, products, meta, flag_overrides');
      } finally {
        await c.end();
      }
      return PostgresOrderStore.open({ url: db.url, logger: silentLogger(), now, reservationTtlMs: RESERVATION_TTL_MS, throughputPerSec: () => 0, poolSize: 8 });
    },
  };
}

const backends = [sqliteBackend(), postgresBackend()];

describe.each(backends)('order store contract: $name', (backend) => {
  const skip = backend.name === 'postgres' && !pgUp;
  let store: StoreUnderTest;
  let clock: number;

  beforeAll(async () => {
    if (!skip) await backend.setup();
  });
  afterAll(async () => {
    if (!skip) await backend.teardown();
  });
  afterEach(async () => {
    await store?.close();
  });

  async function fresh(catalog: CatalogEntry[]): Promise<StoreUnderTest> {
    clock = 1_700_000_000_000;
    store = await backend.open(() => clock);
    await store.seed(catalog, () => []);
    return store;
  }

  const sku = (name: string, stock: number, priceCents = 1000): CatalogEntry => ({ sku: name, name, priceCents, stock });

  async function accepted(items: { sku: string; qty: number }[], customerId = 'c1'): Promise<string> {
    const o = await store.accept(acceptRequest({ customerId, items }));
    if (o.kind !== 'created') throw new Error(`expected created, got ${JSON.stringify(o)}`);
    return o.order.orderId;
  }

  async function leaseOne(token: string, leaseMs = 60_000): Promise<WorkLease> {
    const jobs = await store.leaseBatch([token], leaseMs);
    expect(jobs).toHaveLength(1);
    return jobs[0]!;
  }

  const inventoryOf = async (s: string) => (await store.listInventory()).find((i) => i.sku === s);

  it.skipIf(skip)('lifecycle: accept -> lease -> reserve -> mark charge -> settle: confirmed with history, outbox row, loyalty points; a skipped notification says why', async () => {
    await fresh([sku('LC-A', 5, 2599), sku('LC-B', 5)]);
    const created = await store.accept(acceptRequest({ customerId: 'c-life', items: [{ sku: 'LC-A', qty: 2 }] }));
    expect(created).toMatchObject({ kind: 'created', order: { status: 'accepted', queuePosition: 1, items: [{ sku: 'LC-A', qty: 2 }] } });
    const id = (created as { order: OrderView }).order.orderId;
    expect(await store.getOrder(id)).toMatchObject({ status: 'accepted', queuePosition: 1 });

    const job = await leaseOne('t-life');
    expect(job).toMatchObject({ orderId: id, token: 't-life', redelivered: false });
    // leased: no longer waiting, so no queue position
    expect((await store.getOrder(id))?.queuePosition).toBeUndefined();
    expect(await store.reserve(id, 't-life')).toEqual({ status: 'reserved', payStarted: false });
    expect(await inventoryOf('LC-A')).toEqual({ sku: 'LC-A', available: 3, reserved: 2, sold: 0 });
    expect(await store.markPayAttempt(id, 't-life')).toBe(true);
    expect((await store.settle(id, 't-life', 'ch_life', ALL_ON)).notified).toBe(true);

    const view = await store.getOrder(id);
    expect(view?.status).toBe('confirmed');
    expect(view?.history.map((h) => h.status)).toEqual(['accepted', 'reserved', 'paid', 'confirmed']);
    // the outbox row, with recommendations (in stock, not what was bought), and the loyalty credit
    expect(view?.notification).toEqual({ status: 'queued', recommendations: ['LC-B'] });
    expect(view?.loyaltyPoints).toBe(Math.floor((2 * 2599) / 100));
    expect(await inventoryOf('LC-A')).toEqual({ sku: 'LC-A', available: 3, reserved: 0, sold: 2 });
    // the job is acked: the lease no longer owns the order, and a repeat settle gives up
    expect(await store.ownedRow(id, 't-life')).toBeUndefined();
    await expect(store.settle(id, 't-life', 'ch_life', ALL_ON)).rejects.toBeInstanceOf(GiveUp);

    const quiet = await accepted([{ sku: 'LC-B', qty: 1 }], 'c-quiet');
    await leaseOne('t-quiet');
    expect(await store.reserve(quiet, 't-quiet', true)).toEqual({ status: 'reserved', payStarted: true });
    expect(await store.settle(quiet, 't-quiet', 'ch_quiet', { notifications: false, recommendations: true, loyaltyPoints: false })).toMatchObject({ notified: false });
    const q = await store.getOrder(quiet);
    expect(q?.status).toBe('confirmed');
    expect(q?.notification).toEqual({ status: 'skipped', reason: NOTIFY_SKIPPED_BY_FLAG });
    expect(q?.history.at(-1)).toMatchObject({ status: 'confirmed', reason: NOTIFY_SKIPPED_BY_FLAG });
    expect(q?.loyaltyPoints).toBeUndefined();
  });

  it.skipIf(skip)('the same key and body again is the existing order, also within one group; nothing new is stored', async () => {
    await fresh([sku('ID-A', 5)]);
    const req = acceptRequest({ customerId: 'c-idem', items: [{ sku: 'ID-A', qty: 1 }] });
    const first = await store.accept(req);
    expect(first.kind).toBe('created');
    const again = await store.accept({ ...req });
    expect(again).toMatchObject({ kind: 'existing', order: { orderId: (first as { order: OrderView }).order.orderId, status: 'accepted' } });
    // two in the same event-loop turn (one group commit): one order, the other a replay of it
    const twin = acceptRequest({ customerId: 'c-twin', items: [{ sku: 'ID-A', qty: 2 }] });
    const [a, b] = await Promise.all([store.accept(twin), store.accept({ ...twin })]);
    expect([a.kind, b.kind].sort()).toEqual(['created', 'existing']);
    expect((a as { order: OrderView }).order.orderId).toBe((b as { order: OrderView }).order.orderId);
    expect((await store.stats()).byStatus.accepted).toBe(2);
  });

  it.skipIf(skip)('the same key with another body is a conflict naming the stored order', async () => {
    await fresh([sku('CF-A', 5)]);
    const req = acceptRequest({ customerId: 'c-conf', items: [{ sku: 'CF-A', qty: 1 }] });
    const first = await store.accept(req);
    const other = acceptRequest({ customerId: 'c-conf', items: [{ sku: 'CF-A', qty: 3 }] }, req.idempotencyKey);
    expect(await store.accept(other)).toEqual({ kind: 'conflict', orderId: (first as { order: OrderView }).order.orderId });
    expect((await store.stats()).byStatus.accepted).toBe(1);
  });

  it.skipIf(skip)('an unknown sku is refused by name and stores nothing', async () => {
    await fresh([sku('UK-A', 5)]);
    expect(await store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'UK-A', qty: 1 }, { sku: 'NOPE', qty: 1 }] }))).toEqual({ kind: 'unknown_sku', skus: ['NOPE'] });
    const s = await store.stats();
    expect(s.byStatus.accepted).toBe(0);
    expect(s.queueDepth).toBe(0);
  });

  it.skipIf(skip)('cancel before payment releases the stock and stops the worker; once a charge may be sent it is refused', async () => {
    await fresh([sku('CX-A', 4)]);
    const id = await accepted([{ sku: 'CX-A', qty: 3 }]);
    await leaseOne('t-cx');
    await store.reserve(id, 't-cx');
    expect(await inventoryOf('CX-A')).toEqual({ sku: 'CX-A', available: 1, reserved: 3, sold: 0 });
    expect(await store.cancel(id, 'customer changed their mind')).toBe(true);
    expect(await store.getOrder(id)).toMatchObject({ status: 'cancelled', reason: 'customer changed their mind' });
    expect(await inventoryOf('CX-A')).toEqual({ sku: 'CX-A', available: 4, reserved: 0, sold: 0 });
    // the worker that held it finds its lease gone
    expect(await store.markPayAttempt(id, 't-cx')).toBe(false);
    await expect(store.settle(id, 't-cx', 'ch', ALL_ON)).rejects.toBeInstanceOf(GiveUp);
    expect(await store.cancel(id, 'again')).toBe(false);
    expect(await store.cancel('ord_unknown', 'x')).toBe(false);

    const paying = await accepted([{ sku: 'CX-A', qty: 1 }]);
    await leaseOne('t-pay');
    await store.reserve(paying, 't-pay', true);
    expect(await store.cancel(paying, 'too late')).toBe(false);
    expect((await store.getOrder(paying))?.status).toBe('reserved');
  });

  it.skipIf(skip)('deferPayment parks the order until its retry time, with one history entry per outage; then it is due again and settles', async () => {
    await fresh([sku('DF-A', 2)]);
    const id = await accepted([{ sku: 'DF-A', qty: 1 }]);
    await leaseOne('t-df1');
    await store.reserve(id, 't-df1', true);
    await store.deferPayment(id, 't-df1', clock + 5_000, 'payment gateway unavailable (circuit breaker open)');
    expect(await store.getOrder(id)).toMatchObject({ status: 'payment_pending', reason: 'payment gateway unavailable (circuit breaker open)' });
    expect((await store.getOrder(id))?.queuePosition).toBeUndefined();
    expect(await store.leaseBatch(['t-early'], 60_000)).toEqual([]);
    clock += 5_000;
    expect((await store.getOrder(id))?.queuePosition).toBe(1);
    const again = await leaseOne('t-df2');
    expect(again).toMatchObject({ orderId: id, redelivered: false });
    await store.deferPayment(id, 't-df2', clock + 1_000, 'payment gateway unavailable: 503');
    clock += 1_000;
    await leaseOne('t-df3');
    await store.settle(id, 't-df3', 'ch_df', ALL_ON);
    const view = await store.getOrder(id);
    expect(view?.history.map((h) => h.status)).toEqual(['accepted', 'reserved', 'payment_pending', 'paid', 'confirmed']);
    expect(await inventoryOf('DF-A')).toEqual({ sku: 'DF-A', available: 1, reserved: 0, sold: 1 });
  });

  it.skipIf(skip)('failPayment ends the order as payment_failed and puts its stock back', async () => {
    await fresh([sku('FP-A', 3), sku('FP-B', 3)]);
    const id = await accepted([{ sku: 'FP-A', qty: 2 }, { sku: 'FP-B', qty: 1 }]);
    await leaseOne('t-fp');
    await store.reserve(id, 't-fp', true);
    expect(await inventoryOf('FP-B')).toMatchObject({ available: 2, reserved: 1 });
    await store.failPayment(id, 't-fp', 'payment declined: card_declined');
    expect(await store.getOrder(id)).toMatchObject({ status: 'payment_failed', reason: 'payment declined: card_declined' });
    expect(await store.listInventory()).toEqual([
      { sku: 'FP-A', available: 3, reserved: 0, sold: 0 },
      { sku: 'FP-B', available: 3, reserved: 0, sold: 0 },
    ]);
    expect(await store.ownedRow(id, 't-fp')).toBeUndefined();
  });

  it.skipIf(skip)('expireReservations cancels run-out reservations nobody holds and no charge was sent for, and releases their stock', async () => {
    await fresh([sku('EX-A', 10)]);
    // parked without a charge mark (the breaker was open): may expire
    const parked = await accepted([{ sku: 'EX-A', qty: 2 }]);
    await leaseOne('t-parked');
    await store.reserve(parked, 't-parked', false);
    await store.deferPayment(parked, 't-parked', clock + 10 * RESERVATION_TTL_MS, 'payment gateway unavailable (circuit breaker open)');
    // parked with a charge possibly sent: only the gateway knows, so it stays
    const charged = await accepted([{ sku: 'EX-A', qty: 1 }]);
    await leaseOne('t-charged');
    await store.reserve(charged, 't-charged', true);
    await store.deferPayment(charged, 't-charged', clock + 10 * RESERVATION_TTL_MS, 'payment gateway unavailable: timeout');
    // held by a live worker: left to it
    const held = await accepted([{ sku: 'EX-A', qty: 3 }]);
    await leaseOne('t-held', 10 * RESERVATION_TTL_MS);
    await store.reserve(held, 't-held', false);
    expect(await store.expireReservations()).toEqual([]);
    expect(await inventoryOf('EX-A')).toMatchObject({ available: 4, reserved: 6 });

    clock += RESERVATION_TTL_MS + 1;
    expect(await store.expireReservations()).toEqual([parked]);
    expect(await store.getOrder(parked)).toMatchObject({ status: 'cancelled', reason: 'reservation_expired' });
    expect((await store.getOrder(charged))?.status).toBe('payment_pending');
    expect((await store.getOrder(held))?.status).toBe('reserved');
    expect(await inventoryOf('EX-A')).toMatchObject({ available: 6, reserved: 4 });
    // the live worker finds the reservation ran out and ends it itself
    await store.expire(held, 't-held');
    expect(await store.getOrder(held)).toMatchObject({ status: 'cancelled', reason: 'reservation_expired' });
    expect(await inventoryOf('EX-A')).toEqual({ sku: 'EX-A', available: 9, reserved: 1, sold: 0 });
  });

  it.skipIf(skip)('stats count orders by status, the waiting queue and its oldest order, and oversold units (0)', async () => {
    await fresh([sku('ST-A', 2)]);
    const ids = [await accepted([{ sku: 'ST-A', qty: 1 }]), await accepted([{ sku: 'ST-A', qty: 1 }]), await accepted([{ sku: 'ST-A', qty: 1 }])];
    const jobs = await store.leaseBatch(['s1', 's2', 's3'], 60_000);
    expect(jobs.map((j) => j.orderId)).toEqual(ids);
    for (const j of jobs) {
      const r = await store.reserve(j.orderId, j.token, true);
      if (r.status === 'reserved') await store.settle(j.orderId, j.token, `ch_${j.orderId}`, ALL_ON);
    }
    expect((await store.getOrder(ids[2]!))?.reason).toBe('sku ST-A sold out (wanted 1, available 0)');
    await accepted([{ sku: 'ST-A', qty: 1 }]);
    clock += 1_234;
    const s = await store.stats();
    expect(s.byStatus).toMatchObject({ confirmed: 2, sold_out: 1, accepted: 1, reserved: 0, cancelled: 0 });
    expect(s).toMatchObject({ queueDepth: 1, oldestWaitingMs: 1_234, oversold: 0 });
    expect(store.queueDepth()).toBe(1);
  });

  it.skipIf(skip)('seeds a fresh store, keeps stock on a restart with the same seed, and restocks to exactly the new figures when it changes', async () => {
    clock = 1_700_000_000_000;
    store = await backend.open(() => clock);
    expect(await store.seed(undefined, () => [sku('SD-A', 3)])).toEqual({ mode: 'fresh', skus: 1 });
    expect(await store.seed(undefined, () => [sku('SD-A', 99)])).toEqual({ mode: 'kept', skus: 1 });
    const id = await accepted([{ sku: 'SD-A', qty: 1 }]);
    await leaseOne('t-sd');
    await store.reserve(id, 't-sd', true);
    await store.settle(id, 't-sd', 'ch', ALL_ON);
    const held = await accepted([{ sku: 'SD-A', qty: 1 }]);
    await leaseOne('t-sd2');
    await store.reserve(held, 't-sd2');
    expect(await store.seed([sku('SD-A', 5), sku('SD-B', 2)], () => [])).toEqual({ mode: 'restock', skus: 2 });
    // sold and reserved units stay as they are; exactly `stock` are available again
    expect(await store.listInventory()).toEqual([
      { sku: 'SD-A', available: 5, reserved: 1, sold: 1 },
      { sku: 'SD-B', available: 2, reserved: 0, sold: 0 },
    ]);
    expect(await store.seed([sku('SD-A', 5), sku('SD-B', 2)], () => [])).toEqual({ mode: 'kept', skus: 2 });
    // a sku seeded just now can be ordered at once
    expect((await store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'SD-B', qty: 1 }] }))).kind).toBe('created');
  });

  it.skipIf(skip)('keeps flag overrides: set, switched, removed', async () => {
    await fresh([sku('FL-A', 1)]);
    expect([...(await store.flagOverrides())]).toEqual([]);
    await store.setFlagOverride('recommendations', false);
    await store.setFlagOverride('loyalty-points', true);
    await store.setFlagOverride('recommendations', true);
    expect(new Map(await store.flagOverrides())).toEqual(new Map([['recommendations', true], ['loyalty-points', true]]));
    await store.setFlagOverride('loyalty-points', undefined);
    expect([...(await store.flagOverrides())]).toEqual([['recommendations', true]]);
  });

  it.skipIf(skip)('1,000 concurrent accepts for 100 units, worked by 16 concurrent workers: exactly 100 confirmed, 900 sold out, none oversold, no order leased twice', async () => {
    await fresh([sku('HOT-1', 100, 4999)]);
    const result = await surge(store, { orders: 1_000, workers: 16, items: () => [{ sku: 'HOT-1', qty: 1 }] });
    expect(result.accepted).toBe(1_000);
    expect(result.leased).toHaveLength(1_000);
    expect(new Set(result.leased).size).toBe(1_000);
    const s = await store.stats();
    expect(s.byStatus).toMatchObject({ confirmed: 100, sold_out: 900, accepted: 0, reserved: 0 });
    expect(s.oversold).toBe(0);
    expect(await store.listInventory()).toEqual([{ sku: 'HOT-1', available: 0, reserved: 0, sold: 100 }]);
    console.log(`[${backend.name}] 1,000 orders for 100 units through 16 workers in ${result.ms.toFixed(0)} ms`);
  });

  it.skipIf(skip)('reserves multi-sku orders all or nothing under concurrency, whatever order their skus are listed in', async () => {
    await fresh([sku('MX-A', 50), sku('MX-B', 50), sku('MX-C', 500)]);
    // half list A then B, half B then A (lock order must not depend on it); C is plentiful
    const items = (i: number) => (i % 2 === 0 ? [{ sku: 'MX-A', qty: 1 }, { sku: 'MX-B', qty: 1 }, { sku: 'MX-C', qty: 1 }] : [{ sku: 'MX-C', qty: 1 }, { sku: 'MX-B', qty: 1 }, { sku: 'MX-A', qty: 1 }]);
    const result = await surge(store, { orders: 200, workers: 16, items });
    expect(result.accepted).toBe(200);
    const s = await store.stats();
    expect(s.byStatus).toMatchObject({ confirmed: 50, sold_out: 150 });
    expect(s.oversold).toBe(0);
    // a sold-out order held nothing back: C lost exactly the 50 units the confirmed orders took
    expect(await store.listInventory()).toEqual([
      { sku: 'MX-A', available: 0, reserved: 0, sold: 50 },
      { sku: 'MX-B', available: 0, reserved: 0, sold: 50 },
      { sku: 'MX-C', available: 450, reserved: 0, sold: 50 },
    ]);
  });
});

describe.skipIf(!pgUp)('order store contract, postgres only: two stores (two processes) on one database', () => {
  let db: TestDatabase | undefined;
  const stores: PostgresOrderStore[] = [];
  // hooks, not finally: they run even when a test times out
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('lease concurrently without ever handing one order to both, and still confirm exactly 100 of 1,000 for 100 units', async () => {
    db = await createTestDatabase('surgectl_two');
    for (let i = 0; i < 2; i++) {
      stores.push(await PostgresOrderStore.open({ url: db.url, logger: silentLogger(), now: Date.now, reservationTtlMs: RESERVATION_TTL_MS, throughputPerSec: () => 0, poolSize: 8 }));
    }
    // the seed goes through one store; the other learns the sku from the database
    await stores[0]!.seed([{ sku: 'HOT-2', name: 'HOT-2', priceCents: 4999, stock: 100 }], () => []);
    // leases of 60 s never expire during the run: any order leased twice was handed to two holders at once
    const result = await surge(stores, { orders: 1_000, workers: 16, items: () => [{ sku: 'HOT-2', qty: 1 }] });
    expect(result.accepted).toBe(1_000);
    expect(result.leased).toHaveLength(1_000);
    expect(new Set(result.leased).size).toBe(1_000);
    // both took part
    expect(Math.min(...result.byStore)).toBeGreaterThan(50);
    for (const store of stores) {
      const s = await store.stats();
      expect(s.byStatus).toMatchObject({ confirmed: 100, sold_out: 900, accepted: 0, reserved: 0 });
      expect(s.oversold).toBe(0);
    }
    expect(await stores[1]!.listInventory()).toEqual([{ sku: 'HOT-2', available: 0, reserved: 0, sold: 100 }]);
    console.log(`[postgres x2] 1,000 orders for 100 units through 2 stores x 8 workers in ${result.ms.toFixed(0)} ms; leases per store ${result.byStore.join(' / ')}`);
  });
});

/**
 * `orders` concurrent accepts of `items(i)`, raced by workers that loop
 * leaseBatch -> reserve -> markPayAttempt -> settle (half of them reserving in the lease call) on
 * one or more stores of the same data. Bounded by count and by a 40 s deadline. Returns every
 * order id handed out by a lease.
 */
async function surge(
  stores: StoreUnderTest | StoreUnderTest[],
  opts: { orders: number; workers: number; items: (i: number) => { sku: string; qty: number }[]; deadlineMs?: number },
): Promise<{ accepted: number; leased: string[]; byStore: number[]; ms: number }> {
  const all = Array.isArray(stores) ? stores : [stores];
  const started = performance.now();
  const deadline = Date.now() + (opts.deadlineMs ?? 40_000);
  let finished = 0;
  const leased: string[] = [];
  const byStore = all.map(() => 0);
  const accepts = Promise.all(
    Array.from({ length: opts.orders }, (_, i) => all[i % all.length]!.accept(acceptRequest({ customerId: `surge-${i}`, items: opts.items(i) }))),
  );
  let acceptFailed: unknown;
  accepts.then(
    (outcomes) => {
      const other = outcomes.find((o) => o.kind !== 'created');
      if (other !== undefined) acceptFailed = new Error(`surge: an accept was not created: ${JSON.stringify(other)}`);
    },
    (err: unknown) => (acceptFailed = err),
  );
  const worker = async (n: number) => {
    const store = all[n % all.length]!;
    const inLease = n % 2 === 1;
    let seq = 0;
    while (finished < opts.orders) {
      if (acceptFailed !== undefined) throw acceptFailed;
      if (Date.now() > deadline) throw new Error(`surge: only ${finished} of ${opts.orders} orders finished before the deadline`);
      const jobs = await store.leaseBatch([`w${n}:${++seq}`], 60_000, inLease ? { reserve: true, startPayment: true } : {});
      if (jobs.length === 0) {
        // nothing due yet (accepts still committing): look again shortly
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      for (const job of jobs) {
        leased.push(job.orderId);
        byStore[n % all.length]!++;
        if (job.reserved !== undefined) {
          if (job.reserved.status === 'reserved') await store.settle(job.orderId, job.token, `ch_${job.orderId}`, ALL_ON, job.row);
        } else {
          const r = await store.reserve(job.orderId, job.token);
          if (r.status === 'reserved') {
            expect(await store.markPayAttempt(job.orderId, job.token)).toBe(true);
            await store.settle(job.orderId, job.token, `ch_${job.orderId}`, ALL_ON);
          }
        }
        finished++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, (_, n) => worker(n)));
  const outcomes = await accepts;
  return { accepted: outcomes.filter((o) => o.kind === 'created').length, leased, byStore, ms: performance.now() - started };
}

import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { acceptRequest, silentLogger, waitFor } from '../../../../test/support/order-engine.js';
import { freePort } from '../../../../test/support/ports.js';
import { createTestDatabase, pgUrl, requirePostgres, startPostgresRelay, type TestDatabase } from '../../../../test/support/postgres.js';
import { SurgeError } from '../../../errors.js';
import { GiveUp } from '../../domain/outcomes.js';
import type { AcceptOutcome } from '../ports.js';
import { PostgresOrderStore, StoreUnavailable, type PostgresOrderStoreOptions } from './order-store.js';

// PostgreSQL-only behaviour of the store (the shared behaviour is in ../store.contract.int.test.ts):
// group commit, leases across store instances, the cached depth and health, PostgreSQL going away.

const pgUp = await requirePostgres('postgres/order-store.int.test.ts');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const db of databases.splice(0)) await db.drop();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase('surgectl_pgstore');
  databases.push(db);
  return db;
}

async function openStore(url: string, extra: Partial<PostgresOrderStoreOptions> = {}): Promise<PostgresOrderStore> {
  const store = await PostgresOrderStore.open({ url, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, poolSize: 4, ...extra });
  cleanups.push(() => store.close());
  return store;
}

async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}


describe.skipIf(!pgUp)('postgres order store', () => {
  it('group-commits concurrent accepts in one statement that answers nobody before it commits', async () => {
    const db = await database();
    const store = await openStore(db.url);
    await store.seed([{ sku: 'GC-A', name: 'GC-A', priceCents: 100, stock: 10 }], () => []);

    // 64 accepts in one turn: one transaction, so every row carries the same inserting xid
    const outcomes = await Promise.all(Array.from({ length: 64 }, (_, i) => store.accept(acceptRequest({ customerId: `gc-${i}`, items: [{ sku: 'GC-A', qty: 1 }] }))));
    expect(outcomes.every((o) => o.kind === 'created')).toBe(true);
    expect(await sql<{ n: number }>(db.url, 'SELECT count(DISTINCT xmin::text)::int AS n FROM orders')).toEqual([{ n: 1 }]);
    expect(await sql<{ n: number }>(db.url, 'SELECT count(DISTINCT xmin::text)::int AS n FROM idempotency_keys')).toEqual([{ n: 1 }]);
    // positions follow the order of the calls, after the queue as it stood
    expect(outcomes.map((o) => (o as Extract<AcceptOutcome, { kind: 'created' }>).order.queuePosition)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect(store.queueDepth()).toBe(64);

    // Another transaction holds one key of the next group uncommitted: the group's statement
    // waits on it, and no caller of the group may hear anything until it has committed.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    cleanups.push(() => blocker.end());
    await blocker.query('BEGIN');
    await blocker.query("INSERT INTO idempotency_keys (key, order_id, request_hash, created_at) VALUES ('gc-blocked', 'ord_none', 'h', 0)");
    let answered = 0;
    const group = Array.from({ length: 8 }, (_, i) =>
      store.accept(acceptRequest({ customerId: `gcb-${i}`, items: [{ sku: 'GC-A', qty: 1 }] }, i === 3 ? 'gc-blocked' : undefined)).then((o) => {
        answered++;
        return o;
      }),
    );
    await waitFor('the group statement to wait on the uncommitted key', async () => {
      const rows = await sql<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'surgectl-order-store' AND wait_event_type = 'Lock'");
      return rows[0]!.n === 1;
    });
    expect(answered).toBe(0);
    expect(await sql<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 64 }]);
    await blocker.query('ROLLBACK');
    const after = await Promise.all(group);
    expect(after.map((o) => o.kind)).toEqual(Array(8).fill('created'));
    expect(await sql<{ n: number }>(db.url, "SELECT count(DISTINCT xmin::text)::int AS n FROM orders WHERE customer_id LIKE 'gcb-%'")).toEqual([{ n: 1 }]);
  });

  it('measures accepts per second with 64 concurrent callers (bounded: 12,800 accepts or 10 s)', async () => {
    const db = await database();
    const store = await openStore(db.url, { poolSize: 10 });
    await store.seed([{ sku: 'TP-A', name: 'TP-A', priceCents: 100, stock: 1_000_000 }], () => []);
    const callers = 64;
    const perCaller = 200;
    const deadline = Date.now() + 10_000;
    let done = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async (_, c) => {
        for (let i = 0; i < perCaller && Date.now() < deadline; i++) {
          const o = await store.accept(acceptRequest({ customerId: `tp-${c}`, items: [{ sku: 'TP-A', qty: 1 }] }));
          if (o.kind !== 'created') throw new Error(`unexpected ${o.kind}`);
          done++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const [row] = await sql<{ orders: number; groups: number }>(db.url, 'SELECT count(*)::int AS orders, count(DISTINCT xmin::text)::int AS groups FROM orders');
    expect(row!.orders).toBe(done);
    // group commit at work: far fewer transactions than accepts
    expect(row!.groups).toBeLessThan(done / 8);
    console.log(`[postgres] ${done} accepts from ${callers} concurrent callers in ${seconds.toFixed(2)} s = ${Math.round(done / seconds)} accepts/s, ${row!.groups} transactions (${(done / row!.groups).toFixed(1)} accepts per commit)`);
  });

  it('leases a job to one store at a time: another store neither takes nor reclaims a live lease, only an expired one (as a redelivery)', async () => {
    const db = await database();
    let clock = 1_700_000_000_000;
    const a = await openStore(db.url, { now: () => clock });
    const b = await openStore(db.url, { now: () => clock });
    await a.seed([{ sku: 'LS-A', name: 'LS-A', priceCents: 100, stock: 5 }], () => []);
    const created = await a.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'LS-A', qty: 1 }] }));
    const id = (created as Extract<AcceptOutcome, { kind: 'created' }>).order.orderId;
    const [job] = await a.leaseBatch(['a:1'], 30_000);
    expect(job?.orderId).toBe(id);
    expect(await b.reclaimLeases()).toBe(0);
    expect(await b.leaseBatch(['b:1'], 30_000)).toEqual([]);
    expect(await a.renewLease(id, 'a:1', 30_000)).toBe(true);

    clock += 30_001; // a's process "died": its lease runs out
    expect(await b.reclaimLeases()).toBe(1);
    const [again] = await b.leaseBatch(['b:2'], 30_000);
    expect(again).toMatchObject({ orderId: id, token: 'b:2', redelivered: true });
    // the old holder's writes now fail quietly
    expect(await a.renewLease(id, 'a:1', 30_000)).toBe(false);
    await expect(a.reserve(id, 'a:1')).rejects.toBeInstanceOf(GiveUp);
    expect(await b.reserve(id, 'b:2', true)).toEqual({ status: 'reserved', payStarted: true });
    await b.settle(id, 'b:2', 'ch', { notifications: true, recommendations: false, loyaltyPoints: true });
    expect((await a.getOrder(id))?.status).toBe('confirmed');
  });

  it('answers queueDepth() from a cache: its own writes at once, other stores\' within a refresh', async () => {
    const db = await database();
    const a = await openStore(db.url, { refreshMs: 50 });
    const b = await openStore(db.url, { refreshMs: 50 });
    await a.seed([{ sku: 'QD-A', name: 'QD-A', priceCents: 100, stock: 5 }], () => []);
    await Promise.all(Array.from({ length: 5 }, (_, i) => a.accept(acceptRequest({ customerId: `q${i}`, items: [{ sku: 'QD-A', qty: 1 }] }))));
    expect(a.queueDepth()).toBe(5);
    await waitFor('store b to see the 5 waiting orders', () => b.queueDepth() === 5, 5_000);
    await b.leaseBatch(['b:1', 'b:2'], 60_000);
    expect(b.queueDepth()).toBe(3);
    await waitFor('store a to see 2 of them leased', () => a.queueDepth() === 3, 5_000);
  });

  it('turns not healthy and rejects accepts with StoreUnavailable while PostgreSQL is away, and recovers when it is back', async () => {
    const db = await database();
    const proxy = await startPostgresRelay();
    cleanups.push(() => proxy.close());
    const store = await openStore(pgUrl(db.name, proxy.port), { refreshMs: 50, connectTimeoutMs: 1_000 });
    await store.seed([{ sku: 'DN-A', name: 'DN-A', priceCents: 100, stock: 5 }], () => []);
    expect(store.isHealthy()).toBe(true);

    await proxy.cut();
    await waitFor('isHealthy() to turn false', () => !store.isHealthy(), 5_000);
    const refused = await store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'DN-A', qty: 1 }] })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(StoreUnavailable);
    expect((refused as Error).message).toMatch(/order store is unavailable: PostgreSQL postgres:\/\/.*did not answer/);
    await expect(store.leaseBatch(['t'], 1_000)).rejects.toBeInstanceOf(StoreUnavailable);

    await proxy.restore();
    await waitFor('isHealthy() to turn true again', () => store.isHealthy(), 5_000);
    expect((await store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'DN-A', qty: 1 }] }))).kind).toBe('created');
  });

  it('gives up on a statement stuck behind a lock after the statement timeout instead of hanging a worker', async () => {
    const db = await database();
    const store = await openStore(db.url, { statementTimeoutMs: 300 });
    await store.seed([{ sku: 'TO-A', name: 'TO-A', priceCents: 100, stock: 5 }], () => []);
    const created = await store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'TO-A', qty: 1 }] }));
    const id = (created as Extract<AcceptOutcome, { kind: 'created' }>).order.orderId;
    await store.leaseBatch(['t:1'], 60_000);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('BEGIN');
    await holder.query("SELECT 1 FROM products WHERE sku = 'TO-A' FOR UPDATE");
    const started = performance.now();
    const err = await store.reserve(id, 't:1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreUnavailable);
    expect((err as Error).message).toMatch(/did not finish in time \(canceling statement due to (statement|lock) timeout\)/);
    expect(performance.now() - started).toBeLessThan(5_000);
    await holder.query('ROLLBACK');
    // rolled back whole: the order is still accepted and the lease still ours
    expect(await store.reserve(id, 't:1')).toEqual({ status: 'reserved', payStarted: false });
    expect(store.isHealthy()).toBe(true);
  });

  it('close() lets a group in flight commit, refuses new work, stops the refresh and ends every connection', async () => {
    const db = await database();
    const store = await PostgresOrderStore.open({ url: db.url, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, poolSize: 4, refreshMs: 20 });
    await store.seed([{ sku: 'CL-A', name: 'CL-A', priceCents: 100, stock: 5 }], () => []);
    const connections = async () =>
      (await sql<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'surgectl-order-store'", [db.name]))[0]!.n;
    expect(await connections()).toBeGreaterThan(0);
    const inFlight = store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'CL-A', qty: 1 }] }));
    await new Promise((r) => setImmediate(r)); // the group is sent
    await store.close();
    expect((await inFlight).kind).toBe('created');
    expect(store.isHealthy()).toBe(false);
    await expect(store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'CL-A', qty: 1 }] }))).rejects.toThrow('order store is closed');
    await expect(store.leaseBatch(['t'], 1_000)).rejects.toThrow('order store is closed');
    await waitFor('every pooled connection to end', async () => (await connections()) === 0, 5_000);
  });

  it('refuses to open on an unreachable server with SRG_STACK_STORE_UNREACHABLE naming it, password left out', async () => {
    const port = await freePort();
    const err = await PostgresOrderStore.open({
      url: `postgres://app:secret@127.0.0.1:${port}/orders`,
      logger: silentLogger(),
      now: Date.now,
      reservationTtlMs: 60_000,
      throughputPerSec: () => 0,
      connectTimeoutMs: 1_000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_STACK_STORE_UNREACHABLE');
    expect((err as SurgeError).exitCode).toBe(3);
    expect((err as SurgeError).message).toContain(`postgres://app@127.0.0.1:${port}/orders`);
    expect((err as SurgeError).message).not.toContain('secret');
  });
});

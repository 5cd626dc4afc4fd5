import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { acceptRequest, silentLogger } from '../../../../test/support/order-engine.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../../../test/support/postgres.js';
import { SurgeError } from '../../../errors.js';
import type { AcceptOutcome } from '../ports.js';
import { PostgresOrderStore } from './order-store.js';
import { LATEST_VERSION, migrate, MIGRATIONS } from './schema.js';

const pgUp = await requirePostgres('postgres/schema.int.test.ts');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const db of databases.splice(0)) await db.drop();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase('surgectl_schema');
  databases.push(db);
  return db;
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

const tables = async (url: string) => (await sql<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map((r) => r.t);
const partitionsOf = async (url: string, table: string) =>
  (await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = $1::regclass', [table]))[0]!.n;

describe.skipIf(!pgUp)('postgres schema migrations', () => {
  it('migrates a fresh database to the latest version, records each version, and applies nothing when run again', async () => {
    const db = await database();
    const first = await migrate(db.url);
    expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
    expect(first.current).toBe(LATEST_VERSION);
    expect(LATEST_VERSION).toBe(2);
    expect(await sql(db.url, 'SELECT version, name FROM schema_migrations ORDER BY version')).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(await tables(db.url)).toEqual(expect.arrayContaining(['orders', 'idempotency_keys', 'products', 'reservations', 'outbox', 'loyalty_ledger', 'flag_overrides', 'meta', 'schema_migrations']));
    // orders is hash-partitioned by id, 8 partitions by default
    expect(await sql(db.url, "SELECT partstrat, (SELECT attname FROM pg_attribute WHERE attrelid = partrelid AND attnum = partattrs[0]) AS key FROM pg_partitioned_table WHERE partrelid = 'orders'::regclass")).toEqual([{ partstrat: 'h', key: 'id' }]);
    expect(await partitionsOf(db.url, 'orders')).toBe(8);

    const again = await migrate(db.url);
    expect(again).toEqual({ applied: [], current: LATEST_VERSION, sql: [] });
    expect((await sql(db.url, 'SELECT version FROM schema_migrations')).length).toBe(MIGRATIONS.length);
  });

  it('honours the partition count chosen at migrate time and spreads orders over the partitions', async () => {
    const db = await database();
    await migrate(db.url, { partitions: 4 });
    expect(await partitionsOf(db.url, 'orders')).toBe(4);
    // the store's own `partitions` applies only to a schema it creates
    const store = await PostgresOrderStore.open({ url: db.url, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, poolSize: 2, partitions: 16 });
    cleanups.push(() => store.close());
    expect(await partitionsOf(db.url, 'orders')).toBe(4);
    await store.seed([{ sku: 'P-A', name: 'P-A', priceCents: 100, stock: 100 }], () => []);
    await Promise.all(Array.from({ length: 64 }, (_, i) => store.accept(acceptRequest({ customerId: `p${i}`, items: [{ sku: 'P-A', qty: 1 }] }))));
    const spread = await sql<{ part: string; n: number }>(db.url, 'SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM orders GROUP BY 1 ORDER BY 1');
    expect(spread.map((r) => r.part)).toEqual(['orders_p0', 'orders_p1', 'orders_p2', 'orders_p3']);

    const fresh = await database();
    const s2 = await PostgresOrderStore.open({ url: fresh.url, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, poolSize: 2, partitions: 3 });
    cleanups.push(() => s2.close());
    expect(await partitionsOf(fresh.url, 'orders')).toBe(3);

    await expect(migrate(fresh.url, { partitions: 0 })).rejects.toMatchObject({ code: 'SRG_STACK_STORE_VERSION', message: expect.stringMatching(/partition count must be a whole number from 1 to 256, got 0/) });
  });

  it('dryRun returns the SQL of the pending versions and changes nothing', async () => {
    const db = await database();
    const plan = await migrate(db.url, { dryRun: true, partitions: 2 });
    expect(plan.applied).toEqual([]);
    expect(plan.current).toBe(0);
    expect(plan.sql[0]).toMatch(/^CREATE TABLE IF NOT EXISTS schema_migrations/);
    expect(plan.sql.some((s) => /CREATE TABLE orders \(.*\) PARTITION BY HASH \(id\)/s.test(s))).toBe(true);
    expect(plan.sql.filter((s) => /PARTITION OF orders/.test(s))).toHaveLength(2);
    expect(plan.sql.filter((s) => s.startsWith('INSERT INTO schema_migrations'))).toHaveLength(MIGRATIONS.length);
    expect(await tables(db.url)).toEqual([]);

    // on a v1 database: only v2's statements, and it stays at v1
    await migrate(db.url, { target: 1 });
    const upgrade = await migrate(db.url, { dryRun: true });
    expect(upgrade).toMatchObject({ applied: [], current: 1 });
    expect(upgrade.sql).toEqual([...MIGRATIONS[1]!.sql({ partitions: 8 }), expect.stringMatching(/^INSERT INTO schema_migrations \(version, name\) VALUES \(2, /)]);
    expect((await sql(db.url, 'SELECT max(version) AS v FROM schema_migrations'))[0]).toEqual({ v: 1 });
    expect(await tables(db.url)).not.toContain('loyalty_ledger');
  });

  it('upgrades a v1 database holding orders to v2, keeping the data, and the store works on it', async () => {
    const db = await database();
    expect((await migrate(db.url, { target: 1 })).applied).toEqual([1]);
    // what a v1 store wrote: a product, an accepted order and its key (no trace_parent column yet)
    const at = 1_700_000_000_000;
    await sql(db.url, "INSERT INTO products (sku, name, price_cents, stock) VALUES ('UP-A', 'Up A', 2500, 3)");
    await sql(
      db.url,
      `INSERT INTO orders (id, idem_key, request_hash, customer_id, items, amount_cents, status, history, created_at, updated_at, next_attempt_at)
       VALUES ('ord_v1', 'key-v1', 'hash-v1', 'c-v1', '[{"sku":"UP-A","qty":2}]', 5000, 'accepted', '[{"status":"accepted","at":"2023-11-14T22:13:20.000Z"}]', $1, $1, $1)`,
      [at],
    );
    await sql(db.url, "INSERT INTO idempotency_keys (key, order_id, request_hash, created_at) VALUES ('key-v1', 'ord_v1', 'hash-v1', $1)", [at]);

    const up = await migrate(db.url);
    expect(up.applied).toEqual([2]);
    expect(up.current).toBe(2);
    expect(await sql(db.url, "SELECT id, status, trace_parent FROM orders WHERE id = 'ord_v1'")).toEqual([{ id: 'ord_v1', status: 'accepted', trace_parent: null }]);

    const store = await PostgresOrderStore.open({ url: db.url, logger: silentLogger(), now: () => at + 1_000, reservationTtlMs: 60_000, throughputPerSec: () => 0, poolSize: 2 });
    cleanups.push(() => store.close());
    expect(await store.getOrder('ord_v1')).toMatchObject({ status: 'accepted', customerId: 'c-v1', queuePosition: 1, history: [{ status: 'accepted' }] });
    // the old key still answers its order
    expect(await store.accept({ order: { customerId: 'c-v1', items: [{ sku: 'UP-A', qty: 2 }] }, idempotencyKey: 'key-v1', requestHash: 'hash-v1' })).toMatchObject({
      kind: 'existing',
      order: { orderId: 'ord_v1' },
    });
    // the old order goes through the new code, loyalty ledger (v2) included
    const [job] = await store.leaseBatch(['t-v1'], 30_000, { reserve: true, startPayment: true });
    expect(job).toMatchObject({ orderId: 'ord_v1', redelivered: false, reserved: { status: 'reserved', payStarted: true } });
    expect(job?.traceParent).toBeUndefined();
    await store.settle('ord_v1', 't-v1', 'ch_v1', { notifications: true, recommendations: false, loyaltyPoints: true }, job?.row);
    expect(await store.getOrder('ord_v1')).toMatchObject({ status: 'confirmed', loyaltyPoints: 50, notification: { status: 'queued' } });
    // and a new traced order keeps its traceparent (v2's column)
    const traced = await store.accept({ ...acceptRequest({ customerId: 'c2', items: [{ sku: 'UP-A', qty: 1 }] }), traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const [tj] = await store.leaseBatch(['t-2'], 30_000);
    expect(tj).toMatchObject({ orderId: (traced as Extract<AcceptOutcome, { kind: 'created' }>).order.orderId, traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  });

  it('refuses a database migrated by a newer surgectl, with SRG_STACK_STORE_VERSION and a hint, touching nothing', async () => {
    const db = await database();
    await migrate(db.url);
    await sql(db.url, "INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')");
    const err = await migrate(db.url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SurgeError);
    expect(err).toMatchObject({ code: 'SRG_STACK_STORE_VERSION', exitCode: 10, message: expect.stringMatching(/is at schema version 99, newer than the 2 this surgectl knows/), hint: expect.stringMatching(/newer surgectl/) });
    await expect(PostgresOrderStore.open({ url: db.url, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, poolSize: 2 })).rejects.toMatchObject({
      code: 'SRG_STACK_STORE_VERSION',
      message: expect.stringContaining(db.url),
    });
    expect(await sql(db.url, 'SELECT version FROM schema_migrations ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }, { version: 99 }]);
  });

  it('applies each version once when several processes migrate at the same moment', async () => {
    const db = await database();
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2]);
    expect(results.every((r) => r.current === LATEST_VERSION)).toBe(true);
  });
});

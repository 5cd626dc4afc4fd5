import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { acceptRequest, capturingLogger, silentLogger, waitFor } from '../../../test/support/order-engine.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../../test/support/postgres.js';
import { createTestVhost, drainQueue, readyCount, requireRabbitMq, withBrokerStopped, type TestVhost } from '../../../test/support/rabbitmq.js';
import { SurgeError } from '../../errors.js';
import { PostgresOrderStore } from '../storage/postgres/order-store.js';
import { BrokerUnavailable, OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
import { enqueueWork, migrateMessaging, MESSAGING_LATEST_VERSION } from './schema.js';
import { decodeWorkMessage, WorkQueueConsumer, type WorkHandler } from './work-queue.js';

// The transactional outbox end to end on the real servers: orders accepted by the real PostgreSQL
// store (the trigger writes their dispatch records in the accept statement), the relay publishing
// them to the real RabbitMQ with confirms, a consumer with an idempotent PostgreSQL effect.

const pgUp = await requirePostgres('messaging/outbox-relay.int.test.ts');
const mqUp = await requireRabbitMq('messaging/outbox-relay.int.test.ts');

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const db of databases.splice(0)) await db.drop();
});

const QUEUE = 'surgectl.orders';

async function vhost(): Promise<TestVhost> {
  const v = await createTestVhost('surgectl_relay');
  cleanups.push(() => v.drop());
  return v;
}

/** A migrated order store database (store schema + work_outbox) with one sku of ample stock, and a pool on it. */
async function storeDatabase() {
  const db = await createTestDatabase('surgectl_relay');
  databases.push(db);
  const store = await PostgresOrderStore.open({ url: db.url, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, poolSize: 4 });
  cleanups.push(() => store.close());
  await store.seed([{ sku: 'OB-1', name: 'OB-1', priceCents: 100, stock: 1_000_000 }], () => []);
  await migrateMessaging(db.url);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  cleanups.push(() => pool.end());
  // the effects of the consumer's handler: one row per order, whatever the deliveries
  await pool.query('CREATE TABLE effects (order_id text PRIMARY KEY)');
  return { db, store, pool };
}

/** Accepts `n` orders through the store, `group` per event-loop turn (one group commit each). */
async function acceptOrders(store: PostgresOrderStore, n: number, group = 100): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += group) {
    const outcomes = await Promise.all(Array.from({ length: Math.min(group, n - i) }, (_, j) => store.accept(acceptRequest({ customerId: `c-${i + j}`, items: [{ sku: 'OB-1', qty: 1 }] }))));
    for (const o of outcomes) {
      if (o.kind !== 'created') throw new Error(`accept answered ${o.kind}`);
      ids.push(o.order.orderId);
    }
  }
  return ids;
}

function relay(opts: Pick<OutboxRelayOptions, 'amqpUrl' | 'databaseUrl'> & Partial<OutboxRelayOptions>): OutboxRelay {
  const r = new OutboxRelay({ logger: silentLogger(), now: Date.now, reconnect: { baseMs: 50, capMs: 500 }, ...opts });
  cleanups.push(() => r.stop());
  return r;
}

/** A consumer whose handler writes the order's effect once (ON CONFLICT DO NOTHING) and counts its calls. */
function consume(url: string, pool: pg.Pool, logger = silentLogger()) {
  const calls = new Map<string, number>();
  const handler: WorkHandler = async (d) => {
    calls.set(d.orderId, (calls.get(d.orderId) ?? 0) + 1);
    await pool.query('INSERT INTO effects (order_id) VALUES ($1) ON CONFLICT (order_id) DO NOTHING', [d.orderId]);
    return 'done';
  };
  const consumer = WorkQueueConsumer.start({ url, handler, logger, prefetch: 32, reconnect: { baseMs: 50, capMs: 500 } });
  cleanups.push(() => consumer.stop(1_000));
  return { consumer, calls };
}

async function count(pool: pg.Pool, sql: string): Promise<number> {
  return Number((await pool.query<{ n: string }>(sql)).rows[0]?.n);
}

describe.skipIf(!pgUp || !mqUp)('work_outbox migration', () => {
  it('adds work_outbox beside the store schema, idempotently, and the store still opens', async () => {
    const { db, pool } = await storeDatabase();
    // storeDatabase() migrated once; again applies nothing
    expect(await migrateMessaging(db.url)).toMatchObject({ applied: [], current: MESSAGING_LATEST_VERSION });
    // versions of their own: the store's table keeps only the store's versions, so its
    // "database newer than this surgectl" check is untouched and another store opens it
    expect((await pool.query('SELECT version FROM messaging_migrations')).rows).toEqual([{ version: 1 }]);
    expect((await pool.query<{ v: number }>('SELECT max(version) AS v FROM schema_migrations')).rows[0]!.v).toBeLessThan(100);
    const second = await PostgresOrderStore.open({ url: db.url, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, poolSize: 1 });
    await second.close();
  });

  it('commits the dispatch record in the same statement as the order the store accepts', async () => {
    const { store, pool } = await storeDatabase();
    const ids = await acceptOrders(store, 30, 30);
    const rows = (await pool.query<{ id: string; same: boolean; sent_at: number | null }>(
      'SELECT o.id, o.xmin::text = w.xmin::text AS same, w.sent_at FROM orders o JOIN work_outbox w ON w.order_id = o.id',
    )).rows;
    // one record per order, written by the accept's own transaction, unsent
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.same && r.sent_at === null)).toBe(true);
    // an order insert that rolls back leaves no record either
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`INSERT INTO orders (id, idem_key, request_hash, customer_id, items, amount_cents, status, history, created_at, updated_at)
        VALUES ('ord_rolled_back', 'k-rb', 'h', 'c', '[]', 0, 'accepted', '[]', 0, 0)`);
      expect(await count(pool, "SELECT count(*) AS n FROM work_outbox WHERE order_id = 'ord_rolled_back'")).toBe(0);
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
    expect(await count(pool, 'SELECT count(*) AS n FROM work_outbox')).toBe(30);
    // the explicit helper adds records for ids it is given, once
    expect(await enqueueWork(pool, ['ord_manual', ids[0]!], 1)).toBe(1);
  });

  it('refuses a database without the store schema', async () => {
    const db = await createTestDatabase('surgectl_relay');
    databases.push(db);
    const err = await migrateMessaging(db.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_STACK_STORE_VERSION');
    expect((err as SurgeError).message).toMatch(/no orders table/);
  });
});

describe.skipIf(!pgUp || !mqUp)('outbox relay (PostgreSQL -> RabbitMQ)', () => {
  it('publishes 1,000 accepted orders exactly once; each is consumed once and acked', async () => {
    const v = await vhost();
    const { db, store, pool } = await storeDatabase();
    const ids = await acceptOrders(store, 1_000);
    const r = relay({ amqpUrl: v.url, databaseUrl: db.url, batchSize: 100 });
    const { consumer, calls } = consume(v.url, pool);
    r.start();
    await waitFor('every order handled', () => consumer.stats().done === 1_000, 60_000);
    expect(await r.report()).toEqual({ published: 1_000, pending: 0 });
    expect(await count(pool, 'SELECT count(*) AS n FROM work_outbox WHERE sent_at IS NULL')).toBe(0);
    // exactly once: 1,000 distinct ids, each delivered once, each effect once
    expect(calls.size).toBe(1_000);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(calls.keys())).toEqual(new Set(ids));
    expect(await count(pool, 'SELECT count(*) AS n FROM effects')).toBe(1_000);
    // all acked: nothing ready, nothing held
    await consumer.stop(1_000);
    expect(await readyCount(v.url, QUEUE)).toBe(0);
  });

  it('two relays at once share the backlog and never publish a row twice', async () => {
    const v = await vhost();
    const { db, pool } = await storeDatabase();
    const ids = Array.from({ length: 1_000 }, (_, i) => `ord_two${String(i).padStart(4, '0')}`);
    await enqueueWork(pool, ids, Date.now());
    const a = relay({ amqpUrl: v.url, databaseUrl: db.url, batchSize: 20 });
    const b = relay({ amqpUrl: v.url, databaseUrl: db.url, batchSize: 20 });
    a.start();
    b.start();
    await waitFor('the outbox sent', async () => (await a.report()).pending === 0, 60_000);
    const [ra, rb] = [await a.report(), await b.report()];
    expect(ra.published + rb.published).toBe(1_000);
    // both took part (SKIP LOCKED let them work side by side)
    expect(ra.published).toBeGreaterThan(0);
    expect(rb.published).toBeGreaterThan(0);
    await waitFor('every message queued', async () => (await readyCount(v.url, QUEUE)) === 1_000);
    const queued = (await drainQueue(v.url, QUEUE)).map((body) => decodeWorkMessage(Buffer.from(body)));
    expect(queued).toHaveLength(1_000);
    expect(new Set(queued)).toEqual(new Set(ids));
  });

  it('leaves a row unsent when the broker takes the publish but no queue does, and sends it once the queue is back', async () => {
    const v = await vhost();
    const { db, pool } = await storeDatabase();
    const { logger, lines } = capturingLogger('warn');
    const r = relay({ amqpUrl: v.url, databaseUrl: db.url, logger });
    await enqueueWork(pool, ['ord_first'], Date.now());
    expect(await r.publishBatch()).toBe(1);
    // someone deletes the work queue: a publish to it is confirmed by the broker but routed nowhere
    const conn = await amqp.connect(v.url);
    cleanups.push(() => conn.close().catch(() => undefined));
    await (await conn.createChannel()).deleteQueue(QUEUE);
    await enqueueWork(pool, ['ord_unroutable'], Date.now());
    const err = await r.publishBatch().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerUnavailable);
    expect((err as Error).message).toMatch(/no queue surgectl\.orders for order ord_unroutable/);
    expect((await pool.query('SELECT sent_at FROM work_outbox WHERE order_id = $1', ['ord_unroutable'])).rows).toEqual([{ sent_at: null }]);
    // the relay reconnects, which declares the queue again, and the row goes out
    r.start();
    await waitFor('the row sent', async () => (await r.report()).pending === 0);
    expect((await drainQueue(v.url, QUEUE)).map((b) => decodeWorkMessage(Buffer.from(b)))).toEqual(['ord_unroutable']);
    expect(lines).toEqual([]);
  });

  it('keeps every row while RabbitMQ is stopped, marks none sent unconfirmed, and sends the backlog when it returns', async () => {
    const v = await vhost();
    const { db, store, pool } = await storeDatabase();
    const { logger, lines } = capturingLogger('warn');
    const r = relay({ amqpUrl: v.url, databaseUrl: db.url, batchSize: 20, logger, confirmTimeoutMs: 5_000 });
    const consumerLog = capturingLogger('warn');
    const { consumer, calls } = consume(v.url, pool, consumerLog.logger);
    r.start();
    // intake at a steady pace, throughout the outage: 20 orders per turn, bounded in count and time
    const accepted: string[] = [];
    let intake = true;
    const intakeDone = (async () => {
      const until = Date.now() + 90_000;
      while (intake && accepted.length < 20_000 && Date.now() < until) {
        accepted.push(...(await acceptOrders(store, 20, 20)));
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    await waitFor('the relay publishing', async () => (await r.report()).published >= 200);
    let sentWhenStopped = new Set<string>();
    await withBrokerStopped(async () => {
      sentWhenStopped = new Set((await pool.query<{ order_id: string }>('SELECT order_id FROM work_outbox WHERE sent_at IS NOT NULL')).rows.map((x) => x.order_id));
      const acceptedAtStop = accepted.length;
      await waitFor('the relay to notice the outage', () => lines.some((l) => /unreachable/.test(String(l.msg))), 30_000);
      // intake goes on: orders still commit, with their records, while the broker is away
      await waitFor('orders accepted during the outage', () => accepted.length >= acceptedAtStop + 200, 30_000);
      // nothing is marked sent without a confirm, and the backlog grows
      expect(await count(pool, 'SELECT count(*) AS n FROM work_outbox WHERE sent_at IS NOT NULL')).toBe(sentWhenStopped.size);
      expect((await r.report()).pending).toBeGreaterThan(0);
    });
    intake = false;
    await intakeDone;
    await waitFor('the backlog sent', async () => (await r.report()).pending === 0, 60_000);
    // no row lost: every accepted order has its record, and every record is sent
    expect(await count(pool, 'SELECT count(*) AS n FROM work_outbox WHERE sent_at IS NOT NULL')).toBe(accepted.length);
    await waitFor('every order handled', async () => (await count(pool, 'SELECT count(*) AS n FROM effects')) === accepted.length, 60_000);
    // each order processed exactly once (effects keyed by order id); deliveries at least once
    expect(new Set((await pool.query<{ order_id: string }>('SELECT order_id FROM effects')).rows.map((x) => x.order_id))).toEqual(new Set(accepted));
    expect([...sentWhenStopped].every((id) => (calls.get(id) ?? 0) >= 1)).toBe(true);
    // the outage logged once by the relay, and its end once
    expect(lines.filter((l) => /unreachable/.test(String(l.msg)))).toHaveLength(1);
    expect(lines.filter((l) => /publishes again/.test(String(l.msg)))).toHaveLength(1);
    expect(consumer.stats().connected).toBe(true);
  });
});

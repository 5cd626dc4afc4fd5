import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger, waitFor } from '../../../test/support/order-engine.js';
import { freePort } from '../../../test/support/ports.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../../test/support/postgres.js';
import { amqpUrl, createTestVhost, publishRaw, readyCount, requireRabbitMq, type TestVhost } from '../../../test/support/rabbitmq.js';
import { SurgeError } from '../../errors.js';
import { listDeadLetters, redriveDeadLetters, showDeadLetter } from './dlq.js';
import { assertTopology, connectBroker, encodeWorkMessage, resolveTopology, workPublishOptions, WorkQueueConsumer, type WorkHandler } from './work-queue.js';

// list / show / redrive of the dead-letter queue on the real RabbitMQ, with orders that really
// failed their deliveries (a consumer whose handler retries them) and an idempotent PostgreSQL effect.

const pgUp = await requirePostgres('messaging/dlq.int.test.ts');
const mqUp = await requireRabbitMq('messaging/dlq.int.test.ts');

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const db of databases.splice(0)) await db.drop();
});

const QUEUE = 'surgectl.orders';
const DLQ = 'surgectl.orders.dlq';
const MAX_DELIVERIES = 2;

async function vhost(): Promise<TestVhost> {
  const v = await createTestVhost('surgectl_dlq');
  cleanups.push(() => v.drop());
  return v;
}

/**
 * A vhost where the orders in `poison` have failed MAX_DELIVERIES times and sit in the DLQ, the
 * others were processed; the consumer keeps running, its handler failing while `broken` is true.
 */
async function withDeadLetters(poison: string[], healthy: string[]) {
  const v = await vhost();
  const db = await createTestDatabase('surgectl_dlq');
  databases.push(db);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  cleanups.push(() => pool.end());
  await pool.query('CREATE TABLE effects (order_id text PRIMARY KEY)');
  const state = { broken: true };
  const calls = new Map<string, number>();
  const handler: WorkHandler = async (d) => {
    calls.set(d.orderId, (calls.get(d.orderId) ?? 0) + 1);
    if (state.broken && poison.includes(d.orderId)) return 'retry';
    await pool.query('INSERT INTO effects (order_id) VALUES ($1) ON CONFLICT (order_id) DO NOTHING', [d.orderId]);
    return 'done';
  };
  const consumer = WorkQueueConsumer.start({ url: v.url, handler, logger: silentLogger(), maxDeliveries: MAX_DELIVERIES, reconnect: { baseMs: 50, capMs: 500 } });
  cleanups.push(() => consumer.stop(1_000));
  const conn = await connectBroker(v.url);
  await assertTopology(conn, resolveTopology({ maxDeliveries: MAX_DELIVERIES }));
  await conn.close();
  await publishRaw(
    v.url,
    QUEUE,
    [...poison, ...healthy].map((id) => ({ body: encodeWorkMessage(id), options: workPublishOptions(id) })),
  );
  await waitFor('the poison orders dead-lettered', async () => (await readyCount(v.url, DLQ)) === poison.length && consumer.stats().done === healthy.length);
  const effects = async () => (await pool.query<{ order_id: string }>('SELECT order_id FROM effects ORDER BY order_id')).rows.map((r) => r.order_id);
  return { url: v.url, state, calls, consumer, effects, opts: { url: v.url, maxDeliveries: MAX_DELIVERIES } };
}

describe.skipIf(!pgUp || !mqUp)('dead-letter queue', () => {
  it('lists the dead-lettered orders with why, and leaves them there', async () => {
    const { opts, url } = await withDeadLetters(['ord_p1', 'ord_p2', 'ord_p3'], ['ord_ok1', 'ord_ok2']);
    const first = await listDeadLetters(opts);
    expect(first.total).toBe(3);
    expect(first.letters.map((l) => l.orderId).sort()).toEqual(['ord_p1', 'ord_p2', 'ord_p3']);
    for (const l of first.letters) {
      expect(l).toMatchObject({ reason: 'delivery_limit', queue: QUEUE, deaths: 1, redrives: 0 });
      expect(Date.parse(l.deadAt!)).toBeGreaterThan(Date.now() - 120_000);
    }
    // looking consumed nothing
    expect(await readyCount(url, DLQ)).toBe(3);
    const again = await listDeadLetters(opts);
    expect(again.letters.map((l) => l.orderId).sort()).toEqual(['ord_p1', 'ord_p2', 'ord_p3']);
    // a limit bounds the list, not the total
    expect(await listDeadLetters(opts, 2)).toMatchObject({ total: 3, letters: [{}, {}] });
    expect(await readyCount(url, DLQ)).toBe(3);
  });

  it('shows one dead letter with its headers, and says so when an order is not there', async () => {
    const { opts } = await withDeadLetters(['ord_s1'], []);
    const d = await showDeadLetter(opts, 'ord_s1');
    expect(d).toMatchObject({ orderId: 'ord_s1', messageId: 'ord_s1', reason: 'delivery_limit', body: '{"orderId":"ord_s1"}' });
    expect(d.headers['x-first-death-queue']).toBe(QUEUE);
    const err = await showDeadLetter(opts, 'ord_nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).message).toBe(`order ord_nope is not in the dead-letter queue ${DLQ}`);
    expect((err as SurgeError).exitCode).toBe(2);
  });

  it('redrives one order, then all: each goes back to the work queue and is processed once', async () => {
    const { opts, url, state, calls, consumer, effects } = await withDeadLetters(['ord_r1', 'ord_r2', 'ord_r3'], ['ord_fine']);
    expect(calls.get('ord_r1')).toBe(MAX_DELIVERIES);
    // the fix is deployed: the handler succeeds from now on
    state.broken = false;
    expect(await redriveDeadLetters(opts, { orderId: 'ord_r2' })).toEqual({ redriven: ['ord_r2'] });
    await waitFor('ord_r2 processed', async () => (await effects()).includes('ord_r2'));
    expect(calls.get('ord_r2')).toBe(MAX_DELIVERIES + 1);
    expect(await readyCount(url, DLQ)).toBe(2);
    expect((await listDeadLetters(opts)).letters.map((l) => l.orderId).sort()).toEqual(['ord_r1', 'ord_r3']);

    const all = await redriveDeadLetters(opts, 'all');
    expect(all.redriven.sort()).toEqual(['ord_r1', 'ord_r3']);
    await waitFor('every order processed', async () => (await effects()).length === 4);
    expect(await effects()).toEqual(['ord_fine', 'ord_r1', 'ord_r2', 'ord_r3']);
    // once each after the redrive: no copy left behind in either queue
    expect(calls.get('ord_r1')).toBe(MAX_DELIVERIES + 1);
    expect(calls.get('ord_r3')).toBe(MAX_DELIVERIES + 1);
    expect(consumer.stats().done).toBe(4);
    expect(await readyCount(url, DLQ)).toBe(0);
    expect(await readyCount(url, QUEUE)).toBe(0);
    const err = await redriveDeadLetters(opts, { orderId: 'ord_r1' }).catch((e: unknown) => e);
    expect((err as SurgeError).code).toBe('SRG_STACK_DLQ_NOT_FOUND');
  });

  it('a redriven order that fails again returns to the DLQ with its redrive counted', async () => {
    const { opts, url, calls } = await withDeadLetters(['ord_again'], []);
    // still broken: the redrive gives it MAX_DELIVERIES fresh attempts, all failing
    expect(await redriveDeadLetters(opts, 'all')).toEqual({ redriven: ['ord_again'] });
    await waitFor('back in the DLQ', async () => (await readyCount(url, DLQ)) === 1 && calls.get('ord_again') === 2 * MAX_DELIVERIES);
    const [letter] = (await listDeadLetters(opts)).letters;
    expect(letter).toMatchObject({ orderId: 'ord_again', reason: 'delivery_limit', redrives: 1 });
  });

  it('fails with exit code 3 when the broker cannot be reached', async () => {
    const url = amqpUrl('/', await freePort());
    const err = await listDeadLetters({ url, timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).exitCode).toBe(3);
    expect((err as SurgeError).message).toMatch(/cannot reach RabbitMQ at amqp:\/\/guest@127\.0\.0\.1:\d+\/%2F to read the dead-letter queue surgectl\.orders\.dlq: connect ECONNREFUSED/);
  });
});

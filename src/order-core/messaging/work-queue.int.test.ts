import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { capturingLogger, silentLogger, waitFor } from '../../../test/support/order-engine.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../../test/support/postgres.js';
import { amqpUrl, createTestVhost, drainQueue, publishRaw, rabbitmqctl, readyCount, requireRabbitMq, type TestVhost } from '../../../test/support/rabbitmq.js';
import { SurgeError } from '../../errors.js';
import { listDeadLetters } from './dlq.js';
import { assertTopology, connectBroker, encodeWorkMessage, resolveTopology, workPublishOptions, WorkQueueConsumer, type WorkDelivery, type WorkHandler, type WorkOutcome } from './work-queue.js';

// The consumer against the real RabbitMQ (a vhost per test) with an idempotent handler whose
// effects are rows in the real PostgreSQL, keyed by order id under a unique constraint.

const pgUp = await requirePostgres('messaging/work-queue.int.test.ts');
const mqUp = await requireRabbitMq('messaging/work-queue.int.test.ts');

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

async function vhost(): Promise<TestVhost> {
  const v = await createTestVhost('surgectl_wq');
  cleanups.push(() => v.drop());
  return v;
}

/** Publishes order ids as the relay does (after declaring the queues with `maxDeliveries`). */
async function publishIds(url: string, ids: string[], maxDeliveries: number): Promise<void> {
  const conn = await connectBroker(url);
  try {
    await assertTopology(conn, resolveTopology({ maxDeliveries }));
  } finally {
    await conn.close();
  }
  await publishRaw(
    url,
    QUEUE,
    ids.map((id) => ({ body: encodeWorkMessage(id), options: workPublishOptions(id) })),
  );
}

/**
 * An idempotent handler as the pipeline's must be: its effect is a row keyed by order id (primary
 * key), written with ON CONFLICT DO NOTHING, so a second delivery of the same id finds it done.
 * `before` may fail or stall a delivery (after the effect, like a crash before the ack).
 */
async function effectsHandler(before?: (d: WorkDelivery, signal: AbortSignal) => Promise<WorkOutcome | undefined>) {
  const db = await createTestDatabase('surgectl_wq');
  databases.push(db);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  cleanups.push(() => pool.end());
  await pool.query('CREATE TABLE effects (order_id text PRIMARY KEY, applied_at bigint NOT NULL)');
  const calls = new Map<string, WorkDelivery[]>();
  let applied = 0;
  const handler: WorkHandler = async (d, signal) => {
    calls.set(d.orderId, [...(calls.get(d.orderId) ?? []), d]);
    const r = await pool.query('INSERT INTO effects (order_id, applied_at) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING', [d.orderId, Date.now()]);
    applied += r.rowCount ?? 0;
    return (await before?.(d, signal)) ?? 'done';
  };
  const effects = async () => (await pool.query<{ order_id: string }>('SELECT order_id FROM effects ORDER BY order_id')).rows.map((r) => r.order_id);
  return { handler, calls, effects, applied: () => applied };
}

function start(url: string, handler: WorkHandler, extra: { maxDeliveries?: number; prefetch?: number; logger?: ReturnType<typeof silentLogger> } = {}): WorkQueueConsumer {
  const c = WorkQueueConsumer.start({ url, handler, logger: extra.logger ?? silentLogger(), prefetch: extra.prefetch ?? 8, maxDeliveries: extra.maxDeliveries ?? 3, reconnect: { baseMs: 50, capMs: 500 } });
  cleanups.push(() => c.stop(1_000));
  return c;
}

describe.skipIf(!pgUp || !mqUp)('work queue consumer (RabbitMQ quorum queue)', () => {
  it('declares a durable quorum work queue dead-lettering to a quorum DLQ, and refuses another delivery limit', async () => {
    const v = await vhost();
    await publishIds(v.url, [], 3);
    // passive checks: both exist; a declaration with other arguments is refused with a SurgeError
    expect(await readyCount(v.url, QUEUE)).toBe(0);
    expect(await readyCount(v.url, DLQ)).toBe(0);
    const conn = await connectBroker(v.url);
    cleanups.push(() => conn.close().catch(() => undefined));
    const err = await assertTopology(conn, resolveTopology({ maxDeliveries: 7 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_STACK_QUEUE_MISMATCH');
    expect((err as SurgeError).message).toMatch(/x-delivery-limit/);
    // the queue is a quorum queue: the broker reports its delivery count on a redelivery
    const ch = await conn.createChannel();
    await publishIds(v.url, ['ord_probe'], 3);
    const m1 = (await waitFor('the probe message', async () => (await ch.get(QUEUE, { noAck: false })) || undefined))!;
    ch.nack(m1, false, true);
    const m2 = (await waitFor('the probe redelivered', async () => (await ch.get(QUEUE, { noAck: false })) || undefined))!;
    expect(m2.properties.headers?.['x-delivery-count']).toBe(1);
    ch.ack(m2);
  });

  it('acks what the handler finished and never hands out more than prefetch at once', async () => {
    const v = await vhost();
    const { handler, calls, effects } = await effectsHandler();
    let active = 0;
    let maxActive = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const consumer = start(
      v.url,
      async (d, signal) => {
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          await gate;
          return await handler(d, signal);
        } finally {
          active--;
        }
      },
      { prefetch: 4 },
    );
    const ids = Array.from({ length: 20 }, (_, i) => `ord_pf${String(i).padStart(2, '0')}`);
    await publishIds(v.url, ids, 3);
    await waitFor('4 deliveries in hand', () => active === 4);
    // the broker holds the other 16 back until acks come
    expect(await readyCount(v.url, QUEUE)).toBe(16);
    release();
    await waitFor('every order handled', () => consumer.stats().done === 20);
    expect(maxActive).toBe(4);
    expect(await effects()).toEqual(ids);
    expect([...calls.values()].every((c) => c.length === 1)).toBe(true);
    await waitFor('the queue empty (everything acked)', async () => (await readyCount(v.url, QUEUE)) === 0);
  });

  it('returns a retried order to the queue until its deliveries are used up, then dead-letters it', async () => {
    const v = await vhost();
    const { logger, lines } = capturingLogger('warn');
    const { handler, calls } = await effectsHandler(async (d) => (d.orderId === 'ord_poison' ? 'retry' : undefined));
    const consumer = start(v.url, handler, { maxDeliveries: 3, logger });
    await publishIds(v.url, ['ord_poison', 'ord_fine'], 3);
    await waitFor('the poison order in the DLQ', async () => (await readyCount(v.url, DLQ)) === 1);
    // exactly maxDeliveries attempts, counted by the broker
    expect(calls.get('ord_poison')!.map((d) => d.deliveryCount)).toEqual([0, 1, 2]);
    expect(calls.get('ord_poison')!.map((d) => d.redelivered)).toEqual([false, true, true]);
    expect(calls.get('ord_fine')).toHaveLength(1);
    expect(consumer.stats()).toMatchObject({ done: 1, retried: 3, gaveUp: 0 });
    const { letters } = await listDeadLetters({ url: v.url, maxDeliveries: 3 });
    expect(letters).toMatchObject([{ orderId: 'ord_poison', reason: 'delivery_limit', queue: QUEUE, deaths: 1 }]);
    expect(lines.some((l) => l.orderId === 'ord_poison' && /last delivery/.test(String(l.msg)))).toBe(true);
    expect(await readyCount(v.url, QUEUE)).toBe(0);
  });

  it('dead-letters at once what the handler gives up on, and what is not a work message', async () => {
    const v = await vhost();
    const { handler, calls } = await effectsHandler(async (d) => (d.orderId === 'ord_hopeless' ? 'give-up' : undefined));
    const consumer = start(v.url, handler, { maxDeliveries: 3 });
    await publishIds(v.url, ['ord_hopeless'], 3);
    await publishRaw(v.url, QUEUE, [{ body: Buffer.from('not json'), options: { persistent: true, messageId: 'junk' } }]);
    await waitFor('both in the DLQ', async () => (await readyCount(v.url, DLQ)) === 2);
    expect(calls.get('ord_hopeless')).toHaveLength(1);
    expect(consumer.stats()).toMatchObject({ done: 0, retried: 0, gaveUp: 2 });
    const { letters, total } = await listDeadLetters({ url: v.url, maxDeliveries: 3 });
    expect(total).toBe(2);
    // the junk message has no order id in its body but carries one as message id
    expect(letters.map((l) => [l.orderId, l.reason])).toEqual([
      ['ord_hopeless', 'rejected'],
      ['junk', 'rejected'],
    ]);
  });

  it('handles a redelivered or duplicated order without a second effect', async () => {
    const v = await vhost();
    let crashOnce = true;
    const { handler, calls, effects, applied } = await effectsHandler(async (d) => {
      // the effect is written, then the worker "crashes" before its ack: the broker redelivers
      if (d.orderId === 'ord_crash' && crashOnce) {
        crashOnce = false;
        throw new Error('crashed after the effect, before the ack');
      }
      return undefined;
    });
    const consumer = start(v.url, handler, { maxDeliveries: 5 });
    // 50 ids published twice each: what a relay does when confirms are lost with its connection
    const ids = Array.from({ length: 50 }, (_, i) => `ord_dup${String(i).padStart(2, '0')}`);
    await publishIds(v.url, [...ids, 'ord_crash', ...ids], 5);
    await waitFor('every delivery handled', () => consumer.stats().done === 101);
    expect(calls.get('ord_crash')!.map((d) => d.redelivered)).toEqual([false, true]);
    expect(ids.every((id) => calls.get(id)!.length === 2)).toBe(true);
    // 102 handler calls, 51 effects: one per order
    expect([...calls.values()].reduce((n, c) => n + c.length, 0)).toBe(102);
    expect(applied()).toBe(51);
    expect(await effects()).toEqual([...ids, 'ord_crash'].sort());
    expect(await readyCount(v.url, DLQ)).toBe(0);
  });

  it('gives the messages a stopped consumer held to the next one, which finds the work done', async () => {
    const v = await vhost();
    let stall = true;
    const { handler, calls, effects } = await effectsHandler(async (_d, signal) => {
      if (!stall) return undefined;
      // consumer A's worker hangs after its effect until the consumer goes away
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      throw new Error('stopped');
    });
    const a = start(v.url, handler, { maxDeliveries: 5, prefetch: 2 });
    await publishIds(v.url, ['ord_held1', 'ord_held2'], 5);
    await waitFor('A holds both', () => calls.size === 2);
    await a.stop(0);
    stall = false;
    const b = start(v.url, handler, { maxDeliveries: 5 });
    await waitFor('B finished both', () => b.stats().done === 2);
    expect(calls.get('ord_held1')!.map((d) => d.redelivered)).toEqual([false, true]);
    expect(await effects()).toEqual(['ord_held1', 'ord_held2']);
    expect(await drainQueue(v.url, QUEUE)).toEqual([]);
  });

  it('keeps waiting for a broker that is not there and consumes once one is', async () => {
    // a vhost that does not exist yet: the broker refuses the connection as one that is down would
    const name = `surgectl_wq_late_${Date.now().toString(36)}`;
    const url = amqpUrl(name);
    const { logger, lines } = capturingLogger('warn');
    const { handler, effects } = await effectsHandler();
    const consumer = start(url, handler, { logger });
    await waitFor('the outage logged', () => lines.some((l) => /unreachable/.test(String(l.msg))));
    expect(consumer.stats().connected).toBe(false);
    await rabbitmqctl('add_vhost', name);
    cleanups.push(() => rabbitmqctl('delete_vhost', name));
    await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
    await waitFor('the consumer connected', () => consumer.stats().connected, 20_000);
    await publishIds(url, ['ord_late'], 3);
    await waitFor('the order handled', async () => (await effects()).length === 1);
    // one error for the whole outage, one line when it ended
    expect(lines.filter((l) => /unreachable/.test(String(l.msg)))).toHaveLength(1);
    expect(lines.filter((l) => /answers again/.test(String(l.msg)))).toHaveLength(1);
  });
});

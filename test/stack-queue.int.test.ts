import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../src/order-core/domain/types.js';
import { runMain } from './support/cli.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from './support/postgres.js';
import { createTestVhost, readyCount, requireRabbitMq, withBrokerStopped, type TestVhost } from './support/rabbitmq.js';
import { httpClient, startTestStack, tempDir, waitFor, writeSeedFile, type HttpClient, type TestStack } from './support/stack.js';

/**
 * The stack whose workers are fed by RabbitMQ (`stack up --store postgres://… --queue amqp://…`),
 * against the machine's real PostgreSQL and RabbitMQ: the broker stopped under load, an order that
 * fails every delivery landing in the dead-letter queue, and `stack dlq` bringing it back. The
 * everyday behaviour (lifecycle, flash sale, breaker, duplicates) runs in stack-backends.int.test.ts
 * on this backend too.
 */

const pgUp = await requirePostgres('stack-queue.int.test.ts');
const rabbitUp = await requireRabbitMq('stack-queue.int.test.ts');
const up = pgUp && rabbitUp;

describe.skipIf(!up)('the order stack on PostgreSQL + RabbitMQ', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let stack: TestStack;
  let http: HttpClient;
  let sql: pg.Pool;
  const seedDir = tempDir('surgectl-queue-seed-');

  beforeAll(async () => {
    db = await createTestDatabase('surgectl_queue');
    vhost = await createTestVhost('surgectl_queue');
    const seedInventory = writeSeedFile(seedDir.path, [{ sku: 'STD-1', stock: 100_000, priceCents: 1250 }]);
    stack = await startTestStack({ store: db.url, queue: vhost.url, storePool: 8, seedInventory, workers: 8 });
    http = httpClient(stack.url, { adminToken: stack.adminToken, connections: 32 });
    sql = new pg.Pool({ connectionString: db.url, max: 2 });
  }, 60_000);
  afterAll(async () => {
    await http?.close();
    await stack?.dispose();
    await sql?.end();
    await vhost?.drop();
    await db?.drop();
    seedDir.remove();
  }, 60_000);

  let seq = 0;
  const post = (customerId: string) => http.postOrder({ customerId, items: [{ sku: 'STD-1', qty: 1 }] }, `queue-${customerId}-${++seq}`);
  const order = async (id: string) => (await http.call('GET', `/v1/orders/${id}`)).body as OrderView;
  const succeededCharges = async (ids: string[]) => {
    const pay = httpClient(stack.paymentUrl);
    try {
      const counts = await Promise.all(
        ids.map(async (id) => ((await pay.call('GET', `/v1/charges?orderId=${id}`)).body as { charges: { status: string }[] }).charges.filter((c) => c.status === 'succeeded').length),
      );
      return counts;
    } finally {
      await pay.close();
    }
  };

  it('keeps acknowledging orders while RabbitMQ is stopped (they wait in the outbox), then processes each exactly once', async () => {
    const ids: string[] = [];
    await withBrokerStopped(async () => {
      // bounded: 200 orders, 20 at a time
      for (let batch = 0; batch < 10; batch++) {
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`outage-${batch}-${i}`)));
        expect(answers.map((a) => a.status).filter((s) => s !== 202)).toEqual([]);
        ids.push(...answers.map((a) => (a.body as { orderId: string }).orderId));
      }
      // nothing reaches a worker without the broker: every order is accepted and in the outbox, unsent
      await new Promise((r) => setTimeout(r, 500));
      const states = await Promise.all(ids.map(order));
      expect(states.every((o) => o.status === 'accepted')).toBe(true);
      const unsent = await sql.query<{ n: string }>('SELECT count(*) AS n FROM work_outbox WHERE sent_at IS NULL AND order_id = ANY($1::text[])', [ids]);
      expect(Number(unsent.rows[0]?.n)).toBe(200);
    });
    // back: the relay publishes the backlog and the consumer reconnects
    await waitFor('all 200 orders confirmed after RabbitMQ came back', async () => (await Promise.all(ids.map(order))).every((o) => o.status === 'confirmed'), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    expect(await succeededCharges(ids)).toEqual(ids.map(() => 1));
    for (const o of await Promise.all(ids.map(order))) expect(o.history.map((h) => h.status)).toEqual(['accepted', 'reserved', 'paid', 'confirmed']);
    const sent = await sql.query<{ n: string }>('SELECT count(*) AS n FROM work_outbox WHERE sent_at IS NOT NULL AND order_id = ANY($1::text[])', [ids]);
    expect(Number(sent.rows[0]?.n)).toBe(200);
  }, 150_000);

  it('parks an order that fails every delivery in the dead-letter queue; stack dlq lists, shows and redrives it, and it is then confirmed once', async () => {
    // an order whose row the worker cannot read: accepted while the workers are paused, then its
    // items overwritten with text that is not JSON, so every delivery fails unexpectedly
    stack.engine.pool.pause();
    const res = await post('poison');
    expect(res.status).toBe(202);
    const id = (res.body as { orderId: string }).orderId;
    const original = (await sql.query<{ items: string }>('SELECT items FROM orders WHERE id = $1', [id])).rows[0]!.items;
    await sql.query("UPDATE orders SET items = 'not json' WHERE id = $1", [id]);
    stack.engine.pool.resume();

    const env = { SURGECTL_STACK_QUEUE: vhost.url, NO_COLOR: '1' };
    const listed = await waitFor(
      'the order in the dead-letter queue',
      async () => {
        const r = await runMain(['stack', 'dlq', 'list', '-o', 'json'], { env });
        const body = r.code === 0 ? (JSON.parse(r.stdout) as { total: number; letters: { orderId: string; reason: string; deaths: number }[] }) : undefined;
        return body?.letters.some((l) => l.orderId === id) === true ? body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    expect(listed.letters.find((l) => l.orderId === id)).toMatchObject({ reason: 'delivery_limit', deaths: 1 });
    // parked: not final, not due, not retried behind the DLQ's back
    const parked = (await sql.query<{ status: string; next_attempt_at: number | null; lease_owner: string | null }>('SELECT status, next_attempt_at, lease_owner FROM orders WHERE id = $1', [id])).rows[0];
    expect(parked).toEqual({ status: 'accepted', next_attempt_at: null, lease_owner: null });
    await new Promise((r) => setTimeout(r, 1_500)); // longer than the relay's redispatch period
    expect(await readyCount(vhost.url, 'surgectl.orders')).toBe(0);

    const table = await runMain(['stack', 'dlq', 'list'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(id);
    expect(table.stdout).toContain('delivery_limit');
    expect(table.stdout + table.stderr).not.toContain('guest:guest');
    const shown = await runMain(['stack', 'dlq', 'show', id, '-o', 'json'], { env });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ orderId: id, reason: 'delivery_limit', queue: 'surgectl.orders' });
    const missing = await runMain(['stack', 'dlq', 'show', 'ord_not_there'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('order ord_not_there is not in the dead-letter queue');

    // a redrive changes a live system: refused off a TTY without --yes, and --dry-run moves nothing
    const refused = await runMain(['stack', 'dlq', 'redrive', id], { env });
    expect(refused.code).not.toBe(0);
    const dry = await runMain(['stack', 'dlq', 'redrive', '--all', '--dry-run', '-o', 'json'], { env });
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, planned: [id] });
    const usage = await runMain(['stack', 'dlq', 'redrive', id, '--all'], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give an order id or --all, not both');

    // the cause fixed, the order goes back and is processed once
    await sql.query('UPDATE orders SET items = $2 WHERE id = $1', [id, original]);
    const moved = await runMain(['--yes', 'stack', 'dlq', 'redrive', id, '-o', 'json'], { env });
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toEqual({ dryRun: false, redriven: [id] });
    await waitFor('the redriven order confirmed', async () => (await order(id)).status === 'confirmed', { timeoutMs: 30_000, intervalMs: 200 });
    expect(await succeededCharges([id])).toEqual([1]);
    const empty = await runMain(['stack', 'dlq', 'list', '-o', 'json'], { env });
    expect(JSON.parse(empty.stdout)).toEqual({ total: 0, letters: [] });
  }, 90_000);

  it('refuses a RabbitMQ work queue on the SQLite store, and stack dlq without a queue, naming what to give', async () => {
    await expect(startTestStack({ queue: vhost.url })).rejects.toMatchObject({ code: 'SRG_CONFIG_INVALID', message: expect.stringContaining('needs a PostgreSQL order store') });
    const r = await runMain(['stack', 'dlq', 'list'], { env: { SURGECTL_STACK_QUEUE: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--queue amqp://user@host:port/vhost');
  });
});

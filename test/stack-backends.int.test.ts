import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../src/order-core/domain/types.js';
import { runMain } from './support/cli.js';
import { freePort } from './support/ports.js';
import { createTestVhost, requireRabbitMq } from './support/rabbitmq.js';
import { createTestDatabase, pgUrl, requirePostgres, startPostgresRelay, type TestDatabase } from './support/postgres.js';
import { httpClient, startTestStack, tempDir, waitFor, writeSeedFile, type HttpClient, type TestStack } from './support/stack.js';

/**
 * One behavioural suite for the whole stack, run on each order store: a real stack in this
 * process on free ports, driven over HTTP only. SQLite gets its own temp data dir; PostgreSQL its
 * own test database, created and dropped here (CI=true with PostgreSQL unreachable fails the
 * suite; elsewhere the postgres half is skipped with a warning naming it).
 */

const pgUp = await requirePostgres('stack-backends.int.test.ts (postgres)');
const rabbitUp = await requireRabbitMq('stack-backends.int.test.ts (postgres + rabbitmq)');

interface Backend {
  name: 'sqlite' | 'postgres' | 'postgres + rabbitmq';
  /** The order store it runs on. */
  kind: 'sqlite' | 'postgres';
  /** The `stack.store` (and `stack.queue`) values, and the database / vhost to drop afterwards. */
  setup(): Promise<{ store: string; queue?: string; teardown(): Promise<void> }>;
}

const backends: Backend[] = [
  { name: 'sqlite', kind: 'sqlite', setup: async () => ({ store: 'sqlite', teardown: async () => undefined }) },
  {
    name: 'postgres',
    kind: 'postgres',
    setup: async () => {
      const db: TestDatabase = await createTestDatabase('surgectl_stack');
      return { store: db.url, teardown: () => db.drop() };
    },
  },
  {
    // the workers fed by the RabbitMQ work queue through the transactional outbox
    name: 'postgres + rabbitmq',
    kind: 'postgres',
    setup: async () => {
      const db: TestDatabase = await createTestDatabase('surgectl_stack');
      const vhost = await createTestVhost('surgectl_stack');
      return {
        store: db.url,
        queue: vhost.url,
        teardown: async () => {
          await db.drop();
          await vhost.drop();
        },
      };
    },
  },
];

interface Status {
  breaker: string;
  orders: { byStatus: Record<string, number> };
  oversold: number;
}
interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
  requestId: string;
}
const FINAL = ['confirmed', 'sold_out', 'payment_failed', 'cancelled'];

describe.each(backends)('the order stack on $name', (backend) => {
  const skip = (backend.kind === 'postgres' && !pgUp) || (backend.name === 'postgres + rabbitmq' && !rabbitUp);
  let stack: TestStack;
  let http: HttpClient;
  let teardown: (() => Promise<void>) | undefined;
  const seedDir = tempDir('surgectl-backends-seed-');

  beforeAll(async () => {
    if (skip) return;
    const db = await backend.setup();
    teardown = db.teardown;
    const seedInventory = writeSeedFile(seedDir.path, [
      { sku: 'HOT-1', stock: 100, priceCents: 4999 },
      { sku: 'STD-1', stock: 10_000, priceCents: 1250 },
    ]);
    stack = await startTestStack({ store: db.store, ...(db.queue !== undefined ? { queue: db.queue } : {}), storePool: 8, seedInventory, workers: 8 });
    http = httpClient(stack.url, { adminToken: stack.adminToken, connections: 64 });
  }, 60_000);
  afterAll(async () => {
    await http?.close();
    await stack?.dispose();
    await teardown?.();
    seedDir.remove();
  }, 60_000);

  const status = async () => (await http.admin('GET', '/admin/status')).body as Status;
  const order = async (id: string) => (await http.call('GET', `/v1/orders/${id}`)).body as OrderView;
  let seq = 0;
  const key = (prefix: string) => `${backend.name.replace(/\W+/g, '-')}-${prefix}-${++seq}`;

  it.skipIf(skip)('runs on the store it was given, and says so without a password', () => {
    expect(stack.store.kind).toBe(backend.kind);
    if (backend.name === 'postgres + rabbitmq') expect(stack.queue).toMatch(/^amqp:\/\/guest@127\.0\.0\.1:5672\/surgectl_stack_/);
    else expect(stack.queue).toBeUndefined();
    if (backend.kind === 'postgres') expect(stack.store.description).toMatch(/^PostgreSQL postgres:\/\/[^:@/]+@127\.0\.0\.1:5432\/surgectl_stack_/);
  });

  it.skipIf(skip)('takes an order over HTTP: 202 with a status URL, then confirmed with its history', async () => {
    const res = await http.postOrder({ customerId: 'life-1', items: [{ sku: 'STD-1', qty: 2 }] }, key('life'));
    expect(res.status).toBe(202);
    const accepted = res.body as { orderId: string; status: string; statusUrl: string };
    expect(accepted.status).toBe('accepted');
    expect(res.headers.location).toBe(accepted.statusUrl);
    const done = await waitFor('the order confirmed', async () => {
      const o = (await http.call('GET', accepted.statusUrl)).body as OrderView;
      return o.status === 'confirmed' ? o : undefined;
    }, { timeoutMs: 20_000, intervalMs: 50 });
    expect(done).toMatchObject({ orderId: accepted.orderId, customerId: 'life-1', items: [{ sku: 'STD-1', qty: 2 }] });
    expect(done.history.map((h) => h.status)).toEqual(['accepted', 'reserved', 'paid', 'confirmed']);
    expect((await http.call('GET', '/v1/orders/ord_does_not_exist')).status).toBe(404);
  });

  it.skipIf(skip)('answers a duplicate (same Idempotency-Key and body) with the same order, and a reused key with another body with 409', async () => {
    const body = { customerId: 'dup-1', items: [{ sku: 'STD-1', qty: 1 }] };
    const k = key('dup');
    const [a, b] = await Promise.all([http.postOrder(body, k), http.postOrder(body, k)]);
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    const id = (a.body as { orderId: string }).orderId;
    expect((b.body as { orderId: string }).orderId).toBe(id);
    const later = await http.postOrder(body, k);
    expect(later.status).toBe(200);
    expect((later.body as { orderId: string }).orderId).toBe(id);
    const other = await http.postOrder({ ...body, customerId: 'dup-2' }, k);
    expect(other.status).toBe(409);
    expect((other.body as ErrorBody).error.code).toBe('ORDER_IDEMPOTENCY_CONFLICT');
    await waitFor('the duplicate order final', async () => FINAL.includes((await order(id)).status), { timeoutMs: 20_000 });
  });

  it.skipIf(skip)('sells exactly 100 of 100 units to 1,000 concurrent orders: 100 confirmed, 900 sold_out, oversold 0', async () => {
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => http.postOrder({ customerId: `buyer-${i}`, items: [{ sku: 'HOT-1', qty: 1 }] }, key('flash'))));
    expect(results.map((r) => r.status).filter((s) => s !== 202)).toEqual([]);
    const ids = results.map((r) => (r.body as { orderId: string }).orderId);
    expect(new Set(ids).size).toBe(1000);
    // the flash orders are the only ones on HOT-1: its inventory row says when all are final
    await waitFor(
      'all 1,000 flash orders final',
      async () => {
        const inv = (await http.call('GET', '/v1/inventory')).body as { items: { sku: string; reserved: number; sold: number }[] };
        const hot = inv.items.find((i) => i.sku === 'HOT-1');
        const s = await status();
        return hot?.sold === 100 && hot.reserved === 0 && (s.orders.byStatus.sold_out ?? 0) === 900;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const s = await status();
    expect(s.oversold).toBe(0);
    expect(s.orders.byStatus.sold_out).toBe(900);
    // a sample of the orders themselves agrees (bounded: every 10th)
    const sample = await Promise.all(ids.filter((_, i) => i % 10 === 0).map((id) => order(id)));
    expect(sample.every((o) => o.status === 'confirmed' || o.status === 'sold_out')).toBe(true);
    const inv = (await http.call('GET', '/v1/inventory')).body as { items: { sku: string; available: number; reserved: number; sold: number }[] };
    expect(inv.items.find((i) => i.sku === 'HOT-1')).toEqual({ sku: 'HOT-1', available: 0, reserved: 0, sold: 100 });
  }, 90_000);

  it.skipIf(skip)('opens the breaker while the gateway fails, parks orders in payment_pending, and confirms each once after it heals', async () => {
    const broken = await http.admin('PUT', '/admin/faults/payment', { failureRate: 1 });
    expect(broken.status).toBe(200);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await http.postOrder({ customerId: `outage-${i}`, items: [{ sku: 'STD-1', qty: 1 }] }, key('outage'));
      expect(res.status).toBe(202);
      ids.push((res.body as { orderId: string }).orderId);
    }
    await waitFor(
      'the breaker open with all 20 orders waiting for payment',
      async () => (await status()).breaker === 'open' && (await Promise.all(ids.map(order))).every((o) => o.status === 'payment_pending'),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect((await http.call('GET', '/metrics')).text).toContain('surgectl_payment_breaker_state 2');

    expect((await http.admin('PUT', '/admin/faults/payment', { failureRate: 0 })).status).toBe(200);
    await waitFor('all 20 orders confirmed after the gateway healed', async () => (await Promise.all(ids.map(order))).every((o) => o.status === 'confirmed'), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const healed = await http.admin('GET', '/admin/status');
    expect(healed.status, healed.text).toBe(200);
    expect((healed.body as Status).breaker).toBe('closed');
    const pay = httpClient(stack.paymentUrl);
    try {
      for (const id of ids) {
        expect((await order(id)).history.map((h) => h.status)).toContain('payment_pending');
        const charges = (await pay.call('GET', `/v1/charges?orderId=${id}`)).body as { charges: { status: string }[] };
        expect(charges.charges.filter((c) => c.status === 'succeeded')).toHaveLength(1);
      }
    } finally {
      await pay.close();
    }
  }, 120_000);

  it.skipIf(skip)('answers malformed requests with 400 and the JSON error body, storing nothing', async () => {
    const before = Object.values((await status()).orders.byStatus).reduce((a, b) => a + b, 0);
    const json = { 'content-type': 'application/json' };
    const cases: { name: string; body: string; headers: Record<string, string>; code: string }[] = [
      { name: 'truncated JSON', body: '{"customerId":"c1","items":[', headers: { ...json, 'idempotency-key': key('bad') }, code: 'ORDER_INVALID_JSON' },
      { name: 'no Idempotency-Key', body: JSON.stringify({ customerId: 'c1', items: [{ sku: 'STD-1', qty: 1 }] }), headers: json, code: 'ORDER_IDEMPOTENCY_KEY_REQUIRED' },
      { name: 'qty 0', body: JSON.stringify({ customerId: 'c1', items: [{ sku: 'STD-1', qty: 0 }] }), headers: { ...json, 'idempotency-key': key('bad') }, code: 'ORDER_VALIDATION' },
      { name: 'no items', body: JSON.stringify({ customerId: 'c1', items: [] }), headers: { ...json, 'idempotency-key': key('bad') }, code: 'ORDER_VALIDATION' },
    ];
    for (const c of cases) {
      const res = await http.call('POST', '/v1/orders', { body: c.body, headers: c.headers });
      expect(res.status, c.name).toBe(400);
      const b = res.body as ErrorBody;
      expect(b.error.code, c.name).toBe(c.code);
      expect(b.error.message.length, c.name).toBeGreaterThan(5);
      expect(typeof b.requestId, c.name).toBe('string');
    }
    const after = Object.values((await status()).orders.byStatus).reduce((a, b) => a + b, 0);
    expect(after).toBe(before);
  });

  it.skipIf(skip)('restart-store is a SQLite fault: it reopens SQLite, and PostgreSQL answers 409 ORDER_FAULT_UNSUPPORTED', async () => {
    const res = await http.admin('POST', '/admin/faults/restart-store');
    if (backend.kind === 'sqlite') {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ restarted: true });
    } else {
      expect(res.status).toBe(409);
      expect((res.body as ErrorBody).error).toMatchObject({ code: 'ORDER_FAULT_UNSUPPORTED', message: expect.stringContaining('SQLite') });
    }
    expect((await http.call('GET', '/readyz')).status).toBe(200);
  });
});


describe.skipIf(!pgUp)('the order stack when PostgreSQL goes away', () => {
  it('answers 503 ORDER_STORE_UNAVAILABLE with Retry-After and /readyz not ready while it is away, and recovers when it is back', async () => {
    const db = await createTestDatabase('surgectl_stack_away');
    const proxy = await startPostgresRelay();
    let stack: TestStack | undefined;
    let http: HttpClient | undefined;
    try {
      stack = await startTestStack({ store: pgUrl(db.name, proxy.port), storePool: 4, seedInventory: 10, workers: 2 });
      http = httpClient(stack.url, { adminToken: stack.adminToken });
      const first = await http.postOrder({ customerId: 'c1', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'away-1');
      expect(first.status).toBe(202);
      const id = (first.body as { orderId: string }).orderId;

      await proxy.cut();
      const h = http;
      await waitFor('/readyz not ready', async () => (await h.call('GET', '/readyz')).status === 503, { timeoutMs: 10_000 });
      const ready = await http.call('GET', '/readyz');
      expect((ready.body as ErrorBody).error).toMatchObject({ code: 'ORDER_STORE_UNAVAILABLE', message: expect.stringContaining('store unavailable') });
      const read = await http.call('GET', `/v1/orders/${id}`);
      expect(read.status).toBe(503);
      expect(read.headers['retry-after']).toBe('1');
      expect((read.body as ErrorBody).error.code).toBe('ORDER_STORE_UNAVAILABLE');
      const write = await http.postOrder({ customerId: 'c2', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'away-2');
      expect(write.status).toBe(503);
      expect((write.body as ErrorBody).error.code).toBe('ORDER_STORE_UNAVAILABLE');
      expect(write.headers['retry-after']).toBeDefined();

      await proxy.restore();
      await waitFor('/readyz ready again', async () => (await h.call('GET', '/readyz')).status === 200, { timeoutMs: 10_000 });
      // the refused order, sent again with its key, is stored once
      const again = await http.postOrder({ customerId: 'c2', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'away-2');
      expect(again.status).toBe(202);
      expect((await http.call('GET', `/v1/orders/${id}`)).status).toBe(200);
    } finally {
      await http?.close();
      await stack?.dispose();
      await proxy.close();
      await db.drop();
    }
  }, 60_000);

  it('refuses to start with SRG_STACK_STORE_UNREACHABLE (exit 3) naming the database without its password', async () => {
    const port = await freePort();
    const err = await startTestStack({ store: `postgres://app:s3cret@127.0.0.1:${port}/orders` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'SRG_STACK_STORE_UNREACHABLE', exitCode: 3, message: expect.stringContaining(`postgres://app@127.0.0.1:${port}/orders`) });
    expect(String((err as Error).message)).not.toContain('s3cret');
  }, 30_000);
});

describe.skipIf(!pgUp)('surgectl stack migrate', () => {
  it('prints the SQL on --dry-run and changes nothing, applies the versions once, then has nothing to apply; never prints the password', async () => {
    const db = await createTestDatabase('surgectl_migrate_cli');
    const dir = tempDir('surgectl-migrate-cli-');
    // a password pg never needs here (trust auth), to prove it is never shown
    const url = db.url.replace('@', ':s3cret@');
    const shown = db.url;
    const run = (args: string[]) => runMain(['stack', 'migrate', '--store', url, ...args], { cwd: dir.path, env: { SURGECTL_CONFIG: '' } });
    try {
      const dry = await run(['--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`-- dry run: ${shown} is at schema version 0; applying 1, 2 would run:`);
      expect(dry.stdout).toMatch(/CREATE TABLE products \(/);
      expect(dry.stdout).toContain('PARTITION OF orders');

      const first = await run(['--partitions', '4', '-o', 'json']);
      expect(first.code, first.stderr).toBe(0);
      const r = JSON.parse(first.stdout) as { database: string; dryRun: boolean; from: number; current: number; applied: number[]; sql: string[] };
      expect(r).toMatchObject({ database: shown, dryRun: false, from: 0, current: 2, applied: [1, 2] });
      expect(r.sql.filter((q) => q.includes('PARTITION OF orders'))).toHaveLength(4);

      const again = await run([]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe(`${shown} is at schema version 2 (the latest): nothing to apply\n`);
      for (const out of [dry, first, again]) expect(out.stdout + out.stderr).not.toContain('s3cret');
    } finally {
      dir.remove();
      await db.drop();
    }
  }, 60_000);

  it('exits 3 when PostgreSQL does not answer and 2 without a PostgreSQL store, naming no password', async () => {
    const dir = tempDir('surgectl-migrate-cli-');
    try {
      const port = await freePort();
      const down = await runMain(['stack', 'migrate', '--store', `postgres://app:s3cret@127.0.0.1:${port}/orders`], { cwd: dir.path, env: { SURGECTL_CONFIG: '' } });
      expect(down.code).toBe(3);
      expect(down.stderr).toContain('SRG_STACK_STORE_UNREACHABLE');
      expect(down.stderr).toContain(`postgres://app@127.0.0.1:${port}/orders`);
      expect(down.stderr).not.toContain('s3cret');
      const bad = await runMain(['stack', 'migrate', '--store', 'mysql://app:s3cret@db/orders'], { cwd: dir.path, env: { SURGECTL_CONFIG: '' } });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--store must be 'sqlite' or a postgres://user@host:port/database URL");
      expect(bad.stderr).not.toContain('s3cret');
    } finally {
      dir.remove();
    }
  }, 30_000);
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createStackLogger } from '../logger.js';
import type { PaymentGatewayHandle } from '../payment-gateway/server.js';
import type { PipelineOptions, SqliteEngine as Engine } from './create-engine.js';
import { acceptRequest, chargesFor, deadPid, stackConfig, startEngine, startGateway, tempDir, waitFor } from '../../../test/support/order-engine.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  opts: { workers?: number; seed?: number | string; failureRate?: number; latencyMs?: number; leaseMs?: number; reservationTtlMs?: number } = {},
  extra: Partial<PipelineOptions> = {},
) {
  const tmp = tempDir();
  cleanups.push(() => tmp.remove());
  const gateway = await startGateway(tmp.dir, { failureRate: opts.failureRate ?? 0, latencyMs: opts.latencyMs ?? 0 });
  cleanups.push(() => gateway.close());
  const config = stackConfig({
    dataDir: tmp.dir,
    workers: opts.workers ?? 4,
    leaseMs: opts.leaseMs ?? 400,
    ...(opts.reservationTtlMs !== undefined ? { reservationTtlMs: opts.reservationTtlMs } : {}),
    ...(opts.seed !== undefined ? { seedInventory: opts.seed } : {}),
  });
  const engine = await startEngine(config, gateway.url, extra);
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await engine.close();
  });
  return { tmp, gateway, config, engine, markClosed: () => (closed = true) };
}

const terminal = (engine: Engine, ids: string[]) => ids.every((id) => ['confirmed', 'sold_out', 'payment_failed', 'cancelled'].includes(engine.store.orderView(id)?.status ?? ''));

async function acceptAll(engine: Engine, n: number, item: { sku: string; qty: number }, token?: string): Promise<string[]> {
  const outcomes = await Promise.all(
    Array.from({ length: n }, (_, i) => engine.store.accept(acceptRequest({ customerId: `c${i}`, items: [item], ...(token !== undefined ? { paymentToken: token } : {}) }))),
  );
  return outcomes.map((o) => {
    if (o.kind !== 'created') throw new Error(`expected created, got ${o.kind}`);
    return o.order.orderId;
  });
}

describe('order engine (real SQLite + real gateway)', () => {
  it('takes an order through reserve, pay, confirm and notify with a history entry per state', async () => {
    const { engine, gateway } = await setup({ seed: 5 });
    const [id] = await acceptAll(engine, 1, { sku: 'SKU-0001', qty: 2 });
    await waitFor('order confirmed and notified', () => engine.store.getRow(id!)?.notified === 1);
    const view = engine.store.orderView(id!)!;
    expect(view.status).toBe('confirmed');
    expect(view.history.map((h) => h.status)).toEqual(['accepted', 'reserved', 'paid', 'confirmed']);
    expect(view.queuePosition).toBeUndefined();
    expect(engine.store.inventoryNow().find((i) => i.sku === 'SKU-0001')).toEqual({ sku: 'SKU-0001', available: 3, reserved: 0, sold: 2 });
    const charges = await chargesFor(gateway.url, id!);
    expect(charges).toHaveLength(1);
    expect(engine.store.outboxCount()).toBe(1);
    expect(await engine.metrics.registry.getSingleMetricAsString('surgectl_orders_completed_total')).toContain('status="confirmed"} 1');
    // the accept waited for an fdatasync of the WAL, and the histogram saw it
    const syncs = await engine.metrics.registry.getSingleMetricAsString('surgectl_store_sync_duration_seconds');
    expect(Number(/surgectl_store_sync_duration_seconds_count (\d+)/.exec(syncs)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('logs confirmed orders in shared lines with their charge ids, every one written by the time close() returns', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createStackLogger({ destination: new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }) });
    const { engine, gateway, markClosed } = await setup({ seed: 10 }, { logger });
    const ids = await acceptAll(engine, 5, { sku: 'SKU-0002', qty: 1 });
    await waitFor('all confirmed', () => ids.every((id) => engine.store.orderView(id)?.status === 'confirmed'));
    await engine.close();
    markClosed();
    const confirmed = lines.filter((l) => l.msg === 'orders confirmed');
    const logged = confirmed.flatMap((l) => l.orderIds as string[]);
    expect([...logged].sort()).toEqual([...ids].sort());
    expect(confirmed.reduce((n, l) => n + (l.confirmed as number), 0)).toBe(5);
    // aligned lists: each order's charge id at its index
    const chargeOf = new Map(confirmed.flatMap((l) => (l.orderIds as string[]).map((id, i) => [id, (l.chargeIds as (string | null)[])[i]] as const)));
    for (const id of ids) expect(chargeOf.get(id)).toBe((await chargesFor(gateway.url, id))[0]!.chargeId);
  });

  it('never oversells: 120 concurrent orders for 25 units end as exactly 25 confirmed and 95 sold_out', async () => {
    const { engine, gateway } = await setup({ seed: 25, workers: 16 });
    const ids = await acceptAll(engine, 120, { sku: 'SKU-0007', qty: 1 });
    await waitFor('all orders final', () => terminal(engine, ids), 30_000);
    const statuses = ids.map((id) => engine.store.orderView(id)!.status);
    expect(statuses.filter((s) => s === 'confirmed')).toHaveLength(25);
    expect(statuses.filter((s) => s === 'sold_out')).toHaveLength(95);
    const soldOut = engine.store.orderView(ids[statuses.indexOf('sold_out')]!)!;
    expect(soldOut.reason).toContain('SKU-0007');
    expect(engine.store.statsNow().oversold).toBe(0);
    expect(engine.store.inventoryNow().find((i) => i.sku === 'SKU-0007')).toEqual({ sku: 'SKU-0007', available: 0, reserved: 0, sold: 25 });
    // one charge per confirmed order, none for sold-out ones
    const confirmed = ids.filter((_, i) => statuses[i] === 'confirmed');
    const counts = await Promise.all(confirmed.map(async (id) => (await chargesFor(gateway.url, id)).length));
    expect(counts.every((c) => c === 1)).toBe(true);
    expect((await chargesFor(gateway.url, ids[statuses.indexOf('sold_out')]!)).length).toBe(0);
  });

  it('concurrent duplicates of one idempotency key create exactly one order; another body is a conflict', async () => {
    const { engine } = await setup({ workers: 0 });
    const order = { customerId: 'dup', items: [{ sku: 'SKU-0002', qty: 1 }] };
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => engine.store.accept(acceptRequest(order, 'same-key'))));
    const created = outcomes.filter((o) => o.kind === 'created');
    expect(created).toHaveLength(1);
    const id = created[0]!.kind === 'created' ? created[0]!.order.orderId : '';
    expect(outcomes.every((o) => (o.kind === 'created' || o.kind === 'existing') && o.order.orderId === id)).toBe(true);
    const conflict = await engine.store.accept(acceptRequest({ ...order, customerId: 'other' }, 'same-key'));
    expect(conflict).toEqual({ kind: 'conflict', orderId: id });
    expect(engine.store.statsNow().byStatus.accepted).toBe(1);
  });

  it('answers unknown skus without storing anything', async () => {
    const { engine } = await setup({ workers: 0 });
    const out = await engine.store.accept(acceptRequest({ customerId: 'c', items: [{ sku: 'NOPE-1', qty: 1 }, { sku: 'SKU-0001', qty: 1 }] }));
    expect(out).toEqual({ kind: 'unknown_sku', skus: ['NOPE-1'] });
    expect(engine.store.statsNow().byStatus.accepted).toBe(0);
  });

  it('reports queue position while waiting and serves them oldest first', async () => {
    const { engine } = await setup({ workers: 0 });
    const ids = await acceptAll(engine, 5, { sku: 'SKU-0003', qty: 1 });
    expect(ids.map((id) => engine.store.orderView(id)!.queuePosition)).toEqual([1, 2, 3, 4, 5]);
    expect(engine.store.statsNow().queueDepth).toBe(5);
    engine.pool.setSize(1);
    await waitFor('all confirmed', () => terminal(engine, ids));
    const confirmedAt = ids.map((id) => engine.store.orderView(id)!.history.find((h) => h.status === 'confirmed')!.at);
    expect([...confirmedAt].sort()).toEqual(confirmedAt);
  });

  it('a decline fails the order and puts its stock back', async () => {
    const { engine, gateway } = await setup({ seed: 3 });
    const [id] = await acceptAll(engine, 1, { sku: 'SKU-0004', qty: 3 }, 'tok_decline');
    await waitFor('payment_failed', () => engine.store.orderView(id!)?.status === 'payment_failed');
    const view = engine.store.orderView(id!)!;
    expect(view.reason).toContain('card_declined');
    expect(view.history.map((h) => h.status)).toEqual(['accepted', 'reserved', 'payment_failed']);
    expect(engine.store.inventoryNow().find((i) => i.sku === 'SKU-0004')).toEqual({ sku: 'SKU-0004', available: 3, reserved: 0, sold: 0 });
    expect((await chargesFor(gateway.url, id!)).map((c) => c.status)).toEqual(['declined']);
  });

  it('while the gateway fails every call the breaker opens and orders wait in payment_pending; all complete after healing', async () => {
    const { engine, gateway } = await setup({ failureRate: 1, workers: 4 });
    const ids = await acceptAll(engine, 12, { sku: 'SKU-0005', qty: 1 });
    await waitFor('breaker open', () => engine.payments.breakerState() === 'open');
    await waitFor('orders waiting in payment_pending', () => ids.filter((id) => engine.store.orderView(id)?.status === 'payment_pending').length >= 6);
    expect(ids.some((id) => ['payment_failed', 'cancelled'].includes(engine.store.orderView(id)!.status))).toBe(false);
    expect(await engine.metrics.registry.getSingleMetricAsString('surgectl_payment_breaker_state')).toContain('surgectl_payment_breaker_state 2');
    gateway.setConfig({ failureRate: 0 });
    await waitFor('all confirmed after healing', () => ids.every((id) => engine.store.orderView(id)?.status === 'confirmed'), 30_000);
    expect(engine.payments.breakerState()).toBe('closed');
    const pendingOrder = ids.map((id) => engine.store.orderView(id)!).find((o) => o.history.some((h) => h.status === 'payment_pending'));
    expect(pendingOrder?.history.map((h) => h.status)).toEqual(['accepted', 'reserved', 'payment_pending', 'paid', 'confirmed']);
    for (const id of ids) expect((await chargesFor(gateway.url, id)).filter((c) => c.status === 'succeeded')).toHaveLength(1);
  });

  it('a killed worker does not ack: its job is redelivered after the lease and charged once', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const gateway = await startGateway(tmp.dir);
    cleanups.push(() => gateway.close());
    // The first charge is held in front of the gateway until the test lets it go, so the kill
    // lands while the worker is inside the charge whatever the machine's speed.
    const held = await holdFirstRequest(gateway.url);
    cleanups.push(() => held.close());
    const engine = await startEngine(stackConfig({ dataDir: tmp.dir, workers: 1, leaseMs: 300 }), held.url);
    cleanups.push(() => engine.close());
    const [id] = await acceptAll(engine, 1, { sku: 'SKU-0006', qty: 1 });
    await held.arrived;
    expect(engine.pool.busy()).toBe(1);
    const killed = engine.pool.killWorker();
    expect(killed).toEqual({ killed: true, orderId: id });
    held.release();
    await waitFor('redelivered and confirmed', () => engine.store.orderView(id!)?.status === 'confirmed');
    expect(await engine.metrics.registry.getSingleMetricAsString('surgectl_pipeline_redeliveries_total')).toContain('surgectl_pipeline_redeliveries_total 1');
    expect((await chargesFor(gateway.url, id!)).length).toBe(1);
    expect(engine.pool.size()).toBe(1);
  });

  it('cancel releases the reservation of an unpaid order and refuses a confirmed one', async () => {
    const { engine } = await setup({ workers: 0, seed: 4 });
    const [a] = await acceptAll(engine, 1, { sku: 'SKU-0008', qty: 4 });
    expect(engine.store.cancelNow(a!, 'customer_request')).toBe(true);
    expect(engine.store.orderView(a!)!.status).toBe('cancelled');
    expect(engine.store.orderView(a!)!.reason).toBe('customer_request');
    expect(engine.store.cancelNow(a!, 'again')).toBe(false);
    engine.pool.setSize(2);
    const [b] = await acceptAll(engine, 1, { sku: 'SKU-0008', qty: 4 });
    await waitFor('b confirmed', () => engine.store.orderView(b!)?.status === 'confirmed');
    expect(engine.store.cancelNow(b!, 'too late')).toBe(false);
    expect(engine.store.inventoryNow().find((i) => i.sku === 'SKU-0008')).toEqual({ sku: 'SKU-0008', available: 0, reserved: 0, sold: 4 });
  });

  it('an expired reservation with no charge sent is cancelled as reservation_expired and its stock released', async () => {
    // a breaker that stays open for a minute: no charge is ever sent for the late order
    const { engine, gateway } = await setup({ seed: 2, reservationTtlMs: 1_000, workers: 2, failureRate: 1 }, { breaker: { resetTimeoutMs: 60_000, volumeThreshold: 3 } });
    await acceptAll(engine, 4, { sku: 'SKU-0010', qty: 1 });
    await waitFor('breaker open', () => engine.payments.breakerState() === 'open');
    const [late] = await acceptAll(engine, 1, { sku: 'SKU-0009', qty: 2 });
    await waitFor('late order reserved or pending', () => ['reserved', 'payment_pending'].includes(engine.store.orderView(late!)!.status));
    await waitFor('reservation expired', () => engine.store.orderView(late!)?.status === 'cancelled', 10_000);
    expect(engine.store.orderView(late!)!.reason).toBe('reservation_expired');
    expect(engine.store.inventoryNow().find((i) => i.sku === 'SKU-0009')).toEqual({ sku: 'SKU-0009', available: 2, reserved: 0, sold: 0 });
    expect((await chargesFor(gateway.url, late!)).length).toBe(0);
  });

  it('seeds from a CSV file on a fresh store and restocks an existing one without touching sold units', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const csv = join(tmp.dir, 'seed.csv');
    writeFileSync(csv, 'sku,stock,priceCents\nA-1,3,500\nB-2,1\n');
    const gateway: PaymentGatewayHandle = await startGateway(tmp.dir);
    cleanups.push(() => gateway.close());
    const dataDir = join(tmp.dir, 'data');
    let engine = await startEngine(stackConfig({ dataDir, seedInventory: csv }), gateway.url);
    expect(engine.seeded.mode).toBe('fresh');
    expect(engine.store.inventoryNow()).toEqual([
      { sku: 'A-1', available: 3, reserved: 0, sold: 0 },
      { sku: 'B-2', available: 1, reserved: 0, sold: 0 },
    ]);
    const [id] = await acceptAll(engine, 1, { sku: 'A-1', qty: 2 });
    await waitFor('confirmed', () => engine.store.orderView(id!)?.status === 'confirmed');
    await engine.close();
    writeFileSync(csv, 'A-1,10\n');
    engine = await startEngine(stackConfig({ dataDir, seedInventory: csv }), gateway.url);
    cleanups.push(() => engine.close());
    expect(engine.seeded.mode).toBe('restock');
    expect(engine.store.inventoryNow()).toEqual([
      { sku: 'A-1', available: 10, reserved: 0, sold: 2 },
      { sku: 'B-2', available: 1, reserved: 0, sold: 0 },
    ]);
  });

  it('after a crash with jobs in flight, a new engine on the same dir completes every order exactly once', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const gateway = await startGateway(tmp.dir, { latencyMs: 60 });
    cleanups.push(() => gateway.close());
    const config = stackConfig({ dataDir: tmp.dir, workers: 6, leaseMs: 5_000, seedInventory: 40 });
    const first = await startEngine(config, gateway.url, { pid: deadPid() });
    const ids = await acceptAll(first, 30, { sku: 'SKU-0011', qty: 1 });
    await waitFor('some orders confirmed while others are in flight', () => first.store.statsNow().byStatus.confirmed >= 3 && first.pool.busy() > 0);
    await first.crash();
    // leaseMs is 5 s: only the reclaim at start (not lease expiry) can make these jobs due quickly
    const second = await startEngine(config, gateway.url);
    cleanups.push(() => second.close());
    expect(second.reclaimedAtStart).toBeGreaterThan(0);
    expect(second.seeded.mode).toBe('kept');
    await waitFor('all confirmed after restart', () => ids.every((id) => second.store.orderView(id)?.status === 'confirmed'), 20_000);
    const charges = await Promise.all(ids.map((id) => chargesFor(gateway.url, id)));
    expect(charges.map((c) => c.length)).toEqual(ids.map(() => 1));
    expect(second.store.inventoryNow().find((i) => i.sku === 'SKU-0011')).toEqual({ sku: 'SKU-0011', available: 10, reserved: 0, sold: 30 });
    expect(second.store.outboxCount()).toBe(30);
    expect(second.store.statsNow().oversold).toBe(0);
    for (const id of ids) {
      const h = second.store.orderView(id)!.history.map((x) => x.status);
      expect(h).toEqual(['accepted', 'reserved', 'paid', 'confirmed']);
    }
  });

  it('a second engine on a held data dir is refused with SRG_STACK_LOCKED', async () => {
    const { config, gateway } = await setup({ workers: 0 });
    await expect(startEngine(config, gateway.url)).rejects.toMatchObject({ code: 'SRG_STACK_LOCKED' });
  });

  it('keeps flag overrides across restarts and skips notifications while order-notifications is off', async () => {
    const { engine, config, gateway, markClosed } = await setup({ workers: 2 });
    await expect(engine.flags.set('no-such-flag', true)).rejects.toMatchObject({ code: 'SRG_STACK_UNKNOWN_FLAG' });
    await engine.flags.set('order-notifications', false);
    const [id] = await acceptAll(engine, 1, { sku: 'SKU-0012', qty: 1 });
    await waitFor('notified (skipped)', () => engine.store.getRow(id!)?.notified === 1);
    expect(engine.store.outboxCount()).toBe(0);
    markClosed();
    await engine.close();
    const again = await startEngine(config, gateway.url);
    cleanups.push(() => again.close());
    expect(again.flags.list().find((f) => f.name === 'order-notifications')).toMatchObject({ enabled: false, overridden: true });
    await again.flags.clear('order-notifications');
    expect(again.flags.isEnabled('order-notifications')).toBe(true);
    const [id2] = await acceptAll(again, 1, { sku: 'SKU-0012', qty: 1 });
    await waitFor('notified', () => again.store.getRow(id2!)?.notified === 1);
    expect(again.store.outboxCount()).toBe(1);
    const payload = again.store.outboxPayload(id2!)!;
    expect(payload).toMatchObject({ orderId: id2, customerId: 'c0' });
    expect((payload.recommendations as string[]).length).toBe(3);
    expect(payload.recommendations).not.toContain('SKU-0012');
    const price = again.store.getRow(id2!)!.amount_cents;
    expect(again.store.loyaltyPoints('c0')).toBe(Math.floor(price / 100) * 2);
  });

  it('sheds recommendations and loyalty points when their flags are off', async () => {
    const { engine } = await setup({ workers: 2 });
    await engine.flags.set('recommendations', false);
    await engine.flags.set('loyalty-points', false);
    const [id] = await acceptAll(engine, 1, { sku: 'SKU-0016', qty: 1 });
    await waitFor('notified', () => engine.store.getRow(id!)?.notified === 1);
    expect(engine.store.outboxPayload(id!)).not.toHaveProperty('recommendations');
    expect(engine.store.loyaltyPoints('c0')).toBe(0);
  });

  it('restartStore closes and reopens the database while orders keep flowing', async () => {
    const { engine } = await setup({ workers: 4, latencyMs: 20 });
    const before = await acceptAll(engine, 20, { sku: 'SKU-0013', qty: 1 });
    const restarting = engine.restartStore();
    const during = await acceptAll(engine, 10, { sku: 'SKU-0013', qty: 1 });
    await restarting;
    expect(engine.store.isHealthy()).toBe(true);
    const ids = [...before, ...during];
    await waitFor('all confirmed', () => ids.every((id) => engine.store.orderView(id)?.status === 'confirmed'));
    expect(engine.store.inventoryNow().find((i) => i.sku === 'SKU-0013')?.sold).toBe(30);
  });

  it('pause stops new work, resume continues, drain waits for in-flight jobs', async () => {
    const { engine } = await setup({ workers: 2, latencyMs: 30 });
    engine.pool.pause();
    expect(engine.pool.isPaused()).toBe(true);
    const ids = await acceptAll(engine, 4, { sku: 'SKU-0014', qty: 1 });
    // Paused: the accepts woke the dispatcher, and over three of its poll cycles (100 ms each)
    // nothing is leased. A negative claim needs the time to pass; a dispatcher that ignored the
    // pause would lease within a few ms of the first wake-up, well inside this window.
    const until = Date.now() + 300;
    while (Date.now() < until) {
      expect(engine.pool.busy()).toBe(0);
      expect(engine.store.statsNow().queueDepth).toBe(4);
      await new Promise((r) => setTimeout(r, 10));
    }
    engine.pool.resume();
    await waitFor('a job in flight', () => engine.pool.busy() > 0);
    const drained = await engine.pool.drain(5_000);
    expect(drained).toEqual({ drained: true, inFlight: 0 });
    expect(ids.some((id) => engine.store.orderView(id)?.status === 'confirmed')).toBe(true);
  });

  it('grows and shrinks the pool at run time', async () => {
    const { engine } = await setup({ workers: 2 });
    engine.pool.setSize(6);
    expect(engine.pool.size()).toBe(6);
    engine.pool.setSize(1);
    expect(engine.pool.size()).toBe(1);
    const ids = await acceptAll(engine, 5, { sku: 'SKU-0015', qty: 1 });
    await waitFor('all confirmed', () => ids.every((id) => engine.store.orderView(id)?.status === 'confirmed'));
    // the real worker count (not just the setting) is back to one
    await waitFor('one idle worker left', async () => {
      const text = await engine.metrics.registry.getSingleMetricAsString('surgectl_workers');
      return text.includes('surgectl_workers{state="idle"} 1') && text.includes('surgectl_workers{state="busy"} 0');
    });
    expect(engine.throughputPerSec()).toBeGreaterThan(0);
    expect(() => engine.pool.setSize(-1)).toThrow(RangeError);
    // with a measured rate, waiting orders get an ETA that grows with their position
    engine.pool.pause();
    const waiting = await acceptAll(engine, 3, { sku: 'SKU-0015', qty: 1 });
    const etas = waiting.map((id) => engine.store.orderView(id)!.estimatedWaitMs!);
    expect(etas.every((e) => e > 0)).toBe(true);
    expect(etas[2]!).toBeGreaterThan(etas[0]!);
  });
});

/**
 * A pass-through proxy to `target` that holds the first request until `release()`: `arrived`
 * resolves when it is being held. Later requests pass at once.
 */
async function holdFirstRequest(target: string): Promise<{ url: string; arrived: Promise<void>; release(): void; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let arrive!: () => void;
  const arrived = new Promise<void>((r) => (arrive = r));
  let first = true;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const wait = first ? released : Promise.resolve();
      if (first) {
        first = false;
        arrive();
      }
      void wait
        .then(() =>
          fetch(target + (req.url ?? '/'), {
            method: req.method ?? 'GET',
            headers: Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>,
            ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
          }),
        )
        .then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    arrived,
    release,
    close: () =>
      new Promise<void>((r) => {
        release();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

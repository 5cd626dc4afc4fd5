import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acceptRequest, capturingLogger, silentLogger, waitFor } from '../../../../test/support/order-engine.js';
import { pgQuery, start, startPrimary, startReplica, stop, type PgCluster } from '../../../../test/support/pg-cluster.js';
import type { AcceptOutcome } from '../ports.js';
import { PostgresOrderStore, type PostgresOrderStoreOptions } from './order-store.js';

// The order store's read replica on a real primary and a real streaming replica (temporary
// clusters of test/support/pg-cluster.ts): where status reads go, read-your-writes, the lag bound,
// and the replica going away or being promoted.

let primary: PgCluster;
let replica: PgCluster;
beforeAll(async () => {
  primary = await startPrimary();
  replica = await startReplica(primary);
}, 120_000);
afterAll(async () => {
  await replica?.stop();
  await primary?.stop();
}, 60_000);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The replica URL with a password (trust auth ignores it): it must never show up in a log line or the status. */
const PASSWORD = 'rr-s3cret';
const replicaUrl = () => replica.url.replace('postgres@', `postgres:${PASSWORD}@`);

async function openStore(extra: Partial<PostgresOrderStoreOptions> = {}): Promise<PostgresOrderStore> {
  const store = await PostgresOrderStore.open({ url: primary.url, logger: silentLogger(), now: Date.now, reservationTtlMs: 60_000, throughputPerSec: () => 0, poolSize: 4, refreshMs: 50, ...extra });
  cleanups.push(() => store.close());
  return store;
}

/** A store reading from the replica, once its checks found the replica usable. */
async function openReading(maxLagMs: number, extra: Partial<PostgresOrderStoreOptions> = {}): Promise<PostgresOrderStore> {
  const store = await openStore({ readReplica: { url: replicaUrl(), maxLagMs }, ...extra });
  await waitFor('status reads to go to the replica', () => store.readReplica?.reads === 'replica');
  return store;
}

async function place(store: PostgresOrderStore, sku: string): Promise<string> {
  const o = await store.accept(acceptRequest({ customerId: 'rr', items: [{ sku, qty: 1 }] }));
  expect(o.kind).toBe('created');
  return (o as Extract<AcceptOutcome, { kind: 'created' }>).order.orderId;
}

/** The order's status as the replica has replayed it (undefined: not there yet). */
async function onReplica(orderId: string): Promise<string | undefined> {
  return (await pgQuery<{ status: string }>(replica.url, 'SELECT status FROM orders WHERE id = $1', [orderId]))[0]?.status;
}

/** Pauses WAL replay on the replica until the test ends: it falls behind the primary on purpose. */
async function pauseReplay(): Promise<void> {
  await pgQuery(replica.url, 'SELECT pg_wal_replay_pause()');
  cleanups.push(async () => {
    await pgQuery(replica.url, 'SELECT pg_wal_replay_resume()').catch(() => undefined);
  });
  await waitFor('replay to be paused', async () => (await pgQuery<{ s: string }>(replica.url, 'SELECT pg_get_wal_replay_pause_state() AS s'))[0]?.s === 'paused');
}

async function seed(store: PostgresOrderStore, sku: string): Promise<void> {
  await store.seed([{ sku, name: sku, priceCents: 100, stock: 100 }], () => []);
}

describe('postgres order store with a read replica', () => {
  it('serves status reads from the replica: a change the paused replica has not replayed is not seen there, and is once it replays', async () => {
    const writer = await openStore(); // another intake process, without the replica
    await seed(writer, 'RR-A');
    const { logger, lines } = capturingLogger();
    const store = await openReading(60_000, { logger });
    const id = await place(writer, 'RR-A');
    await waitFor('the replica to replay the order', async () => (await onReplica(id)) === 'accepted');
    // the replica answers from its pool, named so in its pg_stat_activity
    const conns = await pgQuery<{ n: number }>(replica.url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'surgectl-order-reads'");
    expect(conns[0]!.n).toBeGreaterThan(0);

    await pauseReplay();
    expect(await writer.cancel(id, 'customer_request')).toBe(true);
    expect((await writer.getOrder(id))?.status).toBe('cancelled');
    // the primary says cancelled; this store still reads the replica's copy, within its 60 s bound
    expect((await store.getOrder(id))?.status).toBe('accepted');
    expect(store.readReplica).toMatchObject({ reads: 'replica', reason: '' });

    await pgQuery(replica.url, 'SELECT pg_wal_replay_resume()');
    await waitFor('the replica to show the cancel', async () => (await store.getOrder(id))?.status === 'cancelled');

    // the password of the replica URL is neither shown nor logged
    expect(store.readReplica?.replica).toBe(replica.url);
    expect(lines.some((l) => String(l.msg).includes(`order status reads go to the read replica ${replica.url}`))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(PASSWORD);
  });

  it("reads the client's own writes while the replica lags: its new order, on this process and on another intake process, and its cancel", async () => {
    const a = await openReading(60_000);
    const b = await openReading(60_000);
    await seed(a, 'RR-B');
    const earlier = await place(a, 'RR-B');
    await waitFor('the replica to replay the earlier order', async () => (await onReplica(earlier)) === 'accepted');
    await pauseReplay();

    const id = await place(a, 'RR-B');
    expect(await onReplica(id)).toBeUndefined(); // the replica has not got it
    // the process that accepted it reads it at once (on the primary, having just written it)
    expect((await a.getOrder(id))?.status).toBe('accepted');
    // another intake process, reading the replica, does not find it there and asks the primary
    expect(b.readReplica?.reads).toBe('replica');
    expect((await b.getOrder(id))?.orderId).toBe(id);
    expect(await b.getOrder('ord_none')).toBeUndefined();

    expect(await a.cancel(earlier, 'customer_request')).toBe(true);
    expect((await a.getOrder(earlier))?.status).toBe('cancelled');
    // b did not write it and the replica is within the bound: b may read the older status there
    expect((await b.getOrder(earlier))?.status).toBe('accepted');
    expect(a.readReplica?.reads).toBe('replica');
  });

  it('sends reads to the primary while the lag is above the bound and back once the replica catches up; an idle primary does not read as lag', async () => {
    const { logger, lines } = capturingLogger();
    const writer = await openStore();
    await seed(writer, 'RR-C');
    const store = await openReading(400, { logger });

    // An idle primary, for 3 times the bound (≈ 24 checks): the lag stays near 0 (at most one
    // check behind, for background WAL such as autovacuum's), where the age of the last replayed
    // transaction would have grown past the bound.
    await waitFor('the lag to read 0', () => store.readReplica?.lagMs === 0);
    const observedUntil = Date.now() + 1_200;
    while (Date.now() < observedUntil) {
      expect(store.readReplica?.reads).toBe('replica');
      expect(store.readReplica?.lagMs).toBeLessThanOrEqual(100);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(store.readReplica?.switches).toBe(0);

    const id = await place(writer, 'RR-C');
    await waitFor('the replica to replay the order', async () => (await onReplica(id)) === 'accepted');
    await pauseReplay();
    expect(await writer.cancel(id, 'customer_request')).toBe(true);
    const paused = performance.now();
    await waitFor('reads to go to the primary', () => store.readReplica?.reads === 'primary');
    const leftAfter = performance.now() - paused;
    expect(store.readReplica?.reason).toMatch(/^replay lag \d+ ms above 400 ms$/);
    expect(store.readReplica?.lagMs).toBeGreaterThan(400);
    // the primary answers: the cancel the paused replica has not replayed is seen
    expect(await onReplica(id)).toBe('accepted');
    expect((await store.getOrder(id))?.status).toBe('cancelled');

    await pgQuery(replica.url, 'SELECT pg_wal_replay_resume()');
    const resumed = performance.now();
    await waitFor('reads to go back to the replica', () => store.readReplica?.reads === 'replica');
    console.log(`[read replica] bound 400 ms, checks every 50 ms: reads left the paused replica ${Math.round(leftAfter)} ms after the write, came back ${Math.round(performance.now() - resumed)} ms after replay resumed`);
    expect(store.readReplica?.lagMs).toBeLessThanOrEqual(400);
    expect((await store.getOrder(id))?.status).toBe('cancelled');
    expect(store.readReplica?.switches).toBe(2);
    // one line each way (after the first, at start)
    const sides = lines
      .map((l) => String(l.msg))
      .filter((m) => m.startsWith('order status reads go to'))
      .map((m) => (m.startsWith(`order status reads go to the read replica ${replica.url} (replay lag `) ? 'replica' : m.startsWith(`order status reads go to the primary, not the read replica ${replica.url}: replay lag`) ? 'primary' : m));
    expect(sides).toEqual(['replica', 'primary', 'replica']);
  });

  it('reads from the primary, with no error to any caller, while the replica is down, and from the replica again when it is back', async () => {
    const writer = await openStore();
    await seed(writer, 'RR-D');
    const store = await openReading(60_000);
    const id = await place(writer, 'RR-D');
    await waitFor('the replica to replay the order', async () => (await onReplica(id)) === 'accepted');

    let reads = 0;
    let failures = 0;
    let stopReading = false;
    // a client polling the status throughout (bounded: 20 s at most)
    const poller = (async () => {
      const until = Date.now() + 20_000;
      while (!stopReading && Date.now() < until) {
        try {
          if ((await store.getOrder(id))?.orderId === id) reads++;
          else failures++;
        } catch {
          failures++;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    cleanups.push(async () => {
      stopReading = true;
      await poller;
    });

    await stop(replica);
    const stopped = performance.now();
    cleanups.push(() => start(replica)); // a failed assertion must not leave it down for the next test
    await waitFor('reads to go to the primary', () => store.readReplica?.reads === 'primary');
    const leftAfter = performance.now() - stopped;
    expect(store.readReplica?.reason).toMatch(/replica is unreachable|a read on the replica failed|did not finish/);
    const before = reads;
    await waitFor('reads to go on while the replica is down', () => reads >= before + 10);

    cleanups.pop();
    await start(replica);
    const started = performance.now();
    await waitFor('reads to go back to the replica', () => store.readReplica?.reads === 'replica', 30_000);
    console.log(`[read replica] replica stopped: reads on the primary ${Math.round(leftAfter)} ms after pg_ctl stop returned; back on the replica ${Math.round(performance.now() - started)} ms after its start returned; ${reads} status reads, ${failures} failed`);
    const back = reads;
    await waitFor('reads to go on on the replica', () => reads >= back + 10);
    stopReading = true;
    await poller;
    expect(failures).toBe(0);
  });

  it('stops reading from a replica that was promoted: it no longer follows the primary', async () => {
    const writer = await openStore();
    await seed(writer, 'RR-E');
    const promoted = await startReplica(primary);
    cleanups.push(() => promoted.stop());
    const store = await openStore({ readReplica: { url: promoted.url, maxLagMs: 60_000 } });
    await waitFor('status reads to go to the replica', () => store.readReplica?.reads === 'replica');
    await pgQuery(promoted.url, 'SELECT pg_promote()');
    await waitFor('reads to go to the primary', () => store.readReplica?.reads === 'primary');
    expect(store.readReplica?.reason).toMatch(/not in recovery/);
    const id = await place(writer, 'RR-E');
    expect((await store.getOrder(id))?.status).toBe('accepted');
  });
});

describe('a stack with --read-replica', () => {
  it('reads order status on the replica and says so in /metrics, with the replica lag; reads its own orders', async () => {
    const { startTestStack, httpClient } = await import('../../../../test/support/stack.js');
    const stack = await startTestStack({ store: primary.url, readReplica: replicaUrl(), readReplicaMaxLagMs: 2_000, workers: 2 });
    cleanups.push(() => stack.dispose());
    const http = httpClient(stack.url);
    cleanups.push(() => http.close());
    const sku = ((await http.call('GET', '/v1/inventory')).body as { items: { sku: string }[] }).items[0]!.sku;
    const placed = await http.postOrder({ customerId: 'rr-stack', items: [{ sku, qty: 1 }] }, 'rr-stack-1');
    expect(placed.status).toBe(202);
    // read at once: the client finds its own order whatever the replica has replayed
    expect((await http.call('GET', `/v1/orders/${(placed.body as { orderId: string }).orderId}`)).status).toBe(200);
    const metrics = await waitFor(
      'status reads on the replica',
      async () => {
        const text = (await http.call('GET', '/metrics')).text;
        return text.includes('surgectl_store_read_replica{reads="replica"} 1') ? text : '';
      },
      10_000,
    );
    expect(metrics).toContain('surgectl_store_read_replica{reads="primary"} 0');
    const lag = Number(/^surgectl_store_read_replica_lag_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(2);
    expect(metrics).not.toContain(PASSWORD);
  });
});

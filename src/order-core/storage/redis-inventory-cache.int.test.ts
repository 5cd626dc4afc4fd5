import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger, silentLogger, waitFor } from '../../../test/support/order-engine.js';
import { freePort } from '../../../test/support/ports.js';
import { requireRedis, startTestRedisServer, testKeyPrefix, testRedisClient, type TestKeyPrefix, type TestRedisServer } from '../../../test/support/redis.js';
import type { InventoryItem } from '../domain/types.js';
import { createRedisInventoryCache, type RedisInventoryCache, type RedisInventoryCacheOptions } from './redis-inventory-cache.js';

// Against the real Redis (the standing one on 6379; a private redis-server for the tests that stop
// or pause it), in front of a fake store that counts its reads.

await requireRedis('storage/redis-inventory-cache.int.test.ts');

/** A store whose stock the test changes, counting listInventory calls; `hold()` makes the next reads wait. */
function fakeStore(available = 10) {
  let items: InventoryItem[] = [{ sku: 'SKU-1', available, reserved: 0, sold: 0 }];
  let gate: Promise<void> | undefined;
  const s = {
    reads: 0,
    set(n: number) {
      items = [{ sku: 'SKU-1', available: n, reserved: 0, sold: 0 }];
    },
    /** Reads started from now on wait until the returned function is called (they return the stock as it was when they started). */
    hold(): () => void {
      let open!: () => void;
      gate = new Promise<void>((r) => (open = r));
      return () => {
        gate = undefined;
        open();
      };
    },
    async listInventory(): Promise<InventoryItem[]> {
      s.reads++;
      const snapshot = items.map((i) => ({ ...i }));
      if (gate !== undefined) await gate;
      return snapshot;
    },
  };
  return s;
}

const clients: Redis[] = [];
const caches: RedisInventoryCache[] = [];
const prefixes: TestKeyPrefix[] = [];
let admin: Redis;

beforeAll(() => {
  admin = testRedisClient();
});
afterEach(async () => {
  for (const c of caches.splice(0)) c.close();
  for (const p of prefixes.splice(0)) await p.cleanup();
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(() => {
  admin.disconnect();
});

function client(port?: number): Redis {
  const c = testRedisClient(port);
  clients.push(c);
  return c;
}

/** A cache as one replica builds it: its own connection (connected first on the standing server). */
async function cache(o: Partial<RedisInventoryCacheOptions> & Pick<RedisInventoryCacheOptions, 'store' | 'keyPrefix'>): Promise<RedisInventoryCache> {
  const redis = o.redis ?? client();
  if (o.redis === undefined) await waitFor('the Redis client to connect', () => redis.status === 'ready', 5_000);
  const c = createRedisInventoryCache({ redis, logger: silentLogger(), ...o });
  caches.push(c);
  return c;
}

function prefixOn(c: Redis = admin): TestKeyPrefix {
  const p = testKeyPrefix(c);
  prefixes.push(p);
  return p;
}

const available = (items: InventoryItem[]) => items[0]?.available;

describe('inventory cache on Redis', () => {
  it('answers from the copy while it is younger than maxStalenessMs, and shows a change in the store within it', async () => {
    const p = prefixOn();
    const store = fakeStore(10);
    const c = await cache({ store, keyPrefix: p.prefix, maxStalenessMs: 400 });
    expect(available(await c.listInventory())).toBe(10);
    expect(available(await c.listInventory())).toBe(10);
    expect(store.reads).toBe(1);
    expect(c.stats).toMatchObject({ hits: 1, misses: 1, bypassed: 0 });
    // Redis holds the copy no longer than the bound
    const ttl = await admin.pttl(`${p.prefix}:list`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(400);

    const changedAt = Date.now();
    store.set(7);
    await waitFor('the change to show', async () => available(await c.listInventory()) === 7, 3_000);
    const shownAfter = Date.now() - changedAt;
    // the copy was read before the change, so it lives at most 400 ms after that read; 150 ms for the polls and a loaded machine
    expect(shownAfter).toBeLessThanOrEqual(400 + 150);
    expect(store.reads).toBe(2);
  });

  it('N concurrent calls on a cold cache read the store once', async () => {
    const p = prefixOn();
    const store = fakeStore(5);
    const c = await cache({ store, keyPrefix: p.prefix });
    const release = store.hold();
    const calls = Array.from({ length: 50 }, () => c.listInventory());
    await waitFor('the one store read to start', () => store.reads === 1, 2_000);
    release();
    const answers = await Promise.all(calls);
    expect(answers.every((a) => available(a) === 5)).toBe(true);
    expect(store.reads).toBe(1);
    expect(c.stats.misses).toBe(1);
  });

  it('two cache instances (two replicas) share the copy', async () => {
    const p = prefixOn();
    const store = fakeStore(3);
    const registry = new Registry();
    const a = await cache({ store, keyPrefix: p.prefix, registry });
    const b = await cache({ store, keyPrefix: p.prefix, registry });
    expect(available(await a.listInventory())).toBe(3);
    expect(available(await b.listInventory())).toBe(3);
    expect(store.reads).toBe(1);
    expect(b.stats).toMatchObject({ hits: 1, misses: 0 });
    const text = await registry.getSingleMetricAsString('surgectl_inventory_cache_reads_total');
    expect(text).toMatch(/^surgectl_inventory_cache_reads_total\{result="hit"\} 1$/m);
    expect(text).toMatch(/^surgectl_inventory_cache_reads_total\{result="miss"\} 1$/m);
  });

  it('invalidate() drops the copy for every replica, and a refill that read before it does not write its older answer back', async () => {
    const p = prefixOn();
    const store = fakeStore(9);
    const a = await cache({ store, keyPrefix: p.prefix, maxStalenessMs: 60_000 });
    const b = await cache({ store, keyPrefix: p.prefix, maxStalenessMs: 60_000 });
    expect(available(await a.listInventory())).toBe(9);
    store.set(8);
    await b.invalidate();
    expect(available(await a.listInventory())).toBe(8);
    expect(store.reads).toBe(2);

    // a refill is reading the store (it sees 8) when stock changes and b invalidates
    await b.invalidate();
    const release = store.hold();
    const slow = a.listInventory();
    await waitFor('the refill to read the store', () => store.reads === 3, 2_000);
    store.set(6);
    await b.invalidate();
    release();
    expect(available(await slow)).toBe(8);
    expect(await admin.exists(`${p.prefix}:list`)).toBe(0);
    // so the next lookup, on either replica, reads the store again and sees 6
    expect(available(await b.listInventory())).toBe(6);
    expect(available(await a.listInventory())).toBe(6);
  });

  it('treats a damaged copy as a miss and replaces it', async () => {
    const p = prefixOn();
    const store = fakeStore(4);
    const c = await cache({ store, keyPrefix: p.prefix });
    await admin.set(`${p.prefix}:list`, '{"items":[{"sku":1}]}', 'PX', 10_000);
    expect(available(await c.listInventory())).toBe(4);
    expect(store.reads).toBe(1);
    expect(JSON.parse((await admin.get(`${p.prefix}:list`))!)).toMatchObject({ items: [{ sku: 'SKU-1', available: 4 }] });
  });
});

describe('inventory cache when Redis is unreachable or slow', () => {
  let server: TestRedisServer;
  beforeAll(async () => {
    server = await startTestRedisServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('Redis on a closed port: every call reads the store, counted, logged once, never a rejection', async () => {
    const port = await freePort();
    const store = fakeStore(2);
    const { logger, lines } = capturingLogger('info');
    const registry = new Registry();
    const c = await cache({ store, keyPrefix: 'surgectl_test:closed', redis: client(port), logger, registry, retryAfterMs: 10 });
    for (let i = 0; i < 20; i++) expect(available(await c.listInventory())).toBe(2);
    await c.invalidate();
    expect(store.reads).toBe(20);
    expect(c.stats).toMatchObject({ hits: 0, misses: 0, bypassed: 20 });
    expect(c.mode).toBe('store');
    expect(await registry.getSingleMetricAsString('surgectl_inventory_cache_reads_total')).toMatch(/^surgectl_inventory_cache_reads_total\{result="bypass"\} 20$/m);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ inventoryCache: 'store', redis: `127.0.0.1:${port}` });
    expect(String(warnings[0]!.reason)).toContain('not connected');
  });

  it('Redis stopped: answers from the store; started again: the copy is used again, one line each way', async () => {
    const r = client(server.port);
    const p = prefixOn(client(server.port));
    const store = fakeStore(11);
    const { logger, lines } = capturingLogger('info');
    const c = await cache({ store, keyPrefix: p.prefix, redis: r, logger, retryAfterMs: 50 });
    await waitFor('the client to connect', () => r.status === 'ready', 5_000);
    expect(available(await c.listInventory())).toBe(11);
    expect(available(await c.listInventory())).toBe(11);
    expect(store.reads).toBe(1);

    await server.stop();
    await waitFor('the client to notice the stop', () => r.status !== 'ready', 5_000);
    store.set(12);
    for (let i = 0; i < 5; i++) expect(available(await c.listInventory())).toBe(12);
    expect(c.mode).toBe('store');
    expect(c.stats.bypassed).toBe(5);

    await server.start();
    await waitFor('the cache to use Redis again', async () => (await c.listInventory()) && c.mode === 'redis', 10_000);
    const before = store.reads;
    expect(available(await c.listInventory())).toBe(12);
    expect(store.reads).toBe(before);
    expect(lines.filter((l) => l.level === 40).map((l) => l.inventoryCache)).toEqual(['store', 'redis']);
  });

  it('Redis that does not answer in time (CLIENT PAUSE ALL): the store answers after the timeout, then without waiting', async () => {
    const r = client(server.port);
    const p = prefixOn(client(server.port));
    const store = fakeStore(1);
    const { logger, lines } = capturingLogger('info');
    const c = await cache({ store, keyPrefix: p.prefix, redis: r, logger, timeoutMs: 100, retryAfterMs: 60_000 });
    await waitFor('the client to connect', () => r.status === 'ready', 5_000);
    expect(available(await c.listInventory())).toBe(1);
    // ALL blocks reads too; it cannot be lifted early, so it is short
    await server.pause(1_500, 'ALL');
    store.set(0);
    const started = Date.now();
    expect(available(await c.listInventory())).toBe(0);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(waited).toBeLessThan(1_000);
    const t2 = Date.now();
    expect(available(await c.listInventory())).toBe(0);
    expect(Date.now() - t2).toBeLessThan(90);
    expect(c.mode).toBe('store');
    expect(String(lines.find((l) => l.level === 40)?.reason)).toContain('no answer within 100 ms');
  });
});

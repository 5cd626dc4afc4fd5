import type { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { storeFromConfig } from '../src/commands/stack-options.js';
import { StackConfigSchema } from '../src/config/schema.js';
import { startStack, type RunningStack } from '../src/order-core/stack.js';
import { capturingLogger } from './support/order-engine.js';
import { requireRedisServer, startTestRedisServer, type TestRedisServer } from './support/redis.js';
import { httpClient, tempDir, waitFor, writeSeedFile, type HttpClient } from './support/stack.js';

// `stack up --cache redis://…` against real Redis servers: each test runs a redis-server of its own
// (startTestRedisServer), so stopping it and the fixed key names of a stack (surgectl:default:…)
// touch no other suite. The stores are SQLite, one per stack.

requireRedisServer();

type Item = { sku: string; available: number; reserved: number; sold: number };

const disposers: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Every disposer runs, even after one failed: a stack left running or a redis-server left behind outlives the suite.
  const failed: unknown[] = [];
  for (const d of disposers.splice(0).reverse()) await d().catch((err: unknown) => failed.push(err));
  if (failed.length > 0) throw new AggregateError(failed, 'cleanup after the test failed');
});

async function redisServer(): Promise<TestRedisServer> {
  const server = await startTestRedisServer();
  disposers.push(() => server.close());
  return server;
}

const redisUrl = (port: number) => `redis://127.0.0.1:${port}/0`;

interface CacheStack {
  stack: RunningStack;
  http: HttpClient;
  lines: Record<string, unknown>[];
  dataDir: string;
  /** Closes the client and stops the stack (once; the test's end does it otherwise). */
  close(): Promise<void>;
}

/** A real stack on its own SQLite store with `cache`, logging into `lines` (warn and up). */
async function cacheStack(o: { cache?: string; rateLimit?: number | 'off'; seed?: { sku: string; stock: number }[]; dataDir?: string; inventoryMaxStalenessMs?: number }): Promise<CacheStack> {
  let dataDir = o.dataDir;
  if (dataDir === undefined) {
    const dir = tempDir('surgectl-redis-stack-');
    disposers.push(async () => dir.remove());
    dataDir = dir.path;
  }
  const seed = writeSeedFile(dataDir, (o.seed ?? [{ sku: 'SKU-R', stock: 10_000 }]).map((s) => ({ ...s, priceCents: 500 })));
  const config = StackConfigSchema.parse({
    host: '127.0.0.1',
    port: 0,
    paymentPort: 0,
    healthPort: 'off',
    dataDir,
    workers: 8,
    paymentLatencyMs: 0,
    rateLimit: o.rateLimit ?? 'off',
    seedInventory: seed,
    ...(o.cache === undefined ? {} : { cache: o.cache }),
  });
  const { logger, lines } = capturingLogger('warn');
  const stack = await startStack({
    ...config,
    store: storeFromConfig(config),
    logger,
    defaultMetrics: false,
    cwd: dataDir,
    ...(o.inventoryMaxStalenessMs === undefined ? {} : { inventoryMaxStalenessMs: o.inventoryMaxStalenessMs }),
  });
  const http = httpClient(stack.url, { connections: 16, adminToken: stack.adminToken });
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await http.close();
      await stack.stop({ drainTimeoutMs: 5_000 });
    })());
  disposers.push(close);
  return { stack, http, lines, dataDir, close };
}

/** A metric's values by its labels, as `label=value,…` (empty for none). */
async function metric(registry: Registry, name: string): Promise<Record<string, number>> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const values = (m as unknown as { values: { labels: Record<string, string>; value: number }[] } | undefined)?.values ?? [];
  return Object.fromEntries(values.map((v) => [Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(','), v.value]));
}

const order = (i: number) => ({ customerId: `cust-${i}`, items: [{ sku: 'SKU-R', qty: 1 }] });

async function inventoryOf(http: HttpClient, sku = 'SKU-R'): Promise<Item> {
  const res = await http.call('GET', '/v1/inventory');
  expect(res.status).toBe(200);
  const item = (res.body as { items: Item[] }).items.find((i) => i.sku === sku);
  expect(item, `${sku} in GET /v1/inventory`).toBeDefined();
  return item!;
}

async function confirmedCount(http: HttpClient): Promise<number> {
  const s = (await http.admin('GET', '/admin/status')).body as { orders: { byStatus: Record<string, number> } };
  return s.orders.byStatus.confirmed ?? 0;
}

describe('stack up --cache: the rate limit shared through Redis', () => {
  it('two stacks on one Redis with --rate-limit 20: a burst from one client spread over both gets 20 through, not 40', async () => {
    const redis = await redisServer();
    const a = await cacheStack({ cache: redisUrl(redis.port), rateLimit: 20 });
    const b = await cacheStack({ cache: redisUrl(redis.port), rateLimit: 20 });
    for (const s of [a, b]) expect((await s.http.admin('GET', '/admin/status')).body).toMatchObject({ cache: 'redis' });

    // 30 orders to each stack at once, from the one client address both see (127.0.0.1).
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).http.postOrder(order(i), `burst-${i}`)));
    const elapsed = Date.now() - started;
    const accepted = answers.filter((r) => r.status === 202);
    const limited = answers.filter((r) => r.status === 429);
    expect(accepted.length + limited.length, `statuses: ${answers.map((r) => r.status).join(',')}`).toBe(60);
    if (elapsed < 1_000) {
      // One fixed window of the shared budget: exactly 20, whichever stack took them.
      expect(accepted.length).toBe(20);
    } else {
      // A slow machine spread the burst over two windows: still at most one budget per window, below per-process's 40 per window.
      expect(accepted.length).toBeLessThanOrEqual(40);
    }
    const fromA = answers.filter((r, i) => i % 2 === 0 && r.status === 202).length;
    expect(fromA, 'both stacks took part of the one budget').toBeGreaterThan(0);
    expect(accepted.length - fromA).toBeGreaterThan(0);
    // The 429 keeps its shape: code, Retry-After of a whole second, a request id.
    const refusal = limited[0]!;
    expect(refusal.body).toMatchObject({ error: { code: 'ORDER_RATE_LIMITED' }, requestId: expect.any(String) });
    expect(Number(refusal.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const rl = (await metric(a.stack.metrics.registry, 'surgectl_rate_limited_total'))[''] ?? 0;
    const rlB = (await metric(b.stack.metrics.registry, 'surgectl_rate_limited_total'))[''] ?? 0;
    expect(rl + rlB).toBe(limited.length);
    expect(await metric(a.stack.metrics.registry, 'surgectl_rate_limit_shared')).toEqual({ 'mode=redis': 1, 'mode=local': 0 });
  });

  it('sustained for ~2.5 s, alternating between the stacks: at most 20 per started window in total (per process would allow 40)', async () => {
    const redis = await redisServer();
    const a = await cacheStack({ cache: redisUrl(redis.port), rateLimit: 20 });
    const b = await cacheStack({ cache: redisUrl(redis.port), rateLimit: 20 });
    const started = Date.now();
    let accepted = 0;
    let limited = 0;
    // Bounded in time and count: 4 requests at a time every ~10 ms (far above 20/s), ~2.5 s, at most 4 000 requests.
    for (let round = 0; round < 1_000 && Date.now() - started < 2_500; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, 10));
      const answers = await Promise.all([a, b, a, b].map((s, j) => s.http.call('GET', '/v1/inventory', { headers: { 'x-request-id': `sustain-${round}-${j}` } })));
      for (const r of answers) {
        if (r.status === 200) accepted++;
        else if (r.status === 429) limited++;
        else throw new Error(`unexpected ${r.status}: ${r.text}`);
      }
    }
    const elapsedMs = Date.now() - started;
    // Fixed windows of 1 s, each opened by the first request after the last one ended (none before
    // the loop: a fresh Redis): at most one per started second. Per process, each stack would
    // give the client a whole budget per window: about twice as much.
    const windows = Math.ceil(elapsedMs / 1_000);
    expect(elapsedMs, 'the loop ran its time').toBeGreaterThanOrEqual(2_000);
    expect(limited, 'the loop sent more than the budget').toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(20 * windows);
    // And the budget is really given: every whole second within the loop had its 20.
    expect(accepted).toBeGreaterThanOrEqual(20 * Math.floor(elapsedMs / 1_000));
  });
});

describe('stack up --cache: Redis stopped during load', () => {
  it('intake keeps answering 202 and workers confirm; the rate limit goes per process (warn line, metric) and back to shared after the restart', async () => {
    const redis = await redisServer();
    const s = await cacheStack({ cache: redisUrl(redis.port), rateLimit: 5_000 });
    const registry = s.stack.metrics.registry;
    const total = 300;
    const statuses: number[] = [];
    // 30 rounds of 10 concurrent orders: Redis stops after round 10 and comes back after round 20.
    for (let round = 0; round < total / 10; round++) {
      if (round === 10) await redis.stop();
      if (round === 20) await redis.start();
      const answers = await Promise.all(Array.from({ length: 10 }, (_, j) => s.http.postOrder(order(round * 10 + j), `outage-${round}-${j}`)));
      statuses.push(...answers.map((r) => r.status));
    }
    expect(statuses.filter((x) => x !== 202), 'every order acknowledged').toEqual([]);
    await waitFor('every order confirmed', async () => (await confirmedCount(s.http)) === total, { timeoutMs: 30_000 });

    const fallback = s.lines.find((l) => l.rateLimitMode === 'local');
    expect(fallback, 'a warn line when the limit went per process').toMatchObject({ level: 40, component: 'cache' });
    expect(String(fallback!.msg)).toMatch(/^rate limit: Redis at 127\.0\.0\.1:\d+ is unreachable or slow .*limiting per process/);
    expect((await metric(registry, 'surgectl_rate_limit_fallbacks_total'))['']).toBeGreaterThanOrEqual(1);

    // Traffic (not a timer) probes Redis once the client has reconnected: a bounded trickle of reads.
    await waitFor(
      'the rate limit to be shared again',
      async () => {
        await s.http.call('GET', '/v1/inventory');
        const m = await metric(registry, 'surgectl_rate_limit_shared');
        return m['mode=redis'] === 1 && m['mode=local'] === 0;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(s.lines.some((l) => l.rateLimitMode === 'redis' && /answers again; the limit is shared/.test(String(l.msg)))).toBe(true);
    await waitFor('GET /admin/status to say redis', async () => ((await s.http.admin('GET', '/admin/status')).body as { cache: string }).cache === 'redis', { timeoutMs: 5_000 });
    const status = (await s.http.admin('GET', '/admin/status')).body as { oversold: number };
    expect(status.oversold).toBe(0);
    expect((await inventoryOf(s.http)).sold).toBe(total);
  });

  it('a Redis that is down at start does not fail it: per process, said in the log without the password, and shared once Redis is up', async () => {
    const redis = await redisServer();
    await redis.stop();
    const url = `redis://:s3cret-redis-pw@127.0.0.1:${redis.port}/0`;
    const started = Date.now();
    const s = await cacheStack({ cache: url, rateLimit: 1_000 });
    expect(Date.now() - started, 'the start waits about 2 s for Redis, not for ever').toBeLessThan(10_000);
    const line = s.lines.find((l) => l.component === 'cache' && /starting without it/.test(String(l.msg)));
    expect(line).toMatchObject({ level: 40, redis: `redis://127.0.0.1:${redis.port}/0`, rateLimitMode: 'local' });
    expect((await s.http.admin('GET', '/admin/status')).body).toMatchObject({ cache: 'local' });
    expect((await s.http.postOrder(order(1), 'down-at-start-1')).status).toBe(202);
    expect((await inventoryOf(s.http)).sku).toBe('SKU-R');

    await redis.start();
    await waitFor(
      'the stack to use Redis',
      async () => {
        await s.http.call('GET', '/v1/inventory');
        return ((await s.http.admin('GET', '/admin/status')).body as { cache: string }).cache === 'redis';
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(JSON.stringify(s.lines)).not.toContain('s3cret-redis-pw');
  });

  it('without --cache the status says off and nothing is limited through Redis', async () => {
    const s = await cacheStack({ rateLimit: 10 });
    expect((await s.http.admin('GET', '/admin/status')).body).toMatchObject({ cache: 'off' });
    expect(await metric(s.stack.metrics.registry, 'surgectl_rate_limit_shared')).toEqual({});
  });
});

describe('stack up --cache: GET /v1/inventory through the shared copy', () => {
  it('serves the copy at most the staleness bound old, then the store again', async () => {
    const redis = await redisServer();
    const boundMs = 2_000;
    const s = await cacheStack({ cache: redisUrl(redis.port), inventoryMaxStalenessMs: boundMs });
    const copiedAt = Date.now();
    const before = await inventoryOf(s.http);
    expect((await s.http.postOrder(order(1), 'stale-1')).status).toBe(202);
    await waitFor('the order confirmed', async () => (await confirmedCount(s.http)) === 1, { timeoutMs: 10_000 });
    const soon = await inventoryOf(s.http);
    const soonAt = Date.now();
    // Served from the copy (unless confirming took the whole bound, then the copy rightly expired).
    if (soonAt - copiedAt < boundMs - 200) expect(soon).toEqual(before);
    const fresh = await waitFor('the sale in GET /v1/inventory', async () => ((await inventoryOf(s.http)).sold === before.sold + 1 ? Date.now() : 0), { timeoutMs: 10_000, intervalMs: 50 });
    // Never older than the bound (its copy expires in Redis then), plus a poll and a round trip.
    expect(fresh - copiedAt).toBeLessThanOrEqual(boundMs + 500);
    const reads = await metric(s.stack.metrics.registry, 'surgectl_inventory_cache_reads_total');
    expect(reads['result=hit']).toBeGreaterThanOrEqual(1);
    expect(reads['result=miss']).toBeGreaterThanOrEqual(2);
  });

  it('a restock (a start with a new seed on the same store) shows at once, not after the bound', async () => {
    const redis = await redisServer();
    const boundMs = 60_000;
    const first = await cacheStack({ cache: redisUrl(redis.port), inventoryMaxStalenessMs: boundMs, seed: [{ sku: 'SKU-R', stock: 100 }] });
    expect((await inventoryOf(first.http)).available).toBe(100);
    // Twice: the second answer is the copy in Redis.
    expect((await inventoryOf(first.http)).available).toBe(100);
    expect((await metric(first.stack.metrics.registry, 'surgectl_inventory_cache_reads_total'))['result=hit']).toBe(1);
    await first.close();

    const restocked = await cacheStack({ cache: redisUrl(redis.port), inventoryMaxStalenessMs: boundMs, seed: [{ sku: 'SKU-R', stock: 250 }], dataDir: first.dataDir });
    expect((await inventoryOf(restocked.http)).available).toBe(250);
  });

  it('Redis down: served from the store (current stock, a warn line), and from the copy again once Redis is back', async () => {
    const redis = await redisServer();
    const s = await cacheStack({ cache: redisUrl(redis.port), inventoryMaxStalenessMs: 60_000 });
    const before = await inventoryOf(s.http);
    await redis.stop();
    expect((await s.http.postOrder(order(1), 'down-1')).status).toBe(202);
    await waitFor('the order confirmed', async () => (await confirmedCount(s.http)) === 1, { timeoutMs: 10_000 });
    // The copy (60 s bound) still says `before`; the store is read instead.
    expect((await inventoryOf(s.http)).sold).toBe(before.sold + 1);
    expect(s.lines.find((l) => l.inventoryCache === 'store')).toMatchObject({ level: 40, component: 'cache' });
    const reads = await metric(s.stack.metrics.registry, 'surgectl_inventory_cache_reads_total');
    expect(reads['result=bypass']).toBeGreaterThanOrEqual(1);

    await redis.start();
    await waitFor(
      'the copy served again',
      async () => {
        await inventoryOf(s.http);
        return (await metric(s.stack.metrics.registry, 'surgectl_inventory_cache_reads_total'))['result=hit'] ?? 0;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect((await inventoryOf(s.http)).sold).toBe(before.sold + 1);
  });
});

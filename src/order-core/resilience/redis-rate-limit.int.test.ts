import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger, silentLogger, waitFor } from '../../../test/support/order-engine.js';
import { freePort } from '../../../test/support/ports.js';
import { requireRedis, startTestRedisServer, testKeyPrefix, testRedisClient, type TestKeyPrefix, type TestRedisServer } from '../../../test/support/redis.js';
import { createSharedRateLimiter, type SharedClientRateLimiter, type SharedRateLimiterOptions } from './redis-rate-limit.js';

// Against the real Redis (the standing one on 6379; a private redis-server for the tests that stop
// or pause it, since a pause on the shared server would stall other suites).

await requireRedis('resilience/redis-rate-limit.int.test.ts');

const clients: Redis[] = [];
const limiters: SharedClientRateLimiter[] = [];
const prefixes: TestKeyPrefix[] = [];
let admin: Redis;

beforeAll(() => {
  admin = testRedisClient();
});
afterEach(async () => {
  for (const l of limiters.splice(0)) l.close();
  for (const c of clients.splice(0)) c.disconnect();
  for (const p of prefixes.splice(0)) await p.cleanup();
});
afterAll(() => {
  admin.disconnect();
});

function client(port?: number): Redis {
  const c = testRedisClient(port);
  clients.push(c);
  return c;
}

function prefix(): TestKeyPrefix {
  const p = testKeyPrefix(admin);
  prefixes.push(p);
  return p;
}

/**
 * A limiter as one intake replica builds it: its own Redis connection, the shared prefix; on the
 * standing server, connected before the first decision (as the stack waits for its clients).
 */
async function replica(o: Partial<SharedRateLimiterOptions> & Pick<SharedRateLimiterOptions, 'perSecond' | 'keyPrefix'>): Promise<SharedClientRateLimiter> {
  const redis = o.redis ?? client();
  if (o.redis === undefined) await ready(redis);
  const l = createSharedRateLimiter({ redis, logger: silentLogger(), ...o });
  limiters.push(l);
  return l;
}

async function ready(...rs: Redis[]): Promise<void> {
  await waitFor('the Redis clients to connect', () => rs.every((r) => r.status === 'ready'), 5_000);
}

/** The value of surgectl_rate_limit_shared per mode. */
async function sharedGauge(registry: Registry): Promise<Record<string, number>> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'surgectl_rate_limit_shared');
  const values = (m as unknown as { values: { labels: { mode: string }; value: number }[] } | undefined)?.values ?? [];
  return Object.fromEntries(values.map((v) => [v.labels.mode, v.value]));
}

describe('shared rate limit on Redis', () => {
  it('two replicas share one client budget: 10/s lets 10 through in total, the 11th is refused by either with the time left', async () => {
    const { prefix: keyPrefix } = prefix();
    const a = await replica({ perSecond: 10, keyPrefix });
    const b = await replica({ perSecond: 10, keyPrefix });
    expect(a.capacity).toBe(10);
    const started = Date.now();
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await (i % 2 === 0 ? a : b).consume('10.0.0.1'));
    const fromA = await a.consume('10.0.0.1');
    const fromB = await b.consume('10.0.0.1');
    // All of it inside one 1 s window, or the budget would rightly have been refilled.
    expect(Date.now() - started, 'twelve loopback round trips took a whole window').toBeLessThan(1_000);
    expect(answers.every((d) => d.allowed)).toBe(true);
    for (const refused of [fromA, fromB]) {
      expect(refused.allowed).toBe(false);
      if (refused.allowed) continue;
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(1_000);
    }
    expect(a.mode).toBe('redis');
    expect(b.mode).toBe('redis');
  });

  it('concurrent requests on both replicas: exactly the budget is let through', async () => {
    const { prefix: keyPrefix } = prefix();
    const a = await replica({ perSecond: 10, keyPrefix });
    const b = await replica({ perSecond: 10, keyPrefix });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).consume('10.0.0.2')));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(answers.filter((d) => d.allowed)).toHaveLength(10);
  });

  it('gives every client its own budget, and a refused request takes nothing (batch costs)', async () => {
    const { prefix: keyPrefix } = prefix();
    const a = await replica({ perSecond: 10, keyPrefix });
    const b = await replica({ perSecond: 10, keyPrefix });
    const started = Date.now();
    expect(await a.consume('c1', 8)).toEqual({ allowed: true });
    expect((await b.consume('c1', 5)).allowed).toBe(false);
    // 8 + 2 = 10 fits: the refused 5 were not counted
    expect(await b.consume('c1', 2)).toEqual({ allowed: true });
    expect((await a.consume('c1', 1)).allowed).toBe(false);
    // another client, the full budget, on either replica
    expect(await b.consume('c2', 10)).toEqual({ allowed: true });
    expect((await a.consume('c2')).allowed).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses a client known to be over its budget from memory, synchronously, until its window ends', async () => {
    const p = prefix();
    const a = await replica({ perSecond: 3, keyPrefix: p.prefix });
    const b = await replica({ perSecond: 3, keyPrefix: p.prefix });
    for (let i = 0; i < 3; i++) expect((await a.consume('c1')).allowed).toBe(true);
    // b has not asked Redis about c1 yet: it cannot know
    expect(b.knownRefusal('c1')).toBeUndefined();
    expect((await b.consume('c1')).allowed).toBe(false);
    // now it knows, with the time left in the window, and take() answers without Redis
    const known = b.knownRefusal('c1');
    expect(known?.allowed).toBe(false);
    expect(b.take('c1').allowed).toBe(false);
    // the one key of the window expires with it (PX), and then the client has its budget again
    const [key] = await p.keys();
    expect(key).toBe(`${p.prefix}:c1`);
    const ttl = await admin.pttl(key!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_000);
    await waitFor('the window key to expire', async () => (await p.keys()).length === 0, 3_000);
    expect(b.knownRefusal('c1')).toBeUndefined();
    expect(await b.consume('c1')).toEqual({ allowed: true });
  });

  it('take() answers at once and counts in Redis in the background, so the other replica sees the spent budget', async () => {
    const p = prefix();
    const a = await replica({ perSecond: 5, keyPrefix: p.prefix });
    const b = await replica({ perSecond: 5, keyPrefix: p.prefix });
    for (let i = 0; i < 5; i++) expect(a.take('c1')).toEqual({ allowed: true });
    // over budget by what arrives within one round trip: a sixth take before any answer is back
    expect(a.take('c1')).toEqual({ allowed: true });
    await waitFor('the takes to be counted in Redis', async () => (await admin.get(`${p.prefix}:c1`)) === '5', 2_000);
    expect((await b.consume('c1')).allowed).toBe(false);
    // the background answers taught a that the budget is spent: refused synchronously, nothing counted
    await waitFor('replica a to learn that c1 is over budget', () => a.knownRefusal('c1') !== undefined, 2_000);
    expect(a.take('c1').allowed).toBe(false);
    expect(a.knownRefusal('c2')).toBeUndefined();
    expect(await admin.get(`${p.prefix}:c1`)).toBe('5');
  });

  it('is off without touching Redis', async () => {
    const r = client();
    const l = await replica({ perSecond: 'off', keyPrefix: 'unused', redis: r });
    expect(l).toMatchObject({ enabled: false, capacity: Infinity, mode: 'off' });
    expect(await l.consume('c1', 1_000)).toEqual({ allowed: true });
    expect(() => createSharedRateLimiter({ perSecond: 0, redis: r, logger: silentLogger() })).toThrow(RangeError);
  });
});

describe('shared rate limit when Redis is unreachable or slow', () => {
  let server: TestRedisServer;
  beforeAll(async () => {
    server = await startTestRedisServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('Redis on a closed port: decides per process, says so once in the log and in the gauge', async () => {
    const port = await freePort();
    const registry = new Registry();
    const { logger, lines } = capturingLogger('info');
    const l = await replica({ perSecond: 3, keyPrefix: 'surgectl_test:closed', redis: client(port), registry, logger, probeIntervalMs: 50 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await l.consume('c1'));
    expect(answers.map((d) => d.allowed)).toEqual([true, true, true, false]);
    const refused = answers[3]!;
    expect(!refused.allowed && refused.retryAfterMs > 0 && refused.retryAfterMs <= 1_000).toBe(true);
    expect(l.mode).toBe('local');
    // many more decisions, probes included: still one line
    for (let i = 0; i < 50; i++) await l.consume(`client-${i}`);
    expect(l.take('c1').allowed).toBe(false);
    expect(await sharedGauge(registry)).toEqual({ redis: 0, local: 1 });
    const warnings = lines.filter((x) => x.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ rateLimitMode: 'local', redis: `127.0.0.1:${port}` });
    expect(String(warnings[0]!.msg)).toContain('limiting per process');
    expect(String(warnings[0]!.reason)).toContain('not connected');
  });

  it('Redis stopped and started again: per process meanwhile, shared again once it answers, one line each way', async () => {
    const p = testKeyPrefix(client(server.port));
    const registry = new Registry();
    const { logger, lines } = capturingLogger('info');
    const ra = client(server.port);
    const rb = client(server.port);
    const a = await replica({ perSecond: 4, keyPrefix: p.prefix, redis: ra, registry, logger, probeIntervalMs: 50 });
    const b = await replica({ perSecond: 4, keyPrefix: p.prefix, redis: rb, logger: silentLogger(), probeIntervalMs: 50 });
    await ready(ra, rb);
    for (let i = 0; i < 4; i++) expect((await (i % 2 ? a : b).consume('before')).allowed).toBe(true);
    expect((await a.consume('before')).allowed).toBe(false);
    expect(await sharedGauge(registry)).toEqual({ redis: 1, local: 0 });

    await server.stop();
    await waitFor('the client to notice the stop', () => ra.status !== 'ready' && rb.status !== 'ready', 5_000);
    // Per process: each replica gives the client the whole budget
    const perA = [];
    const perB = [];
    for (let i = 0; i < 5; i++) perA.push((await a.consume('during')).allowed);
    for (let i = 0; i < 5; i++) perB.push((await b.consume('during')).allowed);
    expect(perA).toEqual([true, true, true, true, false]);
    expect(perB).toEqual([true, true, true, true, false]);
    expect(a.mode).toBe('local');
    expect(await sharedGauge(registry)).toEqual({ redis: 0, local: 1 });

    await server.start();
    // Traffic triggers the probes: keep deciding (bounded by the deadline) until both are shared again.
    await waitFor(
      'both replicas to share the limit again',
      async () => {
        await a.consume('probe-traffic');
        await b.consume('probe-traffic');
        return a.mode === 'redis' && b.mode === 'redis';
      },
      10_000,
    );
    expect(await sharedGauge(registry)).toEqual({ redis: 1, local: 0 });
    const shared = [];
    for (let i = 0; i < 5; i++) shared.push((await (i % 2 ? a : b).consume('after')).allowed);
    expect(shared).toEqual([true, true, true, true, false]);
    const warnings = lines.filter((x) => x.level === 40);
    expect(warnings.map((w) => w.rateLimitMode)).toEqual(['local', 'redis']);
    expect(String(warnings[1]!.msg)).toContain('answers again');
    await p.cleanup();
  });

  it('Redis that does not answer in time (CLIENT PAUSE WRITE): decided per process after the timeout, shared again after the pause', async () => {
    const adminPrivate = testRedisClient(server.port);
    clients.push(adminPrivate);
    const p = testKeyPrefix(adminPrivate);
    const registry = new Registry();
    const { logger, lines } = capturingLogger('info');
    const r = client(server.port);
    const l = await replica({ perSecond: 2, keyPrefix: p.prefix, redis: r, registry, logger, timeoutMs: 100, probeIntervalMs: 50 });
    await ready(r, adminPrivate);
    expect((await l.consume('warm')).allowed).toBe(true);
    await server.pause(20_000, 'WRITE');
    try {
      const started = Date.now();
      const first = await l.consume('slow');
      const waited = Date.now() - started;
      expect(first.allowed).toBe(true);
      // decided after about the timeout, not after the pause
      expect(waited).toBeGreaterThanOrEqual(90);
      expect(waited).toBeLessThan(2_000);
      expect(l.mode).toBe('local');
      // later decisions do not wait for Redis
      const t2 = Date.now();
      expect((await l.consume('slow')).allowed).toBe(true);
      expect((await l.consume('slow')).allowed).toBe(false);
      expect(Date.now() - t2).toBeLessThan(90);
      expect(await sharedGauge(registry)).toEqual({ redis: 0, local: 1 });
      const warn = lines.find((x) => x.level === 40);
      expect(String(warn?.reason)).toContain('no answer within 100 ms');
    } finally {
      await server.unpause();
    }
    await waitFor(
      'the limit to be shared again after the pause',
      async () => {
        await l.consume('probe-traffic');
        return l.mode === 'redis';
      },
      10_000,
    );
    expect(await sharedGauge(registry)).toEqual({ redis: 1, local: 0 });
    expect(lines.filter((x) => x.level === 40).map((w) => w.rateLimitMode)).toEqual(['local', 'redis']);
    await p.cleanup();
  });

  it('Redis that answers with an error (out of memory): decided per process, the log names the error', async () => {
    const adminPrivate = client(server.port);
    const p = testKeyPrefix(adminPrivate);
    const { logger, lines } = capturingLogger('info');
    const r = client(server.port);
    await ready(r, adminPrivate);
    const l = await replica({ perSecond: 2, keyPrefix: p.prefix, redis: r, logger, probeIntervalMs: 50 });
    await adminPrivate.config('SET', 'maxmemory-policy', 'noeviction');
    await adminPrivate.config('SET', 'maxmemory', '1');
    try {
      expect((await l.consume('c1')).allowed).toBe(true);
      expect((await l.consume('c1')).allowed).toBe(true);
      expect((await l.consume('c1')).allowed).toBe(false);
      expect(l.mode).toBe('local');
    } finally {
      await adminPrivate.config('SET', 'maxmemory', '0');
    }
    await waitFor(
      'the limit to be shared again',
      async () => {
        await l.consume('probe-traffic');
        return l.mode === 'redis';
      },
      10_000,
    );
    const warnings = lines.filter((x) => x.level === 40);
    expect(warnings.map((w) => w.rateLimitMode)).toEqual(['local', 'redis']);
    expect(String(warnings[0]!.reason)).toMatch(/OOM/);
    await p.cleanup();
  });
});

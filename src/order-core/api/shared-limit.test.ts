import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeEngine } from '../../../test/support/fake-engine.js';
import { silentLogger } from '../logger.js';
import { createStackMetrics } from '../metrics.js';
import type { RateLimitDecision } from '../resilience/rate-limit.js';
import type { SharedClientRateLimiter, SharedRateLimitMode } from '../resilience/redis-rate-limit.js';
import { buildApi } from './app.js';
import type { ApiDeps } from './context.js';

// The API with a rate limit shared through Redis, as a stack with --cache builds it: which of the
// limiter's calls each route makes, and that the answers keep the per-process limiter's shape.
// The limiter is a scripted stand-in here; test/stack-redis.int.test.ts runs the real one on Redis.

const TOKEN = 'test-admin-token-0123456789';
const good = { customerId: 'c1', items: [{ sku: 'SKU-1', qty: 1 }] };

interface ScriptedLimiter extends SharedClientRateLimiter {
  calls: string[];
  setMode(m: SharedRateLimitMode): void;
  /** What consume() answers next (after `delayMs`), default allowed. */
  answer: RateLimitDecision;
  delayMs: number;
  known: RateLimitDecision | undefined;
}

function scriptedLimiter(): ScriptedLimiter {
  let mode: SharedRateLimitMode = 'redis';
  const l: ScriptedLimiter = {
    enabled: true,
    capacity: 5,
    calls: [],
    answer: { allowed: true },
    delayMs: 0,
    known: undefined,
    get mode() {
      return mode;
    },
    setMode: (m) => {
      mode = m;
    },
    consume: async (id, cost = 1) => {
      l.calls.push(`consume ${id} ${cost}`);
      if (l.delayMs > 0) await new Promise((r) => setTimeout(r, l.delayMs));
      return l.answer;
    },
    take: (id, cost = 1) => {
      l.calls.push(`take ${id} ${cost}`);
      return l.answer;
    },
    knownRefusal: (id, cost = 1) => {
      l.calls.push(`known ${id} ${cost}`);
      return l.known;
    },
    close: () => undefined,
  };
  return l;
}

const open: FastifyInstance[] = [];
afterEach(async () => {
  for (const a of open.splice(0)) await a.close();
});

async function api(over: Partial<ApiDeps> = {}) {
  const fake = createFakeEngine({});
  const metrics = createStackMetrics({ defaultMetrics: false });
  const limiter = scriptedLimiter();
  const app = await buildApi({ engine: fake.engine, metrics, logger: silentLogger(), adminToken: TOKEN, rateLimit: 5, maxBacklog: 1000, limiter, ...over });
  open.push(app);
  return { app, limiter, metrics, fake };
}

let keySeq = 0;
const post = (app: FastifyInstance) =>
  app.inject({ method: 'POST', url: '/v1/orders', remoteAddress: '192.0.2.7', headers: { 'content-type': 'application/json', 'idempotency-key': `s-${++keySeq}` }, payload: JSON.stringify(good) });

describe('the API with a shared rate limit', () => {
  it('an order waits for the exact shared decision: a refusal is the usual 429 with Retry-After, counted', async () => {
    const { app, limiter, metrics } = await api();
    limiter.delayMs = 20;
    expect((await post(app)).statusCode).toBe(202);
    expect(limiter.calls).toEqual(['known 192.0.2.7 1', 'consume 192.0.2.7 1']);
    limiter.answer = { allowed: false, retryAfterMs: 1_500 };
    const refused = await post(app);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: 'ORDER_RATE_LIMITED', message: 'Too many requests from this client (limit 5/s)' }, requestId: expect.any(String) });
    expect(refused.headers['retry-after']).toBe('2');
    expect(await metrics.registry.getSingleMetricAsString('surgectl_rate_limited_total')).toContain('surgectl_rate_limited_total 1');
  });

  it('a refusal this process already knows of is answered without asking Redis', async () => {
    const { app, limiter } = await api();
    limiter.known = { allowed: false, retryAfterMs: 300 };
    const refused = await post(app);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(limiter.calls).toEqual(['known 192.0.2.7 1']);
  });

  it('while per process (Redis down) the decision is the synchronous take()', async () => {
    const { app, limiter } = await api();
    limiter.setMode('local');
    expect((await post(app)).statusCode).toBe(202);
    expect(limiter.calls).toEqual(['take 192.0.2.7 1']);
  });

  it('read routes wait for the shared decision too; admin routes are never limited', async () => {
    const { app, limiter } = await api();
    limiter.answer = { allowed: false, retryAfterMs: 900 };
    const r = await app.inject({ method: 'GET', url: '/v1/inventory', remoteAddress: '192.0.2.8' });
    expect(r.statusCode).toBe(429);
    expect(r.json()).toMatchObject({ error: { code: 'ORDER_RATE_LIMITED' } });
    expect(limiter.calls).toEqual(['known 192.0.2.8 1', 'consume 192.0.2.8 1']);
    expect((await app.inject({ method: 'GET', url: '/admin/status', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
  });

  it('over a real socket (the early gate): a known refusal is answered there, an unknown one waits for Redis in the route hook', async () => {
    const { app, limiter, fake } = await api();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const send = (key: string) =>
      fetch(`http://127.0.0.1:${port}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(good) });
    limiter.delayMs = 30;
    const ok = await send('sock-1');
    expect(ok.status).toBe(202);
    limiter.answer = { allowed: false, retryAfterMs: 2_100 };
    const refused = await send('sock-2');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    limiter.known = { allowed: false, retryAfterMs: 100 };
    const known = await send('sock-3');
    expect(known.status).toBe(429);
    expect(((await known.json()) as { error: { code: string } }).error.code).toBe('ORDER_RATE_LIMITED');
    // One decision per request: the gate's question is not asked again by the hook.
    expect(limiter.calls.filter((c) => c.startsWith('consume')).length).toBe(2);
    expect(limiter.calls.filter((c) => c.startsWith('known')).length).toBe(3);
    expect(fake.accepted.length).toBe(1);
  });
});

describe('the API with an inventory cache', () => {
  it('GET /v1/inventory reads the cache, not the store; /admin/status says where the cache is', async () => {
    let mode: 'redis' | 'local' = 'redis';
    const items = [{ sku: 'CACHED-1', available: 7, reserved: 0, sold: 3 }];
    const { app } = await api({ inventory: { listInventory: async () => items, invalidate: async () => undefined }, cacheMode: () => mode });
    expect((await app.inject({ method: 'GET', url: '/v1/inventory' })).json()).toEqual({ items });
    const status = () => app.inject({ method: 'GET', url: '/admin/status', headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json() as { cache: string });
    expect((await status()).cache).toBe('redis');
    mode = 'local';
    expect((await status()).cache).toBe('local');
  });

  it('without a cache the store answers and the status says off', async () => {
    const { app } = await api({ limiter: undefined });
    const inv = (await app.inject({ method: 'GET', url: '/v1/inventory' })).json() as { items: { sku: string }[] };
    expect(inv.items.map((i) => i.sku)).toContain('SKU-1');
    expect((await app.inject({ method: 'GET', url: '/admin/status', headers: { authorization: `Bearer ${TOKEN}` } })).json()).toMatchObject({ cache: 'off' });
  });
});

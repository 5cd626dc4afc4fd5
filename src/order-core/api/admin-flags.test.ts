import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeEngine } from '../../../test/support/fake-engine.js';
import type { FlagProvider } from '../engine.js';
import { createLocalFlags, type FlagOverrideStore } from '../flags.js';
import { createUnleashFlags } from '../flags-unleash.js';
import { silentLogger } from '../logger.js';
import { createStackMetrics } from '../metrics.js';
import type { StackFlagList } from './admin-contract.js';
import { buildApi } from './app.js';

const TOKEN = 'admin-token-0123456789';
const apps: FastifyInstance[] = [];
const closers: (() => void)[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const close of closers.splice(0)) close();
});

function memoryStore(): FlagOverrideStore {
  const data = new Map<string, boolean>();
  return { flagOverrides: async () => new Map(data), setFlagOverride: async (n, e) => void (e === undefined ? data.delete(n) : data.set(n, e)) };
}

/** A loopback port nothing listens on: an Unleash that is down. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function api(flags: FlagProvider): Promise<FastifyInstance> {
  const fake = createFakeEngine();
  const app = await buildApi({
    engine: { ...fake.engine, flags },
    metrics: createStackMetrics({ defaultMetrics: false }),
    logger: silentLogger(),
    adminToken: TOKEN,
    rateLimit: 'off',
    maxBacklog: 1000,
    instanceId: 'host-a:123:2026-01-01T00:00:00.000Z',
  });
  apps.push(app);
  return app;
}

const call = (app: FastifyInstance, method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });

describe('GET/PUT/DELETE /admin/flags', () => {
  it('local source: values, source, refreshedAt moving with each switch, and the instance', async () => {
    let t = Date.parse('2026-03-01T10:00:00.000Z');
    const app = await api(await createLocalFlags(memoryStore(), undefined, { now: () => t }));
    const first = (await call(app, 'GET', '/admin/flags')).json<StackFlagList>();
    expect(first).toMatchObject({ source: 'local', refreshedAt: '2026-03-01T10:00:00.000Z', instance: 'host-a:123:2026-01-01T00:00:00.000Z' });
    expect(first.flags.map((f) => [f.name, f.enabled])).toEqual([
      ['order-notifications', true],
      ['recommendations', true],
      ['loyalty-points', true],
    ]);
    t += 5_000;
    const put = await call(app, 'PUT', '/admin/flags/recommendations', { enabled: false });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'recommendations', enabled: false, overridden: true });
    expect((await call(app, 'GET', '/admin/flags')).json()).toMatchObject({ refreshedAt: '2026-03-01T10:00:05.000Z' });
    expect((await call(app, 'DELETE', '/admin/flags/recommendations')).json()).toMatchObject({ enabled: true, overridden: false });
  });

  it('unleash source while Unleash is down: bootstrap defaults, refreshedAt null, switches refused with 409', async () => {
    const flags = createUnleashFlags({ url: `http://127.0.0.1:${await closedPort()}`, clientToken: 'default:development.secret', refreshIntervalMs: 60_000, logger: silentLogger() });
    closers.push(() => flags.close());
    const app = await api(flags);
    const list = (await call(app, 'GET', '/admin/flags')).json<StackFlagList>();
    expect(list).toMatchObject({ source: 'unleash', refreshedAt: null });
    expect(list.flags.every((f) => f.enabled && !f.overridden)).toBe(true);
    for (const [method, payload] of [['PUT', { enabled: false }], ['DELETE', undefined]] as const) {
      const res = await call(app, method, '/admin/flags/recommendations', payload);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: { code: 'ORDER_FLAGS_FROM_UNLEASH' } });
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(/Unleash.*surgectl flags off recommendations/);
    }
    expect(flags.isEnabled('recommendations')).toBe(true);
    // an unknown name is still a 404, whatever the source
    expect((await call(app, 'PUT', '/admin/flags/nope', { enabled: true })).statusCode).toBe(404);
  });
});

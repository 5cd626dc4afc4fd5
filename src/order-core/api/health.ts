import type { FastifyPluginAsync } from 'fastify';
import { errorBody } from './http-errors.js';
import { notReadyAnswer, notReadyBits } from './readiness.js';

/**
 * GET /healthz (process up), GET /readyz (taking orders), GET /v1/inventory. With a color, both
 * health answers name it (`color`), so a probe or an operator sees which side answered.
 */
export const healthPlugin: FastifyPluginAsync = async (app) => {
  const rt = app.surge;
  const color = rt.deps.color;
  const ok = color === undefined ? { status: 'ok' } : { status: 'ok', color };
  const ready = color === undefined ? { status: 'ready' } : { status: 'ready', color };

  app.get('/healthz', async () => ok);

  app.get('/readyz', async (req, reply) => {
    let healthy: boolean;
    try {
      healthy = rt.deps.engine.store.isHealthy();
    } catch {
      healthy = false;
    }
    const bits = notReadyBits(rt.state, healthy);
    if (bits === 0) return ready;
    const a = notReadyAnswer(bits);
    reply.header('retry-after', String(a.retryAfterSec));
    const body = errorBody(req, a.code, a.message);
    return reply.code(503).send(color === undefined ? body : { ...body, color });
  });
};

/**
 * GET /v1/inventory: stock per sku, from the store or, on a stack with a cache, from its shared
 * copy (at most the cache's staleness bound old; the store answers while Redis does not).
 * Reservations never read it: they are decided in the store.
 */
export const inventoryPlugin: FastifyPluginAsync = async (app) => {
  const rt = app.surge;
  const source = rt.deps.inventory ?? rt.deps.engine.store;
  app.get('/v1/inventory', { config: { rateLimited: true } }, async () => ({ items: await source.listInventory() }));
};

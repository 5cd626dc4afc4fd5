import type { FastifyPluginAsync } from 'fastify';
import { sendError } from './http-errors.js';

/** GET /healthz (process up), GET /readyz (taking orders), GET /v1/inventory. */
export const healthPlugin: FastifyPluginAsync = async (app) => {
  const rt = app.surge;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (req, reply) => {
    const { state } = rt;
    let healthy: boolean;
    try {
      healthy = rt.deps.engine.store.isHealthy();
    } catch {
      healthy = false;
    }
    const reasons: string[] = [];
    if (state.draining) reasons.push('draining');
    if (state.paused) reasons.push('paused');
    if (!healthy) reasons.push('store unavailable');
    if (reasons.length === 0) return { status: 'ready' };
    const code = state.draining ? 'ORDER_DRAINING' : state.paused ? 'ORDER_PAUSED' : 'ORDER_STORE_UNAVAILABLE';
    return sendError(req, reply, 503, code, `Not ready: ${reasons.join(', ')}`, { retryAfterSec: 5 });
  });
};

export const inventoryPlugin: FastifyPluginAsync = async (app) => {
  const rt = app.surge;
  app.get('/v1/inventory', { config: { rateLimited: true } }, async () => ({ items: rt.deps.engine.store.listInventory() }));
};

import type { FastifyPluginAsync } from 'fastify';

const BREAKER_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** GET /metrics: the stack's prom-client registry; gauges that mirror the store are set at scrape time. */
export const metricsPlugin: FastifyPluginAsync = async (app) => {
  const rt = app.surge;
  const { metrics, engine } = rt.deps;

  app.get('/metrics', async (req, reply) => {
    try {
      const s = await engine.store.stats();
      metrics.queueDepth.set(s.queueDepth);
      metrics.queueOldestAge.set(s.oldestWaitingMs / 1000);
      metrics.oversold.set(s.oversold);
    } catch (err) {
      // A store restart or outage must not break the scrape: the other series are still worth having.
      req.log.warn({ err }, 'store stats unavailable during scrape');
    }
    const busy = engine.pool.busy();
    metrics.workers.set({ state: 'busy' }, busy);
    metrics.workers.set({ state: 'idle' }, Math.max(0, engine.pool.size() - busy));
    metrics.breakerState.set(BREAKER_VALUE[engine.payments.breakerState()]);
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};

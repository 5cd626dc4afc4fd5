import { hostname } from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import { bearerMatcher } from '../bearer.js';
import type { StackFlag, StackFlagList, StackStatus } from './admin-contract.js';
import type { ApiRuntime, PaymentSettings } from './context.js';
import { sendError } from './http-errors.js';
import { dropRequestsBodySchema, flagBodySchema, paymentFaultBodySchema, workersBodySchema } from './schemas.js';

/** The admin status document (GET /admin/status, DELETE /admin/faults). */
export async function adminStatus(rt: ApiRuntime): Promise<StackStatus> {
  const { engine } = rt.deps;
  const [s, payment] = await Promise.all([engine.store.stats(), rt.deps.payment ? rt.deps.payment.get() : null]);
  return {
    intake: { paused: rt.state.paused, draining: rt.state.draining },
    workers: { size: engine.pool.size(), busy: engine.pool.busy(), paused: engine.pool.isPaused() },
    queue: { depth: s.queueDepth, oldestWaitingMs: s.oldestWaitingMs },
    orders: { byStatus: s.byStatus },
    oversold: s.oversold,
    breaker: engine.payments.breakerState(),
    payment,
    faults: { dropRatio: rt.state.dropRatio },
    color: rt.deps.color ?? null,
    cache: rt.deps.cacheMode?.() ?? 'off',
    ...(rt.deps.processes !== undefined ? { processes: [...rt.deps.processes()] } : {}),
  };
}

/** /admin/*: operator and chaos-drill controls behind a bearer token; never rate-limited. */
export const adminPlugin: FastifyPluginAsync = async (app) => {
  const rt = app.surge;
  const { engine } = rt.deps;

  // Most admin calls carry no body, and clients often send one empty with Content-Type
  // application/json: that is "no body" here (routes with a body schema still require one), not
  // invalid JSON. Scoped to this plugin; everything else keeps fastify's own parser.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body.toString();
    if (text === '') return done(null, undefined);
    return parseJson(req, text, done);
  });

  const authorized = bearerMatcher(rt.deps.adminToken);
  app.addHook('onRequest', async (req, reply) => {
    if (!authorized(req.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer realm="surgectl-stack-admin"');
      sendError(req, reply, 401, 'ORDER_UNAUTHORIZED', 'Admin API needs "Authorization: Bearer <token>" with the stack admin token');
      return reply;
    }
  });

  app.get('/admin/status', async () => adminStatus(rt));

  app.put<{ Body: { count: number } }>('/admin/workers', { schema: { body: workersBodySchema } }, async (req, reply) => {
    if (rt.state.draining && req.body.count > engine.pool.size()) {
      return sendError(req, reply, 409, 'ORDER_POOL_DRAINING', `The stack is draining and starts no new workers (it has ${engine.pool.size()}); only a smaller count is accepted`);
    }
    engine.pool.setSize(req.body.count);
    req.log.info({ workers: req.body.count }, 'worker pool resized');
    return { size: engine.pool.size() };
  });

  app.post('/admin/intake/pause', async (req) => {
    rt.state.paused = true;
    req.log.warn('intake paused by admin');
    return { paused: true };
  });
  app.post('/admin/intake/resume', async (req) => {
    rt.state.paused = false;
    req.log.info('intake resumed by admin');
    return { paused: false };
  });

  app.post('/admin/drain', async (req, reply) => {
    rt.state.draining = true;
    req.log.warn('drain requested by admin');
    const drain = rt.deps.drain ?? (() => engine.pool.drain(rt.deps.drainTimeoutMs ?? 30_000));
    drain().catch((err: unknown) => req.log.error({ err }, 'drain failed'));
    return reply.code(202).send({ draining: true });
  });

  const instance = rt.deps.instanceId ?? `${hostname()}:${process.pid}:${new Date(rt.now()).toISOString()}`;
  app.get('/admin/flags', async (): Promise<StackFlagList> => {
    const at = engine.flags.refreshedAt();
    return { flags: engine.flags.list(), source: engine.flags.source, refreshedAt: at === undefined ? null : new Date(at).toISOString(), instance };
  });
  const findFlag = (name: string): StackFlag | undefined => engine.flags.list().find((f) => f.name === name);
  // Unleash owns the values: a local switch would be undone by the next fetch, or worse, make
  // this instance disagree with the others. Say where to switch instead.
  const fromUnleash = (req: Parameters<typeof sendError>[0], reply: Parameters<typeof sendError>[1], name: string) =>
    sendError(req, reply, 409, 'ORDER_FLAGS_FROM_UNLEASH', `Flag '${name}' comes from Unleash and cannot be switched on the stack; switch it in Unleash (e.g. surgectl flags off ${name} with the unleash provider)`);
  app.put<{ Params: { name: string }; Body: { enabled: boolean } }>('/admin/flags/:name', { schema: { body: flagBodySchema } }, async (req, reply) => {
    if (!findFlag(req.params.name)) return flagNotFound(req, reply);
    if (engine.flags.source === 'unleash') return fromUnleash(req, reply, req.params.name);
    await engine.flags.set(req.params.name, req.body.enabled);
    req.log.info({ flag: req.params.name, enabled: req.body.enabled }, 'flag overridden');
    return findFlag(req.params.name);
  });
  app.delete<{ Params: { name: string } }>('/admin/flags/:name', async (req, reply) => {
    if (!findFlag(req.params.name)) return flagNotFound(req, reply);
    if (engine.flags.source === 'unleash') return fromUnleash(req, reply, req.params.name);
    await engine.flags.clear(req.params.name);
    return findFlag(req.params.name);
  });
  const flagNotFound = (req: Parameters<typeof sendError>[0], reply: Parameters<typeof sendError>[1]) =>
    sendError(req, reply, 404, 'ORDER_FLAG_NOT_FOUND', `No flag named '${(req.params as { name: string }).name}'`, {
      details: [{ path: 'params.name', message: `known flags: ${engine.flags.list().map((f) => f.name).join(', ') || '(none)'}` }],
    });

  app.post('/admin/faults/kill-worker', async (req) => {
    const r = engine.pool.killWorker();
    req.log.warn({ orderId: r.orderId }, 'fault: worker killed');
    return r;
  });
  app.post('/admin/faults/consumer/pause', async (req) => {
    engine.pool.pause();
    req.log.warn('fault: queue consumer paused');
    return { paused: true };
  });
  app.post('/admin/faults/consumer/resume', async () => {
    engine.pool.resume();
    return { paused: engine.pool.isPaused() };
  });

  app.put<{ Body: { ratio: number } }>('/admin/faults/drop-requests', { schema: { body: dropRequestsBodySchema } }, async (req) => {
    rt.state.dropRatio = req.body.ratio;
    req.log.warn({ dropRatio: req.body.ratio }, 'fault: dropping intake requests');
    return { dropRatio: rt.state.dropRatio };
  });

  app.get('/admin/faults/payment', async (req, reply) => {
    if (!rt.deps.payment) return noPayment(req, reply);
    return rt.deps.payment.get();
  });
  app.put<{ Body: Partial<PaymentSettings> }>('/admin/faults/payment', { schema: { body: paymentFaultBodySchema } }, async (req, reply) => {
    if (!rt.deps.payment) return noPayment(req, reply);
    const next = await rt.deps.payment.set(req.body);
    req.log.warn({ payment: next }, 'fault: payment gateway settings changed');
    return next;
  });
  const noPayment = (req: Parameters<typeof sendError>[0], reply: Parameters<typeof sendError>[1]) =>
    sendError(req, reply, 404, 'ORDER_ROUTE_NOT_FOUND', 'This stack has no bundled payment gateway to configure');

  app.post('/admin/faults/restart-store', async (req, reply) => {
    // PostgreSQL: the server is not this process's to restart (restart it where it runs).
    if (!rt.deps.restartStore) {
      return sendError(req, reply, 409, 'ORDER_FAULT_UNSUPPORTED', `The restart-store fault needs the embedded SQLite store; this stack's order store is ${rt.deps.storeKind ?? 'not restartable'} (restart that server instead)`);
    }
    const started = rt.now();
    let r;
    try {
      r = await rt.deps.restartStore();
    } catch (err) {
      req.log.error({ err }, 'fault: store restart failed; the store refuses writes until a reopen succeeds');
      return sendError(req, reply, 503, 'ORDER_STORE_UNAVAILABLE', `The order store could not be reopened (${(err as Error).message}); retry the restart, or restart the stack`, {
        retryAfterSec: 1,
      });
    }
    const downtimeMs = r ? r.downtimeMs : rt.now() - started;
    req.log.warn({ downtimeMs }, 'fault: store restarted');
    return { restarted: true, downtimeMs };
  });

  // Behind the token like the rest: without it, nobody learns which admin routes exist.
  app.all('/admin/*', async (req, reply) =>
    sendError(req, reply, 404, 'ORDER_ROUTE_NOT_FOUND', `No admin route ${req.method} ${req.url.split('?')[0] ?? ''} (see docs/order-api.md)`),
  );

  app.delete('/admin/faults', async (req) => {
    rt.state.dropRatio = 0;
    engine.pool.resume();
    if (rt.deps.payment) await rt.deps.payment.reset();
    req.log.info('faults cleared');
    return adminStatus(rt);
  });
};

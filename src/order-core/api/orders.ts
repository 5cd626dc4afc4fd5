import type { FastifyPluginAsync } from 'fastify';
import type { NewOrder } from '../domain/types.js';
import { sendError } from './http-errors.js';
import { checkBacklog, clientIdOf, submissionHook } from './intake-guard.js';
import { IDEMPOTENCY_KEY_RE, newOrderSchema, orderIdParamsSchema } from './schemas.js';
import type { BodyValidator } from './raw-order.js';
import { submitOrder } from './submit.js';

/** POST /v1/orders, GET /v1/orders/:id, POST /v1/orders/:id/cancel. */
export const ordersPlugin: FastifyPluginAsync = async (app) => {
  const rt = app.surge;
  const tracing = rt.deps.tracing;
  const guard = submissionHook(rt, 1);
  // The raw intake (rawOrderIntake) parses and validates as this route does: fastify's JSON
  // parser (__proto__ and constructor.prototype refused) and the route's compiler and schema.
  app.addHook('onReady', function (done) {
    rt.orderBody = {
      parseJson: app.getDefaultJsonParser('error', 'error'),
      validate: app.validatorCompiler!({ schema: newOrderSchema, method: 'POST', url: '/v1/orders', httpPart: 'body' }) as BodyValidator,
    };
    done();
  });

  app.post<{ Body: NewOrder }>(
    '/v1/orders',
    {
      schema: { body: newOrderSchema },
      config: { intake: true },
      // Tracing on: the request's span starts first, so it covers the guard's refusals too.
      onRequest: tracing === undefined ? guard : [tracing.onRequest, guard],
      ...(tracing === undefined ? {} : { onResponse: tracing.onResponse }),
    },
    async (req, reply) => {
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string' || !IDEMPOTENCY_KEY_RE.test(key)) {
        rt.deps.metrics.ordersRejected.inc({ reason: 'validation' });
        const message = key === undefined ? 'is required' : 'must be 1..200 visible ASCII characters';
        return sendError(req, reply, 400, 'ORDER_IDEMPOTENCY_KEY_REQUIRED', `Idempotency-Key header ${message} (e.g. a UUID per order)`, {
          details: [{ path: 'headers.idempotency-key', message }],
        });
      }
      if (!checkBacklog(rt, req, reply, 1)) return reply;
      const r = await submitOrder(rt, req.body, key, clientIdOf(req), () => req.log, req.id, tracing === undefined ? undefined : tracing.of(req));
      if (!r.ok) return sendError(req, reply, r.status, r.code, r.message, { details: r.details, retryAfterSec: r.retryAfterSec });
      if (r.status === 202) reply.header('location', r.body.statusUrl);
      return reply.code(r.status).send(r.body);
    },
  );

  app.get<{ Params: { id: string } }>('/v1/orders/:id', { schema: { params: orderIdParamsSchema }, config: { rateLimited: true } }, async (req, reply) => {
    const order = await rt.deps.engine.store.getOrder(req.params.id);
    if (!order) return sendError(req, reply, 404, 'ORDER_NOT_FOUND', `No order with id '${req.params.id}'`);
    return order;
  });

  app.post<{ Params: { id: string } }>(
    '/v1/orders/:id/cancel',
    { schema: { params: orderIdParamsSchema }, config: { rateLimited: true } },
    async (req, reply) => {
      const { store } = rt.deps.engine;
      const before = await store.getOrder(req.params.id);
      if (!before) return sendError(req, reply, 404, 'ORDER_NOT_FOUND', `No order with id '${req.params.id}'`);
      if (before.status === 'cancelled') return before;
      if (!(await store.cancel(req.params.id, 'cancelled by customer'))) {
        const now = (await store.getOrder(req.params.id)) ?? before;
        return sendError(req, reply, 409, 'ORDER_NOT_CANCELLABLE', `Order ${req.params.id} is ${now.status} and can no longer be cancelled`);
      }
      return (await store.getOrder(req.params.id)) ?? before;
    },
  );
};

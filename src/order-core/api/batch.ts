import type { FastifyPluginAsync } from 'fastify';
import type { NewOrder } from '../domain/types.js';
import type { ApiErrorCode, FieldProblem } from './http-errors.js';
import { fieldProblems, sendError, summarize } from './http-errors.js';
import { checkBacklog, clientIdOf, submissionHook } from './intake-guard.js';
import { IDEMPOTENCY_KEY_RE, batchEnvelopeSchema, batchOrderSchema } from './schemas.js';
import { submitOrder, type AcceptedBody } from './submit.js';

interface BatchResult {
  index: number;
  /** The HTTP status this order would have had on POST /v1/orders. */
  status: number;
  orderId?: string;
  order?: AcceptedBody;
  error?: { code: ApiErrorCode; message: string; details?: FieldProblem[] };
}

/** POST /v1/orders/batch: 1..100 orders, one result each (207); a bad order fails alone. */
export const batchPlugin: FastifyPluginAsync = async (app) => {
  const rt = app.surge;
  const tracing = rt.deps.tracing;
  const guard = submissionHook(rt, 0);

  app.post<{ Body: { orders: Record<string, unknown>[] } }>(
    '/v1/orders/batch',
    {
      schema: { body: batchEnvelopeSchema },
      config: { intake: true },
      // The rate limit is taken in the handler, once the number of orders is known.
      // Tracing on: the batch request's span is the root of the trace its orders share.
      onRequest: tracing === undefined ? guard : [tracing.onRequest, guard],
      ...(tracing === undefined ? {} : { onResponse: tracing.onResponse }),
    },
    async (req, reply) => {
      const { orders } = req.body;
      // Rate limit and backlog count orders, not requests, so a batch cannot bypass either.
      if (rt.limiter.enabled) {
        if (orders.length > rt.limiter.capacity) {
          rt.deps.metrics.ordersRejected.inc({ reason: 'rate_limited' }, orders.length);
          return sendError(
            req,
            reply,
            413,
            'ORDER_BATCH_OVER_RATE_LIMIT',
            `This batch has ${orders.length} orders, more than this client may send at once (rate limit ${String(rt.deps.rateLimit)}/s); send batches of at most ${rt.limiter.capacity}`,
          );
        }
        const d = await rt.limiter.consume(clientIdOf(req), orders.length);
        if (!d.allowed) {
          rt.deps.metrics.rateLimited.inc();
          rt.deps.metrics.ordersRejected.inc({ reason: 'rate_limited' }, orders.length);
          return sendError(req, reply, 429, 'ORDER_RATE_LIMITED', `Too many orders from this client (limit ${String(rt.deps.rateLimit)}/s)`, {
            retryAfterSec: d.retryAfterMs / 1000,
          });
        }
      }
      if (!checkBacklog(rt, req, reply, orders.length)) return reply;
      const validate = req.compileValidationSchema(batchOrderSchema);
      const clientId = clientIdOf(req);
      const trace = tracing === undefined ? undefined : tracing.of(req);
      const results = await Promise.all(
        orders.map(async (raw, index): Promise<BatchResult> => {
          if (!validate(raw)) {
            rt.deps.metrics.ordersRejected.inc({ reason: 'validation' });
            const details = fieldProblems(validate.errors ?? [], `orders[${index}]`);
            return { index, status: 400, error: { code: 'ORDER_VALIDATION', message: summarize(details), details } };
          }
          const o = raw as unknown as NewOrder & { idempotencyKey: string };
          if (!IDEMPOTENCY_KEY_RE.test(o.idempotencyKey)) {
            rt.deps.metrics.ordersRejected.inc({ reason: 'validation' });
            const details = [{ path: `orders[${index}].idempotencyKey`, message: 'must be 1..200 visible ASCII characters' }];
            return { index, status: 400, error: { code: 'ORDER_VALIDATION', message: summarize(details), details } };
          }
          const r = await submitOrder(rt, o, o.idempotencyKey, clientId, () => req.log, req.id, trace);
          if (r.ok) return { index, status: r.status, orderId: r.body.orderId, order: r.body };
          const details = r.details?.map((d) => ({ path: `orders[${index}].${d.path}`, message: d.message }));
          return { index, status: r.status, error: details ? { code: r.code, message: r.message, details } : { code: r.code, message: r.message } };
        }),
      );
      return reply.code(207).send({ results });
    },
  );
};

import type { FastifyBaseLogger } from 'fastify';
import { requestHash } from '../domain/idempotency.js';
import type { NewOrder, OrderView } from '../domain/types.js';
import { batchedLine, type BatchedLine } from '../logger.js';
import type { IntakeTrace } from '../tracing.js';
import type { ApiRuntime } from './context.js';
import type { ApiErrorCode, FieldProblem } from './http-errors.js';

/** The 202/200 body of an accepted order. */
export interface AcceptedBody {
  orderId: string;
  status: OrderView['status'];
  statusUrl: string;
  queuePosition: number | null;
  /** null while the pipeline has not finished an order yet (no pace to estimate from). */
  estimatedWaitMs: number | null;
}

export type SubmitResult =
  | { ok: true; status: 200 | 202; body: AcceptedBody }
  | { ok: false; status: number; code: ApiErrorCode; message: string; details?: FieldProblem[]; retryAfterSec?: number };

const acceptedLogs = new WeakMap<ApiRuntime, BatchedLine>();

/** The runtime's shared "orders accepted" line: `orderIds` and, at the same index, the `requestIds` that accepted them. */
function acceptedLogOf(rt: ApiRuntime): BatchedLine {
  let log = acceptedLogs.get(rt);
  if (log === undefined) {
    log = batchedLine(rt.deps.logger, 'orders accepted', 'accepted', ['orderIds', 'requestIds']);
    acceptedLogs.set(rt, log);
  }
  return log;
}

/** Writes the "orders accepted" line gathered so far (the API's close). */
export function flushAcceptedLog(rt: ApiRuntime): void {
  acceptedLogs.get(rt)?.flush();
}

/** Hands one validated order to the store; resolves after the durable commit. */
export async function submitOrder(
  rt: ApiRuntime,
  order: NewOrder,
  idempotencyKey: string,
  clientId: string,
  requestLog: () => FastifyBaseLogger,
  requestId: string,
  trace?: IntakeTrace,
): Promise<SubmitResult> {
  const { metrics, engine } = rt.deps;
  // The request's logger, made only when a line is written (the raw intake has none ready).
  const log = () => (trace === undefined ? requestLog() : requestLog().child({ trace_id: trace.traceId }));
  const clean: NewOrder = { customerId: order.customerId, items: order.items.map((i) => ({ sku: i.sku, qty: i.qty })) };
  if (order.paymentToken !== undefined) clean.paymentToken = order.paymentToken;
  let outcome;
  try {
    outcome = await engine.store.accept({ order: clean, idempotencyKey, requestHash: requestHash(clean), clientId, traceParent: trace === undefined ? undefined : trace.traceParent });
  } catch (err) {
    // A store that cannot commit is an outage, not bad input; the same key may safely be retried.
    // Once per interval with a count, not a stack per order: a full disk refuses every order.
    rt.refusals.note(err, log());
    metrics.ordersRejected.inc({ reason: 'store_unavailable' });
    return { ok: false, status: 503, code: 'ORDER_STORE_UNAVAILABLE', message: 'The order store is unavailable; retry with the same Idempotency-Key', retryAfterSec: 1 };
  }
  switch (outcome.kind) {
    case 'created':
      rt.refusals.recovered(log);
      // surgectl_orders_accepted_total is counted by the store per group commit, not here.
      // A traced order keeps its own line, with its trace id; the others share one (batchedLine).
      if (trace !== undefined) {
        log().info({ orderId: outcome.order.orderId }, 'order accepted');
        trace.accepted(outcome.order.orderId, false);
      } else acceptedLogOf(rt).add(outcome.order.orderId, requestId);
      return { ok: true, status: 202, body: acceptedBody(rt, outcome.order) };
    case 'existing':
      if (rt.deps.logger.isLevelEnabled('debug')) log().debug({ orderId: outcome.order.orderId }, 'idempotent replay');
      if (trace !== undefined) trace.accepted(outcome.order.orderId, true);
      return { ok: true, status: 200, body: acceptedBody(rt, outcome.order) };
    case 'conflict':
      metrics.ordersRejected.inc({ reason: 'conflict' });
      return {
        ok: false,
        status: 409,
        code: 'ORDER_IDEMPOTENCY_CONFLICT',
        message: `Idempotency-Key was already used for order ${outcome.orderId} with a different body; use a new key for a new order`,
      };
    case 'unknown_sku': {
      metrics.ordersRejected.inc({ reason: 'unknown_sku' });
      const details: FieldProblem[] = [];
      clean.items.forEach((item, i) => {
        if (outcome.skus.includes(item.sku)) details.push({ path: `items[${i}].sku`, message: `unknown sku '${item.sku}'` });
      });
      return { ok: false, status: 422, code: 'ORDER_UNKNOWN_SKU', message: `Unknown sku: ${outcome.skus.join(', ')} (see GET /v1/inventory)`, details };
    }
  }
}

export function acceptedBody(rt: ApiRuntime, order: OrderView): AcceptedBody {
  const waiting = order.status === 'accepted' || order.status === 'payment_pending';
  let queuePosition: number | null = order.queuePosition ?? null;
  let estimatedWaitMs: number | null = order.estimatedWaitMs ?? null;
  if (waiting && queuePosition === null) queuePosition = Math.max(1, rt.deps.engine.store.queueDepth());
  if (waiting && estimatedWaitMs === null && queuePosition !== null) {
    const pace = rt.deps.engine.pool.throughputPerSec();
    if (pace > 0) estimatedWaitMs = Math.round((queuePosition / pace) * 1000);
  }
  return { orderId: order.orderId, status: order.status, statusUrl: `/v1/orders/${encodeURIComponent(order.orderId)}`, queuePosition, estimatedWaitMs };
}

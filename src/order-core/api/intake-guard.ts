import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiRuntime } from './context.js';
import { sendError } from './http-errors.js';

/**
 * The unit of the per-client rate limit: the peer address. Not `x-api-key`: nothing
 * authenticates it, so a client rotating keys would get a fresh budget per key; and not
 * X-Forwarded-For, which any client can write (the stack trusts no proxy).
 */
export function clientIdOf(req: FastifyRequest): string {
  return req.ip;
}

/**
 * An onRequest hook for order submissions: refuses before the body is even read, so shedding
 * stays cheap under overload. Callback style with a synchronous fast path, because this runs on
 * every order and a promise per hook showed up in the intake profile.
 */
export function submissionHook(rt: ApiRuntime, cost: number) {
  return (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    if (!admitSubmissionSync(rt, req, reply)) return;
    if (!rt.limiter.enabled || cost === 0) return done();
    checkRateLimit(rt, req, reply, cost).then((ok) => (ok ? done() : undefined), done);
  };
}

/**
 * Checks an order submission against the chaos drop fault, drain and pause, cheapest first.
 * Sends the refusal and returns false when the request must not go on.
 */
export function admitSubmissionSync(rt: ApiRuntime, req: FastifyRequest, reply: FastifyReply): boolean {
  const { state, deps } = rt;
  const rejected = deps.metrics.ordersRejected;
  if (state.dropRatio > 0 && (deps.random ?? Math.random)() < state.dropRatio) {
    rejected.inc({ reason: 'dropped' });
    sendError(req, reply, 503, 'ORDER_FAULT_DROPPED', 'Dropped by an injected fault (PUT /admin/faults/drop-requests)', { retryAfterSec: 1 });
    return false;
  }
  if (state.draining) {
    rejected.inc({ reason: 'draining' });
    sendError(req, reply, 503, 'ORDER_DRAINING', 'The stack is shutting down and takes no new orders', { retryAfterSec: 5 });
    return false;
  }
  if (state.paused) {
    rejected.inc({ reason: 'paused' });
    sendError(req, reply, 503, 'ORDER_PAUSED', 'Intake is paused by an operator; retry later', { retryAfterSec: 5 });
    return false;
  }
  return true;
}

export async function checkRateLimit(rt: ApiRuntime, req: FastifyRequest, reply: FastifyReply, cost: number): Promise<boolean> {
  if (!rt.limiter.enabled) return true;
  const decision = await rt.limiter.consume(clientIdOf(req), cost);
  if (decision.allowed) return true;
  rt.deps.metrics.rateLimited.inc();
  rt.deps.metrics.ordersRejected.inc({ reason: 'rate_limited' });
  sendError(req, reply, 429, 'ORDER_RATE_LIMITED', `Too many requests from this client (limit ${String(rt.deps.rateLimit)}/s)`, {
    retryAfterSec: decision.retryAfterMs / 1000,
  });
  return false;
}

/** Sheds `count` new orders when they would push the backlog over maxBacklog. */
export function checkBacklog(rt: ApiRuntime, req: FastifyRequest, reply: FastifyReply, count: number): boolean {
  const d = rt.shedder.check(count);
  if (!d.shed) return true;
  rt.deps.metrics.shed.inc(count);
  rt.deps.metrics.ordersRejected.inc({ reason: 'shed' }, count);
  sendError(req, reply, 503, 'ORDER_SHED', `Too many orders waiting (${d.queueDepth}, limit ${rt.deps.maxBacklog}); retry after the Retry-After delay`, {
    retryAfterSec: d.retryAfterSec,
  });
  return false;
}

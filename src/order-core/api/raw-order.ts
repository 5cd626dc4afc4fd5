import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { NewOrder } from '../domain/types.js';
import type { ApiRuntime } from './context.js';
import { classifyError, errorBody, invalidUtf8Error, retryAfterValue, UTF8, type ApiErrorCode, type FieldProblem } from './http-errors.js';
import { backlogRefusal, clientIdOfSocket, writeJsonAnswer, writeRefusal, type Refusal } from './intake-guard.js';
import { IDEMPOTENCY_KEY_RE } from './schemas.js';
import { submitOrder } from './submit.js';

/** A compiled body validator (fastify's ajv, the route's own schema and options). */
export interface BodyValidator {
  (body: unknown): boolean;
  errors?: readonly { instancePath?: string; keyword?: string; message?: string; params?: Record<string, unknown> }[] | null;
}

export interface RawOrderOptions {
  /** Bodies over this many bytes go to fastify (its 413). */
  bodyLimit: number;
  /** The duration histogram of POST /v1/orders, by status. */
  observe: (status: number, seconds: number) => void;
  color?: string | undefined;
}

/** What a request to take raw must look like: a JSON body of a stated length, nothing fastify must judge. */
function takesRaw(req: IncomingMessage, bodyLimit: number): boolean {
  const h = req.headers;
  const type = h['content-type'];
  if (type !== 'application/json' && type !== 'application/json; charset=utf-8') return false;
  if (h['transfer-encoding'] !== undefined || h.expect !== undefined) return false;
  const length = h['content-length'];
  if (length === undefined) return false;
  const n = Number(length);
  if (!(n > 0 && n <= bodyLimit)) return false;
  const key = h['idempotency-key'];
  return typeof key === 'string' && IDEMPOTENCY_KEY_RE.test(key);
}

/**
 * POST /v1/orders taken at the HTTP server, beside fastify (issue 16): an admitted submission
 * whose headers need no judging (a JSON body of stated length at most the body limit, a valid
 * Idempotency-Key, no Expect) is read, decoded, parsed and validated here with the route's own
 * parser and compiled schema, handed to submitOrder like the route does, and answered with the
 * same status, headers and body. Every request that is not that plain goes to fastify before its
 * body is read, so 413, 415, a missing key, a chunked body and the rest keep their one answer
 * there; the refusals made after the body (invalid UTF-8, JSON or schema, the backlog re-checked)
 * are classified by the error handler's own classifyError. What this saves is fastify's per-request
 * objects, routing, hooks and reply pipeline: about 8 µs of event-loop CPU per accepted order,
 * some 15 % (README, Benchmarks).
 */
export function rawOrderIntake(rt: ApiRuntime, opts: RawOrderOptions) {
  const { metrics, logger } = rt.deps;
  const color = opts.color;

  const answer = (res: ServerResponse, started: number, status: number, requestId: string, body: string, extra?: Record<string, string>) => {
    writeJsonAnswer(res, status, requestId, body, color, extra);
    opts.observe(status, (performance.now() - started) / 1000);
  };
  const answerError = (
    res: ServerResponse,
    started: number,
    status: number,
    requestId: string,
    code: ApiErrorCode,
    message: string,
    details?: FieldProblem[],
    retryAfterSec?: number,
  ) => {
    const body = JSON.stringify(errorBody(requestId, code, message, details));
    answer(res, started, status, requestId, body, retryAfterSec === undefined ? undefined : { 'retry-after': retryAfterValue(retryAfterSec) });
  };
  /** A refusal of the body, as fastify's error handler answers it (counted by reason, like an intake route's). */
  const refuseBody = (res: ServerResponse, started: number, requestId: string, err: Error & { validation?: unknown; validationContext?: string }) => {
    const c = classifyError(err as Parameters<typeof classifyError>[0]);
    if (c.reason !== undefined) metrics.ordersRejected.inc({ reason: c.reason });
    answerError(res, started, c.status, requestId, c.code, c.message, c.details, c.retryAfterSec);
  };
  /** The backlog re-checked once the body is in (the route's checkBacklog): the same 503 and hold. */
  const refuse = (req: IncomingMessage, res: ServerResponse, started: number, requestId: string, r: Refusal) => {
    writeRefusal(rt, req, res, r, requestId, color);
    opts.observe(r.status, (performance.now() - started) / 1000);
  };

  const take = async (req: IncomingMessage, res: ServerResponse, started: number, requestId: string, body: Buffer) => {
    let text: string;
    try {
      text = UTF8.decode(body);
    } catch {
      return refuseBody(res, started, requestId, invalidUtf8Error(body));
    }
    const { parseJson, validate } = rt.orderBody!;
    let parsed: unknown;
    let parseError: Error | null = null;
    parseJson(req as never, text, (err, value) => {
      parseError = err;
      parsed = value;
    });
    if (parseError !== null) return refuseBody(res, started, requestId, parseError);
    if (!validate(parsed)) {
      return refuseBody(res, started, requestId, Object.assign(new Error('body validation failed'), { validation: validate.errors ?? [], validationContext: 'body' }));
    }
    const shed = backlogRefusal(rt, 1);
    if (shed !== undefined) return refuse(req, res, started, requestId, shed);
    const key = req.headers['idempotency-key'] as string;
    const r = await submitOrder(rt, parsed as NewOrder, key, clientIdOfSocket(req.socket), () => logger.child({ requestId }) as FastifyBaseLogger, requestId);
    if (!r.ok) return answerError(res, started, r.status, requestId, r.code, r.message, r.details, r.retryAfterSec);
    const extra = r.status === 202 ? { location: r.body.statusUrl } : undefined;
    answer(res, started, r.status, requestId, JSON.stringify(r.body), extra);
  };

  /** Takes the request when it is plain enough (see rawOrderIntake); false: fastify takes it, its body unread. */
  return (req: IncomingMessage, res: ServerResponse, started: number, requestId: string): boolean => {
    if (rt.orderBody === undefined || !takesRaw(req, opts.bodyLimit)) return false;
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    req.on('data', (chunk: Buffer) => {
      if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
    });
    req.on('end', () => {
      const body = more !== undefined ? Buffer.concat(more) : (first ?? Buffer.alloc(0));
      take(req, res, started, requestId, body).catch((err: unknown) => {
        // A fault of ours (submitOrder answers every store outcome): a 500 with the request id, logged.
        logger.error({ err, requestId }, 'request failed');
        if (!res.headersSent) answerError(res, started, 500, requestId, 'ORDER_INTERNAL', 'Internal error; the request id identifies it in the stack log');
      });
    });
    // The client went away mid-body: nothing to answer (Node's server closes the socket).
    req.on('error', () => undefined);
    return true;
  };
}

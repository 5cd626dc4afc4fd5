import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitDecision } from '../resilience/rate-limit.js';
import type { ApiRuntime } from './context.js';
import { errorBody, retryAfterValue, sendError, type ApiErrorCode } from './http-errors.js';

/**
 * The unit of the per-client rate limit: the peer address. Not `x-api-key`: nothing
 * authenticates it, so a client rotating keys would get a fresh budget per key; and not
 * X-Forwarded-For, which any client can write (the stack trusts no proxy).
 */
export function clientIdOf(req: FastifyRequest): string {
  return req.ip;
}

/** clientIdOf for a request fastify has not seen (fastify's req.ip is the peer address: no proxy is trusted). */
export function clientIdOfSocket(socket: Socket): string {
  return socket.remoteAddress ?? '';
}

/** A client's X-Request-Id is kept when it is this sane, so its logs and ours line up. */
export const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request's id: the client's X-Request-Id when sane, else a fresh UUID (fastify's genReqId too). */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
}

/**
 * Bodies up to this size are read (and dropped) after a refusal made before the body, so the
 * client's keep-alive connection stays open; larger ones, and bodies of unknown length, close it
 * instead. 16 KiB: an order is a few hundred bytes, so every real client keeps its connection.
 */
export const REFUSAL_KEEP_ALIVE_MAX_BODY = 16 * 1024;

/** Why an order submission is refused, with the answer it gets. */
export interface Refusal {
  status: 429 | 503;
  code: ApiErrorCode;
  message: string;
  /** Retry-After, seconds (rounded up to a whole second >= 1 on the wire). */
  retryAfterSec: number;
  /** An overload refusal (shed, rate limit): the kept connection is held (ConnectionHold). */
  hold: boolean;
}

/**
 * Everything that refuses an order submission without its body, cheapest first: the chaos drop
 * fault, drain, pause, the per-client rate limit (`cost` tokens; 0 skips it) and a backlog
 * already over maxBacklog (at least one order). Counts the refusal in the metrics; undefined
 * when the submission may go on. Synchronous (it runs for every submission, also under
 * overload) except for a rate limit shared through Redis that needs its round trip: then a
 * promise of the same answer (see limitDecision). Never rejects.
 */
export function admissionRefusal(rt: ApiRuntime, clientId: string, cost: number): Refusal | undefined | Promise<Refusal | undefined> {
  const { state, deps } = rt;
  const rejected = deps.metrics.ordersRejected;
  if (state.dropRatio > 0 && (deps.random ?? Math.random)() < state.dropRatio) {
    rejected.inc({ reason: 'dropped' });
    return { status: 503, code: 'ORDER_FAULT_DROPPED', message: 'Dropped by an injected fault (PUT /admin/faults/drop-requests)', retryAfterSec: 1, hold: false };
  }
  if (state.draining) {
    rejected.inc({ reason: 'draining' });
    return { status: 503, code: 'ORDER_DRAINING', message: 'The stack is shutting down and takes no new orders', retryAfterSec: 5, hold: false };
  }
  if (state.paused) {
    rejected.inc({ reason: 'paused' });
    return { status: 503, code: 'ORDER_PAUSED', message: 'Intake is paused by an operator; retry later', retryAfterSec: 5, hold: false };
  }
  if (cost > 0 && rt.limiter.enabled) {
    const decision = limitDecision(rt, clientId, cost);
    if (decision instanceof Promise) return decision.then((d) => rateLimitRefusal(rt, d) ?? backlogRefusal(rt, Math.max(1, cost)));
    const refused = rateLimitRefusal(rt, decision);
    if (refused !== undefined) return refused;
  }
  return backlogRefusal(rt, Math.max(1, cost));
}

/**
 * The rate limit's decision, synchronous whenever it can be: the per-process limiter always is;
 * the shared one is when this process already knows the client is over its budget
 * (knownRefusal) or while it limits per process (Redis down: take() then decides in memory).
 * Otherwise the exact shared answer, one Redis round trip bounded by the limiter's timeout.
 */
export function limitDecision(rt: ApiRuntime, clientId: string, cost: number): RateLimitDecision | Promise<RateLimitDecision> {
  const limiter = rt.limiter;
  if (!('knownRefusal' in limiter) || limiter.mode !== 'redis') return limiter.take(clientId, cost);
  return limiter.knownRefusal(clientId, cost) ?? limiter.consume(clientId, cost);
}

/** The 429 for a refused rate-limit decision, counted; undefined when it was allowed. */
function rateLimitRefusal(rt: ApiRuntime, decision: RateLimitDecision): Refusal | undefined {
  if (decision.allowed) return undefined;
  rt.deps.metrics.rateLimited.inc();
  rt.deps.metrics.ordersRejected.inc({ reason: 'rate_limited' });
  return { status: 429, code: 'ORDER_RATE_LIMITED', message: `Too many requests from this client (limit ${String(rt.deps.rateLimit)}/s)`, retryAfterSec: decision.retryAfterMs / 1000, hold: true };
}

/** Sheds `count` new orders when they would push the backlog over maxBacklog; counts them. */
export function backlogRefusal(rt: ApiRuntime, count: number): Refusal | undefined {
  const d = rt.shedder.check(count);
  if (!d.shed) return undefined;
  rt.deps.metrics.shed.inc(count);
  rt.deps.metrics.ordersRejected.inc({ reason: 'shed' }, count);
  return { status: 503, code: 'ORDER_SHED', message: `Too many orders waiting (${d.queueDepth}, limit ${rt.deps.maxBacklog}); retry after the Retry-After delay`, retryAfterSec: d.retryAfterSec, hold: true };
}

/**
 * Whether a refusal sent before the body keeps the connection. Keeping it is what a client under
 * overload needs (a new TCP connection per retry costs both sides more than the refusal itself,
 * and a reconnect storm is how overload spreads), and Node then reads and drops the unread body
 * before the next request. That is cheap for an order's few hundred bytes but not for a large or
 * unbounded body, which the server would have to read for nothing: those connections are closed
 * after the answer instead, the body never read.
 */
export function keepAliveAfterRefusal(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  if (length === undefined) return headers['transfer-encoding'] === undefined;
  const n = Number(length);
  return Number.isFinite(n) && n <= REFUSAL_KEEP_ALIVE_MAX_BODY;
}

function sendRefusal(rt: ApiRuntime, req: FastifyRequest, reply: FastifyReply, r: Refusal): void {
  const keep = keepAliveAfterRefusal(req.headers);
  if (!keep) reply.header('connection', 'close');
  else if (r.hold) holdAfterAnswer(rt.holds, reply.raw, r);
  sendError(req, reply, r.status, r.code, r.message, { retryAfterSec: r.retryAfterSec });
}

/** Once the refusal is out (and Node has taken the rest of its body off the socket), holds the connection. */
function holdAfterAnswer(holds: ConnectionHold, res: ServerResponse, r: Refusal): void {
  const socket = res.socket;
  if (socket === null) return;
  const ms = Math.min(REFUSAL_HOLD_MAX_MS, Math.max(1, Math.ceil(r.retryAfterSec)) * 1000);
  // After Node's own resume of the socket (it drops the unread body on the next tick), before
  // the next poll for data.
  res.once('finish', () => setImmediate(() => holds.hold(socket, ms)));
}

/**
 * The longest time a connection that just got an overload refusal (shed, rate limit) is not
 * read from, ms; Retry-After when that is shorter (it is at least 1 s, so in practice this).
 */
export const REFUSAL_HOLD_MAX_MS = 1_000;

/**
 * Backpressure for clients that do not wait for Retry-After. After an overload refusal the
 * connection is kept (see keepAliveAfterRefusal) but not read from for a moment: a client that
 * honours Retry-After does not notice, and one that sends again at once waits in TCP flow control
 * until the hold ends, instead of costing the stack another parse and refusal. Under overload
 * that cost is what starves the workers: at 7x capacity six of every seven requests are refused,
 * so a refusal must cost under about 3 % of an accepted order for the workers to keep 80 % of
 * their pace, less than Node's own per-request work. Holding bounds refusals to one per held
 * connection per hold time, at no CPU cost. New connections (probes, new clients) are not
 * affected. The price: a request pipelined or multiplexed behind the refusal on the same
 * connection (a proxy pooling connections to the stack) waits up to the hold time too.
 * One timer for all held sockets: holds are equally long, so they end in the order they began.
 */
export class ConnectionHold {
  private readonly queue: { socket: Socket; until: number }[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Sockets held right now. */
  held = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  hold(socket: Socket, ms: number): void {
    if (socket.destroyed || !socket.readable) return;
    socket.pause();
    this.held++;
    this.queue.push({ socket, until: this.now() + ms });
    this.timer ??= setInterval(() => this.release(false), 50).unref();
  }

  /** Resumes the sockets whose hold is over (all of them with `all`, e.g. when the server closes). */
  release(all: boolean): void {
    const t = this.now();
    while (this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      if (!all && e.until > t) break;
      this.head++;
      this.held--;
      if (!e.socket.destroyed) e.socket.resume();
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** Set on a raw request the early gate (earlySubmissionGate) admitted: the route's hook does not count it twice. */
const ADMITTED = Symbol('surgectl.admitted');
/** Set on a raw request whose admission the early gate began but which waits for Redis: the route's hook awaits it. */
const PENDING = Symbol('surgectl.admissionPending');

type GatedRequest = IncomingMessage & { [ADMITTED]?: true; [PENDING]?: Promise<Refusal | undefined> };

/**
 * An onRequest hook for order submissions: every refusal that does not need the body is made
 * here (admissionRefusal), before the body is read or parsed. `cost` is what one request takes
 * from the rate limit before its body is known (1 for an order; the batch route takes its
 * orders' count in its handler, and passes 0). Callback style: no promise per request, except
 * the one of a decision that waits for the shared rate limit's Redis.
 */
export function submissionHook(rt: ApiRuntime, cost: number) {
  return (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const raw = req.raw as GatedRequest;
    if (raw[ADMITTED] === true) return done();
    const refusal = raw[PENDING] ?? admissionRefusal(rt, clientIdOf(req), cost);
    if (refusal instanceof Promise) {
      refusal.then((r) => (r === undefined ? done() : sendRefusal(rt, req, reply, r)), done);
      return;
    }
    if (refusal === undefined) return done();
    sendRefusal(rt, req, reply, refusal);
  };
}

/**
 * An onRequest hook for the read routes under the per-client rate limit (one token each): the
 * 429 with Retry-After when the client is over it. Callback style, like submissionHook.
 */
export function rateLimitHook(rt: ApiRuntime) {
  return (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    if (!rt.limiter.enabled) return done();
    const decision = limitDecision(rt, clientIdOf(req), 1);
    const answer = (d: RateLimitDecision) => {
      const refusal = rateLimitRefusal(rt, d);
      if (refusal === undefined) return done();
      sendError(req, reply, 429, refusal.code, refusal.message, { retryAfterSec: refusal.retryAfterSec });
    };
    if (decision instanceof Promise) decision.then(answer, done);
    else answer(decision);
  };
}

/** The response a socket is still sending (Node's own bookkeeping of HTTP/1.1 sockets). */
type SocketWithMessage = { _httpMessage?: unknown };

/**
 * The order intake's refusals at the HTTP server itself, before fastify sees the request: for a
 * plain POST /v1/orders it makes the same decision as submissionHook and, when the answer is no,
 * writes the same 503/429 (JSON error body, request id, Retry-After, the color) straight to the
 * response. Under overload most requests are refusals, and skipping fastify's request and reply
 * objects, routing and hooks for them is what keeps a refusal a small fraction of an accepted
 * order (bench/overload.mjs measures both), leaving the loop to the workers. Anything unusual
 * (another route, a query string, a Host problem, a pipelined request behind a pending answer,
 * tracing on) goes to fastify, whose hook decides as before. Returns true when it answered.
 * The per-route duration histogram counts these answers too. A decision that waits for the
 * shared rate limit's Redis is begun here and finished by the hook (only known refusals of a
 * client over its shared budget are answered here then).
 */
export function earlySubmissionGate(
  rt: ApiRuntime,
  observe: (status: number, seconds: number) => void,
  takeRaw?: (req: IncomingMessage, res: ServerResponse, started: number, requestId: string) => boolean,
): ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined {
  // With tracing, the refusal must be inside the request's span: fastify's hook does that.
  if (rt.deps.tracing !== undefined) return undefined;
  const color = rt.deps.color;
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/orders') return false;
    const host = req.headers.host;
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1 || host === undefined || host.includes(',')) return false;
    if ((req.socket as unknown as SocketWithMessage)._httpMessage !== res || !req.socket.writable) return false;
    const started = performance.now();
    const refusal = admissionRefusal(rt, clientIdOfSocket(req.socket), 1);
    if (refusal instanceof Promise) {
      // The shared rate limit asks Redis: fastify's hook waits for the answer (the request's
      // route, hooks and timeouts apply meanwhile); the round trip starts now, not after routing.
      refusal.catch(() => undefined);
      (req as GatedRequest)[PENDING] = refusal;
      return false;
    }
    if (refusal === undefined) {
      // An admitted order plain enough to take here (rawOrderIntake); else fastify's route.
      if (takeRaw !== undefined && takeRaw(req, res, started, requestIdOf(req.headers))) return true;
      (req as GatedRequest)[ADMITTED] = true;
      return false;
    }
    writeRefusal(rt, req, res, refusal, requestIdOf(req.headers), color);
    observe(refusal.status, (performance.now() - started) / 1000);
    return true;
  };
}

/**
 * A refusal written straight to the response (the early gate, the raw intake): the JSON error
 * body, request id, Retry-After and color that sendRefusal writes through fastify, the same
 * keep-alive and hold.
 */
export function writeRefusal(rt: ApiRuntime, req: IncomingMessage, res: ServerResponse, refusal: Refusal, requestId: string, color: string | undefined): void {
  const extra: Record<string, string> = { 'retry-after': retryAfterValue(refusal.retryAfterSec) };
  if (!keepAliveAfterRefusal(req.headers)) extra.connection = 'close';
  else if (refusal.hold) holdAfterAnswer(rt.holds, res, refusal);
  writeJsonAnswer(res, refusal.status, requestId, JSON.stringify(errorBody(requestId, refusal.code, refusal.message)), color, extra);
}

/** A JSON answer written straight to the response, with the headers every order API answer carries (request id, color). */
export function writeJsonAnswer(res: ServerResponse, status: number, requestId: string, body: string, color: string | undefined, extra?: Record<string, string>): void {
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId };
  if (color !== undefined) headers['x-surgectl-color'] = color;
  if (extra !== undefined) Object.assign(headers, extra);
  res.writeHead(status, headers);
  res.end(body);
}

/** Sheds `count` new orders when they would push the backlog over maxBacklog (after the body was read: a batch's size). */
export function checkBacklog(rt: ApiRuntime, req: FastifyRequest, reply: FastifyReply, count: number): boolean {
  const refusal = backlogRefusal(rt, count);
  if (refusal === undefined) return true;
  sendRefusal(rt, req, reply, refusal);
  return false;
}

import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer, type ServerOptions as HttpServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type onRequestHookHandler,
  type onResponseHookHandler,
} from 'fastify';
import { createLoadShedder } from '../resilience/load-shed.js';
import { createClientRateLimiter } from '../resilience/rate-limit.js';
import type { ApiDeps, ApiRuntime, HttpLimits, IntakeState } from './context.js';
import { createRefusalLog } from './refusal-log.js';
import { adminPlugin } from './admin.js';
import { batchPlugin } from './batch.js';
import { healthPlugin, inventoryPlugin } from './health.js';
import { classifyError, errorBody, invalidUtf8Error, sendError, UTF8, type ApiErrorCode } from './http-errors.js';
import { ConnectionHold, earlySubmissionGate, rateLimitHook as rateLimitHookOf, requestIdOf } from './intake-guard.js';
import { rawOrderIntake } from './raw-order.js';
import { cachedObserver } from '../metrics.js';
import { metricsPlugin } from './metrics.js';
import { ordersPlugin } from './orders.js';
import { flushAcceptedLog } from './submit.js';

declare module 'fastify' {
  interface FastifyInstance {
    surge: ApiRuntime;
  }
  interface FastifyContextConfig {
    /** An order submission: counts validation failures in surgectl_orders_rejected_total. */
    intake?: boolean;
    /** Read routes under the per-client rate limit. */
    rateLimited?: boolean;
  }
}

/** A raw HTTP/1.1 error answer with our body and a fresh request id, for sockets fastify never sees. */
function rawErrorAnswer(status: number, text: string, message: string, extraHeaders = '', code: ApiErrorCode = 'ORDER_BAD_REQUEST', color?: string): string {
  const requestId = randomUUID();
  const body = JSON.stringify({ error: { code, message }, requestId });
  return `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n${color === undefined ? '' : `x-surgectl-color: ${color}\r\n`}${extraHeaders}Connection: close\r\n\r\n${body}`;
}

/** The response a socket is still sending (Node's own bookkeeping of HTTP/1.1 sockets). */
type HttpSocket = Duplex & { _httpMessage?: (NodeJS.EventEmitter & { shouldKeepAlive?: boolean; writableFinished?: boolean }) | null };

/** The answer to a request Node's HTTP parser refused: our error body, a fresh request id, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, color: string | undefined): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // Bytes after a request marked Connection: close: the parser stops reading there and they are
  // never processed. The response to that request may still be on its way; Node closes the
  // socket after it, so say nothing (a 400 now would replace that answer).
  if (err.code === 'HPE_CLOSED_CONNECTION') {
    if (!(socket as HttpSocket)._httpMessage) socket.destroy();
    return;
  }
  const [status, text, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request headers are larger than 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request was not received in time']
        : [400, 'Bad Request', `The request is not valid HTTP/1.1 (${err.code ?? 'parse error'}): check the request line, Content-Length and headers`];
  if (socket.writable) socket.write(rawErrorAnswer(status, text, message, '', 'ORDER_BAD_REQUEST', color));
  socket.destroy();
}

/**
 * Caps open connections in total and per client address. A connection over a cap gets a 503 with
 * Retry-After and is closed before anything it sends is read. Node's own maxConnections (which
 * drops silently) is set a little higher as the backstop.
 */
function capConnections(server: HttpServer, limits: HttpLimits, logger: ApiDeps['logger'], color: string | undefined): void {
  let open = 0;
  const perIp = new Map<string, number>();
  server.maxConnections = limits.maxConnections + 256;
  let lastWarned = 0;
  server.prependListener('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '?';
    const mine = perIp.get(ip) ?? 0;
    if (open >= limits.maxConnections || mine >= limits.maxConnectionsPerIp) {
      const total = open >= limits.maxConnections;
      const now = Date.now();
      if (now - lastWarned > 10_000) {
        lastWarned = now;
        logger.warn({ ip, open, perIp: mine, limit: total ? limits.maxConnections : limits.maxConnectionsPerIp }, total ? 'connection refused: too many open connections' : 'connection refused: too many open connections from one address');
      }
      // Nothing this socket sends is read: the answer goes out and the socket closes.
      socket.pause();
      socket.end(
        rawErrorAnswer(
          503,
          'Service Unavailable',
          total ? `Too many open connections (limit ${limits.maxConnections}); retry later` : `Too many open connections from this address (limit ${limits.maxConnectionsPerIp}); reuse one connection or retry later`,
          'Retry-After: 1\r\n',
          'ORDER_TOO_MANY_CONNECTIONS',
          color,
        ),
      );
      socket.once('finish', () => socket.destroy());
      (socket as Socket & { [REFUSED]?: true })[REFUSED] = true;
      return;
    }
    open++;
    perIp.set(ip, mine + 1);
    socket.once('close', () => {
      open--;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip);
      else perIp.set(ip, n);
    });
  });
}

/** Marks a socket refused by capConnections: any request it still manages to send is dropped. */
const REFUSED = Symbol('surgectl.refusedConnection');

/** 64 KiB: an order is a few hundred bytes; anything near this is a mistake or an attack. */
export const BODY_LIMIT_BYTES = 64 * 1024;


function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function newIntakeState(): IntakeState {
  return { paused: false, draining: false, dropRatio: 0 };
}

/**
 * Builds the order API (intake, status, health, metrics, admin) on one fastify instance, not
 * listening yet: tests call `inject()`, stack.ts calls `listen()`.
 */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const limits = deps.limits;
  const now = deps.now ?? Date.now;
  const rt: ApiRuntime = {
    deps,
    state: deps.state ?? newIntakeState(),
    limiter: deps.limiter ?? createClientRateLimiter(deps.rateLimit),
    shedder: createLoadShedder({
      maxBacklog: deps.maxBacklog,
      probe: { queueDepth: () => deps.engine.store.queueDepth(), throughputPerSec: () => deps.engine.pool.throughputPerSec() },
    }),
    refusals: createRefusalLog(now, deps.refusalLogIntervalMs),
    holds: new ConnectionHold(),
    now,
  };
  const observeDuration = cachedObserver(deps.metrics.httpRequestDuration, ['route', 'method', 'status_code']);
  // Order refusals that need no body are answered before fastify sees the request, and plain
  // admitted orders are taken there too (rawOrderIntake).
  const observeOrder = (status: number, seconds: number) => observeDuration(['/v1/orders', 'POST', String(status)], seconds);
  const gate = earlySubmissionGate(
    rt,
    observeOrder,
    rawOrderIntake(rt, {
      bodyLimit: BODY_LIMIT_BYTES,
      observe: observeOrder,
      color: deps.color,
    }),
  );
  const httpOptions: HttpServerOptions = {
    // Duplicated headers arrive joined with ", ", so two Host headers are seen (and refused)
    // rather than silently reduced to the first; a missing Host gets our 400, not Node's bare one.
    joinDuplicateHeaders: true,
    requireHostHeader: false,
    ...(limits
      ? {
          headersTimeout: limits.headersTimeoutMs,
          // Node checks the request and headers timeouts only this often (its default is 30 s).
          connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
        }
      : {}),
  };
  const app = Fastify({
    ...(limits ? { requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs } : {}),
    http: httpOptions,
    // fastify's own HTTP server, with the early gate in front of its handler.
    serverFactory: (handler, opts) => {
      const server = createServer(httpOptions, gate === undefined ? handler : (req, res) => void (gate(req, res) || handler(req, res)));
      server.keepAliveTimeout = opts.keepAliveTimeout as number;
      server.requestTimeout = opts.requestTimeout as number;
      server.setTimeout(opts.connectionTimeout as number);
      return server;
    },
    // Typed as the base logger so the instance type stays the plain FastifyInstance callers expect.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // No per-request access log: at surge rates it would cost more than the intake itself;
    // accepted orders and failures are logged with their requestId instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: BODY_LIMIT_BYTES,
    // A client's X-Request-Id is kept when sane, so its logs and ours line up.
    genReqId: (req) => requestIdOf(req.headers),
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false } },
    return503OnClosing: true,
    // Order ids are at most 128 characters (orderIdParamsSchema): let the schema judge them, with
    // our 400, rather than the router's 414 at its default of 100.
    routerOptions: { maxParamLength: 256 },
    // Errors the router raises before any route runs (a path that is not valid percent-encoding,
    // a parameter over maxParamLength) get our error body, like every other refusal.
    frameworkErrors: (err, req, reply) => {
      reply.header('x-request-id', req.id);
      if (deps.color !== undefined) reply.header('x-surgectl-color', deps.color);
      const message = err.code === 'FST_ERR_BAD_URL' ? `The path ${req.url.split('?')[0] ?? ''} is not valid percent-encoding` : 'A path parameter is longer than 256 characters';
      return sendError(req, reply, 400, 'ORDER_BAD_REQUEST', message);
    },
    // Requests Node's parser refuses (bad Content-Length, a malformed request line, headers over
    // 16 KiB) never reach fastify: answer them with our error body too, then close.
    clientErrorHandler: (err, socket) => answerClientError(err as NodeJS.ErrnoException, socket, deps.color),
  });

  app.decorate('surge', rt);
  // Held connections are let go at close, so that closing idle connections is not held up by them;
  // the shared "orders accepted" line is written.
  app.addHook('onClose', (_app, done) => {
    rt.holds.release(true);
    flushAcceptedLog(rt);
    done();
  });
  // Fastify parses text/plain by default; the contract is JSON only, so that must be a 415, not a 400.
  app.removeContentTypeParser('text/plain');
  // JSON bodies are checked to be UTF-8 before parsing: decoding replaces invalid bytes with
  // U+FFFD, and an order stored with those would differ from what the client sent.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = UTF8.decode(body as Buffer);
    } catch {
      return done(invalidUtf8Error(body as Buffer), undefined);
    }
    return jsonParser(req, text, done);
  });
  if (limits) capConnections(app.server, limits, deps.logger, deps.color);
  // CONNECT would otherwise close the socket without a word (Node emits 'connect', nobody listens).
  app.server.on('connect', (_req: unknown, socket: Duplex) => {
    socket.end(rawErrorAnswer(405, 'Method Not Allowed', 'CONNECT is not served: this is the order API, not a proxy', 'Allow: GET, POST, PUT, DELETE\r\n', 'ORDER_BAD_REQUEST', deps.color));
    socket.once('finish', () => socket.destroy());
  });

  // Per-route hooks wired once at registration: every request runs them, and reading
  // req.routeOptions (a fresh object per access) or hashing label objects showed up in profiles.
  const color = deps.color;
  const setRequestId: onRequestHookHandler = (req, reply, done) => {
    reply.header('x-request-id', req.id);
    // Which side of a blue-green pair answered, on every answer (one header per reply, no hook of its own).
    if (color !== undefined) reply.header('x-surgectl-color', color);
    const raw = req.raw;
    const host = raw.headers.host;
    // HTTP/1.0 may leave Host out (old health checkers do); HTTP/1.1 must send exactly one.
    if (raw.httpVersionMajor !== 1 || (host === undefined ? raw.httpVersionMinor !== 0 : host.includes(','))) return refuseRequestLine(req, reply);
    const socket = raw.socket as (Socket & { [REFUSED]?: true }) | null;
    // Parsed from bytes that arrived after a response closed the connection (or on a refused
    // connection): nobody would hear the answer, so the request is not run at all.
    if (socket !== null && (socket.writable === false || socket[REFUSED] === true)) return void reply.hijack();
    // A request pipelined behind a response still being sent: it runs only once that response is
    // out, and not at all when that response closes the connection (Connection: close after an
    // error, a body over the limit, a draining stack), so nothing is done that nobody hears of.
    const ahead = (socket as HttpSocket | null)?._httpMessage;
    if (ahead && ahead !== reply.raw && !ahead.writableFinished) return void waitForTurn(ahead, reply, done);
    done();
  };
  const refuseRequestLine = (req: FastifyRequest, reply: FastifyReply) => {
    const raw = req.raw;
    const message =
      raw.httpVersionMajor !== 1
        ? `HTTP/${raw.httpVersion} is not served: send HTTP/1.1 (with a Host header)`
        : raw.headers.host === undefined
          ? 'The Host header is missing (HTTP/1.1 requires it)'
          : 'The request has more than one Host header';
    reply.header('connection', 'close');
    sendError(req, reply, 400, 'ORDER_BAD_REQUEST', message);
  };
  const waitForTurn = (ahead: NonNullable<HttpSocket['_httpMessage']>, reply: FastifyReply, done: (err?: Error) => void) => {
    let settled = false;
    const go = () => {
      if (settled) return;
      settled = true;
      const socket = reply.raw.req.socket;
      if (ahead.shouldKeepAlive === false || socket.destroyed || !socket.writable) {
        // Never answered: the connection closes after the response ahead of it.
        reply.hijack();
        return;
      }
      done();
    };
    ahead.once('finish', go);
    ahead.once('close', go);
  };
  const rateLimitHook: onRequestHookHandler = rateLimitHookOf(rt);
  // App-level so it runs first, also for 404s and for refusals sent by plugin hooks (admin auth).
  app.addHook('onRequest', setRequestId);
  app.addHook('onRoute', (route) => {
    const url = route.url;
    const onResponse: onResponseHookHandler = (req, reply, done) => {
      observeDuration([url, req.method, String(reply.statusCode)], reply.elapsedTime / 1000);
      done();
    };
    if (route.config?.rateLimited) route.onRequest = [rateLimitHook, ...asArray(route.onRequest)];
    route.onResponse = [onResponse, ...asArray(route.onResponse)];
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const c = classifyError(err);
    // A store outage is logged once per interval with a count (as refused orders are), not per request.
    if (c.code === 'ORDER_STORE_UNAVAILABLE') rt.refusals.note(err, req.log);
    else if (c.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.debug({ code: c.code, message: c.message }, 'request rejected');
    if (c.reason && req.routeOptions.config.intake) deps.metrics.ordersRejected.inc({ reason: c.reason });
    if (c.retryAfterSec !== undefined) reply.header('retry-after', String(c.retryAfterSec));
    // Fastify closes the connection after a body-limit error; say so instead of leaving the client guessing.
    return reply.code(c.status).send(errorBody(req, c.code, c.message, c.details));
  });

  app.setNotFoundHandler((req, reply) => {
    observeDuration(['unmatched', req.method, '404'], reply.elapsedTime / 1000);
    return sendError(req, reply, 404, 'ORDER_ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0] ?? ''} (see docs/order-api.md)`);
  });

  await app.register(healthPlugin);
  await app.register(inventoryPlugin);
  await app.register(ordersPlugin);
  await app.register(batchPlugin);
  await app.register(metricsPlugin);
  await app.register(adminPlugin);
  return app;
}

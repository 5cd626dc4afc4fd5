import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type onRequestHookHandler,
  type onResponseHookHandler,
} from 'fastify';
import { createLoadShedder } from '../resilience/load-shed.js';
import { createClientRateLimiter } from '../resilience/rate-limit.js';
import type { ApiDeps, ApiRuntime, IntakeState } from './context.js';
import { adminPlugin } from './admin.js';
import { batchPlugin } from './batch.js';
import { healthPlugin, inventoryPlugin } from './health.js';
import { classifyError, errorBody, sendError } from './http-errors.js';
import { checkRateLimit } from './intake-guard.js';
import { cachedObserver } from '../metrics.js';
import { metricsPlugin } from './metrics.js';
import { ordersPlugin } from './orders.js';

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

/** The answer to a request Node's HTTP parser refused: our error body, a fresh request id, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request headers are larger than 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request was not received in time']
        : [400, 'Bad Request', `The request is not valid HTTP/1.1 (${err.code ?? 'parse error'}): check the request line, Content-Length and headers`];
  const requestId = randomUUID();
  const body = JSON.stringify({ error: { code: 'ORDER_BAD_REQUEST', message }, requestId });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** 64 KiB: an order is a few hundred bytes; anything near this is a mistake or an attack. */
export const BODY_LIMIT_BYTES = 64 * 1024;

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

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
  const app = Fastify({
    // Typed as the base logger so the instance type stays the plain FastifyInstance callers expect.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // No per-request access log: at surge rates it would cost more than the intake itself;
    // accepted orders and failures are logged with their requestId instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: BODY_LIMIT_BYTES,
    // A client's X-Request-Id is kept when sane, so its logs and ours line up.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false } },
    return503OnClosing: true,
    // Order ids are at most 128 characters (orderIdParamsSchema): let the schema judge them, with
    // our 400, rather than the router's 414 at its default of 100.
    routerOptions: { maxParamLength: 256 },
    // Errors the router raises before any route runs (a path that is not valid percent-encoding,
    // a parameter over maxParamLength) get our error body, like every other refusal.
    frameworkErrors: (err, req, reply) => {
      reply.header('x-request-id', req.id);
      const message = err.code === 'FST_ERR_BAD_URL' ? `The path ${req.url.split('?')[0] ?? ''} is not valid percent-encoding` : 'A path parameter is longer than 256 characters';
      return sendError(req, reply, 400, 'ORDER_BAD_REQUEST', message);
    },
    // Requests Node's parser refuses (bad Content-Length, a malformed request line, headers over
    // 16 KiB) never reach fastify: answer them with our error body too, then close.
    clientErrorHandler: (err, socket) => answerClientError(err as NodeJS.ErrnoException, socket),
  });

  const now = deps.now ?? Date.now;
  const rt: ApiRuntime = {
    deps,
    state: deps.state ?? newIntakeState(),
    limiter: createClientRateLimiter(deps.rateLimit),
    shedder: createLoadShedder({
      maxBacklog: deps.maxBacklog,
      probe: { queueDepth: () => deps.engine.store.queueDepth(), throughputPerSec: () => deps.engine.pool.throughputPerSec() },
    }),
    now,
  };
  app.decorate('surge', rt);
  // Fastify parses text/plain by default; the contract is JSON only, so that must be a 415, not a 400.
  app.removeContentTypeParser('text/plain');

  // Per-route hooks wired once at registration: every request runs them, and reading
  // req.routeOptions (a fresh object per access) or hashing label objects showed up in profiles.
  const setRequestId: onRequestHookHandler = (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  };
  const rateLimitHook: onRequestHookHandler = (req, reply, done) => {
    if (!rt.limiter.enabled) return done();
    checkRateLimit(rt, req, reply, 1).then((ok) => (ok ? done() : undefined), done);
  };
  // App-level so it runs first, also for 404s and for refusals sent by plugin hooks (admin auth).
  app.addHook('onRequest', setRequestId);
  const observeDuration = cachedObserver(deps.metrics.httpRequestDuration, ['route', 'method', 'status_code']);
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
    if (c.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.debug({ code: c.code, message: c.message }, 'request rejected');
    if (c.reason && req.routeOptions.config.intake) deps.metrics.ordersRejected.inc({ reason: c.reason });
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

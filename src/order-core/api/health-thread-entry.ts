// The /healthz + /readyz listener's own thread (see health-thread.ts). Started only by
// startHealthThread; kept to node:http and two small modules so that it starts fast.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { toWireError } from '../../util/worker-thread.js';
import type { HealthThreadData } from './health-thread.js';
import { notReadyAnswer } from './readiness.js';

const port = parentPort;
if (port === null) throw new Error('health-thread-entry.ts runs only as a worker thread');
const data = workerData as HealthThreadData;
const color = data.color;
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const given = req.headers['x-request-id'];
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-request-id': typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID(),
    ...(color === undefined ? {} : { 'x-surgectl-color': color }),
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function error(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  // the API's error body (docs/order-api.md): the request id is the one in the header
  const requestId = typeof req.headers['x-request-id'] === 'string' && REQUEST_ID_RE.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
  send(req, res, status, { error: { code, message }, requestId, ...(color === undefined ? {} : { color }) }, { 'x-request-id': requestId, ...extra });
}

const ok = color === undefined ? { status: 'ok' } : { status: 'ok', color };
const ready = color === undefined ? { status: 'ready' } : { status: 'ready', color };

const server = createServer({ keepAliveTimeout: 5_000, headersTimeout: 5_000, requestTimeout: 10_000 }, (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/healthz' && path !== '/readyz') {
    return error(req, res, 404, 'ORDER_ROUTE_NOT_FOUND', `No route ${req.method ?? ''} ${path ?? ''} on the health port: it serves GET /healthz and /readyz (the API is on --port)`);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return error(req, res, 405, 'ORDER_BAD_REQUEST', `${req.method ?? ''} ${path} is not served: use GET`, { allow: 'GET, HEAD' });
  // A probe sends no body; whatever it sends is drained, never parsed.
  req.resume();
  if (path === '/healthz') return send(req, res, 200, ok);
  const bits = Atomics.load(data.state, 0);
  if (bits === 0) return send(req, res, 200, ready);
  const a = notReadyAnswer(bits);
  return error(req, res, 503, a.code, a.message, { 'retry-after': String(a.retryAfterSec) });
});
// Probes, not clients: a bound on sockets (Node refuses more by closing them) keeps a flood of
// connections to this port from using up the process's file descriptors.
server.maxConnections = 256;

server.once('error', (err) => port.postMessage({ kind: 'failed', error: toWireError(err) }));
server.listen(data.port, data.host, () => {
  const addr = server.address() as AddressInfo;
  const wildcard = addr.address === '0.0.0.0' || addr.address === '::';
  const host = wildcard ? '127.0.0.1' : addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  port.postMessage({ kind: 'ready', url: `http://${host}:${addr.port}` });
});

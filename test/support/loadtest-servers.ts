import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback HTTP servers with a known behaviour, for the engine's tests and benchmarks:
 * the load generator is measured against them, so they must be cheap and predictable.
 */

export interface TestServer {
  readonly url: string;
  /** Requests received, by path. */
  readonly hits: Map<string, number>;
  readonly total: () => number;
  /** When each request arrived (performance.now(), ms), in order; kept by startTrivialServer. */
  readonly arrivedAt: readonly number[];
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer({ keepAliveTimeout: 60_000 }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

function wrap(server: Server, url: string, hits: Map<string, number>, arrivedAt: number[] = []): TestServer {
  return {
    url,
    hits,
    arrivedAt,
    total: () => [...hits.values()].reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function count(hits: Map<string, number>, path: string): void {
  hits.set(path, (hits.get(path) ?? 0) + 1);
}

/** Answers every request at once with 200 "ok" (or `status` for paths starting with /fail). Optional fixed delay per request, ms. */
export async function startTrivialServer(opts: { delayMs?: number } = {}): Promise<TestServer> {
  const hits = new Map<string, number>();
  const arrivedAt: number[] = [];
  const body = Buffer.from('ok');
  const { server, url } = await listen((req, res) => {
    const path = req.url ?? '/';
    count(hits, path);
    arrivedAt.push(performance.now());
    const status = path.startsWith('/fail') ? 500 : 200;
    const answer = () => {
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
    };
    // Drain the request body before answering so keep-alive connections stay usable.
    req.resume();
    req.on('end', () => (opts.delayMs ? setTimeout(answer, opts.delayMs) : answer()));
  });
  return wrap(server, url, hits, arrivedAt);
}

/**
 * Serves one request at a time, each taking `serviceMs` (a single-server queue): its capacity
 * is 1000 / serviceMs requests per second however many arrive.
 */
export async function startQueueServer(serviceMs: number): Promise<TestServer> {
  const hits = new Map<string, number>();
  const queue: ServerResponse[] = [];
  let busy = false;
  const next = () => {
    const res = queue.shift();
    if (!res) {
      busy = false;
      return;
    }
    busy = true;
    setTimeout(() => {
      res.writeHead(200, { 'content-length': 2 });
      res.end('ok');
      next();
    }, serviceMs);
  };
  const { server, url } = await listen((req, res) => {
    count(hits, req.url ?? '/');
    req.resume();
    req.on('end', () => {
      queue.push(res);
      if (!busy) next();
    });
  });
  return wrap(server, url, hits);
}

/**
 * A minimal server speaking the order API contract (docs/order-api.md) — inventory, create,
 * batch, status, /metrics — for testing payload generators and order metrics without the full stack.
 */
export async function startOrderApiServer(opts: { skus?: string[]; rejectEvery?: number } = {}): Promise<
  TestServer & { orders: Map<string, { key: string; body: unknown }>; keys: Set<string>; confirmed: () => number }
> {
  const hits = new Map<string, number>();
  const skus = opts.skus ?? ['SKU-1', 'SKU-2', 'SKU-3', 'SKU-4'];
  const orders = new Map<string, { key: string; body: unknown }>();
  const keys = new Set<string>();
  let seq = 0;
  let confirmed = 0;
  let creates = 0;
  const json = (res: ServerResponse, status: number, value: unknown) => {
    const b = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
    res.end(b);
  };
  const create = (key: string, body: { customerId?: unknown; items?: { sku?: string; qty?: number }[] }): { status: number; orderId?: string } => {
    creates++;
    if (typeof body.customerId !== 'string' || !Array.isArray(body.items) || body.items.length === 0) return { status: 400 };
    if (body.items.some((i) => !skus.includes(i.sku ?? ''))) return { status: 422 };
    if (opts.rejectEvery && creates % opts.rejectEvery === 0) return { status: 503 };
    keys.add(key);
    const orderId = `o-${++seq}`;
    orders.set(orderId, { key, body });
    confirmed++;
    return { status: 202, orderId };
  };
  const { server, url } = await listen((req, res) => {
    const path = req.url ?? '/';
    count(hits, path);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      if (req.method === 'GET' && path === '/v1/inventory') return json(res, 200, { items: skus.map((sku) => ({ sku, available: 100, reserved: 0, sold: 0 })) });
      if (req.method === 'GET' && path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        return res.end(
          '# HELP surgectl_orders_completed_total Orders that reached a final status.\n# TYPE surgectl_orders_completed_total counter\n' +
            `surgectl_orders_completed_total{status="confirmed"} ${confirmed}\n` +
            '# TYPE surgectl_inventory_oversold_units gauge\nsurgectl_inventory_oversold_units 0\n',
        );
      }
      if (req.method === 'POST' && path === '/v1/orders') {
        const key = req.headers['idempotency-key'];
        if (typeof key !== 'string') return json(res, 400, { error: { code: 'ORDER_VALIDATION', message: 'Idempotency-Key required' } });
        const r = create(key, JSON.parse(text) as never);
        return json(res, r.status, r.orderId ? { orderId: r.orderId, status: 'accepted' } : { error: { code: 'ORDER_REJECTED', message: 'no' } });
      }
      if (req.method === 'POST' && path === '/v1/orders/batch') {
        const body = JSON.parse(text) as { orders: { idempotencyKey: string }[] };
        const results = body.orders.map((o, index) => ({ index, ...create(o.idempotencyKey, o as never) }));
        return json(res, 207, { results });
      }
      const m = /^\/v1\/orders\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && m) {
        return orders.has(decodeURIComponent(m[1]!)) ? json(res, 200, { orderId: m[1], status: 'confirmed' }) : json(res, 404, { error: { code: 'ORDER_NOT_FOUND' } });
      }
      json(res, 404, { error: { code: 'NOT_FOUND' } });
    });
  });
  return { ...wrap(server, url, hits), orders, keys, confirmed: () => confirmed };
}

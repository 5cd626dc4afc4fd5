import { request } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/stack.js';
import { startStack, type RunningStack } from '../stack.js';

/**
 * POST /v1/orders has two readers of the same request: the raw intake at the HTTP server (a
 * body of stated length, application/json, a valid Idempotency-Key) and fastify's route
 * (anything else: here, the same body sent chunked). Whatever the body, both must answer alike:
 * status, error code, message, details, headers. Over real sockets, against a real stack.
 */

let stack: RunningStack;
let dir: { path: string; remove(): void };

beforeAll(async () => {
  dir = tempDir('surgectl-raw-order-');
  stack = await startStack({ port: 0, paymentPort: 0, dataDir: dir.path, workers: 0, paymentLatencyMs: 0, defaultMetrics: false, color: 'green', logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await stack?.stop({ drainTimeoutMs: 2_000 });
  dir?.remove();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** One POST /v1/orders, the body sent with Content-Length (raw intake) or chunked (fastify). */
function post(body: Buffer | string, key: string | undefined, framing: 'length' | 'chunked', extra: Record<string, string> = {}): Promise<Answer> {
  const { hostname, port } = new URL(stack.url);
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json', ...extra };
    if (key !== undefined) headers['idempotency-key'] = key;
    if (framing === 'length') headers['content-length'] = bytes.length;
    const req = request({ host: hostname, port: Number(port), method: 'POST', path: '/v1/orders', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
      });
    });
    req.on('error', reject);
    if (framing === 'chunked') {
      // two chunks, so that fastify's reader sees the body arrive in parts
      const half = Math.floor(bytes.length / 2);
      req.write(bytes.subarray(0, half));
      req.end(bytes.subarray(half));
    } else req.end(bytes);
  });
}

/** What must be equal between the two readers: everything but the request id, date, the order id minted and its place in the queue. */
function comparable(a: Answer) {
  const { date: _date, 'x-request-id': requestId, location, 'transfer-encoding': _te, 'content-length': _cl, ...headers } = a.headers;
  const body = { ...a.body };
  expect(body.requestId ?? requestId).toBe(requestId);
  delete body.requestId;
  if (typeof body.orderId === 'string') {
    expect(location).toBe(body.statusUrl);
    body.orderId = '(minted)';
    body.statusUrl = '(minted)';
    // the second order waits behind the first
    expect(body.queuePosition).toBeGreaterThanOrEqual(1);
    body.queuePosition = '(its place)';
  }
  return { status: a.status, headers, body };
}

const order = (customerId: string, extra: Record<string, unknown> = {}) => JSON.stringify({ customerId, items: [{ sku: 'SKU-0001', qty: 1 }], ...extra });

describe('POST /v1/orders: the raw intake answers as the fastify route does', () => {
  let n = 0;
  const cases: [string, Buffer | string][] = [
    ['a new order', order('c-new')],
    ['a field that is not known and a qty of the wrong type', JSON.stringify({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: '1' }], extra: true })],
    ['a missing customerId', JSON.stringify({ items: [{ sku: 'SKU-0001', qty: 1 }] })],
    ['an unknown sku', JSON.stringify({ customerId: 'c', items: [{ sku: 'NOPE-1', qty: 1 }] })],
    ['JSON that does not parse', '{"customerId": "c", "items": ['],
    ['a __proto__ key', '{"customerId":"c","items":[{"sku":"SKU-0001","qty":1}],"__proto__":{"x":1}}'],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from('{"customerId":"c'), Buffer.from([0xc3, 0x28]), Buffer.from('","items":[{"sku":"SKU-0001","qty":1}]}')])],
    ['an unpaired surrogate', '{"customerId":"\\ud800","items":[{"sku":"SKU-0001","qty":1}]}'],
    ['a JSON array', '[1,2,3]'],
  ];
  for (const [name, body] of cases) {
    it(`${name}`, async () => {
      n++;
      const raw = await post(body, `raw-${n}`, 'length');
      const viaFastify = await post(body, `fastify-${n}`, 'chunked');
      expect(comparable(raw)).toEqual(comparable(viaFastify));
      expect(raw.headers['x-surgectl-color']).toBe('green');
      expect(raw.headers['content-type']).toBe('application/json; charset=utf-8');
    });
  }

  it('a replay (200, the same order) and a reused key with another body (409), each way', async () => {
    const first = await post(order('c-replay'), 'replay-1', 'length');
    expect(first.status).toBe(202);
    for (const framing of ['length', 'chunked'] as const) {
      const replay = await post(order('c-replay'), 'replay-1', framing);
      expect(replay.status).toBe(200);
      expect(replay.body.orderId).toBe(first.body.orderId);
      expect(replay.headers.location).toBeUndefined();
      const conflict = await post(order('c-other'), 'replay-1', framing);
      expect(conflict.status).toBe(409);
      expect((conflict.body.error as { code: string }).code).toBe('ORDER_IDEMPOTENCY_CONFLICT');
    }
  });

  it('counts refusals of the body in surgectl_orders_rejected_total as the route does', async () => {
    const rejected = async () => {
      const text = await (await fetch(`${stack.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('surgectl_orders_rejected_total{reason="validation"}'));
      return Number(line?.split(' ')[1] ?? 0);
    };
    const before = await rejected();
    await post('{"customerId":1}', 'count-1', 'length');
    await post('{"customerId":1}', 'count-2', 'chunked');
    expect(await rejected()).toBe(before + 2);
  });

  it('leaves what it does not take to fastify: no key, another media type, a body over the limit', async () => {
    const noKey = await post(order('c'), undefined, 'length');
    expect(noKey.status).toBe(400);
    expect((noKey.body.error as { code: string }).code).toBe('ORDER_IDEMPOTENCY_KEY_REQUIRED');
    const text = await post(order('c'), 'media-1', 'length', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const big = await post(`{"customerId":"${'x'.repeat(70 * 1024)}","items":[]}`, 'big-1', 'length');
    expect(big.status).toBe(413);
    expect((big.body.error as { code: string }).code).toBe('ORDER_BODY_TOO_LARGE');
  });
});

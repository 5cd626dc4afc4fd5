import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpClient, startTestStack, type HttpClient, type TestStack } from './support/stack.js';

/**
 * Bad input over a real socket: every malformed request gets a 4xx with our error shape and a
 * message, never a 5xx, and nothing reaches the store.
 */
let stack: TestStack;
let http: HttpClient;
beforeAll(async () => {
  stack = await startTestStack({ seedInventory: 10 });
  http = httpClient(stack.url, { adminToken: stack.adminToken });
});
afterAll(async () => {
  await http?.close();
  await stack?.dispose();
});

const ok = { customerId: 'c1', items: [{ sku: 'SKU-0001', qty: 1 }] };
const JSON_CT = { 'content-type': 'application/json' };
let n = 0;
const key = () => ({ 'idempotency-key': `bad-${++n}` });

interface Case {
  name: string;
  method?: 'POST' | 'GET' | 'PUT' | 'DELETE';
  path?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  /** The error code, where the case is about which one. */
  code?: string;
}
const body = (v: unknown) => JSON.stringify(v);
const cases: Case[] = [
  { name: 'no body at all', headers: { ...key() }, status: 400 },
  { name: 'empty JSON body', body: '', headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'truncated JSON', body: '{"customerId":"c1","items":[', headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'single quotes', body: "{'customerId':'c1'}", headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'trailing comma', body: '{"customerId":"c1",}', headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'JSON string', body: '"an order"', headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'JSON number', body: '42', headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'JSON null', body: 'null', headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'JSON array', body: body([ok]), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'empty object', body: '{}', headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'missing items', body: body({ customerId: 'c1' }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'missing customerId', body: body({ items: ok.items }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'customerId too long', body: body({ ...ok, customerId: 'x'.repeat(129) }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'customerId object', body: body({ ...ok, customerId: { id: 1 } }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'items empty', body: body({ ...ok, items: [] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'items > 100', body: body({ ...ok, items: Array.from({ length: 101 }, () => ({ sku: 'SKU-0001', qty: 1 })) }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'item is a string', body: body({ ...ok, items: ['SKU-0001'] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'qty 0', body: body({ ...ok, items: [{ sku: 'SKU-0001', qty: 0 }] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'qty -1', body: body({ ...ok, items: [{ sku: 'SKU-0001', qty: -1 }] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'qty 1.5', body: body({ ...ok, items: [{ sku: 'SKU-0001', qty: 1.5 }] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'qty huge', body: body({ ...ok, items: [{ sku: 'SKU-0001', qty: 1e12 }] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'qty string', body: body({ ...ok, items: [{ sku: 'SKU-0001', qty: '1' }] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'qty null', body: body({ ...ok, items: [{ sku: 'SKU-0001', qty: null }] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'sku empty', body: body({ ...ok, items: [{ sku: '', qty: 1 }] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'sku with spaces', body: body({ ...ok, items: [{ sku: 'SKU 1; DROP TABLE', qty: 1 }] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'unknown item field', body: body({ ...ok, items: [{ sku: 'SKU-0001', qty: 1, price: 0 }] }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'unknown top-level field', body: body({ ...ok, discount: 100 }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: '__proto__ pollution', body: '{"customerId":"c1","items":[{"sku":"SKU-0001","qty":1}],"__proto__":{"admin":true}}', headers: { ...JSON_CT, ...key() }, status: 400, code: 'ORDER_INVALID_JSON' },
  { name: 'constructor pollution', body: '{"customerId":"c1","items":[{"sku":"SKU-0001","qty":1}],"constructor":{"prototype":{"x":1}}}', headers: { ...JSON_CT, ...key() }, status: 400, code: 'ORDER_INVALID_JSON' },
  { name: 'paymentToken number', body: body({ ...ok, paymentToken: 5 }), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'unknown sku', body: body({ ...ok, items: [{ sku: 'NOT-A-SKU', qty: 1 }] }), headers: { ...JSON_CT, ...key() }, status: 422 },
  { name: 'missing Idempotency-Key', body: body(ok), headers: JSON_CT, status: 400 },
  { name: 'Idempotency-Key too long', body: body(ok), headers: { ...JSON_CT, 'idempotency-key': 'k'.repeat(201) }, status: 400 },
  { name: 'Idempotency-Key with spaces', body: body(ok), headers: { ...JSON_CT, 'idempotency-key': 'a key' }, status: 400 },
  { name: 'text/plain body', body: body(ok), headers: { 'content-type': 'text/plain', ...key() }, status: 415 },
  { name: 'form body', body: 'customerId=c1', headers: { 'content-type': 'application/x-www-form-urlencoded', ...key() }, status: 415 },
  { name: 'xml body', body: '<order/>', headers: { 'content-type': 'application/xml', ...key() }, status: 415 },
  { name: 'multipart body', body: '--x\r\n\r\n--x--', headers: { 'content-type': 'multipart/form-data; boundary=x', ...key() }, status: 415 },
  { name: 'body over 64 KiB', body: body({ ...ok, customerId: 'x'.repeat(66_000) }), headers: { ...JSON_CT, ...key() }, status: 413 },
  { name: 'deeply nested JSON', body: '{"customerId":"c1","items":' + '['.repeat(5000) + ']'.repeat(5000) + '}', headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'invalid UTF-8', body: Buffer.concat([Buffer.from('{"customerId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","items":[]}')]), headers: { ...JSON_CT, ...key() }, status: 400 },
  { name: 'customerId with an unpaired surrogate', body: '{"customerId":"c\\ud800","items":[{"sku":"SKU-0001","qty":1}]}', headers: { ...JSON_CT, ...key() }, status: 400, code: 'ORDER_VALIDATION' },
  { name: 'batch with no orders', path: '/v1/orders/batch', body: body({ orders: [] }), headers: JSON_CT, status: 400 },
  { name: 'batch envelope is an array', path: '/v1/orders/batch', body: body([ok]), headers: JSON_CT, status: 400 },
  { name: 'batch as text/plain', path: '/v1/orders/batch', body: body({ orders: [ok] }), headers: { 'content-type': 'text/plain' }, status: 415 },
  { name: 'unknown order id', method: 'GET', path: '/v1/orders/ord_does_not_exist', status: 404 },
  { name: 'order id not valid percent-encoding', method: 'GET', path: '/v1/orders/%ZZ', status: 400, code: 'ORDER_BAD_REQUEST' },
  { name: 'order id of 200 characters', method: 'GET', path: `/v1/orders/${'x'.repeat(200)}`, status: 400, code: 'ORDER_VALIDATION' },
  { name: 'cancel of unknown order', path: '/v1/orders/ord_nope/cancel', status: 404 },
  { name: 'unknown route', method: 'GET', path: '/v1/nothing-here', status: 404 },
  { name: 'admin without token', method: 'PUT', path: '/admin/workers', body: body({ count: 1 }), headers: JSON_CT, status: 401 },
  { name: 'unknown admin route without token', method: 'GET', path: '/admin/secret', status: 401, code: 'ORDER_UNAUTHORIZED' },
];

describe('malformed requests over a socket', () => {
  it.each(cases)('$name -> $status with a message', async (c) => {
    const res = await http.call(c.method ?? 'POST', c.path ?? '/v1/orders', {
      ...(c.body !== undefined ? { body: c.body } : {}),
      headers: c.headers ?? {},
    });
    expect(res.status).toBe(c.status);
    const b = res.body as { error?: { code?: string; message?: string }; requestId?: string };
    expect(b.error?.code).toMatch(/^ORDER_[A-Z_]+$/);
    if (c.code !== undefined) expect(b.error?.code).toBe(c.code);
    expect(b.error?.message?.length ?? 0).toBeGreaterThan(10);
    expect(b.requestId).toBe(res.headers['x-request-id']);
  });

  /** Sends `request` as raw bytes and resolves with everything the server answered before closing. */
  const rawExchange = (request: string) => {
    const addr = new URL(stack.url);
    return new Promise<string>((resolve, reject) => {
      const sock = connect(Number(addr.port), addr.hostname, () => sock.end(request));
      let data = '';
      sock.setEncoding('utf8').on('data', (d: string) => (data += d));
      sock.on('close', () => resolve(data));
      sock.on('error', reject);
    });
  };

  it('answers a Content-Length that lies with a 4xx, not a 5xx', async () => {
    const raw = await rawExchange('POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: lie\r\nContent-Length: 10\r\n\r\n{"a":1}');
    expect(raw).toMatch(/^HTTP\/1\.1 4\d\d /);
  });

  it.each([
    ['a Content-Length that is not a number', 'POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n', 400],
    ['a malformed request line', 'POST /v1/orders HTTP/9 nonsense\r\n\r\n', 400],
    ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('answers %s, which Node refuses before any route, with our error body', async (_n, request, status) => {
    const raw = await rawExchange(request);
    expect(raw).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    const [head, body] = raw.split('\r\n\r\n');
    const parsed = JSON.parse(body ?? '') as { error: { code: string; message: string }; requestId: string };
    expect(parsed.error.code).toBe('ORDER_BAD_REQUEST');
    expect(parsed.error.message.length).toBeGreaterThan(10);
    expect(head).toContain(`x-request-id: ${parsed.requestId}`);
  });

  it('stored nothing and still answers a good order', async () => {
    const s = (await http.admin('GET', '/admin/status')).body as { orders: { byStatus: Record<string, number> } };
    expect(Object.values(s.orders.byStatus).reduce((a, b) => a + b, 0)).toBe(0);
    const inv = (await http.call('GET', '/v1/inventory')).body as { items: { available: number; reserved: number; sold: number }[] };
    expect(inv.items.every((i) => i.available === 10 && i.reserved === 0 && i.sold === 0)).toBe(true);
    expect((await http.postOrder(ok, 'good-one')).status).toBe(202);
    const metrics = (await http.call('GET', '/metrics')).text;
    expect(metrics).not.toMatch(/status_code="5\d\d"/);
  });
});

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpClient, startTestStack, type HttpClient, type TestStack } from './support/stack.js';

/**
 * Hostile and broken clients over real loopback sockets: each refusal is our JSON error body with
 * a request id, and nothing a refused request asked for reaches the store.
 */
let stack: TestStack;
let http: HttpClient;
beforeAll(async () => {
  stack = await startTestStack({ seedInventory: 10, workers: 0 });
  http = httpClient(stack.url, { adminToken: stack.adminToken });
});
afterAll(async () => {
  await http?.close();
  await stack?.dispose();
});

const port = () => Number(new URL(stack.url).port);

/** Sends raw bytes and collects everything until the server closes (or the deadline). */
function rawExchange(request: string | Buffer, opts: { timeoutMs?: number; port?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(opts.port ?? port(), '127.0.0.1', () => sock.write(request));
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(data);
    }, opts.timeoutMs ?? 5_000);
    sock.setEncoding('latin1').on('data', (d: string) => (data += d));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') resolve(data);
      else reject(err);
    });
  });
}

/** The responses in a raw answer: status and JSON body of each. */
function responses(raw: string): { status: number; head: string; body: { error?: { code: string; message: string; details?: { path: string }[] }; requestId?: string } }[] {
  const out = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, end);
    const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    const body = rest.slice(end + 4, end + 4 + len);
    out.push({ status: Number(head.slice(9, 12)), head, body: body === '' ? {} : (JSON.parse(body) as never) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

const orderCount = async () => {
  const s = (await http.admin('GET', '/admin/status')).body as { orders: { byStatus: Record<string, number> } };
  return Object.values(s.orders.byStatus).reduce((a, b) => a + b, 0);
};

const orderRequest = (key: string, extra = '', body = '{"customerId":"c","items":[{"sku":"SKU-0001","qty":1}]}') =>
  `POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: ${key}\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('hostile requests', () => {
  it('does not process a request pipelined after one answered with Connection: close', async () => {
    const before = await orderCount();
    const raw = await rawExchange(orderRequest('pipe-1', 'Connection: close\r\n') + orderRequest('pipe-2'));
    const rs = responses(raw);
    expect(rs).toHaveLength(1);
    expect(rs[0]!.status).toBe(202);
    expect(rs[0]!.head.toLowerCase()).toContain('connection: close');
    expect(await orderCount()).toBe(before + 1);
  });

  it('refuses invalid UTF-8 in the JSON body with 400 naming the field', async () => {
    const body = Buffer.concat([Buffer.from('{"customerId":"c'), Buffer.from([0xff]), Buffer.from('","items":[{"sku":"SKU-0001","qty":1}]}')]);
    const head = `POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: utf8-1\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`;
    const [r] = responses(await rawExchange(Buffer.concat([Buffer.from(head), body])));
    expect(r!.status).toBe(400);
    expect(r!.body.error?.code).toBe('ORDER_VALIDATION');
    expect(r!.body.error?.details).toEqual([{ path: 'customerId', message: 'must be valid UTF-8 text (it holds bytes that are not UTF-8)' }]);
    // a U+FFFD the client really sent (valid UTF-8 EF BF BD) is text like any other
    const good = await http.postOrder({ customerId: 'c\ufffd', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'utf8-2');
    expect(good.status).toBe(202);
  });

  it('refuses invalid UTF-8 that is not valid JSON either as ORDER_INVALID_JSON', async () => {
    const body = Buffer.concat([Buffer.from('{"customerId":'), Buffer.from([0xc3])]);
    const head = `POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: utf8-3\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`;
    const [r] = responses(await rawExchange(Buffer.concat([Buffer.from(head), body])));
    expect(r!.status).toBe(400);
    expect(r!.body.error?.code).toBe('ORDER_INVALID_JSON');
  });

  it.each([
    ['two Host headers', 'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n', 400],
    ['no Host header', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n', 400],
    ['a CONNECT request', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405],
  ])('answers %s with our error body and a request id', async (_n, request, status) => {
    const [r, ...more] = responses(await rawExchange(request));
    expect(more).toHaveLength(0);
    expect(r?.status).toBe(status);
    expect(r!.body.error?.code).toBe('ORDER_BAD_REQUEST');
    expect(r!.head).toContain(`x-request-id: ${r!.body.requestId}`);
  });

  it('serves HTTP/1.0 without a Host header (old health checkers send that)', async () => {
    const [r] = responses(await rawExchange('GET /healthz HTTP/1.0\r\n\r\n'));
    expect(r?.status).toBe(200);
  });

  it('refuses an HTTP/0.9 request line', async () => {
    const raw = await rawExchange('GET /healthz\r\n\r\n');
    expect(raw).not.toContain('"status":"ok"');
    if (raw !== '') expect(responses(raw)[0]?.status).toBe(400);
  });

  it('rate-limits by address, whatever x-api-key a client rotates', async () => {
    const limited = await startTestStack({ rateLimit: 2, workers: 0 });
    const c = httpClient(limited.url);
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await c.call('GET', '/v1/inventory', { headers: { 'x-api-key': `rotated-${i}` } })).status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    } finally {
      await c.close();
      await limited.dispose();
    }
  });
});


describe('a request pipelined behind a response that closes the connection', () => {
  it('is not processed after a 413 (fastify closes the connection after a body over the limit)', async () => {
    const before = await orderCount();
    const big = `{"customerId":"${'x'.repeat(70_000)}","items":[{"sku":"SKU-0001","qty":1}]}`;
    const raw = await rawExchange(orderRequest('big-1', '', big) + orderRequest('after-big'));
    const rs = responses(raw);
    expect(rs.map((r) => r.status)).toEqual([413]);
    expect(await orderCount()).toBe(before);
  });

  it('is still processed behind a keep-alive response', async () => {
    const before = await orderCount();
    const rs = responses(await rawExchange(orderRequest('ka-1') + orderRequest('ka-2', 'Connection: close\r\n')));
    expect(rs.map((r) => r.status)).toEqual([202, 202]);
    expect(await orderCount()).toBe(before + 2);
  });
});

describe('slow clients', () => {
  let slow: TestStack;
  beforeAll(async () => {
    slow = await startTestStack({ workers: 0, headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300 });
  });
  afterAll(async () => {
    await slow?.dispose();
  });
  const slowPort = () => Number(new URL(slow.url).port);

  it('answers headers that never finish with 408 and closes', async () => {
    const [r, ...more] = responses(await rawExchange('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n', { port: slowPort() }));
    expect(more).toHaveLength(0);
    expect(r?.status).toBe(408);
    expect(r!.body.error?.code).toBe('ORDER_BAD_REQUEST');
  });

  it('answers a body that never finishes with 408 and closes', async () => {
    const raw = await rawExchange('POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: slow-1\r\nContent-Length: 100\r\n\r\n{"customerId":', { port: slowPort() });
    expect(responses(raw)[0]?.status).toBe(408);
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    const sock = connect(slowPort(), '127.0.0.1', () => sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    let data = '';
    sock.setEncoding('latin1').on('data', (d: string) => (data += d));
    sock.on('error', () => undefined);
    // closed by the server (fastify's own default would keep it 72 s), well before this deadline
    const closedByServer = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 4_000);
      sock.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    sock.destroy();
    expect(responses(data).map((r) => r.status)).toEqual([200]);
    expect(closedByServer).toBe(true);
  });
});

describe('connection caps', () => {
  let capped: TestStack;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    capped = await startTestStack({ workers: 0, maxConnections: 4, maxConnectionsPerIp: 3 });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await capped?.dispose();
  });

  /** A kept-alive connection from `localAddress` that has had one answer (so the server counts it). */
  async function openConnection(localAddress: string): Promise<{ socket: Socket; first: string }> {
    const socket = connect({ port: Number(new URL(capped.url).port), host: '127.0.0.1', localAddress });
    sockets.push(socket);
    let data = '';
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    socket.on('error', () => undefined);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const deadline = Date.now() + 5_000;
    while (!/\r\n\r\n[\s\S]*\}/.test(data) && !socket.destroyed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return { socket, first: data };
  }

  it('refuses connections over the per-address cap and the total cap with 503 + Retry-After, and takes one again once a slot is free', async () => {
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await openConnection('127.0.0.1'));
    expect(mine.map((c) => c.first.slice(0, 15))).toEqual(Array(3).fill('HTTP/1.1 200 OK'));
    const over = await openConnection('127.0.0.1');
    const [refused] = responses(over.first);
    expect(refused?.status).toBe(503);
    expect(refused!.head).toMatch(/Retry-After: 1/i);
    expect(refused!.body.error).toMatchObject({ code: 'ORDER_TOO_MANY_CONNECTIONS', message: expect.stringMatching(/from this address \(limit 3\)/) });
    expect(refused!.head).toContain(`x-request-id: ${refused!.body.requestId}`);
    // another address still gets in, up to the total
    expect((await openConnection('127.0.0.2')).first).toMatch(/^HTTP\/1\.1 200 /);
    const [total] = responses((await openConnection('127.0.0.3')).first);
    expect(total?.status).toBe(503);
    expect(total!.body.error?.message).toMatch(/Too many open connections \(limit 4\)/);
    // a freed slot is taken again
    mine[0]!.socket.destroy();
    const deadline = Date.now() + 5_000;
    let again = '';
    while (Date.now() < deadline) {
      again = (await openConnection('127.0.0.1')).first;
      if (again.startsWith('HTTP/1.1 200 ')) break;
    }
    expect(again).toMatch(/^HTTP\/1\.1 200 /);
  });
});

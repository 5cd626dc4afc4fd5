import Database from 'better-sqlite3';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/ports.js';
import { httpClient, tempDir, waitFor } from '../../test/support/stack.js';
import { startStack, type RunningStack, type StartStackOptions } from './stack.js';

/**
 * The stack under overload, over real sockets: health on its own listener (own thread, outside
 * the API's connection limits, readiness still following the store) and order refusals made
 * before the body is read. Behaviour only: bench/overload.mjs measures the figures.
 */

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(opts: StartStackOptions = {}): Promise<RunningStack> {
  const dir = tempDir('surgectl-overload-');
  cleanups.push(() => dir.remove());
  const stack = await startStack({ port: 0, paymentPort: 0, dataDir: dir.path, paymentLatencyMs: 0, defaultMetrics: false, logger: pino({ level: 'silent' }), ...opts });
  cleanups.push(() => stack.stop({ drainTimeoutMs: 2_000 }));
  return stack;
}

/** An open TCP connection to `url`, closed after the test. */
async function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  cleanups.push(() => socket.destroy());
  await new Promise<void>((res, rej) => {
    socket.once('connect', () => res());
    socket.once('error', rej);
  });
  return socket;
}

/** Everything a socket receives until the server closes it or `until` says the answer is complete. */
function readAnswer(socket: Socket, until: (text: string) => boolean = () => false): Promise<{ text: string; closed: boolean }> {
  return new Promise((res) => {
    let text = '';
    const done = (closed: boolean) => {
      socket.off('data', onData);
      res({ text, closed });
    };
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      if (until(text)) done(false);
    };
    socket.on('data', onData);
    socket.once('close', () => done(true));
  });
}

/** Status line, headers (lower-cased names) and JSON body of one raw HTTP/1.1 answer. */
function parseAnswer(raw: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head = '', body = ''] = raw.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as unknown };
}

/** A whole answer with a Content-Length has arrived. */
const complete = (text: string): boolean => {
  const end = text.indexOf('\r\n\r\n');
  const m = /content-length: (\d+)/i.exec(text);
  return end >= 0 && m !== null && text.length >= end + 4 + Number(m[1]);
};

const order = { customerId: 'c1', items: [{ sku: 'SKU-0001', qty: 1 }] };

describe('health on its own listener (healthPort)', () => {
  it('answers /healthz and /readyz on new connections while the API port is at its connection limit', async () => {
    const healthPort = await freePort();
    const stack = await start({ healthPort, maxConnections: 2, maxConnectionsPerIp: 2 });
    expect(stack.healthUrl).toBe(`http://127.0.0.1:${healthPort}`);
    // The API's two connections are taken...
    await openSocket(stack.url);
    await openSocket(stack.url);
    await waitFor('the API to count both connections', async () => {
      const third = await openSocket(stack.url);
      third.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const answer = await readAnswer(third, complete);
      return parseAnswer(answer.text).status === 503 && answer.text.includes('ORDER_TOO_MANY_CONNECTIONS');
    });
    // ...and the health listener still answers, each probe on a new connection, more at once than the API's limit.
    const probes = await Promise.all(
      ['/healthz', '/readyz', '/healthz', '/readyz', '/healthz'].map(async (path) => {
        const res = await fetch(`${stack.healthUrl}${path}`, { headers: { connection: 'close' } });
        return { path, status: res.status, body: (await res.json()) as unknown, requestId: res.headers.get('x-request-id') };
      }),
    );
    for (const p of probes) {
      expect(p.status, p.path).toBe(200);
      expect(p.body).toEqual(p.path === '/healthz' ? { status: 'ok' } : { status: 'ready' });
      expect(p.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
    // the health port serves health only
    const other = await fetch(`${stack.healthUrl}/v1/orders`, { method: 'POST' });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('ORDER_ROUTE_NOT_FOUND');
  });

  it('turns /readyz 503 on the health port while the store cannot commit, and ready again once it can', async () => {
    let diskFull = false;
    const stack = await start({
      healthPort: 0,
      workers: 0,
      beforeGroupCommit: () => {
        if (diskFull) throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
      },
    });
    const readyz = async () => {
      const res = await fetch(`${stack.healthUrl!}/readyz`);
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { status?: string; error?: { code: string; message: string } } };
    };
    expect((await readyz()).status).toBe(200);

    diskFull = true;
    const http = httpClient(stack.url);
    cleanups.push(() => http.close());
    expect((await http.postOrder(order, 'full-1')).status).toBe(503);
    const notReady = await waitFor('the health port to say not ready', async () => {
      const r = await readyz();
      return r.status === 503 ? r : undefined;
    });
    expect(notReady.retryAfter).toBe('5');
    expect(notReady.body.error).toEqual({ code: 'ORDER_STORE_UNAVAILABLE', message: 'Not ready: store unavailable' });
    // the API port says the same
    expect((await http.call('GET', '/readyz')).status).toBe(503);

    diskFull = false;
    await waitFor('the health port to say ready again', async () => (await readyz()).status === 200);
    expect((await http.postOrder(order, 'full-1')).status).toBe(202);
  });

  it('says draining while the stack stops, and goes away with it', async () => {
    // a slow payment keeps an order in flight, so the drain lasts while we look
    const stack = await start({ healthPort: 0, workers: 1, paymentLatencyMs: 1_500 });
    const url = stack.healthUrl!;
    const http = httpClient(stack.url);
    cleanups.push(() => http.close());
    expect((await http.postOrder(order, 'slow-1')).status).toBe(202);
    await waitFor('the order to be in flight', () => stack.engine.pool.busy() > 0);
    const stopping = stack.stop({ drainTimeoutMs: 5_000 });
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ORDER_DRAINING');
    expect((await stopping).drained).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe('order refusals before the body', () => {
  it('answers an order over the backlog with 503 + Retry-After + the JSON error before its body is sent, and closes a connection with a large body', async () => {
    // no workers: the one accepted order fills a backlog of 1
    const stack = await start({ workers: 0, maxBacklog: 1 });
    const http = httpClient(stack.url);
    cleanups.push(() => http.close());
    expect((await http.postOrder(order, 'first')).status).toBe(202);

    const socket = await openSocket(stack.url);
    const answer = readAnswer(socket);
    // Headers only: the announced 60 000 bytes never come. The answer must not wait for them.
    socket.write('POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: big-1\r\nX-Request-Id: shed-me-1\r\nContent-Length: 60000\r\n\r\n');
    const { text, closed } = await answer;
    expect(closed).toBe(true);
    const res = parseAnswer(text);
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.headers.connection).toBe('close');
    expect(res.headers['x-request-id']).toBe('shed-me-1');
    expect(res.body).toEqual({ error: { code: 'ORDER_SHED', message: 'Too many orders waiting (1, limit 1); retry after the Retry-After delay' }, requestId: 'shed-me-1' });
    const metrics = (await http.call('GET', '/metrics')).text;
    expect(metrics).toMatch(/surgectl_orders_rejected_total\{reason="shed"\} 1\n/);
    expect(metrics).toMatch(/surgectl_http_request_duration_seconds_count\{route="\/v1\/orders",method="POST",status_code="503"\} 1\n/);
  });

  it('keeps the connection of a refused small order and answers its next request once the hold is over', async () => {
    const stack = await start({ workers: 0, maxBacklog: 1 });
    const http = httpClient(stack.url);
    cleanups.push(() => http.close());
    expect((await http.postOrder(order, 'first')).status).toBe(202);

    const socket = await openSocket(stack.url);
    const body = JSON.stringify(order);
    socket.write(`POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: small-1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const first = await readAnswer(socket, complete);
    expect(first.closed).toBe(false);
    const refused = parseAnswer(first.text);
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('keep-alive');
    expect((refused.body as { error: { code: string } }).error.code).toBe('ORDER_SHED');
    // the same connection is read again (after at most the hold) and its next request answered
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const second = await readAnswer(socket, complete);
    expect(second.closed).toBe(false);
    expect(parseAnswer(second.text)).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('refuses over the rate limit before the body too, with 429 + Retry-After', async () => {
    const stack = await start({ workers: 0, rateLimit: 1 });
    const socket = await openSocket(stack.url);
    const body = JSON.stringify(order);
    socket.write(`POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: rl-1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    expect(parseAnswer((await readAnswer(socket, complete)).text).status).toBe(202);
    const second = await openSocket(stack.url);
    const answer = readAnswer(second);
    second.write('POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: rl-2\r\nContent-Length: 60000\r\n\r\n');
    const res = parseAnswer((await answer).text);
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((res.body as { error: { code: string } }).error.code).toBe('ORDER_RATE_LIMITED');
  });
});

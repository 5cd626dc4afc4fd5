import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from './background-load.js';

/** A loopback stand-in for the intake API: inventory, and orders answered by a status chosen per test. */
let server: Server;
let url: string;
let answer = 202;
const orders: { sku: string; key: string | undefined }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/v1/inventory') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [{ sku: 'A', available: 0 }, { sku: 'B', available: 5 }, { sku: 'C', available: 50 }] }));
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const order = JSON.parse(body) as { items: { sku: string }[] };
      orders.push({ sku: order.items[0]?.sku ?? '', key: req.headers['idempotency-key'] as string | undefined });
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('startLoad', () => {
  it('stops at maxRequests, orders only skus in stock, one idempotency key per order', async () => {
    orders.length = 0;
    answer = 202;
    const load = await startLoad({ url, rate: 200, maxRequests: 30, maxDurationMs: 20_000, maxInFlight: 64 });
    const deadline = Date.now() + 20_000;
    while (orders.length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const s = await load.stop();
    expect(s.sent + s.dropped).toBe(30);
    expect(s.accepted).toBe(s.sent);
    expect(orders).toHaveLength(s.sent);
    expect(new Set(orders.map((o) => o.sku))).toEqual(new Set(['B', 'C']));
    expect(new Set(orders.map((o) => o.key)).size).toBe(orders.length);
  });

  it('counts 5xx and 4xx answers apart and stops when asked', async () => {
    orders.length = 0;
    answer = 503;
    const load = await startLoad({ url, rate: 100, maxRequests: 10_000, maxDurationMs: 20_000, maxInFlight: 8 });
    const deadline = Date.now() + 20_000;
    while (orders.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const s = await load.stop();
    expect(s.errors).toBeGreaterThanOrEqual(5);
    expect(s.accepted).toBe(0);
    expect(s.sent).toBeLessThan(10_000);
    // stop() waited for every request it sent: the server saw exactly those.
    expect(orders.length).toBe(s.sent);
  });
});

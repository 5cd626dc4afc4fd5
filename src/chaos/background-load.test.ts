import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawResult } from '../loadtest/engine.js';
import { newSeries, recordInto } from '../loadtest/metrics.js';
import { drillLoadScenario, isLoopback, loadOptionsFor, startLoad, summarizeLoad } from './background-load.js';
import { parseExperiment } from './experiment.js';

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

describe('startLoad refuses and explains', () => {
  it('a stack that is not on this machine', async () => {
    await expect(startLoad({ url: 'http://10.0.0.1:8080', rate: 1, maxRequests: 1, maxDurationMs: 1000, maxInFlight: 1 })).rejects.toMatchObject({ code: 'SRG_CHAOS_EXPERIMENT' });
  });

  it('a stack that does not answer, in the stack\'s words', async () => {
    await expect(startLoad({ url: 'http://127.0.0.1:1', rate: 1, maxRequests: 1, maxDurationMs: 1000, maxInFlight: 1 })).rejects.toMatchObject({
      code: 'SRG_STACK_UNREACHABLE',
      message: expect.stringMatching(/^load: .*127\.0\.0\.1:1\/v1\/inventory/),
    });
  });

  it('stops when the drill\'s signal fires', async () => {
    orders.length = 0;
    answer = 202;
    const ac = new AbortController();
    const load = await startLoad({ url, rate: 100, maxRequests: 100_000, maxDurationMs: 60_000, maxInFlight: 8, signal: ac.signal });
    const deadline = Date.now() + 20_000;
    while (orders.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    const s = await load.stop();
    expect(s.sent).toBeGreaterThanOrEqual(3);
    expect(s.sent).toBeLessThan(100_000);
    expect(s.durationMs).toBeLessThan(30_000);
  });
});

describe('the drill load as a load-test scenario', () => {
  it('maps the load section: maxRequests defaults to rate × maxDuration', () => {
    const e = parseExperiment({
      title: 'x',
      load: { rate: 20, maxDuration: '30s' },
      method: [{ type: 'action', name: 'a', provider: { type: 'stack', func: 'kill-worker' } }],
    });
    expect(loadOptionsFor(e.load!, 'http://127.0.0.1:8080')).toEqual({ url: 'http://127.0.0.1:8080', rate: 20, maxRequests: 600, maxDurationMs: 30_000, maxInFlight: 64 });
  });

  it('is one constant-arrival-rate profile of single-unit orders, capped by the shorter of maxDuration and maxRequests', () => {
    const base = { url: 'http://127.0.0.1:8080', rate: 20, maxInFlight: 64 };
    const byTime = drillLoadScenario({ ...base, maxRequests: 1_000_000, maxDurationMs: 30_000 }, ['A', 'B']).scenario;
    const byCount = drillLoadScenario({ ...base, maxRequests: 30, maxDurationMs: 30_000 }, ['A']).scenario;
    expect(Object.values(byTime.scenarios)).toEqual([expect.objectContaining({ executor: 'constant-arrival-rate', rate: 20, maxVUs: 64, preAllocatedVUs: 16 })]);
    expect(durationOf(byTime)).toBe(30_000);
    // 30 arrivals at 20/s take 1.5 s.
    expect(durationOf(byCount)).toBe(1_500);
    expect(byTime.requests).toEqual([expect.objectContaining({ kind: 'create-order', items: { min: 1, max: 1 }, qty: { min: 1, max: 1 } })]);
    expect(byTime.payload.skus).toEqual(['A', 'B']);
    expect(byTime.scrapeMetrics).toBe(false);
  });

  it('summarizes the engine\'s result in the journal\'s terms', () => {
    const series = [
      [202, 7],
      [201, 1],
      [429, 2],
      [302, 1],
      [503, 3],
      [0, 1],
    ].map(([status, n]) => {
      const s = newSeries({ status: String(status) });
      for (let i = 0; i < (n as number); i++) recordInto(s, 1000, (status as number) >= 400 || status === 0);
      return s;
    });
    // 20 arrivals: 2 dropped, 18 sent, 15 answered (incl. one without a status), 3 still unanswered at the stop.
    const raw = { series, dropped: 2, durationMs: 1234.6, scenarios: [{ arrivals: 20 }] } as unknown as RawResult;
    expect(summarizeLoad(raw, 20)).toEqual({ rate: 20, sent: 18, accepted: 8, rejected: 3, errors: 3, failed: 4, dropped: 2, durationMs: 1235 });
  });
});

function durationOf(s: { scenarios: Record<string, unknown> }): number {
  const d = (Object.values(s.scenarios)[0] as { duration: number | string }).duration;
  // The parsed scenario holds ms; the text form (`1500ms`) is what drillLoadScenario writes.
  return typeof d === 'number' ? d : Number(/^(\d+)ms$/.exec(d)?.[1]);
}

// Moved here from src/chaos/prom-text.test.ts when the Prometheus text parser moved to src/util/prom-text.ts.
describe('background load guard', () => {
  it('only targets loopback', async () => {
    expect(isLoopback('http://127.0.0.1:8080')).toBe(true);
    expect(isLoopback('http://[::1]:8080')).toBe(true);
    expect(isLoopback('http://localhost:8080')).toBe(true);
    expect(isLoopback('http://shop.example.com')).toBe(false);
    await expect(startLoad({ url: 'http://10.0.0.5:8080', rate: 1, maxRequests: 1, maxDurationMs: 1000, maxInFlight: 1 })).rejects.toMatchObject({
      code: 'SRG_CHAOS_EXPERIMENT',
      message: expect.stringContaining('only targets a stack on this machine'),
    });
  });
});

import { describe, expect, it } from 'vitest';
import { buildMix, OrderIdRing, readOrderResponse, RequestFactory } from './requests.js';
import { parseScenario } from './scenario.js';
import { mulberry32 } from '../util/prng.js';

/** A small deterministic PRNG so the draws are reproducible. */

const scenario = parseScenario({
  target: 'http://127.0.0.1:1',
  requests: [
    { kind: 'create-order', weight: 6, items: { min: 2, max: 4 }, qty: { min: 1, max: 5 } },
    { kind: 'get-status', weight: 3 },
    { kind: 'batch-create', weight: 1, batchSize: 3, items: { min: 1, max: 1 } },
  ],
  scenarios: { s: { executor: 'constant-vus', duration: '1s' } },
}).scenario;

describe('request mix', () => {
  it('draws kinds in proportion to their weights', () => {
    const f = new RequestFactory(buildMix(scenario.requests!), { skus: ['A'], customers: 10, declineRatio: 0, runId: 'r' }, {}, mulberry32(1));
    f.ring.add('o-1');
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const e = f.draw();
      counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
    }
    expect((counts.get('create_order') ?? 0) / 20_000).toBeCloseTo(0.6, 1);
    expect((counts.get('get_status') ?? 0) / 20_000).toBeCloseTo(0.3, 1);
    expect((counts.get('batch_create') ?? 0) / 20_000).toBeCloseTo(0.1, 1);
  });

  it('sends get-status as a create until an order id is known', () => {
    const f = new RequestFactory(buildMix(scenario.requests!), { skus: ['A'], customers: 10, declineRatio: 0, runId: 'r' }, {}, mulberry32(2));
    for (let i = 0; i < 200; i++) expect(f.draw().config.kind).not.toBe('get-status');
  });

  it('builds orders with distinct skus, quantities in range, unique keys and valid JSON', () => {
    const skus = ['A', 'B', 'C', 'D', 'E', 'F'];
    const f = new RequestFactory(buildMix(scenario.requests!), { skus, customers: 100, declineRatio: 0.5, runId: 'run7' }, { 'x-api-key': 'k' }, mulberry32(3));
    const keys = new Set<string>();
    let declined = 0;
    for (let i = 0; i < 500; i++) {
      const req = f.build(f.mix[0]!);
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/v1/orders');
      const key = req.headers[req.headers.indexOf('idempotency-key') + 1]!;
      expect(key).toMatch(/^run7-\d+$/);
      keys.add(key);
      expect(req.headers.slice(-2)).toEqual(['x-api-key', 'k']);
      const o = JSON.parse(req.body!) as { customerId: string; items: { sku: string; qty: number }[]; paymentToken?: string };
      expect(Number(o.customerId.slice(2))).toBeGreaterThanOrEqual(1);
      expect(Number(o.customerId.slice(2))).toBeLessThanOrEqual(100);
      expect(o.items.length).toBeGreaterThanOrEqual(2);
      expect(o.items.length).toBeLessThanOrEqual(4);
      expect(new Set(o.items.map((i) => i.sku)).size).toBe(o.items.length);
      for (const it of o.items) {
        expect(skus).toContain(it.sku);
        expect(it.qty).toBeGreaterThanOrEqual(1);
        expect(it.qty).toBeLessThanOrEqual(5);
      }
      if (o.paymentToken === 'tok_decline') declined++;
    }
    expect(keys.size).toBe(500);
    expect(declined / 500).toBeGreaterThan(0.4);
    expect(declined / 500).toBeLessThan(0.6);
    const batch = f.build(f.mix[2]!);
    const b = JSON.parse(batch.body!) as { orders: { idempotencyKey: string }[] };
    expect(b.orders).toHaveLength(3);
    expect(new Set(b.orders.map((o) => o.idempotencyKey)).size).toBe(3);
    expect(batch.orders).toBe(3);
  });

  it('reads create and batch answers into accepted/rejected and order ids', () => {
    const f = new RequestFactory(buildMix(scenario.requests!), { skus: ['A'], customers: 1, declineRatio: 0, runId: 'r' }, {});
    const create = f.build(f.mix[0]!);
    expect(readOrderResponse(create, 202, '{"orderId":"o-9","status":"accepted"}')).toEqual({ accepted: 1, rejected: 0, ids: ['o-9'] });
    expect(readOrderResponse(create, 503, '{"error":{}}')).toEqual({ accepted: 0, rejected: 1, ids: [] });
    const batch = f.build(f.mix[2]!);
    expect(readOrderResponse(batch, 207, JSON.stringify({ results: [{ index: 0, status: 202, orderId: 'a' }, { index: 1, status: 422 }, { index: 2, status: 200, orderId: 'b' }] }))).toEqual({
      accepted: 2,
      rejected: 1,
      ids: ['a', 'b'],
    });
    expect(readOrderResponse(batch, 400, '{}')).toEqual({ accepted: 0, rejected: 3, ids: [] });
  });

  it('keeps the most recent order ids', () => {
    const ring = new OrderIdRing(3);
    for (const id of ['a', 'b', 'c', 'd']) ring.add(id);
    expect(ring.size).toBe(3);
    const seen = new Set(Array.from({ length: 100 }, (_, i) => ring.pick(() => (i % 3) / 3)));
    expect([...seen].sort()).toEqual(['b', 'c', 'd']);
  });
});

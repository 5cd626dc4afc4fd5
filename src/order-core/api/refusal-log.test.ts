import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createFakeEngine } from '../../../test/support/fake-engine.js';
import { createStackMetrics } from '../metrics.js';
import { buildApi } from './app.js';

let open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.map((a) => a.close()));
  open = [];
});

describe('orders the store refuses (disk full)', () => {
  it('are logged once per interval with a count and the last error, without a stack per order', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    let clock = 1_000_000;
    const fake = createFakeEngine();
    const app = await buildApi({ engine: fake.engine, metrics: createStackMetrics({ defaultMetrics: false }), logger: pino({ level: 'info' }, sink), adminToken: 't'.repeat(24), rateLimit: 'off', maxBacklog: 1000, now: () => clock, refusalLogIntervalMs: 10_000 });
    open.push(app);
    let key = 0;
    const post = () => app.inject({ method: 'POST', url: '/v1/orders', headers: { 'content-type': 'application/json', 'idempotency-key': `k-${++key}` }, payload: JSON.stringify({ customerId: 'c1', items: [{ sku: 'SKU-1', qty: 1 }] }) });
    fake.setFailAccept(true);
    for (let i = 0; i < 50; i++) expect((await post()).statusCode).toBe(503);
    clock += 10_000;
    for (let i = 0; i < 20; i++) expect((await post()).statusCode).toBe(503);
    fake.setFailAccept(false);
    expect((await post()).statusCode).toBe(202);
    const refusals = lines.filter((l) => typeof l.refused === 'number');
    // the first refusal at once, 49 + 1 after the interval, the last 19 when the store recovers
    expect(refusals.map((l) => l.refused)).toEqual([1, 50, 19]);
    expect(refusals.every((l) => l.lastError === 'disk on fire' && l.err === undefined)).toBe(true);
    expect(lines.filter((l) => JSON.stringify(l).includes('stack')).length).toBe(0);
  });
});

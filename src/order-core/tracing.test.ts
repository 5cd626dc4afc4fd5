import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createPaymentClient } from './payment-gateway/client.js';
import { contextOfTraceParent, createStackTracing } from './tracing.js';

describe('traceparent', () => {
  it('reads back the context it was written from, and refuses what is not one', () => {
    const ctx = contextOfTraceParent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(trace.getSpanContext(ctx ?? (undefined as never))).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    expect(contextOfTraceParent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeUndefined();
    expect(contextOfTraceParent('garbage')).toBeUndefined();
  });

  it('gives a job no trace for an order accepted untraced (or with a broken traceparent)', async () => {
    const tracing = createStackTracing({ exporter: 'otlp', otlpTracesUrl: 'http://127.0.0.1:9/v1/traces', flushTimeoutMs: 100 }, pino({ level: 'silent' }));
    expect(tracing.pipeline.job('ord_1', null)).toBeUndefined();
    expect(tracing.pipeline.job('ord_1', 'not-a-traceparent')).toBeUndefined();
    expect(tracing.pipeline.job('ord_1', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    await tracing.shutdown();
  });
});

describe('createStackTracing', () => {
  it('exports OTLP/HTTP with protobuf bodies by default (the OTLP default protocol)', async () => {
    const seen: { url: string; type: string; bytes: number }[] = [];
    const server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', type: String(req.headers['content-type']), bytes });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
      const tracing = createStackTracing({ exporter: 'otlp', otlpTracesUrl: url }, pino({ level: 'silent' }));
      const job = tracing.pipeline.job('ord_1', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      job?.record('reserve', 1, 'reserved');
      await tracing.shutdown();
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ url: '/v1/traces', type: 'application/x-protobuf' });
      expect(seen[0]?.bytes).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('stops within flushTimeoutMs when the collector does not answer', async () => {
    // A listener that never answers: the export hangs until the stop gives up on it.
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
      const tracing = createStackTracing({ exporter: 'otlp', otlpProtocol: 'http/json', otlpTracesUrl: url, flushTimeoutMs: 200 }, pino({ level: 'silent' }));
      tracing.pipeline.job('ord_1', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')?.record('reserve', 1, 'reserved');
      const started = performance.now();
      await tracing.shutdown();
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('the payment call under a pay span', () => {
  it("sends the call span's traceparent to the gateway, in the order's trace", async () => {
    const received: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      received.push(req.headers.traceparent as string | undefined);
      req.resume();
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ chargeId: 'ch_1', orderId: 'ord_1', status: 'succeeded' })));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const payments = createPaymentClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 2_000, authToken: 't' });
    const tracing = createStackTracing({ exporter: 'otlp', otlpTracesUrl: 'http://127.0.0.1:9/v1/traces', flushTimeoutMs: 100 }, pino({ level: 'silent' }));
    try {
      const job = tracing.pipeline.job('ord_1', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      const pay = job?.step('pay');
      const req = { orderId: 'ord_1', amountCents: 100, idempotencyKey: 'ord_1' };
      await payments.charge({ ...req, traceCall: pay?.traceCall }, new AbortController().signal, async () => true);
      pay?.end('ok');
      // untraced: no header at all
      await payments.charge(req, new AbortController().signal, async () => true);
      expect(received[0]).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      expect(received[0]).not.toContain('b7ad6b7169203331');
      expect(received[1]).toBeUndefined();
    } finally {
      await payments.close();
      await tracing.shutdown();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

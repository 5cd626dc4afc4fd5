import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startStack, type RunningStack, type StartStackOptions } from '../src/order-core/stack.js';
import { httpClient, tempDir } from './support/stack.js';
import { capturingLogger } from './support/order-engine.js';

/**
 * Tracing end to end: the REAL stack in this process exports OTLP/HTTP (http/json) to a plain
 * node:http receiver started here, and the spans that arrive are checked for one trace per order
 * with the right parent links.
 */

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
}
interface OtlpBody {
  resourceSpans: { resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An OTLP/HTTP receiver: records every request and keeps the JSON bodies POSTed to /v1/traces. */
async function startReceiver() {
  const requests: { method: string; url: string; contentType: string }[] = [];
  const bodies: OtlpBody[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', contentType: String(req.headers['content-type'] ?? '') });
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpBody);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const spans = () => bodies.flatMap((b) => b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
  const resources = () => bodies.flatMap((b) => b.resourceSpans.map((rs) => rs.resource?.attributes ?? []));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, spans, resources };
}

async function start(dataDir: string, opts: StartStackOptions): Promise<RunningStack> {
  const stack = await startStack({ port: 0, paymentPort: 0, dataDir, paymentLatencyMs: 0, defaultMetrics: false, workers: 2, logger: pino({ level: 'silent' }), ...opts });
  cleanups.push(() => stack.stop({ drainTimeoutMs: 2_000 }));
  return stack;
}

/** Polls `check` until it returns something other than undefined, or fails after `timeoutMs`. */
async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function placeAndConfirm(stack: RunningStack, key: string, headers: Record<string, string> = {}): Promise<string> {
  const http = httpClient(stack.url);
  cleanups.push(() => http.close());
  const placed = await http.postOrder({ customerId: 'c-trace', items: [{ sku: 'SKU-0001', qty: 1 }] }, key, headers);
  expect(placed.status).toBe(202);
  const orderId = (placed.body as { orderId: string }).orderId;
  await until('the order to be confirmed', async () => ((await http.call('GET', `/v1/orders/${orderId}`)).body as { status: string }).status === 'confirmed' || undefined);
  return orderId;
}

const attr = (span: OtlpSpan, key: string) => span.attributes?.find((a) => a.key === key)?.value;
const STEPS = ['reserve', 'pay', 'confirm', 'notify'];

describe('tracing in the order stack', () => {
  it('exports one trace per order: intake as the root, each step its child, the payment call a child of pay; logs carry the trace id', async () => {
    const receiver = await startReceiver();
    const dir = tempDir('surgectl-tracing-');
    cleanups.push(() => dir.remove());
    const { logger, lines } = capturingLogger();
    const stack = await start(dir.path, {
      logger,
      tracing: { exporter: 'otlp', otlpProtocol: 'http/json', otlpTracesUrl: `${receiver.url}/v1/traces`, serviceName: 'stack-under-test' },
    });
    // A client's traceparent is not followed: the order's trace starts at our intake span.
    const foreign = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const orderId = await placeAndConfirm(stack, 'trace-one', { traceparent: foreign });
    // The stop flushes what the batch processor still holds.
    await stack.stop({ drainTimeoutMs: 2_000 });

    const spans = await until('the order to be exported', () => {
      const all = receiver.spans();
      return all.some((s) => s.name === 'notify') && all.some((s) => s.name === 'POST /v1/charges') ? all : undefined;
    });
    expect(receiver.requests.every((r) => r.contentType.startsWith('application/json'))).toBe(true);
    const intake = spans.find((s) => s.name === 'POST /v1/orders');
    expect(intake).toBeDefined();
    const root = intake as OtlpSpan;
    expect(root.kind).toBe(SPAN_KIND_SERVER);
    expect(root.parentSpanId ?? '').toBe('');
    expect(root.traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(attr(root, 'http.response.status_code')).toEqual({ intValue: 202 });
    expect(attr(root, 'surgectl.order.id')).toEqual({ stringValue: orderId });

    const trace = spans.filter((s) => s.traceId === root.traceId);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root.traceId]));
    for (const step of STEPS) {
      const found = trace.filter((s) => s.name === step);
      expect(found, step).toHaveLength(1);
      expect(found[0]?.parentSpanId, `${step} is a child of the intake span`).toBe(root.spanId);
      expect(attr(found[0] as OtlpSpan, 'surgectl.order.id')).toEqual({ stringValue: orderId });
    }
    const pay = trace.find((s) => s.name === 'pay') as OtlpSpan;
    const call = trace.find((s) => s.name === 'POST /v1/charges');
    expect(call?.kind).toBe(SPAN_KIND_CLIENT);
    expect(call?.parentSpanId).toBe(pay.spanId);
    expect(attr(call as OtlpSpan, 'http.response.status_code')).toEqual({ intValue: 201 });
    expect(receiver.resources()[0]).toContainEqual({ key: 'service.name', value: { stringValue: 'stack-under-test' } });

    const orderLines = lines.filter((l) => l.orderId === orderId);
    expect(orderLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['order accepted', 'order confirmed']));
    for (const l of orderLines) expect(l.trace_id, String(l.msg)).toBe(root.traceId);
  });

  it('continues the trace after a restart: the steps join the intake span stored with the order', async () => {
    const receiver = await startReceiver();
    const dir = tempDir('surgectl-tracing-');
    cleanups.push(() => dir.remove());
    const tracing = { exporter: 'otlp' as const, otlpProtocol: 'http/json' as const, otlpTracesUrl: `${receiver.url}/v1/traces` };
    // No workers: the order waits in the store across the restart.
    const first = await start(dir.path, { workers: 0, tracing });
    const http = httpClient(first.url);
    const placed = await http.postOrder({ customerId: 'c-trace', items: [{ sku: 'SKU-0002', qty: 1 }] }, 'trace-restart');
    await http.close();
    expect(placed.status).toBe(202);
    await first.stop({ drainTimeoutMs: 1_000 });
    const root = await until('the intake span', () => receiver.spans().find((s) => s.name === 'POST /v1/orders'));

    const second = await start(dir.path, { tracing });
    const orderId = (placed.body as { orderId: string }).orderId;
    const client = httpClient(second.url);
    cleanups.push(() => client.close());
    await until('the order to be confirmed', async () => ((await client.call('GET', `/v1/orders/${orderId}`)).body as { status: string }).status === 'confirmed' || undefined);
    await second.stop({ drainTimeoutMs: 2_000 });
    const steps = await until('the steps', () => {
      const found = receiver.spans().filter((s) => STEPS.includes(s.name));
      return found.length >= STEPS.length ? found : undefined;
    });
    for (const s of steps) {
      expect(s.traceId, s.name).toBe(root.traceId);
      expect(s.parentSpanId, s.name).toBe(root.spanId);
    }
  });

  it('with tracing off (the default) sends nothing to a receiver and logs no trace ids', async () => {
    const receiver = await startReceiver();
    // Even with the standard variables pointing at the receiver: the core reads no environment
    // (the CLI maps OTEL_* onto the tracing option), and without that option no SDK is loaded.
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url);
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'otlp');
    cleanups.push(() => vi.unstubAllEnvs());
    const dir = tempDir('surgectl-tracing-');
    cleanups.push(() => dir.remove());
    const { logger, lines } = capturingLogger();
    const stack = await start(dir.path, { logger });
    const orderId = await placeAndConfirm(stack, 'trace-off');
    await stack.stop({ drainTimeoutMs: 2_000 });
    expect(receiver.requests).toEqual([]);
    // untraced orders are logged on the lines shared by the orders of one event-loop turn
    const orderLines = lines.filter((l) => l.orderId === orderId || (Array.isArray(l.orderIds) && l.orderIds.includes(orderId)));
    expect(orderLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['orders accepted', 'orders confirmed']));
    expect(orderLines.some((l) => 'trace_id' in l)).toBe(false);
  });
});

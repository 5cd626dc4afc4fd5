import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeEngine, type FakeEngine } from '../../../test/support/fake-engine.js';
import { Writable } from 'node:stream';
import { createStackLogger, silentLogger } from '../logger.js';
import { createStackMetrics } from '../metrics.js';
import { buildApi, newIntakeState } from './app.js';
import type { ApiDeps, IntakeState, PaymentSettings } from './context.js';

const TOKEN = 'test-admin-token-0123456789';
const good = { customerId: 'c1', items: [{ sku: 'SKU-1', qty: 1 }] };

interface Harness {
  app: FastifyInstance;
  fake: FakeEngine;
  state: IntakeState;
  metrics: ReturnType<typeof createStackMetrics>;
  payment: PaymentSettings;
}
let open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.map((a) => a.close()));
  open = [];
});

async function harness(over: Partial<ApiDeps> = {}, fakeOpts: Parameters<typeof createFakeEngine>[0] = {}): Promise<Harness> {
  const fake = createFakeEngine(fakeOpts);
  const metrics = createStackMetrics({ defaultMetrics: false });
  const state = newIntakeState();
  const payment: PaymentSettings = { failureRate: 0, latencyMs: 5 };
  const app = await buildApi({
    engine: fake.engine,
    metrics,
    logger: silentLogger(),
    adminToken: TOKEN,
    rateLimit: 'off',
    maxBacklog: 1000,
    state,
    payment: {
      get: () => ({ ...payment }),
      set: (c) => Object.assign(payment, c),
      reset: () => Object.assign(payment, { failureRate: 0, latencyMs: 5 }),
    },
    restartStore: async () => undefined,
    ...over,
  });
  open.push(app);
  return { app, fake, state, metrics, payment };
}

let keySeq = 0;
function post(app: FastifyInstance, body: unknown, headers: Record<string, string> = {}, remoteAddress?: string) {
  return app.inject({
    method: 'POST',
    ...(remoteAddress !== undefined ? { remoteAddress } : {}),
    url: '/v1/orders',
    headers: { 'content-type': 'application/json', 'idempotency-key': `k-${++keySeq}`, ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function expectErrorShape(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { error: { code: string; message: string }; requestId: string };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(5);
  expect(body.requestId).toBe(res.headers['x-request-id']);
  return body;
}

describe('POST /v1/orders', () => {
  it('accepts a valid order with 202, a status URL and a queue position', async () => {
    const { app, fake } = await harness();
    const res = await post(app, good);
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ orderId: 'ord_1', status: 'accepted', statusUrl: '/v1/orders/ord_1', queuePosition: 1 });
    expect(res.headers.location).toBe('/v1/orders/ord_1');
    expect(fake.accepted).toHaveLength(1);
    expect(fake.accepted[0]!.order).toEqual(good);
  });

  it('logs accepted orders in one shared line, written at the latest when the API closes', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createStackLogger({ destination: new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }) });
    const { app } = await harness({ logger });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((JSON.parse((await post(app, good, { 'x-request-id': `req-${i}` })).body) as { orderId: string }).orderId);
    await app.close();
    const accepted = lines.filter((l) => l.msg === 'orders accepted');
    expect(accepted.flatMap((l) => l.orderIds as string[])).toEqual(ids);
    expect(accepted.flatMap((l) => l.requestIds as string[])).toEqual(['req-0', 'req-1', 'req-2']);
    expect(accepted.reduce((n, l) => n + (l.accepted as number), 0)).toBe(3);
  });

  it('replays the same key and body as 200 with the same order, and refuses another body with 409', async () => {
    const { app, fake } = await harness();
    const a = await post(app, good, { 'idempotency-key': 'same' });
    // Same content, other key order and whitespace: the same request.
    const b = await post(app, '{ "items": [{"qty":1, "sku":"SKU-1"}], "customerId": "c1" }', { 'idempotency-key': 'same' });
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(200);
    expect(b.json().orderId).toBe(a.json().orderId);
    const c = await post(app, { ...good, customerId: 'c2' }, { 'idempotency-key': 'same' });
    const body = expectErrorShape(c, 409, 'ORDER_IDEMPOTENCY_CONFLICT');
    expect(body.error.message).toContain(a.json().orderId);
    expect(fake.accepted).toHaveLength(1);
  });

  it('takes any well-formed Unicode in customerId (a surrogate pair is one character) and names an unpaired surrogate', async () => {
    const { app, fake } = await harness();
    expect((await post(app, { ...good, customerId: 'kunde-\u{1F600}-ü' })).statusCode).toBe(202);
    expect(fake.accepted.map((a) => a.order.customerId)).toEqual(['kunde-\u{1F600}-ü']);
    const res = await post(app, '{"customerId":"\\udfff","items":[{"sku":"SKU-1","qty":1}]}');
    const body = expectErrorShape(res, 400, 'ORDER_VALIDATION') as { error: { details?: { path: string; message: string }[] } };
    expect(body.error.details).toEqual([{ path: 'customerId', message: 'must be well-formed Unicode text (it holds an unpaired UTF-16 surrogate)' }]);
  });

  it('keeps a sane client X-Request-Id and replaces a hostile one', async () => {
    const { app } = await harness();
    expect((await post(app, good, { 'x-request-id': 'abc-123' })).headers['x-request-id']).toBe('abc-123');
    const res = await post(app, good, { 'x-request-id': 'bad id with spaces' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  const cases: { name: string; body: unknown; headers?: Record<string, string>; status: number; code: string; path?: string }[] = [
    { name: 'missing customerId', body: { items: good.items }, status: 400, code: 'ORDER_VALIDATION', path: 'customerId' },
    { name: 'empty customerId', body: { ...good, customerId: '' }, status: 400, code: 'ORDER_VALIDATION', path: 'customerId' },
    { name: 'numeric customerId', body: { ...good, customerId: 42 }, status: 400, code: 'ORDER_VALIDATION', path: 'customerId' },
    { name: 'missing items', body: { customerId: 'c' }, status: 400, code: 'ORDER_VALIDATION', path: 'items' },
    { name: 'empty items', body: { customerId: 'c', items: [] }, status: 400, code: 'ORDER_VALIDATION', path: 'items' },
    { name: 'items not an array', body: { customerId: 'c', items: {} }, status: 400, code: 'ORDER_VALIDATION', path: 'items' },
    { name: 'qty zero', body: { customerId: 'c', items: [{ sku: 'SKU-1', qty: 0 }] }, status: 400, code: 'ORDER_VALIDATION', path: 'items[0].qty' },
    { name: 'qty fractional', body: { customerId: 'c', items: [{ sku: 'SKU-1', qty: 1.5 }] }, status: 400, code: 'ORDER_VALIDATION', path: 'items[0].qty' },
    { name: 'qty as string', body: { customerId: 'c', items: [{ sku: 'SKU-1', qty: '2' }] }, status: 400, code: 'ORDER_VALIDATION', path: 'items[0].qty' },
    { name: 'qty negative', body: { customerId: 'c', items: [{ sku: 'SKU-1', qty: -3 }] }, status: 400, code: 'ORDER_VALIDATION', path: 'items[0].qty' },
    { name: 'missing sku', body: { customerId: 'c', items: [{ qty: 1 }] }, status: 400, code: 'ORDER_VALIDATION', path: 'items[0].sku' },
    { name: 'customerId with an unpaired surrogate', body: '{"customerId":"c\\ud800","items":[{"sku":"SKU-1","qty":1}]}', status: 400, code: 'ORDER_VALIDATION', path: 'customerId' },
    { name: 'paymentToken with an unpaired surrogate', body: { ...good, paymentToken: 'tok\udc00' }, status: 400, code: 'ORDER_VALIDATION', path: 'paymentToken' },
    { name: 'unknown field', body: { ...good, coupon: 'X' }, status: 400, code: 'ORDER_VALIDATION', path: 'coupon' },
    { name: 'body is an array', body: [good], status: 400, code: 'ORDER_VALIDATION', path: '(body)' },
    { name: 'body is null', body: 'null', status: 400, code: 'ORDER_VALIDATION' },
    { name: 'broken JSON', body: '{"customerId": "c", ', status: 400, code: 'ORDER_INVALID_JSON' },
    { name: 'empty body', body: '', status: 400, code: 'ORDER_INVALID_JSON' },
    { name: 'text/plain', body: 'hello', headers: { 'content-type': 'text/plain' }, status: 415, code: 'ORDER_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'form encoded', body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'ORDER_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'body over 64 KiB', body: { ...good, customerId: 'x'.repeat(70_000) }, status: 413, code: 'ORDER_BODY_TOO_LARGE' },
    { name: 'missing Idempotency-Key', body: good, headers: { 'idempotency-key': '' }, status: 400, code: 'ORDER_IDEMPOTENCY_KEY_REQUIRED', path: 'headers.idempotency-key' },
    { name: 'unknown sku', body: { customerId: 'c', items: [{ sku: 'NOPE', qty: 1 }] }, status: 422, code: 'ORDER_UNKNOWN_SKU', path: 'items[0].sku' },
  ];
  it.each(cases)('refuses $name with $status $code and a field-level message, storing nothing', async ({ body, headers, status, code, path }) => {
    const { app, fake } = await harness();
    const h = { ...headers };
    const res =
      h['idempotency-key'] === ''
        ? await app.inject({ method: 'POST', url: '/v1/orders', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
        : await post(app, body, h);
    const b = expectErrorShape(res, status, code) as { error: { details?: { path: string; message: string }[] } };
    if (path) expect(b.error.details?.map((d) => d.path)).toContain(path);
    expect(fake.accepted).toHaveLength(0);
  });

  it('lists every invalid field at once', async () => {
    const { app } = await harness();
    const res = await post(app, { customerId: 5, items: [{ sku: '', qty: 0 }] });
    const paths = (res.json().error.details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(['customerId', 'items[0].qty', 'items[0].sku']);
  });

  it('answers 503 ORDER_STORE_UNAVAILABLE (retryable) when the store cannot commit', async () => {
    const { app, fake } = await harness();
    fake.setFailAccept(true);
    const res = await post(app, good);
    expectErrorShape(res, 503, 'ORDER_STORE_UNAVAILABLE');
    expect(res.headers['retry-after']).toBe('1');
  });

  it('counts rejections by reason', async () => {
    const { app, metrics } = await harness();
    await post(app, { customerId: 'c' });
    await post(app, { customerId: 'c', items: [{ sku: 'NOPE', qty: 1 }] });
    await post(app, good);
    await post(app, JSON.stringify(good), { 'content-type': 'text/plain' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('surgectl_orders_rejected_total{reason="validation"} 1');
    expect(text).toContain('surgectl_orders_rejected_total{reason="unknown_sku"} 1');
    expect(text).toContain('surgectl_orders_rejected_total{reason="unsupported_media_type"} 1');
  });
});

describe('overload', () => {
  it('sheds new orders with 503 + Retry-After when the backlog would pass maxBacklog', async () => {
    const { app, fake, metrics } = await harness({ maxBacklog: 3 });
    expect((await post(app, good)).statusCode).toBe(202);
    fake.setExtraDepth(2);
    const res = await post(app, good);
    expectErrorShape(res, 503, 'ORDER_SHED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await metrics.registry.getSingleMetricAsString('surgectl_load_shed_total')).toContain('surgectl_load_shed_total 1');
    fake.setExtraDepth(0);
    expect((await post(app, good)).statusCode).toBe(202);
  });

  it('rate-limits per client address with 429 + Retry-After (a rotated x-api-key or X-Forwarded-For is the same client), other clients unaffected', async () => {
    const { app, metrics } = await harness({ rateLimit: 2 });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await post(app, good, { 'x-api-key': `alice-${i}`, 'x-forwarded-for': `10.0.0.${i}` }, '192.0.2.1')).statusCode);
    expect(codes).toEqual([202, 202, 429]);
    const limited = await post(app, good, { 'x-api-key': 'alice' }, '192.0.2.1');
    expectErrorShape(limited, 429, 'ORDER_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await post(app, good, { 'x-api-key': 'alice' }, '192.0.2.2')).statusCode).toBe(202);
    expect(await metrics.registry.getSingleMetricAsString('surgectl_rate_limited_total')).toContain('surgectl_rate_limited_total 2');
    // Admin routes are never rate-limited.
    for (let i = 0; i < 5; i++) {
      const r = await app.inject({ method: 'GET', url: '/admin/status', headers: { authorization: `Bearer ${TOKEN}`, 'x-api-key': 'alice' } });
      expect(r.statusCode).toBe(200);
    }
  });

  it('refuses orders while paused or draining, and /readyz says why', async () => {
    const { app, state } = await harness();
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    state.paused = true;
    expectErrorShape(await post(app, good), 503, 'ORDER_PAUSED');
    expectErrorShape(await app.inject('/readyz'), 503, 'ORDER_PAUSED');
    state.paused = false;
    state.draining = true;
    expectErrorShape(await post(app, good), 503, 'ORDER_DRAINING');
    expectErrorShape(await app.inject('/readyz'), 503, 'ORDER_DRAINING');
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 503 while the store is unhealthy', async () => {
    const { app, fake } = await harness();
    fake.setHealthy(false);
    expectErrorShape(await app.inject('/readyz'), 503, 'ORDER_STORE_UNAVAILABLE');
  });
});

describe('batch', () => {
  it('answers 207 with one result per order; a bad order fails alone', async () => {
    const { app, fake } = await harness();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/orders/batch',
      payload: {
        orders: [
          { idempotencyKey: 'b1', ...good },
          { idempotencyKey: 'b2', customerId: 'c', items: [{ sku: 'SKU-1', qty: 0 }] },
          { idempotencyKey: 'b3', customerId: 'c', items: [{ sku: 'NOPE', qty: 1 }] },
          { idempotencyKey: 'b1', ...good },
          { customerId: 'c', items: good.items },
        ],
      },
    });
    expect(res.statusCode).toBe(207);
    const results = res.json().results as { index: number; status: number; orderId?: string; error?: { code: string; details?: { path: string }[] } }[];
    expect(results.map((r) => r.status)).toEqual([202, 400, 422, 200, 400]);
    expect(results[1]!.error!.details!.map((d) => d.path)).toEqual(['orders[1].items[0].qty']);
    expect(results[2]!.error!.details!.map((d) => d.path)).toEqual(['orders[2].items[0].sku']);
    expect(results[3]!.orderId).toBe(results[0]!.orderId);
    expect(results[4]!.error!.details!.map((d) => d.path)).toEqual(['orders[4].idempotencyKey']);
    expect(fake.accepted).toHaveLength(1);
  });

  it('refuses an order whose idempotencyKey is not visible ASCII (an unpaired surrogate), alone', async () => {
    const { app, fake } = await harness();
    const payload = `{"orders":[{"idempotencyKey":"k\\ud800","customerId":"c","items":[{"sku":"SKU-1","qty":1}]},{"idempotencyKey":"k2","customerId":"c","items":[{"sku":"SKU-1","qty":1}]}]}`;
    const res = await app.inject({ method: 'POST', url: '/v1/orders/batch', headers: { 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(207);
    const results = res.json().results as { status: number; error?: { details?: { path: string }[] } }[];
    expect(results.map((r) => r.status)).toEqual([400, 202]);
    expect(results[0]!.error!.details!.map((d) => d.path)).toEqual(['orders[0].idempotencyKey']);
    expect(fake.accepted).toHaveLength(1);
  });

  it('refuses a batch larger than the client may ever send at once with 413, and takes none of its budget', async () => {
    const { app, fake } = await harness({ rateLimit: 3 });
    const batch = (n: number, prefix: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/orders/batch',
        headers: { 'x-api-key': 'alice' },
        payload: { orders: Array.from({ length: n }, (_, i) => ({ idempotencyKey: `${prefix}${i}`, ...good })) },
      });
    const tooBig = await batch(4, 'big');
    expect(expectErrorShape(tooBig, 413, 'ORDER_BATCH_OVER_RATE_LIMIT').error.message).toContain('at most 3');
    expect(tooBig.headers['retry-after']).toBeUndefined();
    // the refused batch took nothing: a batch of the full budget still passes in this window
    expect((await batch(3, 'ok')).statusCode).toBe(207);
    expect((await post(app, good, { 'x-api-key': 'alice' })).statusCode).toBe(429);
    expect(fake.accepted).toHaveLength(3);
  });

  it.each([
    ['empty list', { orders: [] }],
    ['101 orders', { orders: Array.from({ length: 101 }, (_, i) => ({ idempotencyKey: `x${i}`, ...good })) }],
    ['no orders key', { items: [] }],
  ])('refuses a wrong envelope (%s) with 400', async (_n, payload) => {
    const { app } = await harness();
    expectErrorShape(await app.inject({ method: 'POST', url: '/v1/orders/batch', payload }), 400, 'ORDER_VALIDATION');
  });
});

describe('order status, cancel, inventory', () => {
  it('shows an order, cancels it, refuses to cancel a paid one, 404s an unknown one', async () => {
    const { app, fake } = await harness();
    const id = (await post(app, good)).json().orderId as string;
    expect((await app.inject(`/v1/orders/${id}`)).json()).toMatchObject({ orderId: id, status: 'accepted' });
    const cancelled = await app.inject({ method: 'POST', url: `/v1/orders/${id}/cancel` });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    const id2 = (await post(app, good)).json().orderId as string;
    fake.setStatus(id2, 'paid');
    expectErrorShape(await app.inject({ method: 'POST', url: `/v1/orders/${id2}/cancel` }), 409, 'ORDER_NOT_CANCELLABLE');
    expectErrorShape(await app.inject('/v1/orders/nope'), 404, 'ORDER_NOT_FOUND');
    expectErrorShape(await app.inject({ method: 'POST', url: '/v1/orders/nope/cancel' }), 404, 'ORDER_NOT_FOUND');
    expectErrorShape(await app.inject('/v2/whatever'), 404, 'ORDER_ROUTE_NOT_FOUND');
  });

  it('lists inventory', async () => {
    const { app } = await harness();
    const items = (await app.inject('/v1/inventory')).json().items as { sku: string }[];
    expect(items.map((i) => i.sku)).toEqual(['SKU-1', 'SKU-2']);
  });
});

describe('/metrics', () => {
  it('exposes queue gauges, breaker state and the request histogram by route template', async () => {
    const { app, fake } = await harness();
    const id = (await post(app, good)).json().orderId as string;
    await app.inject(`/v1/orders/${id}`);
    fake.setBreaker('open');
    const res = await app.inject('/metrics');
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('surgectl_queue_depth 1');
    expect(res.body).toContain('surgectl_payment_breaker_state 2');
    expect(res.body).toContain('surgectl_inventory_oversold_units 0');
    expect(res.body).toMatch(/surgectl_http_request_duration_seconds_count\{route="\/v1\/orders\/:id",method="GET",status_code="200"\} 1/);
    expect(res.body).toMatch(/surgectl_http_request_duration_seconds_count\{route="\/v1\/orders",method="POST",status_code="202"\} 1/);
  });
});

describe('admin API', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  it.each([
    ['no header', {}],
    ['wrong token', { authorization: 'Bearer nope' }],
    ['basic auth', { authorization: `Basic ${TOKEN}` }],
  ])('refuses %s with 401', async (_n, headers) => {
    const { app } = await harness();
    const res = await app.inject({ method: 'GET', url: '/admin/status', headers });
    expectErrorShape(res, 401, 'ORDER_UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toContain('Bearer');
  });

  it('reports status and flips intake, workers, flags and faults', async () => {
    const { app, state, payment } = await harness();
    const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
      app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });

    const status = (await call('GET', '/admin/status')).json();
    expect(status).toMatchObject({ intake: { paused: false, draining: false }, workers: { size: 4, paused: false }, oversold: 0, breaker: 'closed' });
    expect(status.payment).toEqual({ failureRate: 0, latencyMs: 5 });

    expect((await call('PUT', '/admin/workers', { count: 12 })).json()).toEqual({ size: 12 });
    expect((await call('PUT', '/admin/workers', { count: 513 })).statusCode).toBe(400);
    expect((await call('POST', '/admin/intake/pause')).json()).toEqual({ paused: true });
    expect(state.paused).toBe(true);
    expect((await call('POST', '/admin/intake/resume')).json()).toEqual({ paused: false });

    expect((await call('PUT', '/admin/flags/checkout.express', { enabled: false })).json()).toMatchObject({ enabled: false, overridden: true });
    expect((await call('DELETE', '/admin/flags/checkout.express')).json()).toMatchObject({ enabled: true, overridden: false });
    expectErrorShape(await call('PUT', '/admin/flags/nope', { enabled: true }), 404, 'ORDER_FLAG_NOT_FOUND');

    expect((await call('PUT', '/admin/faults/drop-requests', { ratio: 1 })).json()).toEqual({ dropRatio: 1 });
    expectErrorShape(await post(app, good), 503, 'ORDER_FAULT_DROPPED');
    expect((await call('PUT', '/admin/faults/drop-requests', { ratio: 1.5 })).statusCode).toBe(400);

    expect((await call('PUT', '/admin/faults/payment', { failureRate: 1 })).json()).toEqual({ failureRate: 1, latencyMs: 5 });
    expect(payment.failureRate).toBe(1);
    expect((await call('PUT', '/admin/faults/payment', {})).statusCode).toBe(400);
    expect((await call('POST', '/admin/faults/consumer/pause')).json()).toEqual({ paused: true });
    expect((await call('POST', '/admin/faults/kill-worker')).json()).toEqual({ killed: true });
    expect((await call('POST', '/admin/faults/restart-store')).json()).toMatchObject({ restarted: true });

    const cleared = (await call('DELETE', '/admin/faults')).json();
    expect(cleared.faults).toEqual({ dropRatio: 0 });
    expect(cleared.workers.paused).toBe(false);
    expect(cleared.payment).toEqual({ failureRate: 0, latencyMs: 5 });
    expect((await post(app, good)).statusCode).toBe(202);

    expect((await call('POST', '/admin/drain')).statusCode).toBe(202);
    expect(state.draining).toBe(true);
  });

  it('takes the Bearer scheme in any case, and asks for the token before saying an admin route does not exist', async () => {
    const { app } = await harness();
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      expect((await app.inject({ method: 'GET', url: '/admin/status', headers: { authorization: `${scheme} ${TOKEN}` } })).statusCode).toBe(200);
    }
    expectErrorShape(await app.inject({ method: 'GET', url: '/admin/secret' }), 401, 'ORDER_UNAUTHORIZED');
    expectErrorShape(await app.inject({ method: 'GET', url: '/admin/secret', headers: auth }), 404, 'ORDER_ROUTE_NOT_FOUND');
  });

  it('takes an empty JSON body on admin calls that need none; one that needs a body says so', async () => {
    const { app } = await harness();
    const empty = { ...auth, 'content-type': 'application/json' };
    expect((await app.inject({ method: 'POST', url: '/admin/intake/resume', headers: empty, payload: '' })).json()).toEqual({ paused: false });
    expect((await app.inject({ method: 'POST', url: '/admin/faults/kill-worker', headers: empty, payload: '' })).statusCode).toBe(200);
    const needsBody = await app.inject({ method: 'PUT', url: '/admin/workers', headers: empty, payload: '' });
    expectErrorShape(needsBody, 400, 'ORDER_VALIDATION');
    expectErrorShape(await app.inject({ method: 'PUT', url: '/admin/workers', headers: empty, payload: '{"count":' }), 400, 'ORDER_INVALID_JSON');
    expectErrorShape(await app.inject({ method: 'PUT', url: '/admin/workers', headers: empty, payload: '{"__proto__":{"x":1},"count":1}' }), 400, 'ORDER_INVALID_JSON');
    // outside /admin the empty body is still refused
    expectErrorShape(await post(app, ''), 400, 'ORDER_INVALID_JSON');
  });

  it('refuses more workers once draining (409), and still takes fewer', async () => {
    const { app, state } = await harness();
    state.draining = true;
    const more = await app.inject({ method: 'PUT', url: '/admin/workers', headers: auth, payload: { count: 8 } });
    expect(expectErrorShape(more, 409, 'ORDER_POOL_DRAINING').error.message).toContain('draining');
    expect((await app.inject({ method: 'PUT', url: '/admin/workers', headers: auth, payload: { count: 1 } })).json()).toEqual({ size: 1 });
  });

  it('answers a store restart that cannot reopen with 503 and the reason', async () => {
    const { app } = await harness({
      restartStore: async () => {
        throw new Error('cannot open the order store /data/orders.db: EMFILE: too many open files');
      },
    });
    const res = await app.inject({ method: 'POST', url: '/admin/faults/restart-store', headers: auth });
    expect(expectErrorShape(res, 503, 'ORDER_STORE_UNAVAILABLE').error.message).toContain('EMFILE');
    expect(res.headers['retry-after']).toBe('1');
  });

  it('answers restart-store on a store that cannot restart (PostgreSQL) with 409 ORDER_FAULT_UNSUPPORTED naming the store', async () => {
    const { app } = await harness({ restartStore: undefined, storeKind: 'PostgreSQL postgres://app@db:5432/orders' });
    const res = await app.inject({ method: 'POST', url: '/admin/faults/restart-store', headers: auth });
    expect(expectErrorShape(res, 409, 'ORDER_FAULT_UNSUPPORTED').error.message).toContain('PostgreSQL postgres://app@db:5432/orders');
  });

  it('answers a store that does not answer (StoreUnavailable) with 503, Retry-After and the JSON error body', async () => {
    const { app, fake } = await harness();
    const created = (await post(app, good)).json<{ orderId: string }>();
    fake.setUnavailable(true);
    const res = await app.inject({ method: 'GET', url: `/v1/orders/${created.orderId}` });
    expect(expectErrorShape(res, 503, 'ORDER_STORE_UNAVAILABLE').error.message).toMatch(/unavailable; retry/);
    expect(res.headers['retry-after']).toBe('1');
    fake.setUnavailable(false);
    expect((await app.inject({ method: 'GET', url: `/v1/orders/${created.orderId}` })).statusCode).toBe(200);
  });
});

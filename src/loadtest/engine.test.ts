import { afterEach, describe, expect, it } from 'vitest';
import { startOrderApiServer, startQueueServer, startTrivialServer, type TestServer } from '../../test/support/loadtest-servers.js';
import type { Dispatcher } from 'undici';
import { runEngine } from './engine.js';
import { runLoadTest } from './run.js';
import { arrivalsBy } from './schedule.js';
import { parseScenario, type ScenarioInput } from './scenario.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function scenario(input: Omit<ScenarioInput, 'requests'> & { requests?: ScenarioInput['requests'] }) {
  return parseScenario({ requests: [{ kind: 'http', path: '/' }], scrapeMetrics: false, ...input });
}

describe('arrival schedule', () => {
  it('integrates constant and ramping rates', () => {
    const constant = parseScenario({
      target: 'http://127.0.0.1:1',
      requests: [{ kind: 'http', path: '/' }],
      scenarios: { a: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '10s' } },
    }).scenario.scenarios.a!;
    expect(arrivalsBy(constant, 1000)).toBeCloseTo(50);
    expect(arrivalsBy(constant, 10_000)).toBeCloseTo(500);
    const ramp = parseScenario({
      target: 'http://127.0.0.1:1',
      requests: [{ kind: 'http', path: '/' }],
      scenarios: {
        r: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', stages: [{ target: 100, duration: '10s' }, { target: 100, duration: '5s' }] },
      },
    }).scenario.scenarios.r!;
    // Triangle 0 -> 100/s over 10 s = 500, then 100/s for 5 s = 500.
    expect(arrivalsBy(ramp, 10_000)).toBeCloseTo(500);
    expect(arrivalsBy(ramp, 5_000)).toBeCloseTo(125);
    expect(arrivalsBy(ramp, 15_000)).toBeCloseTo(1000);
    const perMinute = { ...constant, rate: 600, timeUnit: 60_000 };
    expect(arrivalsBy(perMinute, 1000)).toBeCloseTo(10);
  });
});

describe('builtin engine against loopback servers', () => {
  it('holds the arrival rate and every arrival reaches the server', async () => {
    const srv = await startTrivialServer();
    servers.push(srv);
    const rate = 400;
    const loaded = scenario({
      target: srv.url,
      // VUs are cheap; a generous maxVUs absorbs the catch-up burst after the process is starved on a busy CI box.
      scenarios: { steady: { executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration: '2s', preAllocatedVUs: 20, maxVUs: 2000 } },
      thresholds: { dropped_iterations: ['count<1'], http_req_failed: ['rate<0.01'] },
    });
    const result = await runLoadTest(loaded);
    const [outcome] = result.scenarios;
    expect(outcome).toBeDefined();
    // The schedule from the run's own clock: arrivals handled equal what it called for.
    expect(outcome!.arrivals).toBe(outcome!.scheduled);
    expect(Math.abs(outcome!.arrivals - (rate * outcome!.activeMs) / 1000)).toBeLessThanOrEqual(1);
    expect(Math.abs(outcome!.arrivals - rate * 2) / (rate * 2)).toBeLessThan(0.02);
    expect(outcome!.dropped).toBe(0);
    expect(srv.total()).toBe(outcome!.arrivals);
    // Totals alone would pass a run that starved and then sent everything in one burst: the
    // server must see the rate in each half second (200 ± 25%, slack for a busy machine).
    const t0 = srv.arrivedAt[0]!;
    const perWindow = [0, 1, 2, 3].map((w) => srv.arrivedAt.filter((t) => t - t0 >= w * 500 && t - t0 < (w + 1) * 500).length);
    for (const n of perWindow) expect(n, `arrivals per 500 ms window: ${perWindow.join(', ')}`).toBeGreaterThanOrEqual(150);
    for (const n of perWindow) expect(n, `arrivals per 500 ms window: ${perWindow.join(', ')}`).toBeLessThanOrEqual(250);
    expect(result.summary.metrics.http_reqs?.values.count).toBe(srv.total());
    expect(result.summary.metrics.http_req_duration?.values['p(95)']).toBeGreaterThan(0);
    expect(result.passed).toBe(true);
    expect(result.thresholds.map((t) => [t.metric, t.threshold, t.ok])).toEqual([
      ['dropped_iterations', 'count<1', true],
      ['http_req_failed', 'rate<0.01', true],
    ]);
  });

  it('does not slow arrivals when latency grows (open model)', async () => {
    const srv = await startTrivialServer({ delayMs: 100 });
    servers.push(srv);
    const loaded = scenario({
      target: srv.url,
      scenarios: { slow: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '1500ms', preAllocatedVUs: 5, maxVUs: 1000 } },
    });
    const result = await runLoadTest(loaded);
    const o = result.scenarios[0]!;
    // A closed loop of 5 VUs would manage ~50/s here; the open model keeps the schedule by adding VUs.
    expect(o.arrivals).toBe(o.scheduled);
    expect(o.arrivals).toBeGreaterThanOrEqual(295);
    expect(o.dropped).toBe(0);
    expect(o.vusAllocated).toBeGreaterThan(5);
    expect(o.vusAllocated).toBeLessThanOrEqual(1000);
    // Node timers may fire a little early by performance.now(), hence the 95 ms floor for a 100 ms delay.
    expect(result.summary.metrics.http_req_duration?.values.min).toBeGreaterThanOrEqual(95);
  });

  it('counts dropped iterations when the server is saturated and fails count<1', async () => {
    // One request at a time, 20 ms each: 50 req/s capacity against 200 arrivals/s with 4 VUs.
    const srv = await startQueueServer(20);
    servers.push(srv);
    const loaded = scenario({
      target: srv.url,
      scenarios: { flood: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '2s', preAllocatedVUs: 4, maxVUs: 4 } },
      thresholds: { dropped_iterations: ['count<1'] },
    });
    const result = await runLoadTest(loaded);
    const o = result.scenarios[0]!;
    expect(o.arrivals).toBe(o.scheduled);
    expect(o.vusAllocated).toBe(4);
    // Served at most ~capacity × duration (+ the 4 in flight); the rest were dropped, never queued.
    expect(srv.total()).toBeLessThanOrEqual(50 * 2 + 10);
    expect(o.dropped + o.iterations).toBe(o.arrivals);
    expect(o.dropped / o.arrivals).toBeGreaterThan(0.6);
    expect(result.summary.metrics.dropped_iterations?.values.count).toBe(o.dropped);
    expect(result.passed).toBe(false);
    expect(result.thresholds[0]).toMatchObject({ metric: 'dropped_iterations', threshold: 'count<1', ok: false, phase: 'fail', value: o.dropped });
  });

  it('aborts early on an abortOnFail threshold', async () => {
    const srv = await startTrivialServer();
    servers.push(srv);
    const loaded = parseScenario({
      target: srv.url,
      scrapeMetrics: false,
      requests: [{ kind: 'http', path: '/fail' }],
      scenarios: { s: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '20s', preAllocatedVUs: 5, maxVUs: 20 } },
      thresholds: { http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true }] },
    });
    const result = await runLoadTest(loaded);
    expect(result.aborted).toMatch(/http_req_failed: rate<0.01 failed \(abortOnFail\)/);
    expect(result.passed).toBe(false);
    // Stopped long before the 1000 arrivals of the full 20 s.
    expect(result.scenarios[0]!.arrivals).toBeLessThan(500);
    expect(result.thresholds[0]).toMatchObject({ ok: false, value: 1 });
  });

  it('aborts on abortOnFail for a threshold tagged with one scenario', async () => {
    // One VU against 200 ms answers at 50 arrivals/s: the flood profile drops arrivals from the start.
    const srv = await startQueueServer(200);
    servers.push(srv);
    const loaded = scenario({
      target: srv.url,
      scenarios: {
        flood: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '5s', preAllocatedVUs: 1, maxVUs: 1, gracefulStop: '0s' },
        calm: { executor: 'constant-arrival-rate', rate: 1, timeUnit: '1s', duration: '5s', preAllocatedVUs: 1, gracefulStop: '0s' },
      },
      thresholds: { 'dropped_iterations{scenario:flood}': [{ threshold: 'count<1', abortOnFail: true }] },
    });
    const result = await runLoadTest(loaded);
    expect(result.aborted).toMatch(/dropped_iterations\{scenario:flood\}: count<1 failed \(abortOnFail\)/);
    expect(result.passed).toBe(false);
    // Stopped long before the 250 arrivals of the full 5 s.
    expect(result.scenarios[0]!.arrivals).toBeLessThan(200);
    expect(result.thresholds[0]).toMatchObject({ ok: false, phase: 'fail' });
  });

  it('records refused connections as failed requests in both models and ends on time', async () => {
    const gone = await startTrivialServer();
    await gone.close(); // nothing listens on this port any more
    const loaded = parseScenario({
      target: gone.url,
      scrapeMetrics: false,
      requests: [{ kind: 'http', path: '/' }],
      scenarios: {
        open: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '1s', preAllocatedVUs: 5, maxVUs: 100 },
        closed: { executor: 'constant-vus', vus: 2, duration: '1s' },
      },
      thresholds: { 'http_req_failed{scenario:open}': ['rate==1'], 'http_reqs{status:0}': ['count>0'], http_req_failed: ['rate<0.01'] },
    });
    const result = await runLoadTest(loaded);
    expect(result.scenarios.find((s) => s.name === 'open')).toMatchObject({ arrivals: 50, dropped: 0, iterations: 50 });
    expect(result.thresholds.map((t) => t.ok)).toEqual([true, true, false]);
    expect(result.passed).toBe(false);
  });

  it('stops when the signal aborts and returns what it measured', async () => {
    const srv = await startTrivialServer();
    servers.push(srv);
    const ac = new AbortController();
    const loaded = scenario({
      target: srv.url,
      scenarios: { s: { executor: 'constant-arrival-rate', rate: 100, timeUnit: '1s', duration: '30s', preAllocatedVUs: 5, maxVUs: 20 } },
    });
    const result = await runLoadTest(loaded, { signal: ac.signal, onProgress: () => ac.abort() });
    expect(result.aborted).toBe('interrupted');
    expect(result.scenarios[0]!.arrivals).toBeLessThan(3000);
    expect(result.summary.metrics.http_reqs?.values.count).toBe(srv.total());
  });

  it('an interrupt or abort does not wait for a profile that has not started yet', { timeout: 30_000 }, async () => {
    const srv = await startTrivialServer();
    servers.push(srv);
    const ac = new AbortController();
    const loaded = scenario({
      target: srv.url,
      scenarios: {
        warmup: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '60s', preAllocatedVUs: 5 },
        peak: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '10s', preAllocatedVUs: 5, startTime: '60s' },
      },
    });
    const result = await runLoadTest(loaded, { signal: ac.signal, onProgress: () => ac.abort() });
    expect(result.aborted).toBe('interrupted');
    // Stopped at the interrupt, not once peak's startTime (60 s) had come.
    expect(result.durationMs).toBeLessThan(60_000);
    expect(result.scenarios.find((s) => s.name === 'peak')).toMatchObject({ arrivals: 0, scheduled: 0, iterations: 0, dropped: 0, activeMs: 0 });
    expect(result.summary.metrics.http_reqs?.values.count).toBe(srv.total());
  });

  it('tags series by scenario, name and status for tagged thresholds', async () => {
    const srv = await startTrivialServer();
    servers.push(srv);
    const loaded = parseScenario({
      target: srv.url,
      scrapeMetrics: false,
      requests: [
        { kind: 'http', name: 'home', path: '/', weight: 3 },
        { kind: 'http', name: 'broken', path: '/fail', weight: 1 },
      ],
      scenarios: {
        browse: { executor: 'constant-arrival-rate', rate: 100, timeUnit: '1s', duration: '1s', preAllocatedVUs: 10, maxVUs: 1000 },
        closed: { executor: 'constant-vus', vus: 2, duration: '500ms' },
      },
      thresholds: {
        'http_req_failed{name:home}': ['rate==0'],
        'http_req_failed{name:broken}': ['rate==1'],
        'http_reqs{scenario:browse}': ['count==100'],
        'http_reqs{scenario:closed}': ['count>0'],
        'http_req_duration{expected_response:true}': ['max<10000'],
        'http_reqs{status:500}': ['count>0'],
        'http_reqs{region:eu}': ['count>0'],
      },
    });
    const result = await runLoadTest(loaded);
    const byKey = Object.fromEntries(result.thresholds.map((t) => [t.metric, t]));
    expect(byKey['http_req_failed{name:home}']?.ok).toBe(true);
    expect(byKey['http_req_failed{name:broken}']?.ok).toBe(true);
    expect(byKey['http_reqs{scenario:browse}']).toMatchObject({ ok: true, value: 100 });
    expect(byKey['http_reqs{scenario:closed}']?.ok).toBe(true);
    expect(byKey['http_req_duration{expected_response:true}']?.ok).toBe(true);
    expect(byKey['http_reqs{status:500}']?.value).toBe(srv.hits.get('/fail'));
    // An unknown tag is not silently zero: it cannot be evaluated, so it fails.
    expect(byKey['http_reqs{region:eu}']).toMatchObject({ ok: false, phase: 'error' });
    expect(result.summary.metrics['http_reqs{scenario:browse}']).toMatchObject({ type: 'counter', thresholds: { 'count==100': { ok: true } } });
    const total = result.summary.metrics.http_reqs!.values.count!;
    expect(total).toBe(srv.total());
  });

  it('creates orders with unique idempotency keys and skus from the inventory, and reads order metrics', async () => {
    const srv = await startOrderApiServer({ skus: ['A-1', 'B-2', 'C-3'], rejectEvery: 10 });
    servers.push(srv);
    const loaded = parseScenario({
      target: srv.url,
      requests: [
        { kind: 'create-order', weight: 6, items: { min: 1, max: 2 } },
        { kind: 'get-status', weight: 3 },
        { kind: 'batch-create', weight: 1, batchSize: 5 },
      ],
      scenarios: { sale: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '1s', preAllocatedVUs: 20, maxVUs: 1000 } },
      thresholds: { orders_confirmed: ['count>0'], inventory_oversold_units: ['value==0'], 'http_req_failed{name:get_status}': ['rate==0'] },
    });
    const result = await runLoadTest(loaded);
    const m = result.summary.metrics;
    const accepted = m.orders_accepted!.values.count!;
    const rejected = m.orders_rejected!.values.count!;
    // Every order the server created was counted accepted, every 10th create was refused.
    expect(accepted).toBe(srv.orders.size);
    expect(accepted + rejected).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
    expect(srv.keys.size).toBe(srv.orders.size);
    for (const { body } of srv.orders.values()) {
      for (const item of (body as { items: { sku: string }[] }).items) expect(['A-1', 'B-2', 'C-3']).toContain(item.sku);
    }
    expect(m.orders_confirmed?.values.count).toBe(srv.confirmed());
    expect(result.thresholds.every((t) => t.ok)).toBe(true);
    // get-status reads orders this run created: none is a 404.
    expect(srv.hits.get('/v1/orders/none')).toBeUndefined();
  });
});

/**
 * A dispatcher whose requests never get an answer: it hands each one its abort function (as
 * undici does once a request is on a connection), after `queuedMs` when given (a request waiting
 * for a free connection), and records how each request ended.
 */
function hangingDispatcher(queuedMs?: number) {
  const ended: string[] = [];
  const dispatcher = {
    dispatch(_opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      let done = false;
      const abort = (err?: Error) => {
        if (done) return;
        done = true;
        ended.push(err?.message ?? 'aborted');
        handler.onError?.(err ?? new Error('aborted'));
      };
      const connect = () => (done ? undefined : handler.onConnect?.(abort));
      if (queuedMs === undefined) connect();
      else setTimeout(connect, queuedMs);
      return true;
    },
  } as unknown as Dispatcher;
  return { dispatcher, ended };
}

describe('http.timeout', () => {
  const hanging = (timeout: string) =>
    scenario({
      target: 'http://127.0.0.1:1',
      http: { timeout },
      // A long gracefulStop: only the timeout can end these requests in time.
      scenarios: { s: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '200ms', preAllocatedVUs: 10, gracefulStop: '3s' } },
    }).scenario;

  it('ends a request that gets no answer when its timeout is up, whatever the transport does', async () => {
    const { dispatcher, ended } = hangingDispatcher();
    const raw = await runEngine(hanging('100ms'), { skus: [], runId: 't', dispatcher });
    expect(raw.iterations).toBe(4);
    expect(ended).toEqual(new Array(4).fill('request timed out (http.timeout)'));
    const [series] = raw.series;
    expect(raw.series).toHaveLength(1);
    expect(series).toMatchObject({ count: 4, failed: 4, tags: { status: '0', expected_response: 'false' } });
    expect(series!.minUs).toBeGreaterThanOrEqual(100_000);
  });

  it('fails a request that waited for a connection past its timeout instead of sending it', async () => {
    const { dispatcher, ended } = hangingDispatcher(150);
    const raw = await runEngine(hanging('100ms'), { skus: [], runId: 't', dispatcher });
    expect(raw.iterations).toBe(4);
    expect(ended).toEqual(new Array(4).fill('request timed out (http.timeout)'));
    expect(raw.series[0]).toMatchObject({ count: 4, failed: 4 });
  });
});

describe('VU-based executors against a loopback server', () => {
  it('ramping-vus starts no VU before its first step, holds its peak and stops after ramping down', async () => {
    const srv = await startTrivialServer({ delayMs: 20 });
    servers.push(srv);
    const loaded = scenario({
      target: srv.url,
      scenarios: { ramp: { executor: 'ramping-vus', startVUs: 0, stages: [{ target: 4, duration: '400ms' }, { target: 4, duration: '600ms' }, { target: 0, duration: '400ms' }], gracefulStop: '1s' } },
    });
    const t0 = performance.now();
    const raw = await runEngine(loaded.scenario, { skus: [], runId: 'ramp' });
    const arrived = srv.arrivedAt.map((t) => t - t0);
    const within = (from: number, to: number) => arrived.filter((t) => t >= from && t < to).length / ((to - from) / 1000);
    // 0 VUs until 100 ms (one more each 100 ms up to 4), none started after the last stage ends.
    expect(arrived.filter((t) => t < 90)).toEqual([]);
    expect(arrived.filter((t) => t > 1450)).toEqual([]);
    // About 1.5 VUs busy over 100-300 ms against 4 over the hold: the rate follows the VU count.
    expect(within(500, 1000)).toBeGreaterThan(1.8 * within(100, 300));
    expect(raw.scenarios[0]).toMatchObject({ executor: 'ramping-vus', vusAllocated: 4 });
    expect(raw.vus.max).toBeLessThanOrEqual(4);
    expect(raw.iterations).toBe(srv.total());
  });

  it('per-vu-iterations and shared-iterations run exactly their iterations, each from its own mix, tagged', async () => {
    const srv = await startTrivialServer();
    servers.push(srv);
    const loaded = scenario({
      target: srv.url,
      requests: [{ kind: 'http', path: '/shared' }],
      mixes: { warm: [{ kind: 'http', path: '/warm', name: 'warm' }] },
      scenarios: {
        warmup: { executor: 'per-vu-iterations', exec: 'warm', vus: 3, iterations: 4, maxDuration: '5s', tags: { flow: 'warm' } },
        batch: { executor: 'shared-iterations', vus: 3, iterations: 10, maxDuration: '5s' },
      },
      thresholds: { 'http_reqs{flow:warm}': ['count==12'], 'iterations{scenario:batch}': ['count==10'], 'http_reqs{flow:none}': ['count==0'] },
    });
    const started = performance.now();
    const result = await runLoadTest(loaded);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(Object.fromEntries(srv.hits)).toEqual({ '/warm': 12, '/shared': 10 });
    expect(result.scenarios.map((s) => [s.name, s.scheduled, s.iterations, s.vusAllocated])).toEqual([
      ['warmup', 12, 12, 3],
      ['batch', 10, 10, 3],
    ]);
    expect(result.thresholds.map((t) => [t.metric, t.ok])).toEqual([
      ['http_reqs{flow:warm}', true],
      ['iterations{scenario:batch}', true],
      ['http_reqs{flow:none}', true],
    ]);
  });

  it('an iteration executor stops at maxDuration with iterations left', async () => {
    const srv = await startTrivialServer({ delayMs: 100 });
    servers.push(srv);
    const loaded = scenario({ target: srv.url, scenarios: { slow: { executor: 'shared-iterations', vus: 1, iterations: 1000, maxDuration: '500ms', gracefulStop: '1s' } } });
    const raw = await runEngine(loaded.scenario, { skus: [], runId: 'max' });
    expect(raw.scenarios[0]!.iterations).toBeGreaterThanOrEqual(3);
    expect(raw.scenarios[0]!.iterations).toBeLessThanOrEqual(6);
    expect(raw.scenarios[0]!.scheduled).toBe(1000);
    expect(raw.durationMs).toBeLessThan(1500);
  });
});

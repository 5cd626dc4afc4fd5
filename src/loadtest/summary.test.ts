import { describe, expect, it } from 'vitest';
import { parseMetricSelector } from '../probes/index.js';
import { parsePromText } from '../util/prom-text.js';
import { newSeries, recordInto } from './metrics.js';
import type { LiveView } from './evidence.js';
import { abortReason, buildSummary, evaluateThresholds, observe, type MetricsInput } from './summary.js';
import { parseScenario } from './scenario.js';

const before = parsePromText(`# HELP x
# TYPE surgectl_orders_completed_total counter
surgectl_orders_completed_total{status="confirmed"} 10
surgectl_orders_completed_total{status="sold_out"} 1
# TYPE surgectl_queue_depth gauge
surgectl_queue_depth 3
`);
const after = parsePromText(`# TYPE surgectl_orders_completed_total counter
surgectl_orders_completed_total{status="confirmed"} 52
surgectl_orders_completed_total{status="sold_out"} 4
# TYPE surgectl_payment_attempts_total counter
# TYPE surgectl_queue_depth gauge
surgectl_queue_depth 0
# TYPE surgectl_workers gauge
surgectl_workers{state="busy",note="a \\"quoted\\" label"} 2
surgectl_workers{state="idle"} 6
`);

function input(): MetricsInput {
  const ok = newSeries({ scenario: 'sale', name: 'checkout', method: 'POST', status: '202', expected_response: 'true' });
  const bad = newSeries({ scenario: 'sale', name: 'checkout', method: 'POST', status: '503', expected_response: 'false' });
  for (let i = 1; i <= 100; i++) recordInto(ok, i * 1000, false); // 1..100 ms
  for (let i = 0; i < 10; i++) recordInto(bad, 500_000, true); // 500 ms
  return { series: [ok, bad], iterations: 110, dropped: 2, dataReceived: 1234, ordersAccepted: 100, ordersRejected: 10, durationMs: 10_000, scrapeBefore: before, scrapeAfter: after, createsOrders: true };
}

const sel = (k: string) => parseMetricSelector(k);

describe('observe', () => {
  it('merges series by tag filter; latencies in ms from the HDR histogram', () => {
    const all = observe(input(), sel('http_req_duration'))!;
    expect(all.type).toBe('trend');
    expect(all.obs.values.max).toBe(500);
    expect(all.obs.values.min).toBe(1);
    const good = observe(input(), sel('http_req_duration{expected_response:true}'))!;
    expect(good.obs.values['p(95)']).toBeCloseTo(95, 0);
    expect(good.obs.percentile!(99.9)).toBeCloseTo(100, 0);
    expect(observe(input(), sel('http_req_failed'))!.obs.values).toEqual({ rate: 10 / 110, passes: 10, fails: 100 });
    expect(observe(input(), sel('http_reqs{status:503}'))!.obs.values).toEqual({ count: 10, rate: 1 });
  });

  it('reads target counters as the delta over the run and gauges at the end', () => {
    expect(observe(input(), sel('orders_confirmed'))!.obs.values.count).toBe(42);
    expect(observe(input(), sel('surgectl_orders_completed_total{status:sold_out}'))!.obs.values.count).toBe(3);
    expect(observe(input(), sel('surgectl_queue_depth'))!.obs.values.value).toBe(0);
    expect(observe(input(), sel('surgectl_workers{state:busy}'))!.obs.values.value).toBe(2);
    // A counter the target declares but has no samples for yet is a real zero.
    expect(observe(input(), sel('surgectl_payment_attempts_total'))!.obs.values.count).toBe(0);
    expect(observe(input(), sel('no_such_metric'))).toBeUndefined();
    expect(observe({ ...input(), scrapeAfter: undefined }, sel('orders_confirmed'))).toBeUndefined();
  });
});

describe('evaluateThresholds and buildSummary', () => {
  it("puts verdicts into k6's shape, including tagged sub-metrics", () => {
    const { thresholds } = parseScenario({
      target: 'http://127.0.0.1:1',
      requests: [{ kind: 'create-order' }],
      scenarios: { sale: { executor: 'constant-arrival-rate', rate: 1, duration: '1s' } },
      thresholds: {
        'http_req_duration{expected_response:true}': ['p(95)<200'],
        http_req_failed: ['rate<0.01'],
        orders_confirmed: ['count>40'],
        inventory_oversold_units: ['value==0'],
      },
    });
    const results = evaluateThresholds(input(), thresholds);
    expect(results.map((r) => [r.metric, r.ok, r.phase])).toEqual([
      ['http_req_duration{expected_response:true}', true, 'pass'],
      ['http_req_failed', false, 'fail'],
      ['orders_confirmed', true, 'pass'],
      ['inventory_oversold_units', false, 'error'],
    ]);
    const s = buildSummary(input(), results);
    expect(s.metrics['http_req_duration{expected_response:true}']).toMatchObject({ type: 'trend', contains: 'time', thresholds: { 'p(95)<200': { ok: true } } });
    expect(s.metrics.http_req_failed?.thresholds).toEqual({ 'rate<0.01': { ok: false } });
    // Not in the target's /metrics: still listed, failed, as k6 lists a threshold on a metric without samples.
    expect(s.metrics.inventory_oversold_units).toEqual({ type: 'gauge', contains: 'default', values: {}, thresholds: { 'value==0': { ok: false } } });
    expect(s.metrics.dropped_iterations?.values).toEqual({ count: 2, rate: 0.2 });
    expect(s.state.testRunDurationMs).toBe(10_000);
  });
});

describe('abortReason (abortOnFail on the live figures)', () => {
  const { thresholds } = parseScenario({
    target: 'http://127.0.0.1:1',
    requests: [{ kind: 'create-order' }],
    scenarios: { sale: { executor: 'constant-arrival-rate', rate: 1, duration: '1m' } },
    thresholds: {
      http_req_failed: [{ threshold: 'rate<0.05', abortOnFail: true, delayAbortEval: '10s' }],
      'dropped_iterations{scenario:sale}': [{ threshold: 'count<1', abortOnFail: true }],
      'http_req_duration{name:none}': [{ threshold: 'p(95)<1', abortOnFail: true }],
      http_reqs: ['count<1'],
    },
  });
  const live = (over: Partial<LiveView> = {}): LiveView => {
    const { series, iterations, ordersAccepted, ordersRejected } = input();
    const sale = { name: 'sale', executor: 'constant-arrival-rate' as const, scheduled: 110, arrivals: 110, iterations: 110, dropped: 0, vusAllocated: 5, activeMs: 5000 };
    return { elapsedMs: 5000, series, dropped: 0, iterations, ordersAccepted, ordersRejected, scenarios: [sale], ...over };
  };

  it('goes on while every abortOnFail threshold holds or has not reached its delayAbortEval', () => {
    // http_req_failed is 10/110 (fails rate<0.05) but only from 10 s on; http_reqs fails without abortOnFail.
    expect(abortReason(thresholds, live(), true)).toBeUndefined();
  });

  it('stops on the first failing one once its delay has passed, naming it', () => {
    expect(abortReason(thresholds, live({ elapsedMs: 10_000 }), true)).toBe('threshold http_req_failed: rate<0.05 failed (abortOnFail)');
    const dropping = live({ dropped: 4, scenarios: [{ ...live().scenarios[0]!, dropped: 4 }] });
    expect(abortReason(thresholds, dropping, true)).toBe('threshold dropped_iterations{scenario:sale}: count<1 failed (abortOnFail)');
  });

  it('a metric with no data yet is not a verdict', () => {
    // http_req_duration{name:none} matches no series: phase error, not fail.
    expect(abortReason(thresholds.filter((t) => t.selector.source.startsWith('http_req_duration')), live({ elapsedMs: 60_000 }), true)).toBeUndefined();
  });
});

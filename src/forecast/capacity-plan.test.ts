import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { capacityPlan, parseForecastDocument, perReplicaFromLoadTest, ScalePlanSchema } from './capacity-plan.js';
import type { ForecastResult } from './types.js';

const point = (t: string, value: number, hi95: number) => ({ t, value, lo80: value * 0.9, hi80: value * 1.1, lo95: value * 0.8, hi95 });

const doc: ForecastResult = parseForecastDocument({
  apiVersion: 'surgectl/v1',
  kind: 'Forecast',
  generatedAt: '2026-11-20T00:00:00.000Z',
  horizonMs: 3 * 3_600_000,
  series: [
    {
      name: 'orders',
      model: 'decomp-holt',
      stepSeconds: 3600,
      points: [point('2026-11-27T10:00:00Z', 50, 60), point('2026-11-27T11:00:00Z', 100, 130), point('2026-11-27T12:00:00Z', 90, 110)],
    },
  ],
});

describe('capacityPlan', () => {
  it('sizes replicas on the p95 peak with headroom and shows the arithmetic', () => {
    const plan = capacityPlan({
      forecast: doc,
      services: [{ name: 'intake', perReplicaRps: 120 }, { name: 'worker', perReplicaRps: 40, requestsPerOrder: 2 }],
      headroom: 0.3,
      now: () => Date.UTC(2026, 10, 21),
    });
    expect(ScalePlanSchema.parse(plan)).toEqual(plan);
    expect(plan.spec.demand).toMatchObject({ peakAt: '2026-11-27T11:00:00Z', sizedOn: 'p95', sizedValue: 130 });
    const [intake, worker] = plan.spec.services;
    // 130 / 120 x 1.3 = 1.41 -> 2; min from the point peak 100 / 120 x 1.3 = 1.08 -> 2; max 2 x 1.5 = 3
    expect(intake?.asg).toEqual({ min: 2, desired: 2, max: 3 });
    // 260 / 40 x 1.3 = 8.45 -> 9; min 200 / 40 x 1.3 = 6.5 -> 7; max ceil(13.5) = 14
    expect(worker?.asg).toEqual({ min: 7, desired: 9, max: 14 });
    expect(worker?.replicas).toBe(9);
    expect(worker?.arithmetic[1]).toBe('desired = ceil(260 / 40 x 1.3) = ceil(8.45) = 9');
    // Busy = steps at >= 80% of the sized peak (11:00 and 12:00), 30 min lead, end one step after.
    expect(plan.spec.window).toEqual({ start: '2026-11-27T10:30:00Z', end: '2026-11-27T13:00:00Z' });
  });

  it('can size on the point forecast', () => {
    const plan = capacityPlan({ forecast: doc, services: [{ name: 'intake', perReplicaRps: 10 }], headroom: 0, sizeOn: 'point' });
    expect(plan.spec.services[0]?.asg.desired).toBe(10);
  });

  it('refuses a forecast with several series unless one is named', () => {
    const two = { ...doc, series: [doc.series[0], { ...doc.series[0], name: 'eu' }] } as ForecastResult;
    expect(() => capacityPlan({ forecast: two, services: [{ name: 'a', perReplicaRps: 1 }] })).toThrow(/holds 2 series/);
    expect(capacityPlan({ forecast: two, series: 'eu', services: [{ name: 'a', perReplicaRps: 1 }] }).spec.source.series).toBe('eu');
  });

  it('refuses numbers that are not finite: an Infinity max factor, headroom or throughput', () => {
    const base = { forecast: doc, services: [{ name: 'intake', perReplicaRps: 120 }] };
    expect(() => capacityPlan({ ...base, maxFactor: Infinity })).toThrow(/max factor/);
    expect(() => capacityPlan({ ...base, headroom: Infinity })).toThrow(/headroom/);
    expect(() => capacityPlan({ ...base, services: [{ name: 'intake', perReplicaRps: Infinity }] })).toThrow(/per-replica throughput/);
    expect(() => capacityPlan({ ...base, services: [{ name: 'intake', perReplicaRps: 1, requestsPerOrder: Infinity }] })).toThrow(/requests per order/);
  });

  it('rejects documents that are not forecasts (exit 10)', () => {
    try {
      parseForecastDocument({ kind: 'Other' }, 'x.json');
      throw new Error('no error');
    } catch (err) {
      expect((err as SurgeError).code).toBe('SRG_CAPACITY_INPUT');
      expect((err as SurgeError).exitCode).toBe(10);
    }
  });
});

describe('perReplicaFromLoadTest', () => {
  it('reads k6 --summary-export and handleSummary shapes', () => {
    expect(perReplicaFromLoadTest({ metrics: { http_reqs: { count: 6000, rate: 600 } } }, 2)).toEqual({ rps: 300, metric: 'http_reqs', total: 600 });
    expect(perReplicaFromLoadTest({ metrics: { iterations: { values: { rate: 50 } } } }).rps).toBe(50);
    expect(() => perReplicaFromLoadTest({ metrics: {} })).toThrow(SurgeError);
  });

  it('warns when the load test never saturated the service', () => {
    const idle = { metrics: { http_reqs: { values: { count: 500, rate: 50 } }, dropped_iterations: { values: { count: 0 } }, vus: { values: { value: 0, min: 0, max: 3 } }, vus_max: { values: { value: 40 } } } };
    expect(perReplicaFromLoadTest(idle, 1, 'lt.json').warning).toMatch(/lt\.json: the service was never saturated \(no dropped iterations, at most 3 of 40 VUs busy\)/);
    const sleepy = { metrics: { http_reqs: { count: 100, rate: 10 }, iterations: { count: 100, rate: 10 }, http_req_duration: { avg: 20 }, iteration_duration: { avg: 1020 } } };
    expect(perReplicaFromLoadTest(sleepy).warning).toMatch(/98% of each iteration outside requests/);
    const pushed = { metrics: { http_reqs: { values: { count: 500, rate: 50 } }, dropped_iterations: { values: { count: 12 } }, vus: { values: { max: 40 } }, vus_max: { values: { value: 40 } } } };
    expect(perReplicaFromLoadTest(pushed).warning).toBeUndefined();
  });
});

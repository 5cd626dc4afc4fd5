import type { GateLimits } from './gates.js';
import type { StageTimings } from './plan.js';

/**
 * The load test and the chaos drill of a rehearsal, as plain documents in the formats of
 * `surgectl loadtest` (scenarios/load) and `surgectl chaos` (scenarios/chaos), so they are
 * validated by the same schemas and a reader of the report can rerun either one by hand.
 */

/** Mostly new orders; some customers poll their order's status, as they do during a sale. */
const REQUEST_MIX = [
  { kind: 'create-order', name: 'create_order', weight: 9, items: { min: 1, max: 3 }, qty: { min: 1, max: 2 } },
  { kind: 'get-status', name: 'get_status', weight: 1 },
];
const PAYLOAD = { skus: 'inventory', customers: 10_000, declineRatio: 0 };
const HTTP = { timeout: '10s' };

/** Enough in-flight slots for half a second of stall at `rate` before arrivals are dropped. */
function inFlightSlots(rate: number): { preAllocatedVUs: number; maxVUs: number } {
  return { preAllocatedVUs: Math.max(20, Math.ceil(rate / 4)), maxVUs: Math.max(200, Math.ceil(rate)) };
}

/** A load scenario that ramps to `targetPerSec` and holds it: the forecast peak, scaled. */
export function rehearsalLoadScenario(opts: { target: string; targetPerSec: number; timings: StageTimings; limits: GateLimits }): Record<string, unknown> {
  const { targetPerSec: rate, timings: t, limits } = opts;
  return {
    name: 'rehearsal-peak',
    description: 'surgectl rehearse: order intake at the (scaled) forecast peak',
    target: opts.target,
    scenarios: {
      peak: {
        executor: 'ramping-arrival-rate',
        startRate: Math.max(1, rate / 4),
        timeUnit: '1s',
        stages: [
          { target: rate, duration: `${Math.max(1, t.rampMs)}ms` },
          { target: rate, duration: `${t.loadMs - Math.max(1, t.rampMs)}ms` },
        ],
        ...inFlightSlots(rate),
        gracefulStop: '5s',
      },
    },
    requests: REQUEST_MIX,
    payload: PAYLOAD,
    http: HTTP,
    thresholds: {
      http_req_duration: [`p(95)<${limits.p95Ms}`, `p(99)<${limits.p99Ms}`],
      http_req_failed: [`rate<${limits.maxErrorRate}`],
      inventory_oversold_units: ['value==0'],
    },
    scrapeMetrics: true,
  };
}

/**
 * One step of the calibration probe (probe.ts): the load test's request mix and in-flight slots
 * at a constant arrival rate for `durationMs`, so a rate the probe sees held is one the load test
 * can hold the same way. Once the step ends its in-flight requests get at most the p99 gate
 * (1..5 s): a step that cannot keep up still ends in bounded time.
 */
export function rehearsalProbeScenario(opts: { target: string; ratePerSec: number; durationMs: number; p99Ms: number }): Record<string, unknown> {
  const rate = opts.ratePerSec;
  return {
    name: 'rehearsal-probe',
    description: `surgectl rehearse: calibration step at ${rate}/s`,
    target: opts.target,
    scenarios: {
      probe: {
        executor: 'constant-arrival-rate',
        rate,
        timeUnit: '1s',
        duration: `${opts.durationMs}ms`,
        ...inFlightSlots(rate),
        gracefulStop: `${Math.min(5_000, Math.max(1_000, Math.round(opts.p99Ms)))}ms`,
      },
    },
    requests: REQUEST_MIX,
    payload: PAYLOAD,
    http: HTTP,
  };
}

/**
 * A Chaos Toolkit experiment: the payment gateway fails every call for `outageMs`; the
 * steady state (breaker closed, no oversell, intake errors and p99) is checked before, and again
 * after a recovery pause long enough for the breaker to reset.
 */
export function rehearsalOutageExperiment(opts: { timings: StageTimings; limits: GateLimits }): Record<string, unknown> {
  const { timings: t, limits } = opts;
  const window = `${t.probeWindowMs}ms`;
  return {
    version: '1.0.0',
    title: 'rehearsal payment outage',
    description: 'The payment gateway fails every call mid-peak: the breaker must open, orders wait as payment_pending, and the system recovers after.',
    tags: ['rehearsal', 'payment'],
    'steady-state-hypothesis': {
      title: 'orders flow at the peak',
      probes: [
        { type: 'probe', name: 'breaker-closed', provider: { type: 'stack', func: 'breaker-state' }, tolerance: 'closed' },
        { type: 'probe', name: 'no-oversell', provider: { type: 'stack', func: 'oversold' }, tolerance: 0 },
        {
          type: 'probe',
          name: 'intake-errors',
          provider: { type: 'stack', func: 'error-rate', arguments: { window } },
          tolerance: `rate<${limits.maxErrorRate}`,
        },
        {
          type: 'probe',
          name: 'intake-latency',
          provider: { type: 'stack', func: 'acceptance-latency', arguments: { window } },
          tolerance: `p(99)<${limits.p99Ms}`,
        },
      ],
    },
    method: [
      {
        type: 'action',
        name: 'payment-outage',
        provider: { type: 'stack', func: 'payment-fault', arguments: { failureRate: 1, duration: `${t.outageMs}ms` } },
        pauses: { after: `${t.recoveryMs}ms` },
      },
    ],
    rollbacks: [{ type: 'action', name: 'clear-faults', provider: { type: 'stack', func: 'clear-faults' } }],
  };
}

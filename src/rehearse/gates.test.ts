import { describe, expect, it } from 'vitest';
import { completedDrill, loadOutcome, stackStatus } from '../../test/support/rehearse.js';
import { allPassed, DEFAULT_LIMITS, evaluateGates, gateEvidence, type GateEvidence, type RehearsalObservations } from './gates.js';

/** A rehearsal where everything went right: the baseline every test bends one figure of. */
const healthy: GateEvidence = {
  load: { p95Ms: 12, p99Ms: 40, requests: 1000, failedRate: 0, scheduled: 1000, dropped: 0, targetPerSec: 50 },
  orders: { created: 900, confirmed: 900, unfinished: 0, paymentFailed: 0, soldOut: 0, oversold: 0, drainMs: 5_000, drainBudgetMs: 40_000 },
  chaos: {
    breakerOpened: true,
    breakerClosedAfter: true,
    maxPaymentPending: 120,
    steadyStateBefore: true,
    steadyStateAfter: true,
    status: 'completed',
    deviations: [],
    rollbackFailed: false,
  },
  restore: { faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, problems: [] },
};

const with_ = (patch: (e: GateEvidence) => void): GateEvidence => {
  const e = structuredClone(healthy);
  patch(e);
  return e;
};
const gate = (e: GateEvidence, id: string, limits = DEFAULT_LIMITS) => {
  const g = evaluateGates(e, limits).find((x) => x.id === id);
  if (!g) throw new Error(`no gate ${id}`);
  return g;
};

describe('readiness gates', () => {
  it('passes every gate of a healthy rehearsal, in a stable order, without fixes', () => {
    const gates = evaluateGates(healthy);
    expect(gates.map((g) => g.id)).toEqual([
      'latency-p95',
      'latency-p99',
      'error-rate',
      'dropped-iterations',
      'oversell',
      'orders-confirmed',
      'backlog-drained',
      'breaker-opened',
      'orders-waited',
      'steady-state',
      'restored',
    ]);
    expect(gates.every((g) => g.status === 'pass' && g.fix === undefined)).toBe(true);
    expect(allPassed(gates)).toBe(true);
  });

  it.each([
    ['latency-p95', (e: GateEvidence) => (e.load.p95Ms = 250), 'p(95)<250', /add intake replicas/],
    ['latency-p99', (e: GateEvidence) => (e.load.p99Ms = 1500), 'p(99)<1000', /slowest 1%/],
    ['error-rate', (e: GateEvidence) => (e.load.failedRate = 0.02), 'rate<0.01', /503/],
    ['dropped-iterations', (e: GateEvidence) => (e.load.dropped = 11), 'rate<0.01', /lower --max-rate/],
    ['oversell', (e: GateEvidence) => (e.orders.oversold = 1), 'value==0', /not atomic/],
    ['orders-confirmed', (e: GateEvidence) => (e.orders.confirmed = 800), 'rate>=0.99', /still waiting/],
    ['backlog-drained', (e: GateEvidence) => (e.orders.drainMs = undefined), 'value<=40000', /raise the worker replicas/],
    ['breaker-opened', (e: GateEvidence) => (e.chaos!.breakerOpened = false), 'value==1', /circuit breaker settings/],
    ['orders-waited', (e: GateEvidence) => (e.chaos!.maxPaymentPending = 0), 'value>0', /payment_pending/],
    ['steady-state', (e: GateEvidence) => (e.chaos!.steadyStateAfter = false), 'value==1', /did not recover/],
    ['restored', (e: GateEvidence) => ((e.restore.portsFreed = false), (e.restore.problems = ['ports still in use after stop: 8080'])), 'value==1', /restore step failed/],
  ])('fails %s with its condition and a fix', (id, bend, condition, fix) => {
    const e = with_(bend);
    const g = gate(e, id);
    expect(g.status).toBe('fail');
    expect(g.condition).toBe(condition);
    expect(g.fix).toMatch(fix);
    // Only the bent gate fails.
    expect(evaluateGates(e).filter((x) => x.status === 'fail').map((x) => x.id)).toEqual([id]);
    expect(allPassed(evaluateGates(e))).toBe(false);
  });

  it('reports the figures with units in words', () => {
    expect(gate(healthy, 'latency-p95').observed).toBe('p95 12 ms over 1000 requests');
    expect(gate(with_((e) => (e.load.dropped = 25)), 'dropped-iterations').observed).toBe('25 of 1000 arrivals dropped (2.5%) at 50/s');
    expect(gate(with_((e) => (e.orders.confirmed = 891)), 'orders-confirmed')).toMatchObject({ status: 'pass', value: 0.99 });
    expect(gate(with_((e) => (e.orders.confirmed = 890)), 'orders-confirmed').status).toBe('fail');
  });

  it('fails a gate whose figure was not measured instead of passing it', () => {
    const e = with_((x) => {
      x.load.p95Ms = undefined;
      x.load.failedRate = undefined;
      x.orders.oversold = undefined;
      x.orders.created = 0;
      x.orders.confirmed = 0;
    });
    for (const id of ['latency-p95', 'error-rate', 'oversell', 'orders-confirmed']) {
      expect(gate(e, id)).toMatchObject({ status: 'fail', value: null });
    }
  });

  it('names the fix by cause: sold out, payment failures, slow drain', () => {
    expect(gate(with_((e) => ((e.orders.confirmed = 700), (e.orders.soldOut = 200))), 'orders-confirmed').fix).toMatch(/seed more inventory/);
    expect(gate(with_((e) => ((e.orders.confirmed = 700), (e.orders.paymentFailed = 200))), 'orders-confirmed').fix).toMatch(/retry, not fail/);
  });

  it('orders that failed payment fail orders-waited even when some waited', () => {
    expect(gate(with_((e) => (e.orders.paymentFailed = 3)), 'orders-waited').status).toBe('fail');
  });

  it('a steady state that was not met before the fault points at the normal peak', () => {
    const g = gate(with_((e) => ((e.chaos!.steadyStateBefore = false), (e.chaos!.deviations = ['intake-latency before: observed p(99)=1200']))), 'steady-state');
    expect(g.status).toBe('fail');
    expect(g.observed).toContain('intake-latency before');
    expect(g.fix).toMatch(/before the fault/);
  });

  it('skips the chaos gates with --no-chaos, and skipped gates do not fail the rehearsal', () => {
    const gates = evaluateGates({ ...healthy, chaos: undefined });
    expect(gates.filter((g) => g.status === 'skip').map((g) => g.id)).toEqual(['breaker-opened', 'orders-waited', 'steady-state']);
    expect(allPassed(gates)).toBe(true);
  });

  it('uses the limits it is given', () => {
    const strict = { ...DEFAULT_LIMITS, p95Ms: 10 };
    expect(gate(healthy, 'latency-p95', strict)).toMatchObject({ status: 'fail', condition: 'p(95)<10', expected: 'below 10 ms' });
  });
});

describe('gate evidence from what the rehearsal observed', () => {
  const restored = { faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, dataDirRemoved: true, problems: [] };
  const observed = (over: Partial<RehearsalObservations> = {}): RehearsalObservations => ({
    load: loadOutcome({ scenarios: [{ scheduled: 600, dropped: 4 }, { scheduled: 400, dropped: 1 }] }),
    targetPerSec: 50,
    baseline: stackStatus({ confirmed: 100 }),
    final: stackStatus({ confirmed: 1000, payment_failed: 3, sold_out: 2, payment_pending: 5 }, { oversold: 0 }),
    drainMs: 4_000,
    drainBudgetMs: 40_000,
    chaos: true,
    journal: completedDrill(),
    outage: { startS: 4, endS: 10, breakerOpenedS: 5, breakerClosedS: 12, maxPaymentPending: 9, journal: { status: 'completed', deviated: false, rollbacks: 1, rollbackFailed: false, reason: null } },
    restore: restored,
    ...over,
  });

  it('takes the unrounded latency, the summed arrivals and this run’s order counts', () => {
    expect(gateEvidence(observed())).toEqual({
      load: { p95Ms: 12.345, p99Ms: 40.678, requests: 1000, failedRate: 0, scheduled: 1000, dropped: 5, targetPerSec: 50 },
      orders: { created: 910, confirmed: 900, unfinished: 5, paymentFailed: 3, soldOut: 2, oversold: 0, drainMs: 4_000, drainBudgetMs: 40_000 },
      chaos: {
        breakerOpened: true,
        breakerClosedAfter: true,
        maxPaymentPending: 9,
        steadyStateBefore: true,
        steadyStateAfter: true,
        status: 'completed',
        deviations: [],
        rollbackFailed: false,
      },
      restore: { faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, problems: [] },
    });
  });

  it('fails rather than passes on what was not observed: no load, no final status, no drill, no restore', () => {
    const e = gateEvidence({ targetPerSec: 50, drainBudgetMs: 40_000, chaos: true, baseline: undefined, final: undefined });
    expect(e.load).toEqual({ p95Ms: undefined, p99Ms: undefined, requests: 0, failedRate: undefined, scheduled: 0, dropped: 0, targetPerSec: 50 });
    expect(e.orders).toMatchObject({ created: 0, unfinished: 0, oversold: undefined, drainMs: undefined });
    expect(e.chaos).toMatchObject({ breakerOpened: false, status: 'not run', deviations: ['the drill did not run'], steadyStateBefore: undefined });
    expect(e.restore).toEqual({ faultsCleared: false, workersRestored: false, stackStopped: false, portsFreed: false, problems: ['the stack never started'] });
    const failed = evaluateGates(e).filter((g) => g.status === 'fail').map((g) => g.id);
    expect(failed).toEqual(expect.arrayContaining(['latency-p95', 'error-rate', 'oversell', 'orders-confirmed', 'backlog-drained', 'breaker-opened', 'steady-state', 'restored']));
  });

  it('counts every created order unfinished when the drain never read a final status', () => {
    const e = gateEvidence(observed({ baseline: undefined, final: undefined }));
    expect(e.orders.unfinished).toBe(e.orders.created);
  });

  it('lists the probes that deviated, and leaves the chaos evidence out with --no-chaos', () => {
    const j = completedDrill();
    j.steady_states.after = { steady_state_met: false, probes: [{ activity: { name: 'intake-latency' }, tolerance_met: false, tolerance_result: { message: 'p(99)=1200' }, exception: null }] };
    expect(gateEvidence(observed({ journal: j })).chaos).toMatchObject({ steadyStateAfter: false, deviations: ['intake-latency after: p(99)=1200'] });
    expect(gateEvidence(observed({ chaos: false })).chaos).toBeUndefined();
  });
});

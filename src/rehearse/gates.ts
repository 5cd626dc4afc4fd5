import type { StackStatus } from '../adapters/stack-admin/port.js';
import { evaluateCondition, parseCondition } from '../probes/index.js';
import { drillDeviations, everythingRestored, loadFigures, orderDelta, unfinishedOrders, type DrillJournal, type LoadOutcome, type RehearsalReport } from './report.js';

/**
 * Readiness gates: each is one condition in the shared syntax (src/probes) checked against one
 * figure of the rehearsal, with the words a person needs when it fails: what was seen, what was
 * expected and what to fix. Pure: the evidence comes in as plain numbers.
 */

/** Limits of the gates. Every field has a default (see {@link DEFAULT_LIMITS}). */
export interface GateLimits {
  /** Intake latency p95 must stay below this, ms. Default 250. */
  p95Ms: number;
  /** Intake latency p99 must stay below this, ms. Default 1000. */
  p99Ms: number;
  /** Share of failed requests (status >= 400 or no answer) must stay below this, 0..1. Default 0.01. */
  maxErrorRate: number;
  /** Share of arrivals the load generator had to drop must stay below this, 0..1. Default 0.01. */
  maxDroppedShare: number;
  /** Share of accepted orders that must end confirmed once the backlog drained, 0..1. Default 0.99. */
  minConfirmedShare: number;
}

export const DEFAULT_LIMITS: GateLimits = { p95Ms: 250, p99Ms: 1000, maxErrorRate: 0.01, maxDroppedShare: 0.01, minConfirmedShare: 0.99 };

/** What the rehearsal observed, as plain figures. Undefined = not measured (the gate then fails as an error, or is skipped for chaos). */
export interface GateEvidence {
  load: {
    /** Intake latency percentiles over the whole load test, ms. */
    p95Ms?: number | undefined;
    p99Ms?: number | undefined;
    requests: number;
    /** Failed requests / requests, 0..1. */
    failedRate?: number | undefined;
    /** Arrivals the schedule called for, and those dropped for want of a free VU. */
    scheduled: number;
    dropped: number;
    /** Arrival rate asked for, orders/s (for the messages). */
    targetPerSec: number;
  };
  orders: {
    /** Orders this rehearsal created (store delta). */
    created: number;
    confirmed: number;
    /** Orders still not in a final state when the drain ended. */
    unfinished: number;
    paymentFailed: number;
    soldOut: number;
    /** Units sold beyond stock, from the stack (must be 0). */
    oversold?: number | undefined;
    /** How long the backlog took to drain after the load, ms; undefined when it did not within the budget. */
    drainMs?: number | undefined;
    drainBudgetMs: number;
  };
  /** Undefined when the run was made with --no-chaos. */
  chaos?:
    | {
        /** The breaker was seen open after the outage began. */
        breakerOpened: boolean;
        /** Most orders seen waiting as payment_pending at once. */
        maxPaymentPending: number;
        /** The breaker was seen closed again after the outage. */
        breakerClosedAfter: boolean;
        steadyStateBefore?: boolean | undefined;
        steadyStateAfter?: boolean | undefined;
        /** The drill's run status (completed, failed, aborted, interrupted). */
        status: string;
        /** Probes that missed their tolerance, `name: why`. */
        deviations: readonly string[];
        rollbackFailed: boolean;
      }
    | undefined;
  restore: {
    faultsCleared: boolean;
    workersRestored: boolean;
    stackStopped: boolean;
    portsFreed: boolean;
    /** The degraded flags back as they were; undefined when none were switched. */
    flagsRestored?: boolean | undefined;
    /** Restore problems in words. */
    problems: readonly string[];
  };
}

export type GateStatus = 'pass' | 'fail' | 'skip';

/** One gate's verdict. */
export interface GateResult {
  /** Stable id, e.g. `latency-p95`. */
  id: string;
  title: string;
  status: GateStatus;
  /** The condition in the shared syntax, e.g. `p(95)<250`. */
  condition: string;
  /** The figure checked, in the gate's unit (ms, share, count). */
  value: number | null;
  /** What was seen, in words with units. */
  observed: string;
  /** What was expected, in words. */
  expected: string;
  /** What to fix; set only when the gate failed. */
  fix?: string;
}

const pct = (v: number) => `${Math.round(v * 10_000) / 100}%`;
const ms = (v: number) => `${Math.round(v * 10) / 10} ms`;

/** A gate to judge: its condition (k6 threshold syntax) against a measured value. */
export interface GateSpec {
  id: string;
  title: string;
  condition: string;
  /** The figure, or undefined when it was not measured (the gate fails). */
  value: number | undefined;
  observed: string;
  expected: string;
  fix: string;
}

/** Passes or fails a gate; a value that was not measured fails it. Shared by rehearse and the failover drill. */
export function judge(spec: GateSpec): GateResult {
  const cond = parseCondition(spec.condition, { context: 'threshold', where: `gate ${spec.id}` });
  const r = spec.value === undefined || !Number.isFinite(spec.value) ? { phase: 'error' as const } : evaluateCondition(cond, spec.value);
  const passed = r.phase === 'pass';
  return {
    id: spec.id,
    title: spec.title,
    status: passed ? 'pass' : 'fail',
    condition: spec.condition,
    value: spec.value === undefined || !Number.isFinite(spec.value) ? null : spec.value,
    observed: spec.observed,
    expected: spec.expected,
    ...(passed ? {} : { fix: spec.fix }),
  };
}

const skipped = (id: string, title: string, condition: string, why: string): GateResult => ({
  id,
  title,
  status: 'skip',
  condition,
  value: null,
  observed: why,
  expected: 'not checked',
});

/** Evaluates every readiness gate, in the order the report lists them. */
export function evaluateGates(e: GateEvidence, limits: GateLimits = DEFAULT_LIMITS): GateResult[] {
  const { load, orders } = e;
  const droppedShare = load.scheduled > 0 ? load.dropped / load.scheduled : load.dropped > 0 ? 1 : 0;
  const confirmedShare = orders.created > 0 ? orders.confirmed / orders.created : undefined;
  const gates: GateResult[] = [
    judge({
      id: 'latency-p95',
      title: 'Order intake latency p95',
      condition: `p(95)<${limits.p95Ms}`,
      value: load.p95Ms,
      observed: load.p95Ms === undefined ? 'no answered requests' : `p95 ${ms(load.p95Ms)} over ${load.requests} requests`,
      expected: `below ${limits.p95Ms} ms`,
      fix: 'Intake is slow at the peak: add intake replicas (capacity plan) or speed up the durable commit (store on faster disk, group commit); lower stack.maxBacklog so load shedding answers 503 before latency grows.',
    }),
    judge({
      id: 'latency-p99',
      title: 'Order intake latency p99',
      condition: `p(99)<${limits.p99Ms}`,
      value: load.p99Ms,
      observed: load.p99Ms === undefined ? 'no answered requests' : `p99 ${ms(load.p99Ms)}`,
      expected: `below ${limits.p99Ms} ms`,
      fix: 'The slowest 1% of orders wait too long: look for event-loop stalls (GC, synchronous work), store lock contention and payment timeouts; add headroom to the plan.',
    }),
    judge({
      id: 'error-rate',
      title: 'Failed requests',
      condition: `rate<${limits.maxErrorRate}`,
      value: load.failedRate,
      observed: load.failedRate === undefined ? 'no requests were answered' : `${pct(load.failedRate)} of ${load.requests} requests failed`,
      expected: `below ${pct(limits.maxErrorRate)}`,
      fix: 'Orders were refused or failed at the peak: check 503 (shed: raise stack.maxBacklog or add workers), 429 (rate limit too low for the surge) and 5xx in the stack log.',
    }),
    judge({
      id: 'dropped-iterations',
      title: 'Arrival rate held',
      condition: `rate<${limits.maxDroppedShare}`,
      value: droppedShare,
      observed: `${load.dropped} of ${load.scheduled} arrivals dropped (${pct(droppedShare)}) at ${load.targetPerSec}/s`,
      expected: `below ${pct(limits.maxDroppedShare)}`,
      fix: 'The load generator could not start requests on time (all in-flight slots busy): the stack answered too slowly or this machine is overloaded; lower --max-rate or run on a quieter machine.',
    }),
    judge({
      id: 'oversell',
      title: 'No oversell',
      condition: 'value==0',
      value: orders.oversold,
      observed: orders.oversold === undefined ? 'the oversell counter could not be read' : `${orders.oversold} units sold beyond stock`,
      expected: 'exactly 0',
      fix: 'Inventory reservation is not atomic under concurrency: a bug in the order stack. Stop the surge plan and report it with the rehearsal report.',
    }),
    judge({
      id: 'orders-confirmed',
      title: 'Accepted orders confirmed',
      condition: `rate>=${limits.minConfirmedShare}`,
      value: confirmedShare,
      observed:
        confirmedShare === undefined
          ? 'no orders were created'
          : `${orders.confirmed} of ${orders.created} confirmed (${pct(confirmedShare)}); ${orders.paymentFailed} payment_failed, ${orders.soldOut} sold_out, ${orders.unfinished} unfinished`,
      expected: `at least ${pct(limits.minConfirmedShare)}`,
      fix:
        orders.soldOut > 0
          ? 'Orders ended sold_out: the stack ran out of stock; seed more inventory for the rehearsal (stack.seedInventory).'
          : orders.paymentFailed > 0
            ? 'Orders failed payment: the outage must leave them payment_pending and retry, not fail them; check the breaker and the payment retry policy.'
            : 'Orders were still waiting when the drain ended: add workers (capacity plan) or shorten the payment retry backoff.',
    }),
    judge({
      id: 'backlog-drained',
      title: 'Backlog drained after the peak',
      condition: `value<=${orders.drainBudgetMs}`,
      value: orders.drainMs,
      observed: orders.drainMs === undefined ? `${orders.unfinished} orders still waiting after ${orders.drainBudgetMs / 1000}s` : `drained in ${Math.round(orders.drainMs / 100) / 10}s`,
      expected: `within ${orders.drainBudgetMs / 1000}s after the load`,
      fix: 'The workers could not catch up after the peak: raise the worker replicas of the capacity plan (or its per-worker throughput estimate was too high).',
    }),
  ];

  if (!e.chaos) {
    gates.push(
      skipped('breaker-opened', 'Breaker opened during the payment outage', 'value==1', 'skipped (--no-chaos)'),
      skipped('orders-waited', 'Orders waited as payment_pending', 'value>0', 'skipped (--no-chaos)'),
      skipped('steady-state', 'Steady state before and after the outage', 'value==1', 'skipped (--no-chaos)'),
    );
  } else {
    const c = e.chaos;
    gates.push(
      judge({
        id: 'breaker-opened',
        title: 'Breaker opened during the payment outage',
        condition: 'value==1',
        value: c.breakerOpened ? 1 : 0,
        observed: c.breakerOpened ? `opened${c.breakerClosedAfter ? ', closed again after the outage' : ', still not closed after the outage'}` : 'never seen open',
        expected: 'open while the gateway fails every call',
        fix: 'Payment calls are not cut off when the gateway fails: check the circuit breaker settings (error threshold, volume threshold) and that payment errors count as failures.',
      }),
      judge({
        id: 'orders-waited',
        title: 'Orders waited as payment_pending',
        condition: 'value>0',
        value: c.maxPaymentPending > 0 && orders.paymentFailed === 0 ? c.maxPaymentPending : 0,
        observed: `up to ${c.maxPaymentPending} orders payment_pending at once; ${orders.paymentFailed} payment_failed`,
        expected: 'orders wait as payment_pending during the outage and none fails',
        fix: 'During the outage orders must wait and be retried, not fail: check that a breaker-open or 503 answer defers the order (payment_pending) instead of failing it.',
      }),
      judge({
        id: 'steady-state',
        title: 'Steady state before and after the outage',
        condition: 'value==1',
        value: c.steadyStateBefore === true && c.steadyStateAfter === true && c.status === 'completed' && !c.rollbackFailed ? 1 : 0,
        observed:
          c.deviations.length > 0
            ? `deviated: ${c.deviations.join('; ')}`
            : c.rollbackFailed
              ? 'a rollback failed'
              : `before ${fmtBool(c.steadyStateBefore)}, after ${fmtBool(c.steadyStateAfter)} (drill ${c.status})`,
        expected: 'hypothesis met before and after the outage',
        fix:
          c.steadyStateBefore === false
            ? 'The system was not healthy before the fault: fix the failing probe at the normal peak first (latency, errors, oversell).'
            : 'The system did not recover after the outage: check that the breaker closes again (half-open trial call) and that payment_pending orders are retried.',
      }),
    );
  }

  const r = e.restore;
  const restored = everythingRestored(r);
  gates.push(
    judge({
      id: 'restored',
      title: 'Everything restored',
      condition: 'value==1',
      value: restored ? 1 : 0,
      observed: restored ? 'faults cleared, workers back, stack stopped, ports free' : r.problems.join('; ') || 'not restored',
      expected: 'faults cleared, workers back to their old size, stack stopped, ports free',
      fix: 'A restore step failed: check the listed problem; a stack left running holds its data dir lock and ports (stop it, or remove the temp data dir).',
    }),
  );
  return gates;
}

function fmtBool(v: boolean | undefined): string {
  return v === undefined ? 'not checked' : v ? 'met' : 'not met';
}

/** True when no gate failed (skipped gates do not fail a rehearsal). */
export function allPassed(gates: readonly GateResult[]): boolean {
  return gates.every((g) => g.status !== 'fail');
}

/** What the live stages of a rehearsal observed, as they observed it; {@link gateEvidence} turns it into figures. */
export interface RehearsalObservations {
  /** The load test's result; undefined when it never ended (the stack did not start, or it threw). */
  load?: LoadOutcome | undefined;
  /** Arrival rate asked for, orders/s. */
  targetPerSec: number;
  /** Stack status before the load and after the drain. */
  baseline?: Pick<StackStatus, 'orders'> | undefined;
  final?: Pick<StackStatus, 'orders' | 'oversold'> | undefined;
  /** How long the backlog took to drain, ms; undefined when it did not within the budget. */
  drainMs?: number | undefined;
  drainBudgetMs: number;
  /** Whether the payment outage was part of the run (false with --no-chaos). */
  chaos: boolean;
  journal?: DrillJournal | undefined;
  outage?: RehearsalReport['outage'];
  restore?: RehearsalReport['restore'];
}

/**
 * The gates' evidence from what the rehearsal observed. What was not observed stays undefined (or
 * counts against the gate: no final status leaves every created order unfinished, no restore
 * record means the stack never started), so a gate fails rather than passes on missing data.
 */
export function gateEvidence(o: RehearsalObservations): GateEvidence {
  const f = o.load ? loadFigures(o.load) : undefined;
  const { created, byStatus } = orderDelta(o.baseline, o.final);
  const j = o.journal;
  return {
    load: {
      p95Ms: f?.p95Ms,
      p99Ms: f?.p99Ms,
      requests: f?.requests ?? 0,
      failedRate: f?.failedRate,
      scheduled: f?.scheduled ?? 0,
      dropped: f?.dropped ?? 0,
      targetPerSec: o.targetPerSec,
    },
    orders: {
      created,
      confirmed: byStatus.confirmed ?? 0,
      unfinished: o.final ? unfinishedOrders(o.final) : created,
      paymentFailed: byStatus.payment_failed ?? 0,
      soldOut: byStatus.sold_out ?? 0,
      oversold: o.final?.oversold,
      drainMs: o.drainMs,
      drainBudgetMs: o.drainBudgetMs,
    },
    chaos: o.chaos
      ? {
          breakerOpened: o.outage?.breakerOpenedS !== undefined,
          breakerClosedAfter: o.outage?.breakerClosedS !== undefined,
          maxPaymentPending: o.outage?.maxPaymentPending ?? 0,
          steadyStateBefore: j?.steady_states.before?.steady_state_met,
          steadyStateAfter: j?.steady_states.after?.steady_state_met,
          status: j?.status ?? 'not run',
          deviations: j ? drillDeviations(j) : ['the drill did not run'],
          rollbackFailed: j?.rollback_failed ?? false,
        }
      : undefined,
    restore: {
      faultsCleared: o.restore?.faultsCleared ?? false,
      workersRestored: o.restore?.workersRestored ?? false,
      stackStopped: o.restore?.stackStopped ?? false,
      portsFreed: o.restore?.portsFreed ?? false,
      ...(o.restore?.flagsRestored !== undefined ? { flagsRestored: o.restore.flagsRestored } : {}),
      problems: o.restore?.problems ?? ['the stack never started'],
    },
  };
}

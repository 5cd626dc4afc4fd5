import type { StackStatus } from '../adapters/stack-admin/port.js';
import { TERMINAL_STATUSES } from '../order-core/domain/types.js';
import type { GateLimits, GateResult } from './gates.js';
import { round2, type LoadScaling, type StageTimings } from './plan.js';

/**
 * The readiness report: the deliverable of `surgectl rehearse`, written as JSON (this shape) and
 * HTML, and printed as a table. Times are ISO-8601; `t` offsets are seconds since the load began.
 */
export interface RehearsalReport {
  apiVersion: 'surgectl/v1';
  kind: 'RehearsalReport';
  /** `passed`: every gate passed (skipped ones aside); `failed`: at least one failed; `interrupted`: Ctrl-C. */
  status: 'passed' | 'failed' | 'interrupted';
  startedAt: string;
  endedAt: string;
  durationMs: number;
  settings: {
    loadDurationMs: number;
    seed: number;
    history: string;
    chaos: boolean;
    limits: GateLimits;
  };
  stages: StageRecord[];
  history?: { source: string; series: string; points: number; start: string; end: string; stepSeconds: number };
  forecast?: {
    model: string;
    horizonMs: number;
    /** orders/s at the busiest step, with its 95% interval. */
    peak: { t: string; value: number; lo95: number; hi95: number; campaign?: string };
    /** Whether --peak-rate replaced the forecast peak. */
    overridden: boolean;
    campaigns: { name: string; start: string; end: string; uplift: number }[];
  };
  capacity?: {
    sizedOn: string;
    sizedPerSec: number;
    headroom: number;
    services: { name: string; perReplicaRps: number; replicas: number; arithmetic: string[] }[];
  };
  scaling?: LoadScaling;
  timings?: StageTimings;
  stack?: {
    url: string;
    paymentUrl: string;
    dataDir: string;
    /** The order store, as logs show it: `SQLite <dataDir>` or `PostgreSQL postgres://user@host:port/db` (never a password). */
    store: string;
    workers: { before: number; applied: number; basis: string; restoredTo?: number };
  };
  load?: {
    targetPerSec: number;
    durationMs: number;
    requests: number;
    rps: number;
    p50Ms?: number;
    p95Ms?: number;
    p99Ms?: number;
    failedRate?: number;
    scheduled: number;
    dropped: number;
    aborted?: string;
    /** Per second: requests, failed, dropped, latency. */
    timeline: { t: number; requests: number; failed: number; dropped: number; p95Ms: number; p99Ms: number }[];
  };
  outage?: {
    /** Offsets of the fault, seconds since the load began. */
    startS?: number;
    endS?: number;
    breakerOpenedS?: number;
    breakerClosedS?: number;
    maxPaymentPending: number;
    journal: { status: string; deviated: boolean; steadyStateBefore?: boolean; steadyStateAfter?: boolean; rollbacks: number; rollbackFailed: boolean; reason: string | null };
  };
  orders?: { created: number; byStatus: Record<string, number>; oversold?: number; drainMs?: number; unfinished: number };
  /** Stack status every ~500 ms during the load test and the drain. */
  samples: { t: number; breaker: string; pending: number; depth: number; confirmed: number }[];
  restore?: {
    faultsCleared: boolean;
    workersRestored: boolean;
    stackStopped: boolean;
    portsFreed: boolean;
    dataDirRemoved: boolean;
    /** The degraded flag set back as it was (`--degrade`); absent when no flags were switched. */
    flagsRestored?: boolean;
    problems: string[];
  };
  /** `--degrade <set>`: the flags switched off on the rehearsal's stack while the load ran. */
  degraded?: { set: string; flags: string[]; snapshot: string };
  gates: GateResult[];
  /** Files written, when a report dir was given. */
  files?: { json: string; html: string; journal?: string; loadSummary?: string; scenario?: string; experiment?: string; stackLog?: string };
  /** Why the report files could not be written (only in the returned report, never in a file). */
  writeError?: string;
  /** Notes a reader should know (warnings of the stages). */
  notes: string[];
}

/** One stage as it ran. */
export interface StageRecord {
  name: string;
  status: 'done' | 'failed' | 'skipped' | 'interrupted';
  durationMs: number;
  /** One line of what it did or why it failed. */
  summary: string;
}

/** Names of the stages, in order (for progress lines "[3/9] capacity"). */
export const STAGES = ['history', 'forecast', 'capacity', 'calibrate', 'scale', 'load', 'drain', 'restore', 'report'] as const;
export type StageName = (typeof STAGES)[number];

/*
 * The report assembled from what the live stages observed. Pure: stack statuses, the load-test
 * result and the chaos journal come in as data, so every figure the report and the gates show
 * can be unit-tested without a stack.
 */

/** The parts of a chaos journal (src/chaos `Journal`, which is one) the rehearsal reads. */
export interface DrillJournal {
  /** The drill's run status: completed, failed, aborted, interrupted. */
  status: string;
  deviated: boolean;
  steady_states: { before: DrillSteadyState | null; after: DrillSteadyState | null };
  /** The method's activities as they ran; times ISO-8601. */
  run: readonly { activity: { name: string }; start: string; end: string }[];
  rollbacks: readonly unknown[];
  rollback_failed: boolean;
  reason: string | null;
}

/** One steady-state check of a drill. */
export interface DrillSteadyState {
  steady_state_met: boolean;
  probes: readonly { activity: { name: string }; tolerance_met?: boolean; tolerance_result?: { message?: string }; exception: { message: string } | null }[];
}

/** The fields of a load-test result (src/loadtest) the rehearsal reads. */
export interface LoadOutcome {
  summary: { metrics: Record<string, { values: Record<string, number> }> };
  scenarios: readonly { scheduled: number; dropped: number }[];
  timeline: readonly { t: number; requests: number; failed: number; dropped: number; p95Ms: number; p99Ms: number }[];
  /** How long the load ran, ms. */
  durationMs: number;
  /** Why the load stopped early (`interrupted`, a threshold). */
  aborted?: string | undefined;
  warnings: readonly string[];
}

/** The load test's figures, unrounded (the gates judge these; the report rounds them). */
export interface LoadFigures {
  requests: number;
  /** Requests per second over the run. */
  rps: number;
  /** Intake latency percentiles, ms; undefined when no request was answered. */
  p50Ms?: number | undefined;
  p95Ms?: number | undefined;
  p99Ms?: number | undefined;
  /** Failed requests / requests, 0..1. */
  failedRate?: number | undefined;
  /** Arrivals the schedule called for and those dropped, summed over the load profiles. */
  scheduled: number;
  dropped: number;
}

export function loadFigures(load: LoadOutcome): LoadFigures {
  const m = load.summary.metrics;
  const dur = m.http_req_duration?.values ?? {};
  return {
    requests: m.http_reqs?.values.count ?? 0,
    rps: m.http_reqs?.values.rate ?? 0,
    p50Ms: dur.med,
    p95Ms: dur['p(95)'],
    p99Ms: dur['p(99)'],
    failedRate: m.http_req_failed?.values.rate,
    scheduled: load.scenarios.reduce((a, s) => a + s.scheduled, 0),
    dropped: load.scenarios.reduce((a, s) => a + s.dropped, 0),
  };
}

/** The report's `load` section: figures rounded to 2 decimals, absent percentiles left out. */
export function loadSection(load: LoadOutcome, targetPerSec: number): NonNullable<RehearsalReport['load']> {
  const f = loadFigures(load);
  return {
    targetPerSec,
    durationMs: Math.round(load.durationMs),
    requests: f.requests,
    rps: round2(f.rps),
    ...(f.p50Ms !== undefined ? { p50Ms: round2(f.p50Ms) } : {}),
    ...(f.p95Ms !== undefined ? { p95Ms: round2(f.p95Ms) } : {}),
    ...(f.p99Ms !== undefined ? { p99Ms: round2(f.p99Ms) } : {}),
    ...(f.failedRate !== undefined ? { failedRate: f.failedRate } : {}),
    scheduled: f.scheduled,
    dropped: f.dropped,
    ...(load.aborted ? { aborted: load.aborted } : {}),
    timeline: load.timeline.map((p) => ({ t: p.t, requests: p.requests, failed: p.failed, dropped: p.dropped, p95Ms: round2(p.p95Ms), p99Ms: round2(p.p99Ms) })),
  };
}

/** The load stage's line: requests, rate, latency, failures, drops. */
export function loadSummary(load: LoadOutcome, targetPerSec: number): string {
  const f = loadFigures(load);
  const droppedIterations = load.summary.metrics.dropped_iterations?.values.count ?? 0;
  return `${f.requests} requests at ${targetPerSec}/s for ${Math.round(load.durationMs / 100) / 10}s: p95 ${fmtMs(f.p95Ms)}, p99 ${fmtMs(f.p99Ms)}, failed ${pctText(f.failedRate)}, dropped ${droppedIterations}${
    load.aborted ? ` (stopped: ${load.aborted})` : ''
  }`;
}

/** Orders not yet in a terminal status (the order domain's TERMINAL_STATUSES): the backlog still to drain. */
export function unfinishedOrders(s: Pick<StackStatus, 'orders'>): number {
  const terminal: ReadonlySet<string> = TERMINAL_STATUSES;
  let n = 0;
  for (const [k, v] of Object.entries(s.orders.byStatus)) if (!terminal.has(k)) n += v;
  return n;
}

/** What this rehearsal did to the store: orders created and the per-status change (zero changes left out). */
export function orderDelta(before: Pick<StackStatus, 'orders'> | undefined, after: Pick<StackStatus, 'orders'> | undefined): { created: number; byStatus: Record<string, number> } {
  const b = before?.orders.byStatus ?? {};
  const a = after?.orders.byStatus ?? {};
  const byStatus: Record<string, number> = {};
  for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
    const d = (a[k] ?? 0) - (b[k] ?? 0);
    if (d !== 0) byStatus[k] = d;
  }
  return { created: sum(a) - sum(b), byStatus };
}

/** The report's `orders` section, from the status before the load and after the drain; undefined when the drain never read one. */
export function ordersSection(
  baseline: Pick<StackStatus, 'orders'> | undefined,
  final: Pick<StackStatus, 'orders' | 'oversold'> | undefined,
  drainMs: number | undefined,
): RehearsalReport['orders'] {
  if (!final) return undefined;
  const { created, byStatus } = orderDelta(baseline, final);
  return { created, byStatus, oversold: final.oversold, ...(drainMs !== undefined ? { drainMs } : {}), unfinished: unfinishedOrders(final) };
}

/** One chart sample of the stack during the load, `t` seconds after it began. */
export function stackSample(s: StackStatus, baseline: Pick<StackStatus, 'orders'> | undefined, t: number): RehearsalReport['samples'][number] {
  return {
    t: round2(t),
    breaker: s.breaker,
    pending: s.orders.byStatus.payment_pending ?? 0,
    depth: s.queue.depth,
    confirmed: (s.orders.byStatus.confirmed ?? 0) - (baseline?.orders.byStatus.confirmed ?? 0),
  };
}

/**
 * The report's `outage` section: when the fault was on (from the journal's `payment-outage`
 * action) and when the samples first saw the breaker open after it began and closed after it ended.
 */
export function outageSection(j: DrillJournal, samples: RehearsalReport['samples'], loadStart: number): NonNullable<RehearsalReport['outage']> {
  const outage = j.run.find((a) => a.activity.name === 'payment-outage');
  const startS = outage ? round2((Date.parse(outage.start) - loadStart) / 1000) : undefined;
  const endS = outage ? round2((Date.parse(outage.end) - loadStart) / 1000) : undefined;
  const opened = startS === undefined ? undefined : samples.find((s) => s.t >= startS && s.breaker === 'open');
  const closed = endS === undefined || !opened ? undefined : samples.find((s) => s.t >= endS && s.breaker === 'closed');
  return {
    ...(startS !== undefined ? { startS } : {}),
    ...(endS !== undefined ? { endS } : {}),
    ...(opened ? { breakerOpenedS: opened.t } : {}),
    ...(closed ? { breakerClosedS: closed.t } : {}),
    maxPaymentPending: maxPending(samples),
    journal: {
      status: j.status,
      deviated: j.deviated,
      ...(j.steady_states.before ? { steadyStateBefore: j.steady_states.before.steady_state_met } : {}),
      ...(j.steady_states.after ? { steadyStateAfter: j.steady_states.after.steady_state_met } : {}),
      rollbacks: j.rollbacks.length,
      rollbackFailed: j.rollback_failed,
      reason: j.reason,
    },
  };
}

/** Steady-state probes that missed their tolerance, `name before|after: why`. */
export function drillDeviations(j: Pick<DrillJournal, 'steady_states'>): string[] {
  const out: string[] = [];
  for (const [when, run] of [
    ['before', j.steady_states.before],
    ['after', j.steady_states.after],
  ] as const) {
    for (const p of run?.probes ?? []) {
      if (p.tolerance_met === false) out.push(`${p.activity.name} ${when}: ${p.tolerance_result?.message ?? p.exception?.message ?? 'tolerance not met'}`);
    }
  }
  return out;
}

/** The drain stage's line: how the drill went and whether the backlog drained. */
export function drainSummary(o: {
  chaos: boolean;
  journal: DrillJournal | undefined;
  samples: RehearsalReport['samples'];
  loadStart: number;
  drainMs: number | undefined;
  drainBudgetMs: number;
  interrupted: boolean;
}): string {
  const j = o.journal;
  const drill = !o.chaos
    ? 'no outage (--no-chaos)'
    : j
      ? `drill ${j.status}${j.deviated ? ' (deviated)' : ''}; ${breakerStory(o.samples, j, o.loadStart)}`
      : 'the drill did not run (interrupted before it started)';
  const backlog =
    o.drainMs !== undefined ? `drained in ${Math.round(o.drainMs / 100) / 10}s` : o.interrupted ? 'not waited for (interrupted)' : `not drained in ${o.drainBudgetMs / 1000}s`;
  return `${drill}; backlog ${backlog}`;
}

function breakerStory(samples: RehearsalReport['samples'], j: DrillJournal, loadStart: number): string {
  const outage = j.run.find((a) => a.activity.name === 'payment-outage');
  if (!outage) return 'the outage action did not run';
  const s = (Date.parse(outage.start) - loadStart) / 1000;
  const opened = samples.find((x) => x.t >= s && x.breaker === 'open');
  return opened ? `breaker open at ${opened.t}s, up to ${maxPending(samples)} orders payment_pending` : 'the breaker was never seen open';
}

/** Faults cleared, workers back, stack stopped, ports free, and the degraded flags back when there were any. */
export function everythingRestored(r: Pick<NonNullable<RehearsalReport['restore']>, 'faultsCleared' | 'workersRestored' | 'stackStopped' | 'portsFreed' | 'flagsRestored'>): boolean {
  return r.faultsCleared && r.workersRestored && r.stackStopped && r.portsFreed && r.flagsRestored !== false;
}

/** The restore stage's record (its duration aside): `done` when nothing went wrong or every check still holds. */
export function restoreStage(r: NonNullable<RehearsalReport['restore']>, workersBefore: number | undefined, ports: readonly number[]): Omit<StageRecord, 'durationMs'> {
  const allRestored = everythingRestored(r);
  return {
    name: 'restore',
    status: r.problems.length === 0 || allRestored ? 'done' : 'failed',
    summary: r.problems.length ? r.problems.join('; ') : `faults cleared, workers back to ${workersBefore ?? '-'}, stack stopped, ports ${ports.join(', ')} free`,
  };
}

function maxPending(samples: RehearsalReport['samples']): number {
  return Math.max(0, ...samples.map((s) => s.pending));
}

function sum(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function fmtMs(v: number | undefined): string {
  return v === undefined ? '-' : `${Math.round(v * 10) / 10} ms`;
}

function pctText(v: number | undefined): string {
  return v === undefined ? '-' : `${Math.round(v * 10_000) / 100}%`;
}

import { decideRollback, type RollbackStrategy as AnyRollbackStrategy } from '../runbooks/rollback.js';
import type { LoadSummary } from './background-load.js';
import type { Activity, Experiment } from './experiment.js';

/**
 * The evidence of a drill and the pure functions that judge it: which steady-state checks a
 * strategy asks for, what the gate decides, the run's status and deviation, whether rollbacks run,
 * and the journal itself. The runner (runner.ts) only collects evidence, phase by phase; every
 * decision about it is made here, so it can be tested without a live target.
 */

/** Chaos Toolkit's closed set of run statuses. */
export type RunStatus = 'completed' | 'failed' | 'aborted' | 'interrupted';

/**
 * When rollbacks run. surgectl's `default` is `always` (Chaos Toolkit skips them on deviation,
 * which leaves faults in place exactly when the system is already hurting).
 */
export { ROLLBACK_STRATEGIES } from '../runbooks/rollback.js';
/** Chaos Toolkit's rollback strategies (the runbook engine's `ask` is not one of them). */
export type RollbackStrategy = Exclude<AnyRollbackStrategy, 'ask'>;

/** When the steady-state hypothesis is checked (Chaos Toolkit's --hypothesis-strategy). */
export const HYPOTHESIS_STRATEGIES = ['default', 'before-method-only', 'after-method-only', 'during-method-only', 'continuously'] as const;
export type HypothesisStrategy = (typeof HYPOTHESIS_STRATEGIES)[number];

/** One activity run, as Chaos Toolkit journals it. Times are ISO-8601, durations seconds. */
export interface ActivityRun {
  activity: JournalActivity;
  status: 'succeeded' | 'failed';
  output: unknown;
  exception: { code?: string; message: string; hint?: string } | null;
  start: string;
  end: string;
  duration: number;
  /** Probes with a tolerance: whether the output met it. */
  tolerance_met?: boolean;
  /** Probes with a tolerance: the evaluation (`phase` pass|fail|error, the value checked, why). */
  tolerance_result?: { phase: 'pass' | 'fail' | 'error'; value: unknown; message?: string };
}

export interface JournalActivity {
  type: 'action' | 'probe';
  name: string;
  provider: Activity['provider'];
  tolerance?: unknown;
  background?: boolean;
  /** The activity was journaled, not run. */
  dry?: boolean;
  /** Seconds, as Chaos Toolkit writes them. */
  pauses?: { before?: number; after?: number };
}

/** One call of a control's hook (`journal.controls`), in the order made. Times are ISO-8601, durations seconds. */
export interface ControlCall {
  /** The control's name. */
  name: string;
  module: string;
  /** e.g. `before_activity_control`; hooks a module does not define are not called and not listed. */
  hook: string;
  /** The activity, for activity hooks. */
  activity?: string;
  status: 'succeeded' | 'failed';
  /** The Python exception's one-line description, or why the hook could not be called. */
  error: string | null;
  start: string;
  end: string;
  duration: number;
}

/** One check of the steady-state hypothesis. */
export interface SteadyStateRun {
  steady_state_met: boolean;
  probes: ActivityRun[];
  start: string;
  end: string;
  duration: number;
}

/** The error that aborted a run, as journaled. */
export interface JournalError {
  code: string;
  message: string;
  hint?: string;
}

/** The journal: the deliverable of a drill (`--journal-path`), in Chaos Toolkit's shape. */
export interface Journal {
  title: string;
  description: string | null;
  tags: string[];
  /** The experiment as written. */
  experiment: unknown;
  status: RunStatus;
  /** The steady state was met before but not after (or not during) the method. */
  deviated: boolean;
  steady_states: { before: SteadyStateRun | null; after: SteadyStateRun | null; during: SteadyStateRun[] };
  run: ActivityRun[];
  rollbacks: ActivityRun[];
  /**
   * True when a rollback failed after the method started: the target may be left changed. A
   * rollback that fails when the method never ran (the drill stopped before it: steady state not
   * met, target unreachable, interrupt) is recorded in `rollbacks` but does not set this.
   */
  rollback_failed: boolean;
  /** Why rollbacks did not run, when they did not. */
  rollbacks_skipped: string | null;
  load: LoadSummary | null;
  /** Every control hook called (empty when the experiment declares no control); a hook that raised does not change the outcome. */
  controls: ControlCall[];
  options: { rollback_strategy: RollbackStrategy; hypothesis_strategy: HypothesisStrategy; fail_fast: boolean };
  /** Why the run failed or was aborted, in one line. */
  reason: string | null;
  /** The error that aborted the run, if any. */
  error: JournalError | null;
  start: string;
  end: string;
  duration: number;
}

/** The phases of a drill in the order they run (Chaos Toolkit: gate hypothesis, method, deviation validation). */
export const DRILL_PHASES = ['load', 'before', 'method', 'after'] as const;
export type DrillPhase = (typeof DRILL_PHASES)[number];

/** What the method phase produced. */
export interface MethodEvidence {
  /** Activity runs in the order they finished (a background action usually finishes last). */
  runs: ActivityRun[];
  /** Completed steady-state checks during the method (a check cut short by the method's end is not one). */
  during: SteadyStateRun[];
  /** The first run whose error makes going on pointless (see ABORTING_CODES); the method stopped there. */
  abortedBy: ActivityRun | null;
  /** The method stopped before its end (fail-fast or abortedBy): the steady state after is not checked. */
  stoppedEarly: boolean;
}

/** What the phases of a drill collected, before any judgement. */
export interface DrillEvidence {
  /** The gate: the steady state before the method, when the strategy checks it. */
  before: SteadyStateRun | null;
  /** Null when the method never started (nothing was injected). */
  method: MethodEvidence | null;
  after: SteadyStateRun | null;
  /** The phase an interrupt cut short: what it collected is journaled but not judged. */
  interruptedIn: DrillPhase | null;
  /** An error that stopped the drill (not an interrupt), e.g. the background load could not start. */
  failure: JournalError | null;
}

/** The judgement of the evidence: the journal's status and the fields that explain it. */
export interface Verdict {
  status: RunStatus;
  deviated: boolean;
  reason: string | null;
  error: JournalError | null;
}

/** Errors that make going on with the method pointless: the target is not set up for it. */
export const ABORTING_CODES: ReadonlySet<string> = new Set(['SRG_CHAOS_CRD_MISSING', 'SRG_K8S_CONFIG']);

/**
 * Errors of a probe that could not run at all: its target is not set up, cannot be reached or
 * refuses surgectl. Before the method such a probe aborts the drill with the error (as Chaos
 * Toolkit stops when the hypothesis cannot be checked): the system was not measured, so "not
 * steady" would send the operator to fix a system that may be fine. During and after the method
 * the same failure counts as a deviation: the fault may well be what made the target unreachable.
 */
export const PROBE_CANNOT_RUN_CODES: ReadonlySet<string> = new Set([...ABORTING_CODES, 'SRG_STACK_UNREACHABLE', 'SRG_STACK_ADMIN', 'SRG_K8S_API', 'SRG_K8S_UNREACHABLE', 'SRG_CHAOS_HTTP']);

/** Which steady-state checks a hypothesis strategy asks for. Pure. */
export function hypothesisChecks(strategy: HypothesisStrategy): { before: boolean; during: boolean; after: boolean } {
  return {
    before: strategy === 'default' || strategy === 'before-method-only' || strategy === 'continuously',
    during: strategy === 'during-method-only' || strategy === 'continuously',
    after: strategy === 'default' || strategy === 'after-method-only' || strategy === 'continuously',
  };
}

/** Whether a steady-state check's probes all met their tolerance. Pure. */
export function steadyStateMet(probes: readonly ActivityRun[]): boolean {
  return probes.every((p) => p.tolerance_met === true);
}

/** The failing probes of a check, one `name (why)` each, for messages. Pure. */
export function failingProbes(probes: readonly ActivityRun[]): string[] {
  return probes.filter((p) => !p.tolerance_met).map((p) => `${p.activity.name} (${p.tolerance_result?.message ?? p.exception?.message ?? 'not met'})`);
}

/**
 * The gate: undefined when the method may run (the steady state was met, or not checked). A
 * probe that could not run at all aborts with its error; any other miss fails the run as "not
 * steady". Either way nothing is injected. Pure.
 */
export function gateVerdict(before: SteadyStateRun | null): (Verdict & { cannotRun: ActivityRun | null }) | undefined {
  if (!before || before.steady_state_met) return undefined;
  const cannotRun = before.probes.find((p) => p.exception?.code !== undefined && PROBE_CANNOT_RUN_CODES.has(p.exception.code));
  const e = cannotRun?.exception;
  if (cannotRun && e?.code) {
    return { status: 'aborted', deviated: false, error: journalError(e, e.code), reason: `${cannotRun.activity.name}: ${e.message}`, cannotRun };
  }
  return { status: 'failed', deviated: false, error: null, reason: 'the steady state was not met before the method; nothing was injected', cannotRun: null };
}

/**
 * Judges the evidence, phase by phase in the order they ran; the first verdict that is not
 * `completed` keeps its status and reason, while a deviation is flagged whatever came first. An
 * interrupt wins over everything (the aborting error, if any, is kept); an unexpected failure
 * aborts. Findings of the phase an interrupt cut short are not judged. Pure.
 */
export function judge(ev: DrillEvidence): Verdict {
  const judged = (p: DrillPhase) => ev.interruptedIn === null || DRILL_PHASES.indexOf(p) < DRILL_PHASES.indexOf(ev.interruptedIn);
  let v: Verdict = { status: 'completed', deviated: false, reason: null, error: null };
  const fail = (reason: string) => {
    if (v.status === 'completed') v = { ...v, status: 'failed', reason };
  };
  if (judged('before')) {
    const gate = gateVerdict(ev.before);
    if (gate) v = { status: gate.status, deviated: false, reason: gate.reason, error: gate.error };
  }
  const m = ev.method;
  if (m) {
    // Recorded as it happened, so it counts even when an interrupt followed.
    const e = m.abortedBy?.exception;
    if (m.abortedBy && e?.code && v.status === 'completed') {
      v = { ...v, status: 'aborted', error: journalError(e, e.code), reason: `${m.abortedBy.activity.name}: ${e.message}` };
    }
    if (judged('method')) {
      const failedActions = m.runs.filter((r) => r.status === 'failed' && r.activity.type === 'action');
      if (failedActions.length > 0) fail(`action ${failedActions.map((r) => r.activity.name).join(', ')} failed; the fault may not have been injected`);
      if (m.during.some((d) => !d.steady_state_met)) {
        v = { ...v, deviated: true };
        fail('the steady state deviated during the method');
      }
    }
  }
  if (ev.after && judged('after') && !ev.after.steady_state_met) {
    v = { ...v, deviated: true };
    fail('the steady state deviated after the method');
  }
  if (ev.interruptedIn !== null) return { ...v, status: 'interrupted', reason: 'interrupted before the drill finished' };
  if (ev.failure) return { ...v, status: 'aborted', error: ev.failure, reason: ev.failure.message };
  return v;
}

/** Whether rollbacks run, by strategy: `default` and `always` always, `deviated` only after a deviation, `never` never. Pure. */
export function rollbackDecision(strategy: RollbackStrategy, deviated: boolean): { run: true; skipped: null } | { run: false; skipped: string } {
  // The one decision, shared with runbooks; a drill's strategies never ask.
  return decideRollback(strategy, deviated) as { run: true; skipped: null } | { run: false; skipped: string };
}

/**
 * Whether a failed rollback may have left the target changed: only once the method started.
 * Before it nothing was injected, so the target is as the drill found it. Pure.
 */
export function rollbackFailed(methodStarted: boolean, rollbacks: readonly ActivityRun[]): boolean {
  return methodStarted && rollbacks.some((r) => r.status === 'failed');
}

/** Everything the journal is made of. */
export interface JournalParts {
  experiment: Experiment;
  options: Journal['options'];
  evidence: DrillEvidence;
  verdict: Verdict;
  rollbacks: ActivityRun[];
  /** Why rollbacks did not run (rollbackDecision), else null. */
  rollbacksSkipped: string | null;
  load: LoadSummary | null;
  /** Control hooks called so far. Default none. */
  controls?: ControlCall[];
  /** ms since the epoch. */
  startedAt: number;
  endedAt: number;
}

/** The journal of a finished drill. Pure. */
export function assembleJournal(p: JournalParts): Journal {
  const { experiment: e, evidence: ev, verdict: v } = p;
  return {
    title: e.title,
    description: e.description ?? null,
    tags: e.tags,
    experiment: e.raw,
    status: v.status,
    deviated: v.deviated,
    steady_states: { before: ev.before, after: ev.after, during: ev.method?.during ?? [] },
    run: ev.method?.runs ?? [],
    rollbacks: p.rollbacks,
    rollback_failed: rollbackFailed(ev.method !== null, p.rollbacks),
    rollbacks_skipped: p.rollbacksSkipped,
    load: p.load,
    controls: p.controls ?? [],
    options: p.options,
    reason: v.reason,
    error: v.error,
    start: iso(p.startedAt),
    end: iso(p.endedAt),
    duration: (p.endedAt - p.startedAt) / 1000,
  };
}

function journalError(e: { message: string; hint?: string }, code: string): JournalError {
  return { code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

import { setTimeout as delay } from 'node:timers/promises';
import { SurgeError } from '../errors.js';
import type { NotifyLevel, Reporter } from '../reporter.js';
import { createActivityRunner, describeError, journalActivity, type ActivityRunner } from './activity.js';
import { loadOptionsFor, startLoad as defaultStartLoad, type LoadOptions, type RunningLoad } from './background-load.js';
import { redact } from './configuration.js';
import { createDrillControls, type DrillControls } from './controls.js';
import type { Activity, Experiment } from './experiment.js';
import {
  ABORTING_CODES,
  assembleJournal,
  failingProbes,
  gateVerdict,
  hypothesisChecks,
  iso,
  judge,
  rollbackDecision,
  steadyStateMet,
  type ActivityRun,
  type DrillEvidence,
  type DrillPhase,
  type HypothesisStrategy,
  type Journal,
  type MethodEvidence,
  type RollbackStrategy,
  type SteadyStateRun,
} from './journal.js';
import type { ChaosTargets } from './providers/types.js';

export { activityTimeoutMs, dnsName } from './activity.js';
export {
  HYPOTHESIS_STRATEGIES,
  ROLLBACK_STRATEGIES,
  type ActivityRun,
  type HypothesisStrategy,
  type Journal,
  type JournalActivity,
  type RollbackStrategy,
  type RunStatus,
  type SteadyStateRun,
} from './journal.js';

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /** The systems to act on. */
  targets: ChaosTargets;
  /** Interrupts the drill: the method and the background load stop, rollbacks still run (status `interrupted`). */
  signal?: AbortSignal;
  reporter?: Reporter;
  /** Default: the experiment's `runtime.rollbacks.strategy`, else `default` (= always). */
  rollbackStrategy?: RollbackStrategy | undefined;
  /** Default: the experiment's `runtime.hypothesis.strategy`, else `default` (before and after the method). */
  hypothesisStrategy?: HypothesisStrategy | undefined;
  /** With `during-method-only` / `continuously`: stop the method at the first deviation. Default: `runtime.hypothesis.fail_fast`, else false. */
  failFast?: boolean | undefined;
  /** Pause between steady-state checks during the method, ms. Default: `runtime.hypothesis.frequency`, else 1000. */
  hypothesisFrequencyMs?: number | undefined;
  /** Longest all rollbacks together may take, ms; they run even after an interrupt. Default 120 000. */
  rollbackTimeoutMs?: number;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Random source for pod selection. Default Math.random. */
  random?: () => number;
  /** Starts the background load of the experiment's `load` section (tests may replace it). */
  startLoad?: (opts: LoadOptions) => Promise<RunningLoad>;
  /** Longest one control hook may take, ms; past it the control host is stopped and later hooks fail. Default 30 000. */
  controlHookTimeoutMs?: number;
}

/** One drill in progress: what every phase needs. */
interface Drill {
  readonly experiment: Experiment;
  readonly targets: ChaosTargets;
  /** The operator's interrupt. */
  readonly signal: AbortSignal;
  readonly now: () => number;
  readonly activities: ActivityRunner;
  readonly failFast: boolean;
  readonly frequencyMs: number;
  /** The experiment's controls; their hooks run around each level. */
  readonly controls: DrillControls;
  notify(message: string, level?: NotifyLevel): void;
}

/**
 * Runs a drill as Chaos Toolkit does, in named phases: background load (if any) -> gate
 * hypothesis (the steady state before) -> method (pauses, background activities, optional checks
 * during) -> hypothesis after -> rollbacks (by strategy; `default` = always, also after a
 * deviation, a failure or an interrupt). The phases collect evidence; journal.ts judges it. Never
 * throws for what happens on the target: everything is in the returned journal.
 */
export async function runExperiment(experiment: Experiment, opts: RunExperimentOptions): Promise<Journal> {
  const now = opts.now ?? Date.now;
  const reporter = opts.reporter ?? { notify: () => undefined, confirm: async (_q: string, d: boolean) => d };
  // Options given win over the experiment's own `runtime` block, which wins over the defaults.
  const rt = experiment.runtime;
  const options: Journal['options'] = {
    rollback_strategy: opts.rollbackStrategy ?? rt.rollbacks?.strategy ?? 'default',
    hypothesis_strategy: opts.hypothesisStrategy ?? rt.hypothesis?.strategy ?? 'default',
    fail_fast: opts.failFast ?? rt.hypothesis?.fail_fast ?? false,
  };
  const secret = (m: string) => redact(m, experiment.secretValues);
  const notify = (m: string, level: NotifyLevel = 'progress') => opts.reporter?.notify(secret(m), level);
  const local = opts.targets.local;
  const controls = createDrillControls(experiment, {
    startHost: local ? () => local.startControlHost() : undefined,
    now,
    warn: (m) => notify(m, 'warn'),
    ...(opts.controlHookTimeoutMs !== undefined ? { hookTimeoutMs: opts.controlHookTimeoutMs } : {}),
  });
  const d: Drill = {
    experiment,
    targets: opts.targets,
    signal: opts.signal ?? new AbortController().signal,
    now,
    activities: createActivityRunner({
      targets: opts.targets,
      title: experiment.title,
      reporter,
      now,
      random: opts.random ?? Math.random,
      configuration: experiment.configuration,
      secrets: experiment.secrets,
      ...(controls.active
        ? {
            hooks: {
              before: (a) => controls.before('activity', activityContext(a), a),
              after: (a, run) => controls.after('activity', activityContext(a), run, a),
            },
          }
        : {}),
    }),
    failFast: options.fail_fast,
    frequencyMs: opts.hypothesisFrequencyMs ?? rt.hypothesis?.frequency ?? 1000,
    controls,
    notify,
  };
  const checks = hypothesisChecks(options.hypothesis_strategy);
  const startedAt = now();
  // Chaos Toolkit's order: configure every control, then the experiment-level hooks wrap everything, rollbacks included.
  await controls.start();
  await controls.before('experiment', experiment.raw);
  try {
    const evidence: DrillEvidence = { before: null, method: null, after: null, interruptedIn: null, failure: null };

    let load: RunningLoad | undefined;
    let phase: DrillPhase = 'load';
    try {
      load = await startDrillLoad(d, opts.startLoad ?? defaultStartLoad);
      if (load) await warmUp(d);
      phase = 'before';
      if (checks.before) {
        evidence.before = await runGateHypothesis(d);
        throwIfAborted(d.signal);
      }
      if (!gateVerdict(evidence.before)) {
        phase = 'method';
        await controls.before('method', experiment.raw);
        evidence.method = await runMethod(d, checks.during);
        await controls.after('method', experiment.raw, evidence.method.runs);
        throwIfAborted(d.signal);
        phase = 'after';
        if (checks.after && !evidence.method.stoppedEarly) {
          evidence.after = await runHypothesis(d, 'after', d.signal);
          throwIfAborted(d.signal);
        }
      }
    } catch (err) {
      if (d.signal.aborted) evidence.interruptedIn = phase;
      else {
        const e = describeError(err);
        evidence.failure = { code: e.code ?? 'SRG_CLI_INTERNAL', message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
      }
    }

    const verdict = judge(evidence);
    const decision = rollbackDecision(options.rollback_strategy, verdict.deviated);
    let rollbacks: ActivityRun[] = [];
    if (decision.run) {
      await controls.before('rollback', experiment.raw);
      rollbacks = await runRollbacks(d, evidence.method !== null, opts.rollbackTimeoutMs ?? 120_000);
      await controls.after('rollback', experiment.raw, rollbacks);
    }
    const loadSummary = load ? await load.stop() : null;
    const journal = assembleJournal({
      experiment,
      options,
      evidence,
      verdict,
      rollbacks,
      rollbacksSkipped: decision.skipped,
      load: loadSummary,
      startedAt,
      endedAt: now(),
    });
    await controls.after('experiment', experiment.raw, journal);
    // The host stops here, after an interrupt too: the hooks above still ran under their own time limit.
    const calls = await controls.finish();
    return redact({ ...journal, controls: calls }, experiment.secretValues);
  } finally {
    // Stops the host even if something above threw (a bug): it must not outlive the drill.
    await controls.finish();
  }
}

/** An activity as a control's context: as journaled, with its own controls. */
function activityContext(a: Activity): unknown {
  return { ...journalActivity(a), ...(a.controls ? { controls: a.controls } : {}) };
}

/** Starts the experiment's background load at the stack target, when it has a `load` section. */
async function startDrillLoad(d: Drill, start: (opts: LoadOptions) => Promise<RunningLoad>): Promise<RunningLoad | undefined> {
  const l = d.experiment.load;
  if (!l) return undefined;
  const stack = d.targets.stack;
  if (!stack) {
    throw new SurgeError('SRG_STACK_UNREACHABLE', 'The experiment has a load section but no stack target was given', {
      hint: 'Pass targets.stack (createStackAdmin({url, token})), or --url with a running stack.',
    });
  }
  const load = await start(loadOptionsFor(l, stack.url, d.signal));
  d.notify(`background load: ${l.rate} orders/s at ${stack.url}; warming up for ${l.warmup / 1000}s`);
  return load;
}

/** Lets the load reach a steady pace before the first check, so windows see traffic, not connection set-up. */
async function warmUp(d: Drill): Promise<void> {
  await delay(d.experiment.load?.warmup ?? 0, undefined, { signal: d.signal });
}

/** Chaos Toolkit's run_gate_hypothesis: the steady state before the method; the gate's verdict decides whether the method runs. */
async function runGateHypothesis(d: Drill): Promise<SteadyStateRun | null> {
  const before = await runHypothesis(d, 'before', d.signal);
  if (d.signal.aborted) return before;
  const gate = gateVerdict(before);
  if (gate?.cannotRun) d.notify(`aborted: probe ${gate.cannotRun.activity.name} could not run; nothing was injected`, 'warn');
  return before;
}

/** One check of the steady-state hypothesis; its probes run side by side so windowed probes measure the same window. */
async function runHypothesis(d: Drill, label: string, signal: AbortSignal): Promise<SteadyStateRun | null> {
  const h = d.experiment.hypothesis;
  if (!h) return null;
  const context = { title: h.title, probes: h.probes.map((p) => journalActivity(p)), ...(d.experiment.controls.hypothesis.length > 0 ? { controls: d.experiment.controls.hypothesis } : {}) };
  await d.controls.before('hypothesis', context);
  const t0 = d.now();
  const probes = await Promise.all(h.probes.map((p) => d.activities.run(p, signal)));
  const met = steadyStateMet(probes);
  d.notify(`steady state ${label}: ${met ? 'met' : `NOT met: ${failingProbes(probes).join('; ')}`}`, met ? 'progress' : 'warn');
  const run: SteadyStateRun = { steady_state_met: met, probes, start: iso(t0), end: iso(d.now()), duration: (d.now() - t0) / 1000 };
  await d.controls.after('hypothesis', context, run);
  return run;
}

/**
 * Chaos Toolkit's run_method, with run_hypothesis_during_method beside it: activities in order
 * (pauses, background ones started and awaited at the end). An activity whose target is not set
 * up stops the method, as does the first deviation under fail-fast; an interrupt stops it too.
 */
async function runMethod(d: Drill, checkDuring: boolean): Promise<MethodEvidence> {
  const methodCtl = new AbortController();
  const methodSignal = AbortSignal.any([d.signal, methodCtl.signal]);
  const duringCtl = new AbortController();
  const during: SteadyStateRun[] = [];
  const hypothesisDuring =
    checkDuring && d.experiment.hypothesis ? runHypothesisDuring(d, AbortSignal.any([methodSignal, duringCtl.signal]), during, () => methodCtl.abort()) : Promise.resolve();

  const runs: ActivityRun[] = [];
  let abortedBy: ActivityRun | null = null;
  const background: Promise<void>[] = [];
  for (const a of d.experiment.method) {
    if (methodSignal.aborted) break;
    try {
      if (a.pauses?.before) await delay(a.pauses.before, undefined, { signal: methodSignal });
    } catch {
      break;
    }
    d.notify(`${a.type} ${a.name}${a.background ? ' (background)' : ''}`);
    const record = (r: ActivityRun) => {
      runs.push(r);
      if (r.status === 'failed') d.notify(`${a.type} ${a.name} failed: ${r.exception?.message ?? ''}`, 'warn');
      if (r.exception?.code && ABORTING_CODES.has(r.exception.code) && !abortedBy) {
        abortedBy = r;
        methodCtl.abort();
      }
    };
    if (a.background) background.push(d.activities.run(a, methodSignal).then(record));
    else record(await d.activities.run(a, methodSignal));
    try {
      if (a.pauses?.after) await delay(a.pauses.after, undefined, { signal: methodSignal });
    } catch {
      break;
    }
  }
  await Promise.all(background);
  duringCtl.abort();
  await hypothesisDuring;
  return { runs, during, abortedBy, stoppedEarly: methodCtl.signal.aborted };
}

/** Checks the steady state every frequencyMs until `signal` (the end of the method); with fail-fast the first deviation stops the method. */
async function runHypothesisDuring(d: Drill, signal: AbortSignal, during: SteadyStateRun[], stopMethod: () => void): Promise<void> {
  while (!signal.aborted) {
    const r = await runHypothesis(d, 'during', signal);
    if (signal.aborted || !r) break; // cut short by the end of the method: not a measurement
    during.push(r);
    if (!r.steady_state_met && d.failFast) {
      d.notify('fail-fast: stopping the method at the first deviation', 'warn');
      stopMethod();
      break;
    }
    await delay(d.frequencyMs, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * Chaos Toolkit's run_rollbacks, one after another under a fresh signal: they must run after an
 * interrupt too, but not forever. Provider calls the interrupt abandoned are waited for first.
 */
async function runRollbacks(d: Drill, methodStarted: boolean, timeoutMs: number): Promise<ActivityRun[]> {
  const rollbacks = d.experiment.rollbacks;
  if (rollbacks.length === 0) return [];
  const signal = AbortSignal.timeout(timeoutMs);
  await d.activities.settleAbandoned(signal);
  d.notify(`rollbacks (${rollbacks.length})${methodStarted ? '' : ' — the method did not run, restoring anyway'}`);
  const runs: ActivityRun[] = [];
  for (const r of rollbacks) {
    const run = await d.activities.run(r, signal);
    runs.push(run);
    if (run.status === 'failed') {
      d.notify(`rollback ${r.name} failed: ${run.exception?.message ?? ''}${methodStarted ? '' : ' (nothing was injected, so nothing is left changed)'}`, 'warn');
    }
  }
  return runs;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('interrupted');
}

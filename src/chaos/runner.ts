import { setTimeout as delay } from 'node:timers/promises';
import { SurgeError, isSurgeError } from '../errors.js';
import { evaluateCondition, type Condition } from '../probes/index.js';
import type { Reporter } from '../reporter.js';
import { startLoad as defaultStartLoad, type LoadOptions, type LoadSummary, type RunningLoad } from './background-load.js';
import type { Activity, Experiment } from './experiment.js';
import { runHttp } from './providers/http.js';
import { PROVIDERS } from './providers/index.js';
import type { ChaosTargets, ProviderContext } from './providers/types.js';

/** Chaos Toolkit's closed set of run statuses. */
export type RunStatus = 'completed' | 'failed' | 'aborted' | 'interrupted';

/**
 * When rollbacks run. surgectl's `default` is `always` (Chaos Toolkit skips them on deviation,
 * which leaves faults in place exactly when the system is already hurting).
 */
export const ROLLBACK_STRATEGIES = ['default', 'always', 'deviated', 'never'] as const;
export type RollbackStrategy = (typeof ROLLBACK_STRATEGIES)[number];

/** When the steady-state hypothesis is checked (Chaos Toolkit's --hypothesis-strategy). */
export const HYPOTHESIS_STRATEGIES = ['default', 'before-method-only', 'after-method-only', 'during-method-only', 'continuously'] as const;
export type HypothesisStrategy = (typeof HYPOTHESIS_STRATEGIES)[number];

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /** The systems to act on. */
  targets: ChaosTargets;
  /** Interrupts the drill: the method stops, rollbacks still run (status `interrupted`). */
  signal?: AbortSignal;
  reporter?: Reporter;
  /** Default `default` (= always). */
  rollbackStrategy?: RollbackStrategy;
  /** Default `default` (before and after the method). */
  hypothesisStrategy?: HypothesisStrategy;
  /** With `during-method-only` / `continuously`: stop the method at the first deviation. Default false. */
  failFast?: boolean;
  /** Pause between steady-state checks during the method, ms. Default 1000. */
  hypothesisFrequencyMs?: number;
  /** Longest all rollbacks together may take, ms; they run even after an interrupt. Default 120 000. */
  rollbackTimeoutMs?: number;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Random source for pod selection. Default Math.random. */
  random?: () => number;
  /** Starts the background load of the experiment's `load` section (tests may replace it). */
  startLoad?: (opts: LoadOptions) => Promise<RunningLoad>;
}

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
  pauses?: { before?: number; after?: number };
}

/** One check of the steady-state hypothesis. */
export interface SteadyStateRun {
  steady_state_met: boolean;
  probes: ActivityRun[];
  start: string;
  end: string;
  duration: number;
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
  options: { rollback_strategy: RollbackStrategy; hypothesis_strategy: HypothesisStrategy; fail_fast: boolean };
  /** Why the run failed or was aborted, in one line. */
  reason: string | null;
  /** The error that aborted the run, if any. */
  error: { code: string; message: string; hint?: string } | null;
  start: string;
  end: string;
  duration: number;
}

/** Errors that make going on with the method pointless: the target is not set up for it. */
const ABORTING = new Set(['SRG_CHAOS_CRD_MISSING', 'SRG_K8S_CONFIG']);

/**
 * Errors of a probe that could not run at all: its target is not set up, cannot be reached or
 * refuses surgectl. Before the method such a probe aborts the drill with the error (as Chaos
 * Toolkit stops when the hypothesis cannot be checked): the system was not measured, so "not
 * steady" would send the operator to fix a system that may be fine. During and after the method
 * the same failure counts as a deviation: the fault may well be what made the target unreachable.
 */
const PROBE_CANNOT_RUN = new Set([...ABORTING, 'SRG_STACK_UNREACHABLE', 'SRG_STACK_ADMIN', 'SRG_K8S_API', 'SRG_CHAOS_HTTP']);

/**
 * Runs a drill: load (if any) -> steady state before -> method (pauses, background activities,
 * optional checks during) -> steady state after -> rollbacks (by strategy; `default` = always,
 * also after a deviation, a failure or an interrupt). Never throws for what happens on the target:
 * everything is in the returned journal.
 */
export async function runExperiment(experiment: Experiment, opts: RunExperimentOptions): Promise<Journal> {
  const now = opts.now ?? Date.now;
  const signal = opts.signal ?? new AbortController().signal;
  const reporter = opts.reporter;
  const rollbackStrategy = opts.rollbackStrategy ?? 'default';
  const hypothesisStrategy = opts.hypothesisStrategy ?? 'default';
  const failFast = opts.failFast ?? false;
  const frequencyMs = opts.hypothesisFrequencyMs ?? 1000;
  const random = opts.random ?? Math.random;
  const notify = (m: string, level: 'info' | 'warn' | 'progress' | 'success' = 'progress') => reporter?.notify(m, level);

  const startedAt = now();
  const journal: Journal = {
    title: experiment.title,
    description: experiment.description ?? null,
    tags: experiment.tags,
    experiment: experiment.raw,
    status: 'completed',
    deviated: false,
    steady_states: { before: null, after: null, during: [] },
    run: [],
    rollbacks: [],
    rollback_failed: false,
    rollbacks_skipped: null,
    load: null,
    options: { rollback_strategy: rollbackStrategy, hypothesis_strategy: hypothesisStrategy, fail_fast: failFast },
    reason: null,
    error: null,
    start: iso(startedAt),
    end: iso(startedAt),
    duration: 0,
  };

  const ctxFor = (a: Activity, s: AbortSignal): ProviderContext => ({
    targets: opts.targets,
    signal: s,
    reporter: reporter ?? { notify: () => undefined, confirm: async (_q, d) => d },
    sleep: (ms, sig) => delay(ms, undefined, { signal: sig ?? s }),
    now,
    random,
    objectName: dnsName(`surgectl-${experiment.title}-${a.name}`),
  });

  // Provider calls abandoned on interrupt or timeout may still land on the target; rollbacks wait
  // for them (bounded) so a late fault cannot arrive after the restore.
  const abandoned = new Set<Promise<unknown>>();
  const withAbort = <T>(p: Promise<T>, sig: AbortSignal): Promise<T> => {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    abandoned.add(settled);
    void settled.then(() => abandoned.delete(settled));
    return raceAbort(p, sig);
  };

  const runActivity = async (a: Activity, s: AbortSignal): Promise<ActivityRun> => {
    const t0 = now();
    const timeoutMs = activityTimeoutMs(a);
    const timeout = AbortSignal.timeout(timeoutMs);
    const sig = AbortSignal.any([s, timeout]);
    let output: unknown = null;
    let exception: ActivityRun['exception'] = null;
    let raw: unknown;
    try {
      raw =
        a.provider.type === 'http'
          ? await withAbort(runHttp({ ...a.provider, arguments: a.provider.arguments }, ctxFor(a, sig)), sig)
          : await withAbort((PROVIDERS[a.provider.type][a.provider.func] as NonNullable<(typeof PROVIDERS)['stack'][string]>).run(a.args, ctxFor(a, sig)), sig);
      output = toJson(raw);
    } catch (err) {
      exception = describeError(err, timeout.aborted && !s.aborted ? `timed out after ${timeoutMs / 1000}s` : undefined);
    }
    const run: ActivityRun = {
      activity: journalActivity(a),
      status: exception ? 'failed' : 'succeeded',
      output,
      exception,
      start: iso(t0),
      end: iso(now()),
      duration: (now() - t0) / 1000,
    };
    if (a.condition) {
      const observed = exception ? undefined : observedFor(a, a.condition, raw);
      const r = exception
        ? { phase: 'error' as const, value: undefined, message: `the probe failed: ${exception.message}` }
        : evaluateCondition(a.condition, observed);
      run.tolerance_met = r.phase === 'pass';
      run.tolerance_result = { phase: r.phase, value: toJson(r.value), ...(r.message ? { message: r.message } : {}) };
    }
    return run;
  };

  // Probes of one check run side by side so windowed probes measure the same window.
  const checkHypothesis = async (label: string, s: AbortSignal): Promise<SteadyStateRun | undefined> => {
    const h = experiment.hypothesis;
    if (!h) return undefined;
    const t0 = now();
    const probes = await Promise.all(h.probes.map((p) => runActivity(p, s)));
    const met = probes.every((p) => p.tolerance_met === true);
    const failing = probes.filter((p) => !p.tolerance_met).map((p) => `${p.activity.name} (${p.tolerance_result?.message ?? p.exception?.message ?? 'not met'})`);
    notify(`steady state ${label}: ${met ? 'met' : `NOT met: ${failing.join('; ')}`}`, met ? 'progress' : 'warn');
    return { steady_state_met: met, probes, start: iso(t0), end: iso(now()), duration: (now() - t0) / 1000 };
  };

  const checkBefore = hypothesisStrategy === 'default' || hypothesisStrategy === 'before-method-only' || hypothesisStrategy === 'continuously';
  const checkAfter = hypothesisStrategy === 'default' || hypothesisStrategy === 'after-method-only' || hypothesisStrategy === 'continuously';
  const checkDuring = hypothesisStrategy === 'during-method-only' || hypothesisStrategy === 'continuously';

  let load: RunningLoad | undefined;
  // Until the method starts nothing has been injected, so a rollback that fails then cannot have
  // left a fault behind (see Journal.rollback_failed).
  let methodStarted = false;
  try {
    if (experiment.load) {
      const stack = opts.targets.stack;
      if (!stack) {
        throw new SurgeError('SRG_STACK_UNREACHABLE', 'The experiment has a load section but no stack target was given', {
          hint: 'Pass targets.stack (createStackAdmin({url, token})), or --url with a running stack.',
        });
      }
      const l = experiment.load;
      load = await (opts.startLoad ?? defaultStartLoad)({
        url: stack.url,
        rate: l.rate,
        maxRequests: l.maxRequests ?? Math.ceil((l.rate * l.maxDuration) / 1000),
        maxDurationMs: l.maxDuration,
        maxInFlight: l.maxInFlight,
        now,
      });
      notify(`background load: ${l.rate} orders/s at ${stack.url}; warming up for ${l.warmup / 1000}s`);
      await delay(l.warmup, undefined, { signal });
    }

    if (checkBefore && experiment.hypothesis) {
      const before = await checkHypothesis('before', signal);
      journal.steady_states.before = before ?? null;
      throwIfAborted(signal);
      if (before && !before.steady_state_met) {
        const cannotRun = before.probes.find((p) => p.exception?.code !== undefined && PROBE_CANNOT_RUN.has(p.exception.code));
        const e = cannotRun?.exception;
        if (cannotRun && e?.code) {
          journal.status = 'aborted';
          journal.error = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
          journal.reason = `${cannotRun.activity.name}: ${e.message}`;
          notify(`aborted: probe ${cannotRun.activity.name} could not run; nothing was injected`, 'warn');
        } else {
          journal.status = 'failed';
          journal.reason = 'the steady state was not met before the method; nothing was injected';
        }
      }
    }

    if (journal.status === 'completed') {
      methodStarted = true;
      const methodCtl = new AbortController();
      const methodSignal = AbortSignal.any([signal, methodCtl.signal]);
      const duringCtl = new AbortController();
      let deviatedDuring = false;
      const during = checkDuring && experiment.hypothesis
        ? (async () => {
            const s = AbortSignal.any([methodSignal, duringCtl.signal]);
            while (!s.aborted) {
              const r = await checkHypothesis('during', s);
              if (s.aborted || !r) break; // cut short by the end of the method: not a measurement
              journal.steady_states.during.push(r);
              if (!r.steady_state_met) {
                deviatedDuring = true;
                if (failFast) {
                  notify('fail-fast: stopping the method at the first deviation', 'warn');
                  methodCtl.abort();
                  break;
                }
              }
              await delay(frequencyMs, undefined, { signal: s }).catch(() => undefined);
            }
          })()
        : Promise.resolve();

      const background: Promise<void>[] = [];
      for (const a of experiment.method) {
        if (methodSignal.aborted) break;
        try {
          if (a.pauses?.before) await delay(a.pauses.before, undefined, { signal: methodSignal });
        } catch {
          break;
        }
        notify(`${a.type} ${a.name}${a.background ? ' (background)' : ''}`);
        const record = (r: ActivityRun) => {
          journal.run.push(r);
          if (r.status === 'failed') notify(`${a.type} ${a.name} failed: ${r.exception?.message ?? ''}`, 'warn');
          if (r.exception?.code && ABORTING.has(r.exception.code) && journal.status === 'completed') {
            journal.status = 'aborted';
            journal.error = { code: r.exception.code, message: r.exception.message, ...(r.exception.hint ? { hint: r.exception.hint } : {}) };
            journal.reason = `${a.name}: ${r.exception.message}`;
            methodCtl.abort();
          }
        };
        if (a.background) {
          background.push(runActivity(a, methodSignal).then(record));
        } else {
          record(await runActivity(a, methodSignal));
        }
        try {
          if (a.pauses?.after) await delay(a.pauses.after, undefined, { signal: methodSignal });
        } catch {
          break;
        }
      }
      await Promise.all(background);
      duringCtl.abort();
      await during;
      throwIfAborted(signal);

      const failedActions = journal.run.filter((r) => r.status === 'failed' && r.activity.type === 'action');
      if (journal.status === 'completed' && failedActions.length > 0) {
        journal.status = 'failed';
        journal.reason = `action ${failedActions.map((r) => r.activity.name).join(', ')} failed; the fault may not have been injected`;
      }
      if (deviatedDuring) {
        journal.deviated = true;
        if (journal.status === 'completed') {
          journal.status = 'failed';
          journal.reason = 'the steady state deviated during the method';
        }
      }
      const stoppedEarly = methodCtl.signal.aborted;
      if (checkAfter && experiment.hypothesis && !stoppedEarly) {
        const after = await checkHypothesis('after', signal);
        journal.steady_states.after = after ?? null;
        throwIfAborted(signal);
        if (after && !after.steady_state_met) {
          journal.deviated = true;
          if (journal.status === 'completed') {
            journal.status = 'failed';
            journal.reason = 'the steady state deviated after the method';
          }
        }
      }
    }
  } catch (err) {
    if (signal.aborted) {
      journal.status = 'interrupted';
      journal.reason = 'interrupted before the drill finished';
    } else {
      journal.status = 'aborted';
      const e = describeError(err);
      journal.error = { code: e.code ?? 'SRG_CLI_INTERNAL', message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
      journal.reason = e.message;
    }
  } finally {
    const runRollbacks =
      rollbackStrategy === 'never' ? false : rollbackStrategy === 'deviated' ? journal.deviated : true;
    if (!runRollbacks) {
      journal.rollbacks_skipped = rollbackStrategy === 'never' ? 'rollback strategy "never"' : 'rollback strategy "deviated" and the steady state did not deviate';
    } else if (experiment.rollbacks.length > 0) {
      // A fresh signal: rollbacks must run after an interrupt too, but not forever.
      const rollbackSignal = AbortSignal.timeout(opts.rollbackTimeoutMs ?? 120_000);
      if (abandoned.size > 0) {
        await Promise.race([Promise.allSettled([...abandoned]), delay(15_000, undefined, { signal: rollbackSignal }).catch(() => undefined)]);
      }
      notify(`rollbacks (${experiment.rollbacks.length})${methodStarted ? '' : ' — the method did not run, restoring anyway'}`);
      for (const r of experiment.rollbacks) {
        const run = await runActivity(r, rollbackSignal);
        journal.rollbacks.push(run);
        if (run.status === 'failed') {
          // Before the method nothing was injected: the target is as the drill found it.
          if (methodStarted) journal.rollback_failed = true;
          notify(`rollback ${r.name} failed: ${run.exception?.message ?? ''}${methodStarted ? '' : ' (nothing was injected, so nothing is left changed)'}`, 'warn');
        }
      }
    }
    if (load) {
      journal.load = await load.stop();
    }
    const end = now();
    journal.end = iso(end);
    journal.duration = (end - startedAt) / 1000;
  }
  return journal;
}

/** Default timeout: 60 s plus what the function itself declares it needs (its `duration`, `window`). */
export function activityTimeoutMs(a: Activity): number {
  if (a.timeout !== undefined) return a.timeout;
  if (a.provider.type === 'http') return (a.provider.timeout ?? 30_000) + 5_000;
  const spec = PROVIDERS[a.provider.type][a.provider.func];
  return 60_000 + (spec?.extraTimeMs?.(a.args) ?? 0);
}

/**
 * Chaos Toolkit compares a bare number or range tolerance of an http probe with the status code;
 * every other tolerance sees the whole output.
 */
function observedFor(a: Activity, c: Condition, output: unknown): unknown {
  if (a.provider.type !== 'http' || ('target' in c && c.target !== undefined)) return output;
  if ((c.kind === 'equals' && typeof c.expected === 'number') || c.kind === 'range') return (output as { status: number }).status;
  return output;
}

function journalActivity(a: Activity): JournalActivity {
  return {
    type: a.type,
    name: a.name,
    provider: a.provider,
    ...(a.tolerance !== undefined ? { tolerance: a.tolerance } : {}),
    ...(a.background ? { background: true } : {}),
    ...(a.pauses ? { pauses: { ...(a.pauses.before !== undefined ? { before: a.pauses.before / 1000 } : {}), ...(a.pauses.after !== undefined ? { after: a.pauses.after / 1000 } : {}) } } : {}),
  };
}

/** Rejects as soon as the signal fires, even if the provider ignores it. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('interrupted');
}

function describeError(err: unknown, override?: string): { code?: string; message: string; hint?: string } {
  if (override) return { message: override };
  if (isSurgeError(err)) return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  if (err instanceof Error) return { message: err.name === 'AbortError' ? 'interrupted' : err.message };
  return { message: String(err) };
}

/** Plain JSON data (functions and undefined dropped) so the journal serialises as it reads. */
function toJson(v: unknown): unknown {
  if (v === undefined) return null;
  return JSON.parse(JSON.stringify(v)) as unknown;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A DNS-1123 label (<= 63 chars, lower-case alphanumerics and '-'). */
export function dnsName(s: string): string {
  const n = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return n === '' ? 'surgectl' : n;
}

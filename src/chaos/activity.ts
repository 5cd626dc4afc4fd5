import { setTimeout as delay } from 'node:timers/promises';
import { SurgeError, isSurgeError } from '../errors.js';
import { evaluateCondition, type Condition } from '../probes/index.js';
import type { Reporter } from '../reporter.js';
import { runStep } from '../runbooks/step.js';
import type { Activity } from './experiment.js';
import { iso, type ActivityRun, type JournalActivity } from './journal.js';
import { runHttp } from './providers/http.js';
import { PROVIDERS } from './providers/index.js';
import type { LocalRunner } from './providers/local.js';
import type { ChaosTargets, ProviderContext } from './providers/types.js';

/** What running one activity needs from the drill. */
export interface ActivityRunnerOptions {
  targets: ChaosTargets;
  /** The experiment's title: objects the drill creates are named after it. */
  title: string;
  reporter: Reporter;
  /** ms since the epoch. */
  now: () => number;
  /** 0 <= x < 1, for pod selection. */
  random: () => number;
  /** Resolved configuration, passed to python functions that take `configuration`. Default {}. */
  configuration?: Record<string, unknown>;
  /** Resolved secrets by scope; a provider gets the scopes it names. Default {}. */
  secrets?: Record<string, Record<string, unknown>>;
  /** Hooks run around each activity (Chaos Toolkit's activity-level controls). Default none. */
  hooks?: ActivityHooks;
}

/** Called around each activity run (not around probe tolerances); never throws. */
export interface ActivityHooks {
  before(a: Activity): Promise<void>;
  after(a: Activity, run: ActivityRun): Promise<void>;
}

/** Runs single activities and keeps track of provider calls an interrupt or a timeout abandoned. */
export interface ActivityRunner {
  /** Runs one activity until it ends, `signal` fires or its timeout passes; never throws: the run records what happened. */
  run(a: Activity, signal: AbortSignal): Promise<ActivityRun>;
  /** Runs a probe tolerance against `value`; true when it accepts it. */
  probeTolerance(t: Activity, value: unknown, signal: AbortSignal): Promise<boolean>;
  /**
   * Waits (at most 15 s, or until `signal`) for abandoned provider calls: one may still land on the
   * target, and a late fault must not arrive after the restore.
   */
  settleAbandoned(signal: AbortSignal): Promise<void>;
}

export function createActivityRunner(o: ActivityRunnerOptions): ActivityRunner {
  const abandoned = new Set<Promise<void>>();
  /** Provider calls run through the one step runner; a call an interrupt or timeout abandons is kept until it settles. */
  const track = (settled: Promise<void>) => {
    abandoned.add(settled);
    void settled.then(() => abandoned.delete(settled));
  };
  const ctxFor = (a: Activity, s: AbortSignal): ProviderContext => ({
    targets: o.targets,
    signal: s,
    reporter: o.reporter,
    sleep: (ms, sig) => delay(ms, undefined, { signal: sig ?? s }),
    now: o.now,
    random: o.random,
    objectName: dnsName(`surgectl-${o.title}-${a.name}`),
  });

  const local = (): LocalRunner => {
    if (!o.targets.local) throw new SurgeError('SRG_CHAOS_EXPERIMENT', 'python and process activities need a local runner (targets.local)', { hint: 'Build one with createLocalRunner({env, cwd}).' });
    return o.targets.local;
  };
  const scopes = (names: readonly string[] | undefined): Record<string, unknown> | undefined =>
    names ? Object.assign({}, ...names.map((n) => o.secrets?.[n] ?? {})) as Record<string, unknown> : undefined;
  /** Calls the activity's provider with `args` (its own, or with a probe tolerance's `value`). */
  const invoke = (a: Activity, args: Record<string, unknown>, ctx: ProviderContext): Promise<unknown> => {
    const p = a.provider;
    switch (p.type) {
      case 'http':
        // The arguments as written, unless a probe tolerance added its `value`.
        return runHttp({ ...p, arguments: args === a.args ? p.arguments : args }, ctx);
      case 'python':
        return local().callPython({ module: p.module, func: p.func, arguments: args, configuration: o.configuration ?? {}, secrets: scopes(p.secrets) }, ctx.signal);
      case 'process': {
        const withValue = 'value' in args && p.arguments !== null && typeof p.arguments === 'object' && !Array.isArray(p.arguments) ? { ...p.arguments, value: args.value } : p.arguments;
        return local().runProcess({ path: p.path, arguments: withValue, timeoutMs: p.timeout }, ctx.signal);
      }
      default:
        return (PROVIDERS[p.type][p.func] as NonNullable<(typeof PROVIDERS)['stack'][string]>).run(args, ctx);
    }
  };

  const core: ActivityRunner = {
    async run(a, s) {
      const timeoutMs = activityTimeoutMs(a);
      const step = await runStep(async (sig) => (a.dry ? undefined : invoke(a, a.args, ctxFor(a, sig))), { signal: s, timeoutMs, now: o.now, track });
      const raw: unknown = step.value;
      const output = step.status === 'completed' && !a.dry ? toJson(raw) : null;
      const exception: ActivityRun['exception'] = step.status === 'completed' ? null : describeError(step.error, step.status === 'timed-out' ? `timed out after ${timeoutMs / 1000}s` : undefined);
      const run: ActivityRun = {
        activity: journalActivity(a),
        status: exception ? 'failed' : 'succeeded',
        output,
        exception,
        start: iso(step.startedAt),
        end: iso(step.endedAt),
        duration: step.durationMs / 1000,
      };
      if (a.dry) {
        if (a.condition || a.toleranceProbe) run.tolerance_met = true;
        run.tolerance_result = { phase: 'pass', value: null, message: 'dry: not run' };
      } else if (a.toleranceProbe) {
        run.tolerance_met = exception ? false : await this.probeTolerance(a.toleranceProbe, output, s);
        run.tolerance_result = exception
          ? { phase: 'error', value: null, message: `the probe failed: ${exception.message}` }
          : { phase: run.tolerance_met ? 'pass' : 'fail', value: output, ...(run.tolerance_met ? {} : { message: `probe ${a.toleranceProbe.name} did not accept the value` }) };
      } else if (a.condition) {
        const r = exception
          ? { phase: 'error' as const, value: undefined, message: `the probe failed: ${exception.message}` }
          : evaluateCondition(a.condition, observedFor(a, a.condition, raw));
        run.tolerance_met = r.phase === 'pass';
        run.tolerance_result = { phase: r.phase, value: toJson(r.value), ...(r.message ? { message: r.message } : {}) };
      }
      return run;
    },
    /** Chaos Toolkit's probe tolerance: the probe gets the value as its `value` argument; a truthy output (Python's truth) meets it; a failure does not. */
    async probeTolerance(t: Activity, value: unknown, s: AbortSignal): Promise<boolean> {
      const step = await runStep((sig) => invoke(t, { ...t.args, value }, ctxFor(t, sig)), { signal: s, timeoutMs: activityTimeoutMs(t), now: o.now, track });
      return step.status === 'completed' && pythonTruthy(step.value);
    },
    async settleAbandoned(signal) {
      if (abandoned.size === 0) return;
      await Promise.race([Promise.allSettled([...abandoned]), delay(15_000, undefined, { signal }).catch(() => undefined)]);
    },
  };
  const hooks = o.hooks;
  if (!hooks) return core;
  return {
    ...core,
    // The hooks stay outside the activity's own time and timeout, as Chaos Toolkit's controls wrap the run.
    async run(a, s) {
      await hooks.before(a);
      const run = await core.run(a, s);
      await hooks.after(a, run);
      return run;
    },
  };
}

/** Default timeout: 60 s plus what the function itself declares it needs (its `duration`, `window`). */
export function activityTimeoutMs(a: Activity): number {
  if (a.timeout !== undefined) return a.timeout;
  const p = a.provider;
  if (p.type === 'http') {
    const t = Array.isArray(p.timeout) ? p.timeout[0] + p.timeout[1] : (p.timeout ?? 30_000);
    return t * (1 + p.max_retries) + 5_000;
  }
  if (p.type === 'process') return p.timeout !== undefined ? p.timeout + 5_000 : 60_000;
  if (p.type === 'python') return 60_000;
  const spec = PROVIDERS[p.type][p.func];
  return 60_000 + (spec?.extraTimeMs?.(a.args) ?? 0);
}

/**
 * Chaos Toolkit compares a number or list tolerance of an http probe with the status code; every
 * other tolerance sees the whole output.
 */
function observedFor(a: Activity, c: Condition, output: unknown): unknown {
  if (a.provider.type !== 'http' || ('target' in c && c.target !== undefined)) return output;
  // A number and a list tolerance look at the status in the evaluator, as Chaos Toolkit does; a {type: range} without a target does here.
  if (c.kind === 'range') return (output as { status: number }).status;
  return output;
}

/** Python's truth value of a JSON value: false, 0, "", [], {} and null are false. */
function pythonTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** An activity as the journal (and a control's context) shows it. */
export function journalActivity(a: Activity): JournalActivity {
  return {
    type: a.type,
    name: a.name,
    provider: a.provider,
    ...(a.tolerance !== undefined ? { tolerance: a.tolerance } : {}),
    ...(a.background ? { background: true } : {}),
    ...(a.dry ? { dry: true } : {}),
    ...(a.pauses ? { pauses: { ...(a.pauses.before !== undefined ? { before: a.pauses.before / 1000 } : {}), ...(a.pauses.after !== undefined ? { after: a.pauses.after / 1000 } : {}) } } : {}),
  };
}

/** An error as journaled; `override` replaces the message (a timeout says so rather than "aborted"). */
export function describeError(err: unknown, override?: string): { code?: string; message: string; hint?: string } {
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

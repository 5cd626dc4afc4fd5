import { redact } from './configuration.js';
import type { Activity, Control, Experiment } from './experiment.js';
import { declaredControls } from './experiment.js';
import { iso, type ControlCall } from './journal.js';
import type { ControlAnswer, ControlHost } from './providers/local.js';

/**
 * Chaos Toolkit's controls, run for real: Python modules whose hooks (`before_activity_control`,
 * `after_method_control`, ...) are called around the experiment, the hypothesis, the method, the
 * rollbacks and each activity, in one long-lived interpreter per drill so a control keeps its
 * state between calls. Which controls apply where follows chaoslib's get_context_controls: root
 * controls apply at every level (at the experiment level only when `automatic: false`), one
 * declared on the hypothesis or an activity applies there, after the root ones, and overrides a
 * root one of the same name. A hook that raises is journaled and the drill goes on, as Chaos
 * Toolkit logs and goes on.
 */

export type { ControlCall } from './journal.js';

/** The levels hooks run at, as chaoslib names them. */
export type ControlLevel = 'experiment' | 'hypothesis' | 'method' | 'rollback' | 'activity';

/** The controls of one drill: call {@link DrillControls.before}/{@link DrillControls.after} around each level, then {@link DrillControls.finish}. */
export interface DrillControls {
  /** Whether the experiment declares any control (else every call is a no-op). */
  readonly active: boolean;
  /** Starts the host and calls `configure_control` once per control name. */
  start(): Promise<void>;
  before(level: ControlLevel, context: unknown, activity?: Activity): Promise<void>;
  after(level: ControlLevel, context: unknown, state: unknown, activity?: Activity): Promise<void>;
  /** Calls `cleanup_control` once per control name and stops the host; returns every call made. A second call only returns them. */
  finish(): Promise<ControlCall[]>;
}

/** Options of {@link createDrillControls}. */
export interface DrillControlsOptions {
  /** Starts the interpreter; undefined when no local runner was given (every hook is then journaled as failed). */
  startHost: (() => ControlHost) | undefined;
  /** ms since the epoch. */
  now: () => number;
  /** Longest one hook may take, ms; past it the host is stopped and later hooks fail. Default 30 000. */
  hookTimeoutMs?: number;
  /** Longest the host may take to exit once its input is closed, ms, before it is killed. Default 5 000. */
  stopGraceMs?: number;
  /** Told about each hook that failed. */
  warn: (message: string) => void;
}

const HOOK: Record<ControlLevel, { before: string; after: string }> = {
  experiment: { before: 'before_experiment_control', after: 'after_experiment_control' },
  hypothesis: { before: 'before_hypothesis_control', after: 'after_hypothesis_control' },
  method: { before: 'before_method_control', after: 'after_method_control' },
  rollback: { before: 'before_rollback_control', after: 'after_rollback_control' },
  activity: { before: 'before_activity_control', after: 'after_activity_control' },
};

/**
 * The controls that apply at a level, in the order their hooks run (chaoslib's
 * get_context_controls): at the experiment level the root controls; at the method and rollback
 * levels the automatic root ones; at the hypothesis and an activity the automatic root ones not
 * overridden by name, then the level's own. Pure.
 */
export function controlsAt(level: ControlLevel, e: Experiment, activity?: Activity): Control[] {
  const root = e.controls.root;
  if (level === 'experiment') return root;
  const automatic = root.filter((c) => c.automatic !== false);
  if (level === 'method' || level === 'rollback') return automatic;
  const own = level === 'hypothesis' ? e.controls.hypothesis : (activity?.controls ?? []);
  const names = new Set(own.map((c) => c.name));
  return [...automatic.filter((c) => !names.has(c.name)), ...own];
}

/** Each control name once, as declared first (Chaos Toolkit configures and cleans up a control once per name). Pure. */
export function uniqueControls(e: Experiment): Control[] {
  const seen = new Map<string, Control>();
  for (const d of declaredControls(e)) if (!seen.has(d.control.name)) seen.set(d.control.name, d.control);
  return [...seen.values()];
}

export function createDrillControls(e: Experiment, o: DrillControlsOptions): DrillControls {
  const unique = uniqueControls(e);
  const calls: ControlCall[] = [];
  const timeoutMs = o.hookTimeoutMs ?? 30_000;
  let host: ControlHost | undefined;
  let unavailable: string | undefined;
  let finished = false;
  /** Module -> the hooks it defines, learnt when the host imports it; a hook it lacks is not called. */
  const hooksOf = new Map<string, Set<string>>();
  const secret = <T>(v: T): T => redact(v, e.secretValues);
  const plain = (v: unknown): unknown => (v === undefined ? null : (JSON.parse(JSON.stringify(v)) as unknown));

  /** Calls one hook; a module without it is skipped and not journaled. `context` goes with the control's arguments, as chaoslib calls `func(context=..., **arguments)`. */
  const call = async (c: Control, hook: string, special: Record<string, unknown>, context?: unknown, activity?: Activity): Promise<void> => {
    const t0 = o.now();
    // chaoslib calls cleanup_control() bare.
    const kwargs = hook === 'cleanup_control' ? {} : { ...(c.provider.arguments ?? {}), ...(context !== undefined ? { context: secret(plain(context)) } : {}) };
    const defined = hooksOf.get(c.provider.module);
    if (defined && !defined.has(hook)) return;
    const r: ControlAnswer = host ? await host.call(c.provider.module, hook, { kwargs, special }, timeoutMs) : { ok: false, error: unavailable ?? 'the control host is not running' };
    if (r.ok && !r.called) return;
    const error = r.ok ? null : secret(r.error);
    calls.push({
      name: c.name,
      module: c.provider.module,
      hook,
      ...(activity ? { activity: activity.name } : {}),
      status: r.ok ? 'succeeded' : 'failed',
      error,
      start: iso(t0),
      end: iso(o.now()),
      duration: (o.now() - t0) / 1000,
    });
    if (error !== null) o.warn(`control ${c.name}: ${hook}${activity ? ` (${activity.name})` : ''} failed: ${error}; the drill goes on`);
  };
  // What chaoslib passes to a hook that names it. `secrets` are the real values, as a python activity gets them; contexts and states are redacted.
  const special = (extra: Record<string, unknown> = {}) => ({
    configuration: e.configuration,
    secrets: e.secrets,
    experiment: plain(e.raw),
    extensions: (e.raw as { extensions?: unknown } | null)?.extensions ?? null,
    settings: null,
    ...extra,
  });
  const scoped = (c: Control, scope: 'before' | 'after') => c.scope === undefined || c.scope === scope;

  return {
    active: unique.length > 0,
    async start() {
      if (unique.length === 0) return;
      if (!o.startHost) unavailable = 'controls need a local runner (targets.local) to run their Python modules';
      else host = o.startHost();
      for (const c of unique) {
        const m = c.provider.module;
        if (!host || hooksOf.has(m)) continue;
        const t0 = o.now();
        const r = await host.hooks(m, timeoutMs);
        if (r.ok) {
          hooksOf.set(m, new Set(r.hooks));
          continue;
        }
        // Validation imported it, so this is rare (the environment changed, the host died): one entry, then none of its hooks.
        hooksOf.set(m, new Set());
        const error = secret(`the module could not be imported: ${r.error}`);
        calls.push({ name: c.name, module: m, hook: 'configure_control', status: 'failed', error, start: iso(t0), end: iso(o.now()), duration: (o.now() - t0) / 1000 });
        o.warn(`control ${c.name}: ${error}; its hooks do not run, the drill goes on`);
      }
      for (const c of unique) await call(c, 'configure_control', special());
    },
    async before(level, context, activity) {
      for (const c of controlsAt(level, e, activity)) {
        if (scoped(c, 'before')) await call(c, HOOK[level].before, special(), context, activity);
      }
    },
    async after(level, context, state, activity) {
      for (const c of controlsAt(level, e, activity)) {
        if (scoped(c, 'after')) await call(c, HOOK[level].after, special({ state: secret(plain(state)) }), context, activity);
      }
    },
    async finish() {
      if (unique.length === 0 || finished) return calls;
      finished = true;
      for (const c of unique) await call(c, 'cleanup_control', {});
      await host?.stop(o.stopGraceMs ?? 5_000);
      return calls;
    },
  };
}

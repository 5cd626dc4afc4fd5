import { z } from 'zod';
import { SurgeError, isSurgeError } from '../errors.js';
import type { Reporter } from '../reporter.js';
import type { StackAdminPort } from '../adapters/stack-admin/port.js';
import { readSnapshot, writeSnapshot } from '../util/snapshot-files.js';
import { changes, missingFlags, planFlags, type DesiredFlag, type FlagPlan, type FlagStep } from './plan.js';
import type { FlagInfo, FlagsProvider, FlagsProviderKind } from './provider.js';

/** The snapshot `kind` of `flags degrade` (src/util/snapshot-files.ts envelope). */
export const FLAGS_SNAPSHOT_KIND = 'FlagsSnapshot';

/** The data of a flags snapshot: every flag of the set exactly as it was before the degrade. */
export const FlagsSnapshotDataSchema = z.object({
  provider: z.enum(['unleash', 'local']),
  /** Unleash URL or stack URL. */
  target: z.string().min(1),
  project: z.string().min(1).optional(),
  environment: z.string().min(1),
  /** The set degraded, when there was one. */
  set: z.string().optional(),
  flags: z
    .array(
      z.object({
        name: z.string().min(1),
        enabled: z.boolean(),
        /** Local provider: whether an override was in force (restore drops overrides that were not there). */
        overridden: z.boolean().optional(),
        /** Unleash: the strategy names in that environment, for the record (switching never changes them). */
        strategies: z.array(z.string()).optional(),
      }),
    )
    .min(1),
});
export type FlagsSnapshotData = z.infer<typeof FlagsSnapshotDataSchema>;

/** What `applyFlagPlan` did: the plan, the steps done, and the first failure with the steps not done. */
export interface FlagApply {
  plan: FlagPlan;
  /** true unless dry-run; false also when nothing needed changing. */
  applied: boolean;
  dryRun: boolean;
  switched: FlagStep[];
  notSwitched: FlagStep[];
  /** The error that stopped the run part way; undefined when every step went through. */
  failure?: { flag: string; code: string; message: string };
}

// ---------------------------------------------------------------- list

export interface ListFlagsOptions {
  provider: FlagsProvider;
  /** Only this environment (default: all of them). */
  environment?: string | undefined;
  /** Named flag sets (config flags.sets): each flag shows the sets it belongs to. */
  sets: Readonly<Record<string, readonly string[]>>;
}

export interface FlagListing {
  provider: FlagsProviderKind;
  target: string;
  project: string | undefined;
  environments: string[];
  flags: { name: string; description: string; environments: Record<string, boolean>; sets: string[] }[];
  /** Names in a set that the provider does not have (a degrade of that set would be refused). */
  missingFromSets: { set: string; flag: string }[];
}

export async function listFlags(opts: ListFlagsOptions): Promise<FlagListing> {
  const all = await opts.provider.list();
  const envs = opts.environment !== undefined ? [await checkEnvironment(opts.provider, opts.environment)] : await opts.provider.environments();
  const setsOf = (name: string) => Object.entries(opts.sets).filter(([, flags]) => flags.includes(name)).map(([set]) => set);
  return {
    provider: opts.provider.kind,
    target: opts.provider.target,
    project: opts.provider.project,
    environments: envs,
    flags: all.map((f) => ({
      name: f.name,
      description: f.description,
      environments: Object.fromEntries(envs.filter((e) => f.environments[e] !== undefined).map((e) => [e, f.environments[e]!.enabled])),
      sets: setsOf(f.name),
    })),
    missingFromSets: Object.entries(opts.sets).flatMap(([set, flags]) => flags.filter((n) => !all.some((f) => f.name === n)).map((flag) => ({ set, flag }))),
  };
}

// ---------------------------------------------------------------- switch one flag

export interface SwitchFlagOptions {
  provider: FlagsProvider;
  name: string;
  enabled: boolean;
  environment?: string | undefined;
  dryRun: boolean;
  reporter: Reporter;
}

/** `flags on|off <name>`: plan, confirm, switch. */
export async function switchFlag(opts: SwitchFlagOptions): Promise<FlagApply> {
  const environment = await checkEnvironment(opts.provider, opts.environment ?? opts.provider.environment);
  const observed = await opts.provider.list();
  requireFlags(opts.provider, observed, [opts.name], environment);
  const plan = planFlags(observed, [{ name: opts.name, enabled: opts.enabled, ...(opts.provider.kind === 'local' ? { overridden: true } : {}) }], { provider: opts.provider, environment });
  return applyFlagPlan(plan, opts.provider, { dryRun: opts.dryRun, reporter: opts.reporter, question: `Switch ${opts.name} ${opts.enabled ? 'on' : 'off'} in ${where(plan)}?` });
}

// ---------------------------------------------------------------- degrade

export interface DegradeOptions {
  provider: FlagsProvider;
  /** The set's name (for messages and the snapshot). */
  setName: string;
  /** Named flag sets (config flags.sets). */
  sets: Readonly<Record<string, readonly string[]>>;
  environment?: string | undefined;
  dryRun: boolean;
  reporter: Reporter;
  /** Working directory: the snapshot goes to `<cwd>/.surgectl/snapshots/` unless `snapshotDir`. */
  cwd: string;
  snapshotDir?: string | undefined;
  /** ms since the epoch. */
  now: () => number;
}

export interface DegradeResult extends FlagApply {
  set: string;
  /** The snapshot written before anything was switched; undefined on a dry run or when nothing changed. */
  snapshotPath: string | undefined;
}

/**
 * `flags degrade`: switches every flag of the set off in one operation. Every name is checked
 * before anything is switched; the state of every flag of the set is snapshotted first.
 */
export async function degradeFlags(opts: DegradeOptions): Promise<DegradeResult> {
  const names = resolveSet(opts.sets, opts.setName);
  const environment = await checkEnvironment(opts.provider, opts.environment ?? opts.provider.environment);
  const observed = await opts.provider.list();
  requireFlags(opts.provider, observed, names, environment, opts.setName);
  const plan = planFlags(
    observed,
    names.map((name) => ({ name, enabled: false })),
    { provider: opts.provider, environment },
  );
  const base = { set: opts.setName, snapshotPath: undefined };
  if (opts.dryRun || changes(plan).length === 0) return { ...base, ...(await applyFlagPlan(plan, opts.provider, { dryRun: opts.dryRun, reporter: opts.reporter, question: '' })) };

  const question = `Switch off ${changes(plan).length} flag(s) of set '${opts.setName}' in ${where(plan)} (${changes(plan).map((s) => s.name).join(', ')})?`;
  if (!(await opts.reporter.confirm(question, false))) throw declined();
  const snapshot: FlagsSnapshotData = {
    provider: opts.provider.kind,
    target: opts.provider.target,
    ...(opts.provider.project !== undefined ? { project: opts.provider.project } : {}),
    environment,
    set: opts.setName,
    flags: await Promise.all(
      names.map(async (name) => {
        const state = observed.find((f) => f.name === name)!.environments[environment]!;
        const strategies = opts.provider.kind === 'unleash' ? await opts.provider.strategies(name, environment) : undefined;
        return { name, enabled: state.enabled, ...(state.overridden !== undefined ? { overridden: state.overridden } : {}), ...(strategies ? { strategies } : {}) };
      }),
    ),
  };
  const snapshotPath = await writeSnapshot({
    cwd: opts.cwd,
    ...(opts.snapshotDir !== undefined ? { dir: opts.snapshotDir } : {}),
    kind: FLAGS_SNAPSHOT_KIND,
    source: `flag set '${opts.setName}' of ${where(plan)}`,
    data: snapshot,
    now: opts.now(),
    prefix: 'flags',
  });
  opts.reporter.notify(`Snapshot of ${names.length} flag(s) written to ${snapshotPath}`, 'info');
  return { ...base, snapshotPath, ...(await applyFlagPlan(plan, opts.provider, { dryRun: false, reporter: opts.reporter, question: undefined })) };
}

// ---------------------------------------------------------------- restore

export interface RestoreOptions {
  snapshotPath: string;
  /** Builds the provider the snapshot was taken from (its kind, URL and project). */
  connect: (from: { provider: FlagsProviderKind; target: string; project: string | undefined; environment: string }) => Promise<FlagsProvider>;
  dryRun: boolean;
  reporter: Reporter;
}

export interface RestoreResult extends FlagApply {
  snapshotPath: string;
  /** Unleash: flags whose strategies differ from the snapshot's (restore switches flags, never strategies). */
  strategiesChanged: string[];
}

/** `flags restore <snapshot>`: puts every flag of the snapshot back exactly as it was; a rerun is a no-op. */
export async function restoreFlags(opts: RestoreOptions): Promise<RestoreResult> {
  const snap = await readSnapshot(opts.snapshotPath, FLAGS_SNAPSHOT_KIND, FlagsSnapshotDataSchema, 'SRG_FLAGS_SNAPSHOT');
  const d = snap.data;
  const provider = await opts.connect({ provider: d.provider, target: d.target, project: d.project, environment: d.environment });
  const observed = await provider.list();
  requireFlags(provider, observed, d.flags.map((f) => f.name), d.environment);
  const desired: DesiredFlag[] = d.flags.map((f) => ({ name: f.name, enabled: f.enabled, ...(f.overridden !== undefined ? { overridden: f.overridden } : {}) }));
  const plan = planFlags(observed, desired, { provider, environment: d.environment });
  const strategiesChanged: string[] = [];
  if (provider.kind === 'unleash') {
    for (const f of d.flags) {
      if (f.strategies === undefined) continue;
      const now = await provider.strategies(f.name, d.environment);
      if (now.join(',') !== f.strategies.join(',')) strategiesChanged.push(f.name);
    }
    if (strategiesChanged.length > 0) opts.reporter.notify(`Strategies changed since the snapshot (left as they are): ${strategiesChanged.join(', ')}`, 'warn');
  }
  const applied = await applyFlagPlan(plan, provider, { dryRun: opts.dryRun, reporter: opts.reporter, question: `Restore ${changes(plan).length} flag(s) in ${where(plan)} from ${snap.path}?` });
  return { ...applied, snapshotPath: snap.path, strategiesChanged };
}

// ---------------------------------------------------------------- verify

export interface VerifyOptions {
  /** The flag server whose current values the stacks must be using. */
  provider: FlagsProvider;
  setName: string;
  sets: Readonly<Record<string, readonly string[]>>;
  environment?: string | undefined;
  /** The running stacks (instances) to ask, by GET /admin/flags. */
  stacks: readonly StackAdminPort[];
  /** How long to wait for every instance, ms. */
  timeoutMs: number;
  /** Pause between polls, ms. Default 500. */
  intervalMs?: number;
  now: () => number;
  signal?: AbortSignal | undefined;
}

/** One instance's answer at the last poll. */
export interface InstanceReport {
  url: string;
  /** The stack's own id (GET /admin/flags `instance`); undefined when it did not answer. */
  instance: string | undefined;
  source: 'local' | 'unleash' | undefined;
  refreshedAt: string | null | undefined;
  /** Flags whose value in use differs from the flag server's (`actual` null: the stack does not know the flag). */
  stale: { name: string; expected: boolean; actual: boolean | null }[];
  /** Why it is not up to date beyond stale values: no answer, or it reads another source. */
  problem: string | undefined;
  upToDate: boolean;
}

export interface VerifyResult {
  provider: FlagsProviderKind;
  target: string;
  environment: string;
  set: string;
  expected: { name: string; enabled: boolean }[];
  instances: InstanceReport[];
  propagated: boolean;
  /** How long it waited, ms. */
  waitedMs: number;
  timeoutMs: number;
}

/**
 * `flags verify`: asks each running stack which flag values it is using, and polls until every one
 * uses the flag server's values for the set, or `timeoutMs` passes.
 */
export async function verifyFlags(opts: VerifyOptions): Promise<VerifyResult> {
  const names = resolveSet(opts.sets, opts.setName);
  const environment = await checkEnvironment(opts.provider, opts.environment ?? opts.provider.environment);
  const observed = await opts.provider.list();
  requireFlags(opts.provider, observed, names, environment, opts.setName);
  const expected = names.map((name) => ({ name, enabled: observed.find((f) => f.name === name)!.environments[environment]!.enabled }));
  const started = opts.now();
  const interval = opts.intervalMs ?? 500;
  for (;;) {
    const instances = await Promise.all(opts.stacks.map((s) => inspect(s, opts.provider.kind, expected, opts.signal)));
    const waited = opts.now() - started;
    if (instances.every((i) => i.upToDate) || waited >= opts.timeoutMs || opts.signal?.aborted) {
      return { provider: opts.provider.kind, target: opts.provider.target, environment, set: opts.setName, expected, instances, propagated: instances.every((i) => i.upToDate), waitedMs: waited, timeoutMs: opts.timeoutMs };
    }
    await pause(Math.min(interval, opts.timeoutMs - waited), opts.signal);
  }
}

async function inspect(stack: StackAdminPort, kind: FlagsProviderKind, expected: readonly { name: string; enabled: boolean }[], signal: AbortSignal | undefined): Promise<InstanceReport> {
  try {
    const list = await stack.flagList(signal ? { signal } : {});
    const stale = expected
      .map((e) => ({ name: e.name, expected: e.enabled, actual: list.flags.find((f) => f.name === e.name)?.enabled ?? null }))
      .filter((s) => s.actual !== s.expected);
    const problem = list.source !== kind ? `it reads its flags from ${list.source === 'local' ? 'its own settings' : 'Unleash'}, not from the ${kind === 'unleash' ? 'Unleash server' : 'local admin API'} being verified` : undefined;
    return { url: stack.url, instance: list.instance, source: list.source, refreshedAt: list.refreshedAt, stale, problem, upToDate: stale.length === 0 && problem === undefined };
  } catch (err) {
    if (isSurgeError(err) && err.code === 'SRG_CLI_INTERRUPTED') throw err;
    return { url: stack.url, instance: undefined, source: undefined, refreshedAt: undefined, stale: [], problem: `no answer: ${(err as Error).message}`, upToDate: false };
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

// ---------------------------------------------------------------- shared

/** Applies the plan's changing steps in order; stops at the first failure and says what was and was not switched. */
export async function applyFlagPlan(plan: FlagPlan, provider: FlagsProvider, o: { dryRun: boolean; reporter: Reporter; question: string | undefined }): Promise<FlagApply> {
  const todo = changes(plan);
  if (o.dryRun || todo.length === 0) return { plan, applied: false, dryRun: o.dryRun, switched: [], notSwitched: o.dryRun ? todo : [] };
  if (o.question !== undefined && !(await o.reporter.confirm(o.question, false))) throw declined();
  const switched: FlagStep[] = [];
  for (const [i, step] of todo.entries()) {
    try {
      if (step.action === 'reset') await provider.reset(step.name);
      else await provider.set(step.name, plan.environment, step.to);
    } catch (err) {
      const e = err as Error & { code?: string };
      return { plan, applied: true, dryRun: false, switched, notSwitched: todo.slice(i), failure: { flag: step.name, code: isSurgeError(err) ? err.code : 'SRG_CLI_INTERNAL', message: e.message } };
    }
    switched.push(step);
    o.reporter.notify(`${step.name}: ${onOff(step.from)} -> ${onOff(step.to)}${step.action === 'reset' ? ' (override dropped)' : ''} in ${plan.environment}`, 'progress');
  }
  return { plan, applied: true, dryRun: false, switched, notSwitched: [] };
}

export const onOff = (v: boolean): string => (v ? 'on' : 'off');

/** `Unleash http://… project default, environment production` / `the stack at http://…`. */
export function where(plan: Pick<FlagPlan, 'provider' | 'target' | 'project' | 'environment'>): string {
  return plan.provider === 'unleash' ? `Unleash ${plan.target} (project ${plan.project}, environment ${plan.environment})` : `the stack at ${plan.target}`;
}

function declined(): SurgeError {
  return new SurgeError('SRG_CLI_ABORTED', 'Nothing switched: the operator declined', { hint: 'Use --dry-run to see the plan.' });
}

/** The flags of a named set (flags.sets), or SRG_FLAGS_SET naming the sets there are. */
export function resolveSet(sets: Readonly<Record<string, readonly string[]>>, name: string): readonly string[] {
  const names = sets[name];
  if (names === undefined || names.length === 0) {
    throw new SurgeError('SRG_FLAGS_SET', `No flag set named '${name}' in surgectl.yaml (flags.sets)`, {
      hint: `Sets defined: ${Object.keys(sets).join(', ') || '(none)'}. Add one, e.g. flags.sets.${name}: [recommendations, loyalty-points].`,
    });
  }
  return names;
}

async function checkEnvironment(provider: FlagsProvider, environment: string): Promise<string> {
  const known = await provider.environments();
  if (!known.includes(environment)) {
    throw new SurgeError('SRG_FLAGS_UNKNOWN', `${provider.kind === 'unleash' ? `The Unleash server at ${provider.target}` : `The local provider (the stack at ${provider.target})`} has no environment '${environment}'`, {
      hint: `Environments: ${known.join(', ')}. Pass --env${provider.kind === 'local' ? ' only with --provider unleash' : ' or set flags.environment'}.`,
    });
  }
  return environment;
}

/** Every name must exist before anything is switched: one error naming all that do not. */
function requireFlags(provider: FlagsProvider, observed: readonly FlagInfo[], names: readonly string[], environment: string, set?: string): void {
  const missing = missingFlags(observed, names, environment);
  if (missing.length === 0) return;
  const at = provider.kind === 'unleash' ? `project '${provider.project}' of the Unleash server at ${provider.target}` : `the stack at ${provider.target}`;
  throw new SurgeError('SRG_FLAGS_UNKNOWN', `${set !== undefined ? `Flag set '${set}' names` : 'No such flag:'} ${missing.map((m) => `'${m}'`).join(', ')}${set !== undefined ? `, which ${missing.length === 1 ? 'does' : 'do'} not exist` : ''} in ${at}; nothing was switched`, {
    hint: `Flags there: ${observed.map((f) => f.name).join(', ') || '(none)'}.`,
  });
}

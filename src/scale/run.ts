import type { ScheduledAction } from '../adapters/aws-autoscaling/port.js';
import { SurgeError, type ErrorCode } from '../errors.js';
import type { Reporter } from '../reporter.js';
import { readSnapshot, writeSnapshot } from '../util/snapshot-files.js';
import { applySteps, readReadiness, waitReady, type ApplyResult, type ReadinessRow } from './apply.js';
import { connections, observeServices, readObject, type Connections } from './observe.js';
import { readScalePlanFile, type PlannedService, type ScaleTarget } from './plan-file.js';
import { desiredFromPlan, desiredFromSnapshot, planScale } from './plan.js';
import { nameOf, ScaleSnapshotSchema, SNAPSHOT_KIND, type Change, type ObservedObject, type ScaleConnect, type ScalePlan, type ScaleSnapshot } from './types.js';

/** What every `scale` entry point needs. */
export interface ScaleRunOptions {
  /** The ScalePlan file. */
  file: string;
  cwd: string;
  /** `scale.targets` of surgectl.yaml, for services the plan gives no targets. */
  configTargets?: Readonly<Record<string, readonly ScaleTarget[]>>;
  connect: ScaleConnect;
  reporter: Reporter;
  signal?: AbortSignal;
  /** Epoch ms. */
  now: () => number;
}

/** `scale plan`: the diff, the warnings and blockers; nothing changes. */
export interface ScalePlanReport {
  plan: string;
  file: string;
  changes: Change[];
  warnings: string[];
  blockers: string[];
  /** The exact API calls an apply would make. */
  calls: string[];
}

async function observePlan(opts: ScaleRunOptions): Promise<{ name: string; path: string; window?: { start: number; end: number }; observed: ObservedObject[]; plan: ScalePlan; conn: Connections }> {
  const file = await readScalePlanFile(opts.file.startsWith('/') ? opts.file : `${opts.cwd}/${opts.file}`, opts.configTargets);
  const conn = connections(opts.connect);
  const observed = await observeServices(file.services, conn);
  return { name: file.name, path: file.path, ...(file.window ? { window: file.window } : {}), observed, plan: planScale(observed, desiredFromPlan(file.services, observed)), conn };
}

/** Reads the plan and every object it names (in parallel) and returns what an apply would change. */
export async function planFromFile(opts: ScaleRunOptions): Promise<ScalePlanReport> {
  const { name, path, plan } = await observePlan(opts);
  return { plan: name, file: path, changes: plan.changes, warnings: plan.warnings, blockers: plan.blockers, calls: plan.calls };
}

/** Options of {@link applyScale}. */
export interface ApplyScaleOptions extends ScaleRunOptions {
  /** Show the calls, change nothing. */
  dryRun: boolean;
  /** How long to wait for readiness after the writes, ms; 0 = do not wait. */
  timeoutMs: number;
  /** Pause between readiness reads, ms. Default 2000. */
  pollMs?: number;
  /** Each readiness round (a progress display). */
  onProgress?: (rows: ReadinessRow[]) => void;
}

/** `scale apply`: what was planned, done, and how ready the targets became. */
export interface ApplyScaleReport extends ScalePlanReport {
  dryRun: boolean;
  /** The snapshot file written before the first write (absolute path); absent when nothing was changed. */
  snapshot?: string;
  applied: string[];
  failed?: ApplyResult['failed'];
  notApplied: string[];
  interrupted: boolean;
  readiness: ReadinessRow[];
  ready: boolean;
  waitedMs: number;
}

/**
 * Plan, confirm, snapshot, apply in order, then wait until the targets are ready. A rerun finds
 * nothing to change (no snapshot, no write) and only checks readiness. A failure part way stops
 * and says what was applied; the snapshot still restores it.
 */
export async function applyScale(opts: ApplyScaleOptions): Promise<ApplyScaleReport> {
  const { name, path, observed, plan, conn } = await observePlan(opts);
  const base: ApplyScaleReport = {
    plan: name,
    file: path,
    changes: plan.changes,
    warnings: plan.warnings,
    blockers: plan.blockers,
    calls: plan.calls,
    dryRun: opts.dryRun,
    applied: [],
    notApplied: plan.calls,
    interrupted: false,
    readiness: [],
    ready: false,
    waitedMs: 0,
  };
  if (opts.dryRun || plan.blockers.length > 0) return base;
  let snapshot: string | undefined;
  let applied: ApplyResult = { applied: [], notApplied: [], interrupted: false };
  if (plan.steps.length > 0) {
    showPlan(opts.reporter, name, plan);
    const yes = await opts.reporter.confirm(`Apply ${plan.changes.length} change(s) of plan ${name}?`, false);
    if (!yes) throw new SurgeError('SRG_CLI_ABORTED', 'Not applied: the confirmation was declined; nothing was changed');
    snapshot = await saveSnapshot(opts, name, observed, []);
    opts.reporter.notify(`snapshot of the live state: ${snapshot} (surgectl scale restore ${snapshot})`, 'success');
    applied = await applySteps(plan.steps, conn, { ...(opts.signal ? { signal: opts.signal } : {}), onStep: (call) => opts.reporter.notify(`applied ${call}`, 'progress') });
  } else {
    opts.reporter.notify(`nothing to change: every object of plan ${name} is already at its target`, 'success');
  }
  const report: ApplyScaleReport = { ...base, ...(snapshot ? { snapshot } : {}), applied: applied.applied, notApplied: applied.notApplied, interrupted: applied.interrupted, ...(applied.failed ? { failed: applied.failed } : {}) };
  if (applied.failed || applied.interrupted || opts.timeoutMs <= 0) {
    report.readiness = await readReadiness(plan.objects, conn);
    report.ready = report.readiness.every((r) => r.done);
    return report;
  }
  const waited = await waitReady(plan.objects, conn, {
    timeoutMs: opts.timeoutMs,
    pollMs: opts.pollMs ?? 2000,
    now: opts.now,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  return { ...report, readiness: waited.rows, ready: waited.ready, waitedMs: waited.waitedMs, interrupted: opts.signal?.aborted === true };
}

/** `scale status`: ready against target for every object of the plan. */
export interface ScaleStatusReport {
  plan: string;
  rows: ReadinessRow[];
  ready: boolean;
  watched: boolean;
}

/** One read of readiness, or with `watchTimeoutMs` a poll until everything is ready or the time is up. */
export async function scaleStatus(opts: ScaleRunOptions & { watchTimeoutMs?: number; pollMs?: number; onProgress?: (rows: ReadinessRow[]) => void }): Promise<ScaleStatusReport> {
  const { name, plan, conn } = await observePlan(opts);
  if (opts.watchTimeoutMs === undefined) {
    const rows = await readReadiness(plan.objects, conn);
    return { plan: name, rows, ready: rows.every((r) => r.done), watched: false };
  }
  const waited = await waitReady(plan.objects, conn, {
    timeoutMs: opts.watchTimeoutMs,
    pollMs: opts.pollMs ?? 2000,
    now: opts.now,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  return { plan: name, rows: waited.rows, ready: waited.ready, watched: true };
}

/** Options of {@link restoreScale}. */
export interface RestoreScaleOptions {
  snapshot: string;
  connect: ScaleConnect;
  reporter: Reporter;
  dryRun: boolean;
  signal?: AbortSignal;
}

/** `scale restore`: what was put back and what is still not as the snapshot had it. */
export interface RestoreScaleReport {
  snapshot: string;
  plan: string;
  dryRun: boolean;
  changes: Change[];
  calls: string[];
  applied: string[];
  failed?: ApplyResult['failed'];
  notApplied: string[];
  /** Objects (or actions) not back as they were; empty after a complete restore. */
  problems: string[];
}

/**
 * Puts every object of a snapshot back exactly: a restore is planScale(now, snapshot) applied,
 * plus the scheduled actions `scale schedule` created deleted (or the one it replaced put back).
 * Verified by reading everything again. Running it twice is a no-op the second time.
 */
export async function restoreScale(opts: RestoreScaleOptions): Promise<RestoreScaleReport> {
  const snap = await readSnapshot(opts.snapshot, SNAPSHOT_KIND, ScaleSnapshotSchema, 'SRG_SCALE_SNAPSHOT');
  const conn = connections(opts.connect);
  const data: ScaleSnapshot = snap.data;
  const problems: string[] = [];
  const now = await Promise.all(data.objects.map(async (o) => ({ o, cur: await readObject(o.ref, conn) })));
  const present: ObservedObject[] = [];
  for (const { o, cur } of now) {
    if (cur) present.push({ ...o, fields: cur.fields, ready: cur.ready });
    else problems.push(`${o.ref.kind} ${nameOf(o.ref)} no longer exists; it cannot be put back`);
  }
  const plan = planScale(present, desiredFromSnapshot(data.objects.filter((o) => present.some((p) => p.key === o.key))));
  const actionCalls = data.createdActions.map((a) => {
    const before = previousAction(data, a);
    return before ? `[aws ${a.region}] PutScheduledUpdateGroupAction ${JSON.stringify(before)}` : `[aws ${a.region}] DeleteScheduledAction {"AutoScalingGroupName":"${a.groupName}","ScheduledActionName":"${a.name}"}`;
  });
  const report: RestoreScaleReport = { snapshot: snap.path, plan: data.plan, dryRun: opts.dryRun, changes: plan.changes, calls: [...plan.calls, ...actionCalls], applied: [], notApplied: [], problems };
  if (opts.dryRun) return report;
  if (plan.steps.length > 0 || actionCalls.length > 0) {
    showPlan(opts.reporter, `restore of ${data.plan}`, plan);
    const yes = await opts.reporter.confirm(`Restore ${plan.changes.length} field(s) and ${actionCalls.length} scheduled action(s) from ${snap.path}?`, false);
    if (!yes) throw new SurgeError('SRG_CLI_ABORTED', 'Not restored: the confirmation was declined; nothing was changed');
  }
  const applied = await applySteps(plan.steps, conn, opts.signal ? { signal: opts.signal } : {});
  report.applied = applied.applied;
  report.notApplied = applied.notApplied;
  if (applied.failed) report.failed = applied.failed;
  for (const [i, a] of data.createdActions.entries()) {
    try {
      const aws = await conn.autoScaling(a.region);
      const before = previousAction(data, a);
      if (before) await aws.putScheduledAction(before);
      else await aws.deleteScheduledAction(a.groupName, a.name);
      report.applied.push(actionCalls[i] as string);
    } catch (err) {
      problems.push(`scheduled action ${a.name} of ${a.groupName}: ${(err as Error).message}`);
    }
  }
  // Verify: read everything again and compare with the snapshot.
  const desired = desiredFromSnapshot(data.objects);
  for (const o of present) {
    const cur = await readObject(o.ref, conn).catch((err: unknown) => {
      problems.push(`${o.ref.kind} ${nameOf(o.ref)}: cannot read it back: ${(err as Error).message}`);
      return undefined;
    });
    const want = desired.find((d) => d.key === o.key)?.fields ?? {};
    for (const [f, t] of Object.entries(want)) {
      if (cur && cur.fields[f] !== t.value) problems.push(`${o.ref.kind} ${nameOf(o.ref)}: ${f} is ${cur.fields[f]}, the snapshot had ${t.value}`);
    }
  }
  return report;
}

function previousAction(data: ScaleSnapshot, a: ScaleSnapshot['createdActions'][number]): ScheduledAction | undefined {
  const group = data.objects.find((o) => o.ref.kind === 'AutoScalingGroup' && o.ref.name === a.groupName && o.ref.region === a.region);
  return group?.scheduledActions?.find((s) => s.name === a.name);
}

/** Options of {@link scheduleScale}. */
export interface ScheduleScaleOptions extends ScaleRunOptions {
  dryRun: boolean;
}

/** `scale schedule`: the scheduled actions put (or already in place) per Auto Scaling group. */
export interface ScheduleScaleReport {
  plan: string;
  dryRun: boolean;
  snapshot?: string;
  actions: { region: string; group: string; name: string; at: string; minSize?: number; desiredCapacity?: number; maxSize?: number; state: 'created' | 'unchanged' | 'planned' | 'failed' }[];
  calls: string[];
  /** Targets that are not Auto Scaling groups (use `scale apply` for them). */
  skipped: string[];
  warnings: string[];
  blockers: string[];
  problems: string[];
}

/**
 * For every Auto Scaling group of the plan, a scheduled action at `spec.window.start` raising it
 * to the plan's sizes and one at `spec.window.end` putting back the sizes read now. Names are
 * `surgectl-<plan>-start|end`, so a rerun replaces nothing that is already right.
 */
export async function scheduleScale(opts: ScheduleScaleOptions): Promise<ScheduleScaleReport> {
  const { name, window, observed, plan, conn } = await observePlan(opts);
  if (!window) throw new SurgeError('SRG_SCALE_PLAN', `${opts.file}: spec.window (start and end) is needed to schedule`, { hint: '`surgectl capacity plan` writes it; or add spec.window: {start, end} in ISO-8601.' });
  const blockers = [...plan.blockers];
  if (window.start <= opts.now()) blockers.push(`spec.window.start ${new Date(window.start).toISOString()} is in the past: use \`surgectl scale apply\` now, or move the window`);
  const groups = plan.objects.filter((o) => o.ref.kind === 'AutoScalingGroup');
  const report: ScheduleScaleReport = {
    plan: name,
    dryRun: opts.dryRun,
    actions: [],
    calls: [],
    skipped: plan.objects.filter((o) => o.ref.kind !== 'AutoScalingGroup').map((o) => `${o.ref.kind} ${nameOf(o.ref)}`),
    warnings: plan.warnings,
    blockers,
    problems: [],
  };
  if (report.skipped.length > 0) report.warnings.push(`scheduled actions exist for Auto Scaling groups only; ${report.skipped.length} other target(s) need \`surgectl scale apply\` at the window start`);
  if (groups.length === 0) blockers.push('the plan has no AutoScalingGroup targets to schedule');
  if (blockers.length > 0) return report;
  const todo: { region: string; action: ScheduledAction }[] = [];
  for (const g of groups) {
    if (g.ref.kind !== 'AutoScalingGroup') continue;
    const existing = observed.find((o) => o.key === g.key)?.scheduledActions ?? [];
    const mk = (suffix: string, at: number, sizes: Record<string, number>): ScheduledAction => ({
      groupName: g.ref.name,
      name: `surgectl-${name}-${suffix}`,
      startTime: at,
      minSize: sizes.minSize ?? 0,
      desiredCapacity: sizes.desiredCapacity ?? 0,
      maxSize: sizes.maxSize ?? 0,
    });
    for (const action of [mk('start', window.start, g.target), mk('end', window.end, g.current)]) {
      const same = existing.find((e) => e.name === action.name && e.startTime === action.startTime && e.minSize === action.minSize && e.desiredCapacity === action.desiredCapacity && e.maxSize === action.maxSize);
      const row = { region: g.ref.region, group: g.ref.name, name: action.name, at: new Date(action.startTime).toISOString(), minSize: action.minSize, desiredCapacity: action.desiredCapacity, maxSize: action.maxSize };
      if (same) {
        report.actions.push({ ...row, state: 'unchanged' });
        continue;
      }
      report.actions.push({ ...row, state: 'planned' });
      todo.push({ region: g.ref.region, action });
      report.calls.push(
        `[aws ${g.ref.region}] PutScheduledUpdateGroupAction ${JSON.stringify({ AutoScalingGroupName: action.groupName, ScheduledActionName: action.name, StartTime: row.at, MinSize: action.minSize, DesiredCapacity: action.desiredCapacity, MaxSize: action.maxSize })}`,
      );
    }
  }
  if (opts.dryRun || todo.length === 0) return report;
  for (const line of report.calls) opts.reporter.notify(`  ${line}`, 'info');
  const yes = await opts.reporter.confirm(`Put ${todo.length} scheduled action(s) for plan ${name}?`, false);
  if (!yes) throw new SurgeError('SRG_CLI_ABORTED', 'Not scheduled: the confirmation was declined; nothing was changed');
  const groupsObserved = observed.filter((o) => o.ref.kind === 'AutoScalingGroup');
  report.snapshot = await saveSnapshot(
    opts,
    name,
    groupsObserved,
    todo.map((t) => ({ region: t.region, groupName: t.action.groupName, name: t.action.name })),
  );
  opts.reporter.notify(`snapshot of the live state: ${report.snapshot} (surgectl scale restore ${report.snapshot})`, 'success');
  for (const t of todo) {
    const row = report.actions.find((a) => a.name === t.action.name && a.group === t.action.groupName && a.state === 'planned');
    try {
      await (await conn.autoScaling(t.region)).putScheduledAction(t.action);
      if (row) row.state = 'created';
    } catch (err) {
      if (row) row.state = 'failed';
      report.problems.push(`${t.action.name} on ${t.action.groupName}: ${(err as Error).message}`);
      break;
    }
  }
  return report;
}

function showPlan(reporter: Reporter, name: string, plan: ScalePlan): void {
  reporter.notify(`plan ${name}: ${plan.changes.length} change(s)`, 'info');
  for (const c of plan.changes) reporter.notify(`  ${c.kind} ${c.name} ${c.field} ${c.current} -> ${c.desired}  (${c.target})`, 'info');
  for (const w of plan.warnings) reporter.notify(w, 'warn');
}

async function saveSnapshot(opts: ScaleRunOptions, plan: string, objects: ObservedObject[], createdActions: ScaleSnapshot['createdActions']): Promise<string> {
  const data: ScaleSnapshot = { plan, objects, createdActions };
  return writeSnapshot({ cwd: opts.cwd, kind: SNAPSHOT_KIND, source: `plan ${plan} (${opts.file})`, data, now: opts.now(), prefix: 'scale' });
}

/**
 * Observe -> plan -> apply for services whose changes need no snapshot or question: the
 * rehearsal's own stack, which it started and puts back itself. The same engine as `scale apply`.
 * Returns what was read (the values to go back to) and what was done.
 */
export async function reconcileServices(
  services: readonly PlannedService[],
  connect: ScaleConnect,
  opts: { signal?: AbortSignal; onObserved?: (observed: readonly ObservedObject[]) => void } = {},
): Promise<{ observed: ObservedObject[]; plan: ScalePlan; result: ApplyResult }> {
  const conn = connections(connect);
  const observed = await observeServices(services, conn);
  // The caller keeps what it must go back to before the first write, in case a write fails.
  opts.onObserved?.(observed);
  const plan = planScale(observed, desiredFromPlan(services, observed));
  if (plan.blockers.length > 0) throw new SurgeError('SRG_SCALE_TARGET', plan.blockers.join('; '));
  const result = await applySteps(plan.steps, conn, opts.signal ? { signal: opts.signal } : {});
  if (result.failed) throw new SurgeError((result.failed.code as ErrorCode | undefined) ?? 'SRG_SCALE_PARTIAL', `${result.failed.call} failed: ${result.failed.error}`);
  return { observed, plan, result };
}

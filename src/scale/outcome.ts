import { SurgeError } from '../errors.js';
import type { ApplyScaleReport, RestoreScaleReport, ScalePlanReport, ScaleStatusReport, ScheduleScaleReport } from './run.js';

/** Blockers stop everything before any change: SRG_SCALE_TARGET (exit 2). */
function blocked(r: { blockers: string[] }): SurgeError | undefined {
  if (r.blockers.length === 0) return undefined;
  return new SurgeError('SRG_SCALE_TARGET', r.blockers.length === 1 ? `${r.blockers[0]}; nothing was changed` : `${r.blockers.length} problems stop the plan; nothing was changed`, {
    details: r.blockers.length === 1 ? [] : r.blockers,
  });
}

export function planOutcome(r: ScalePlanReport): SurgeError | undefined {
  return blocked(r);
}

/** Blocked (2), stopped part way (2; 130 when interrupted), or not ready in time (20). */
export function applyOutcome(r: ApplyScaleReport): SurgeError | undefined {
  if (r.dryRun) return blocked(r);
  const b = blocked(r);
  if (b) return b;
  const restore = r.snapshot ? `surgectl scale restore ${r.snapshot}` : undefined;
  if (r.failed || (r.interrupted && r.notApplied.length > 0)) {
    const what = r.failed ? `failed at ${r.failed.call}: ${r.failed.error}` : 'was interrupted';
    return new SurgeError(r.failed ? 'SRG_SCALE_PARTIAL' : 'SRG_CLI_INTERRUPTED', `The apply ${what}; ${r.applied.length} of ${r.applied.length + r.notApplied.length + (r.failed ? 1 : 0)} writes were applied`, {
      details: [...r.applied.map((c) => `applied:     ${c}`), ...(r.failed ? [`failed:      ${r.failed.call}`] : []), ...r.notApplied.map((c) => `not applied: ${c}`)],
      ...(restore ? { hint: `Put everything back with: ${restore}` } : {}),
    });
  }
  if (r.interrupted) return new SurgeError('SRG_CLI_INTERRUPTED', 'Interrupted while waiting for the targets to become ready; the changes are applied', restore ? { hint: `Undo with: ${restore}` } : {});
  if (!r.ready && r.readiness.length > 0) {
    const late = r.readiness.filter((x) => !x.done);
    return new SurgeError('SRG_SCALE_NOT_READY', `${late.length} target(s) not ready after ${Math.round(r.waitedMs / 1000)} s`, {
      details: late.map((x) => `${x.kind} ${x.name}: ${x.ready}/${x.target} ready`),
      hint: `Check with \`surgectl scale status -f ${r.file} --watch\`, raise --timeout, or undo: ${restore ?? 'nothing was changed by this run'}`,
    });
  }
  return undefined;
}

export function statusOutcome(r: ScaleStatusReport): SurgeError | undefined {
  if (!r.watched || r.ready) return undefined;
  const late = r.rows.filter((x) => !x.done);
  return new SurgeError('SRG_SCALE_NOT_READY', `${late.length} target(s) of plan ${r.plan} not ready within --timeout`, { details: late.map((x) => `${x.kind} ${x.name}: ${x.ready}/${x.target} ready`) });
}

export function restoreOutcome(r: RestoreScaleReport): SurgeError | undefined {
  if (r.dryRun) return undefined;
  if (!r.failed && r.problems.length === 0) return undefined;
  return new SurgeError('SRG_SCALE_RESTORE', `The restore from ${r.snapshot} did not complete: some objects are not back as they were`, {
    details: [...(r.failed ? [`failed: ${r.failed.call}: ${r.failed.error}`] : []), ...r.notApplied.map((c) => `not applied: ${c}`), ...r.problems],
    hint: `Fix the cause and run \`surgectl scale restore ${r.snapshot}\` again (it only changes what is still different).`,
  });
}

export function scheduleOutcome(r: ScheduleScaleReport): SurgeError | undefined {
  const b = blocked(r);
  if (b) return b;
  if (r.problems.length === 0) return undefined;
  return new SurgeError('SRG_SCALE_PARTIAL', `Scheduling stopped part way: ${r.actions.filter((a) => a.state === 'created').length} action(s) created`, {
    details: r.problems,
    ...(r.snapshot ? { hint: `Remove what was created with: surgectl scale restore ${r.snapshot}` } : {}),
  });
}

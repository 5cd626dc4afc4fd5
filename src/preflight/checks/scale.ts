import { isSurgeError } from '../../errors.js';
import { connections, observeServices } from '../../scale/observe.js';
import { readScalePlanFile } from '../../scale/plan-file.js';
import { desiredFromPlan, planScale } from '../../scale/plan.js';
import { nameOf, type DesiredObject, type PlannedObject, type ScalePlan } from '../../scale/types.js';
import type { CheckResult, PreflightOptions } from '../types.js';

type Found = Omit<CheckResult, 'name' | 'durationMs'>;

/** The live scale against the plan, read once for both checks with the scale engine's observe -> plan. */
export interface ScaleFindings {
  capacity: Found;
  autoscaling: Found;
}

/** Fields that hold capacity in place now (raised by `scale apply`). */
const CAPACITY_FIELDS = ['replicas', 'minReplicas', 'minSize', 'desiredCapacity', 'workers'];
/** Fields that bound how far autoscaling may go. */
const CEILING_FIELDS = ['maxReplicas', 'maxSize'];

/**
 * capacity: every object of the plan is at or above its target and that many units are ready.
 * autoscaling: every HPA's maxReplicas and ASG's MaxSize is at or above the plan, and the scale
 * engine sees nothing blocking an apply. Without a plan both are skipped.
 */
export async function checkScale(opts: PreflightOptions): Promise<ScaleFindings> {
  if (!opts.plan) {
    const skipped: Found = { verdict: 'skipped', evidence: ['no scale plan given'], fix: 'Pass --plan plan.yaml (from `surgectl capacity plan --out plan.yaml`).' };
    return { capacity: skipped, autoscaling: skipped };
  }
  let plan: ScalePlan;
  let planName: string;
  let wanted: Map<string, DesiredObject>;
  try {
    const file = await readScalePlanFile(opts.plan.startsWith('/') ? opts.plan : `${opts.cwd}/${opts.plan}`, opts.configTargets);
    planName = file.name;
    const observed = await observeServices(file.services, connections(opts.connect));
    const desired = desiredFromPlan(file.services, observed);
    wanted = new Map(desired.map((d) => [d.key, d]));
    plan = planScale(observed, desired);
  } catch (err) {
    if (!isSurgeError(err)) throw err;
    const failed: Found = { verdict: 'fail', evidence: [err.message, ...err.details], fix: err.hint ?? 'Check the plan and that its targets can be reached.' };
    return { capacity: failed, autoscaling: failed };
  }
  return { capacity: capacityOf(plan, wanted, planName, opts.plan), autoscaling: autoscalingOf(plan, wanted, planName, opts.plan) };
}

/** The plan's own values are compared, not the engine's targets (which never lower a maximum). */
const id = (o: PlannedObject) => `${o.ref.kind} ${nameOf(o.ref)}`;

function capacityOf(plan: ScalePlan, wanted: ReadonlyMap<string, DesiredObject>, name: string, file: string): Found {
  const evidence: string[] = [];
  let short = false;
  for (const o of plan.objects) {
    for (const f of CAPACITY_FIELDS) {
      const cur = o.current[f];
      const want = wanted.get(o.key)?.fields[f]?.value;
      if (cur === undefined || want === undefined) continue;
      if (cur < want) short = true;
      evidence.push(`${id(o)}: ${f} ${cur} ${cur < want ? '<' : '>='} ${want} (plan ${name})`);
    }
    if (o.readyAt !== undefined) {
      if (o.ready < o.readyAt) short = true;
      evidence.push(`${id(o)}: ${o.ready} ready ${o.ready < o.readyAt ? '<' : '>='} ${o.readyAt}`);
    }
  }
  // Quotas and GitOps controllers do not lower capacity now, but they would undo or stop a scale-up.
  const cautions = plan.warnings.filter((w) => w.includes('ResourceQuota') || w.includes('managed by'));
  evidence.push(...cautions);
  if (short) return { verdict: 'fail', evidence, fix: `Pre-scale: surgectl scale apply -f ${file}, then surgectl scale status -f ${file} --watch.` };
  if (cautions.length > 0) return { verdict: 'warn', evidence, fix: 'Raise the ResourceQuota, or pause the GitOps sync for the campaign.' };
  return { verdict: 'pass', evidence };
}

function autoscalingOf(plan: ScalePlan, wanted: ReadonlyMap<string, DesiredObject>, name: string, file: string): Found {
  const evidence: string[] = [];
  let low = false;
  for (const o of plan.objects) {
    for (const f of CEILING_FIELDS) {
      const cur = o.current[f];
      const want = wanted.get(o.key)?.fields[f]?.value;
      if (cur === undefined || want === undefined) continue;
      if (cur < want) low = true;
      evidence.push(`${id(o)}: ${f} ${cur} ${cur < want ? '<' : '>='} ${want} (plan ${name})`);
    }
  }
  evidence.push(...plan.blockers);
  if (evidence.length === 0) return { verdict: 'skipped', evidence: [`plan ${name} has no HorizontalPodAutoscaler or Auto Scaling group`], fix: 'Nothing autoscales in this plan; add HPA or AutoScalingGroup targets to check their ceilings.' };
  if (low || plan.blockers.length > 0) {
    return { verdict: 'fail', evidence, fix: `Raise the ceilings to the plan: surgectl scale apply -f ${file} raises an HPA's maxReplicas; for an Auto Scaling group give asg.max in the plan.` };
  }
  return { verdict: 'pass', evidence };
}

import type { PlannedService } from './plan-file.js';
import { nameOf, systemOf, type Change, type DesiredObject, type ObservedObject, type PlannedObject, type ScalePlan, type Step } from './types.js';

/**
 * What the plan's services want of each observed object. A workload under an HPA is pre-scaled by
 * raising the HPA's minReplicas (and maxReplicas when below), because the HPA would undo a
 * replicas patch; maxima (HPA, ASG) are raised, never lowered. An ASG without `asg` sizes gets
 * min = desired = replicas and keeps its MaxSize.
 */
export function desiredFromPlan(services: readonly PlannedService[], observed: readonly ObservedObject[]): DesiredObject[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  return observed.map((o): DesiredObject => {
    const s = byName.get(o.service);
    const n = s?.replicas ?? 0;
    switch (o.ref.kind) {
      case 'Deployment':
      case 'StatefulSet':
        return o.hpa ? { key: o.key, fields: {}, readyAt: n } : { key: o.key, fields: { replicas: { value: n } }, readyAt: n };
      case 'HorizontalPodAutoscaler':
        return { key: o.key, fields: { minReplicas: { value: Math.max(1, n) }, maxReplicas: { value: Math.max(1, n), atLeast: true } } };
      case 'AutoScalingGroup': {
        const asg = s?.asg;
        return asg
          ? { key: o.key, fields: { minSize: { value: asg.min }, desiredCapacity: { value: asg.desired }, maxSize: { value: asg.max, atLeast: true } }, readyAt: asg.desired }
          : { key: o.key, fields: { minSize: { value: n }, desiredCapacity: { value: n } }, readyAt: n };
      }
      case 'BundledStack':
        return { key: o.key, fields: { workers: { value: n } }, readyAt: n };
    }
  });
}

/**
 * What a restore wants: every field exactly as the snapshot read it. A workload under an HPA is
 * left to its HPA (whose bounds go back), as a replicas write would be undone anyway.
 */
export function desiredFromSnapshot(snapshot: readonly ObservedObject[]): DesiredObject[] {
  return snapshot.map((o) => ({
    key: o.key,
    fields: o.hpa ? {} : Object.fromEntries(Object.entries(o.fields).map(([f, value]) => [f, { value }])),
  }));
}

/** Systems in the order they are changed: instances take longest to arrive, so ASGs go first; the bundled stack last. */
const ORDER: Record<string, number> = { AutoScalingGroup: 0, HorizontalPodAutoscaler: 1, Deployment: 2, StatefulSet: 2, BundledStack: 3 };

/**
 * Pure: the changes that take `observed` to `desired`, in order, with the exact API calls, the
 * warnings (HPA max raised, quota too small, GitOps controller would revert) and the blockers
 * (desired above an ASG's MaxSize, min above desired). Objects already as wanted produce no step,
 * so planning again after an apply is empty.
 */
export function planScale(observed: readonly ObservedObject[], desired: readonly DesiredObject[]): ScalePlan {
  const want = new Map(desired.map((d) => [d.key, d]));
  const objects: PlannedObject[] = [];
  const changes: Change[] = [];
  const steps: Step[] = [];
  const warnings: string[] = [];
  const blockers: string[] = [];
  const sorted = [...observed].sort((a, b) => (ORDER[a.ref.kind] ?? 9) - (ORDER[b.ref.kind] ?? 9));
  const id = (o: ObservedObject) => `${o.ref.kind} ${nameOf(o.ref)}`;

  for (const o of sorted) {
    const d = want.get(o.key);
    const target: Record<string, number> = { ...o.fields };
    for (const [field, t] of Object.entries(d?.fields ?? {})) {
      const current = o.fields[field];
      target[field] = t.atLeast && current !== undefined ? Math.max(current, t.value) : t.value;
    }
    objects.push({ key: o.key, ref: o.ref, service: o.service, current: { ...o.fields }, target, ready: o.ready, ...(d?.readyAt !== undefined ? { readyAt: d.readyAt } : {}) });
    const changed = Object.keys(target).filter((f) => target[f] !== o.fields[f]);
    for (const field of changed) {
      changes.push({ target: systemOf(o.ref), service: o.service, kind: o.ref.kind, name: nameOf(o.ref), field, current: o.fields[field] ?? 0, desired: target[field] ?? 0 });
    }

    if (o.hpa && d?.readyAt !== undefined && d.readyAt > (o.fields.replicas ?? 0)) {
      warnings.push(`${id(o)} is scaled by HorizontalPodAutoscaler ${o.hpa.split('/').slice(-2).join('/')}: pre-scaled by raising the HPA's minReplicas (a replicas patch would be undone by the HPA)`);
    }
    if (o.ref.kind === 'HorizontalPodAutoscaler' && (d?.fields.maxReplicas?.value ?? 0) > (o.fields.maxReplicas ?? 0)) {
      warnings.push(`${id(o)}: maxReplicas ${o.fields.maxReplicas} would block the target ${d?.fields.maxReplicas?.value}; it is raised to ${target.maxReplicas}`);
    }
    if (o.managedBy && (changed.length > 0 || (o.hpa && d?.readyAt !== undefined))) {
      warnings.push(`${id(o)} is managed by ${o.managedBy}, which may revert this change: pause its sync/reconciliation for the campaign, or make the change in Git`);
    }
    const added = d?.readyAt !== undefined ? d.readyAt - (o.fields.replicas ?? d.readyAt) : 0;
    for (const q of o.quotas ?? []) {
      if (added > 0 && q.used + added * q.perPod > q.hard + 1e-9) {
        warnings.push(`${id(o)}: ResourceQuota ${q.name} would block the target: ${q.resource} used ${fmt(q.used)} + ${added} pods x ${fmt(q.perPod)} > hard ${fmt(q.hard)}`);
      }
    }
    if (o.ref.kind === 'AutoScalingGroup') {
      const { minSize = 0, desiredCapacity = 0, maxSize = 0 } = target;
      if (desiredCapacity > maxSize) {
        blockers.push(`${id(o)}: desired ${desiredCapacity} is above MaxSize ${maxSize}; add asg: {min, desired, max} with max >= ${desiredCapacity} to service ${o.service} to raise MaxSize too`);
      }
      if (minSize > desiredCapacity) blockers.push(`${id(o)}: MinSize ${minSize} would be above the desired capacity ${desiredCapacity}`);
    }
    if (changed.length === 0) continue;
    const ref = o.ref;
    switch (ref.kind) {
      case 'Deployment':
      case 'StatefulSet':
        steps.push({ op: 'scaleWorkload', key: o.key, ref: { kind: ref.kind, context: ref.context, namespace: ref.namespace, name: ref.name }, replicas: target.replicas ?? 0 });
        break;
      case 'HorizontalPodAutoscaler':
        steps.push({ op: 'setHpaBounds', key: o.key, ref, minReplicas: target.minReplicas ?? 1, maxReplicas: target.maxReplicas ?? 1 });
        break;
      case 'AutoScalingGroup':
        steps.push({ op: 'updateGroup', key: o.key, ref, sizes: Object.fromEntries(changed.map((f) => [f, target[f]])) });
        break;
      case 'BundledStack':
        steps.push({ op: 'setWorkers', key: o.key, ref, count: target.workers ?? 0 });
        break;
    }
  }
  return { objects, changes, steps, calls: steps.map(callOf), warnings, blockers };
}

/** The API call a step makes, as it goes over the wire. */
export function callOf(step: Step): string {
  switch (step.op) {
    case 'scaleWorkload': {
      const { ref } = step;
      const plural = ref.kind === 'Deployment' ? 'deployments' : 'statefulsets';
      return `[k8s ${ref.context}] PUT /apis/apps/v1/namespaces/${ref.namespace}/${plural}/${ref.name}/scale {"spec":{"replicas":${step.replicas}}}`;
    }
    case 'setHpaBounds': {
      const { ref } = step;
      return `[k8s ${ref.context}] PUT /apis/autoscaling/v2/namespaces/${ref.namespace}/horizontalpodautoscalers/${ref.name} {"spec":{"minReplicas":${step.minReplicas},"maxReplicas":${step.maxReplicas}}}`;
    }
    case 'updateGroup': {
      const s = step.sizes;
      const body = {
        AutoScalingGroupName: step.ref.name,
        ...(s.minSize !== undefined ? { MinSize: s.minSize } : {}),
        ...(s.desiredCapacity !== undefined ? { DesiredCapacity: s.desiredCapacity } : {}),
        ...(s.maxSize !== undefined ? { MaxSize: s.maxSize } : {}),
      };
      return `[aws ${step.ref.region}] UpdateAutoScalingGroup ${JSON.stringify(body)}`;
    }
    case 'setWorkers':
      return `[stack] PUT ${step.ref.url}/admin/workers {"count":${step.count}}`;
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

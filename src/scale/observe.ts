import type { AutoScalingPort } from '../adapters/aws-autoscaling/port.js';
import type { HpaState, KubernetesPort, QuotaState, WorkloadState } from '../adapters/kubernetes/port.js';
import type { StackAdminPort } from '../adapters/stack-admin/port.js';
import { SurgeError } from '../errors.js';
import { parseQuantity } from '../util/quantity.js';
import type { PlannedService, ScaleTarget } from './plan-file.js';
import { objectKey, type ObjectRef, type ObservedObject, type ScaleConnect } from './types.js';

/**
 * The ports of a run, each built once per context/region/URL, and the namespace-wide reads
 * (HPAs, quotas) done once per namespace however many targets live there.
 */
export interface Connections {
  kubernetes(context: string | undefined): Promise<KubernetesPort>;
  autoScaling(region: string | undefined): Promise<AutoScalingPort>;
  stack(url: string | undefined): Promise<StackAdminPort>;
  hpas(k8s: KubernetesPort, namespace: string): Promise<HpaState[]>;
  quotas(k8s: KubernetesPort, namespace: string): Promise<QuotaState[]>;
}

export function connections(connect: ScaleConnect): Connections {
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, make: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (!p) memo.set(key, (p = make()));
    return p;
  };
  return {
    kubernetes: (context) => once(`k8s:${context ?? ''}`, () => connect.kubernetes(context)),
    autoScaling: (region) => once(`aws:${region ?? ''}`, () => connect.autoScaling(region)),
    stack: (url) => once(`stack:${url ?? ''}`, () => connect.stack(url)),
    hpas: (k8s, ns) => once(`hpas:${k8s.context}/${ns}`, () => k8s.listHpas(ns)),
    quotas: (k8s, ns) => once(`quotas:${k8s.context}/${ns}`, () => k8s.listResourceQuotas(ns)),
  };
}

/**
 * Reads every object the services' targets map to, all at once (one round of parallel reads).
 * A workload under an HPA yields both (its replicas change through the HPA). Throws
 * SRG_SCALE_TARGET naming every object, namespace or group that does not exist, before anything
 * is changed.
 */
export async function observeServices(services: readonly PlannedService[], conn: Connections): Promise<ObservedObject[]> {
  const targets = services.flatMap((s) => s.targets.map((t) => ({ service: s.name, t, missing: [] as string[] })));
  const found = await Promise.all(targets.map((x) => observeTarget(x.service, x.t, conn, x.missing)));
  // In the plan's order, whatever order the reads finished in.
  const missing = targets.flatMap((x) => x.missing);
  if (missing.length > 0) {
    throw new SurgeError('SRG_SCALE_TARGET', missing.length === 1 ? (missing[0] as string) : `${missing.length} targets of the plan do not exist; nothing was changed`, {
      details: missing.length === 1 ? [] : missing,
      hint: 'Check the names in the plan (or scale.targets in surgectl.yaml), --context, --namespace and the AWS region.',
    });
  }
  const byKey = new Map<string, ObservedObject>();
  for (const o of found.flat()) if (!byKey.has(o.key)) byKey.set(o.key, o);
  return [...byKey.values()];
}

async function observeTarget(service: string, t: ScaleTarget, conn: Connections, missing: string[]): Promise<ObservedObject[]> {
  switch (t.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'HorizontalPodAutoscaler': {
      const k8s = await conn.kubernetes(t.context);
      const ns = t.namespace ?? k8s.namespace;
      const where = `(context ${k8s.context})`;
      const notFound = async (what: string) => {
        missing.push((await k8s.namespaceExists(ns)) ? `${what} not found in namespace ${ns} ${where}` : `namespace ${ns} does not exist ${where}`);
        return [];
      };
      const hpas = await conn.hpas(k8s, ns);
      let hpa: HpaState | undefined;
      let kind: 'Deployment' | 'StatefulSet';
      let name: string;
      if (t.kind === 'HorizontalPodAutoscaler') {
        hpa = hpas.find((h) => h.name === t.name);
        if (!hpa) return notFound(`HorizontalPodAutoscaler ${t.name}`);
        if (hpa.target.kind !== 'Deployment' && hpa.target.kind !== 'StatefulSet') {
          missing.push(`HorizontalPodAutoscaler ${ns}/${t.name} scales a ${hpa.target.kind}; surgectl pre-scales Deployments and StatefulSets ${where}`);
          return [];
        }
        kind = hpa.target.kind;
        name = hpa.target.name;
      } else {
        kind = t.kind;
        name = t.name;
        hpa = hpas.find((h) => h.target.kind === kind && h.target.name === name);
      }
      const w = await k8s.getWorkload({ kind, namespace: ns, name });
      if (!w) return notFound(`${kind} ${name}${t.kind === 'HorizontalPodAutoscaler' ? ` (scaled by HorizontalPodAutoscaler ${t.name})` : ''}`);
      const wRef: ObjectRef = { kind, context: k8s.context, namespace: ns, name };
      const wKey = objectKey(wRef);
      const quotas = quotaUse(await conn.quotas(k8s, ns), w);
      const out: ObservedObject[] = [];
      let hKey: string | undefined;
      if (hpa) {
        const hRef: ObjectRef = { kind: 'HorizontalPodAutoscaler', context: k8s.context, namespace: ns, name: hpa.name };
        hKey = objectKey(hRef);
        const managed = managedBy({ ...hpa.labels, ...hpa.annotations });
        out.push({ key: hKey, ref: hRef, service, fields: { minReplicas: hpa.minReplicas, maxReplicas: hpa.maxReplicas }, ready: w.readyReplicas, scales: wKey, ...(managed ? { managedBy: managed } : {}) });
      }
      const managed = managedBy({ ...w.labels, ...w.annotations });
      out.unshift({
        key: wKey,
        ref: wRef,
        service,
        fields: { replicas: w.replicas },
        ready: w.readyReplicas,
        updated: w.updatedReplicas,
        ...(hKey ? { hpa: hKey } : {}),
        ...(managed ? { managedBy: managed } : {}),
        ...(quotas.length > 0 ? { quotas } : {}),
      });
      return out;
    }
    case 'AutoScalingGroup': {
      const aws = await conn.autoScaling(t.region);
      const [g] = await aws.describeGroups([t.name]);
      if (!g) {
        missing.push(`AutoScalingGroup ${t.name} not found in region ${aws.region}`);
        return [];
      }
      const ref: ObjectRef = { kind: 'AutoScalingGroup', region: aws.region, name: t.name };
      const scheduledActions = await aws.describeScheduledActions(t.name);
      return [{ key: objectKey(ref), ref, service, fields: { minSize: g.minSize, desiredCapacity: g.desiredCapacity, maxSize: g.maxSize }, ready: g.inService, scheduledActions }];
    }
    case 'BundledStack': {
      const stack = await conn.stack(t.url);
      const status = await stack.status();
      const ref: ObjectRef = { kind: 'BundledStack', url: stack.url, name: 'workers' };
      return [{ key: objectKey(ref), ref, service, fields: { workers: status.workers.size }, ready: status.workers.size }];
    }
  }
}

/** The current values and readiness of one object named by a snapshot; undefined when it is gone. */
export async function readObject(ref: ObjectRef, conn: Connections): Promise<{ fields: Record<string, number>; ready: number; updated?: number } | undefined> {
  switch (ref.kind) {
    case 'Deployment':
    case 'StatefulSet': {
      const w = await (await conn.kubernetes(ref.context)).getWorkload({ kind: ref.kind, namespace: ref.namespace, name: ref.name });
      return w && { fields: { replicas: w.replicas }, ready: w.readyReplicas, updated: w.updatedReplicas };
    }
    case 'HorizontalPodAutoscaler': {
      const k8s = await conn.kubernetes(ref.context);
      const h = (await k8s.listHpas(ref.namespace)).find((x) => x.name === ref.name);
      if (!h) return undefined;
      const w = h.target.kind === 'Deployment' || h.target.kind === 'StatefulSet' ? await k8s.getWorkload({ kind: h.target.kind, namespace: ref.namespace, name: h.target.name }) : undefined;
      return { fields: { minReplicas: h.minReplicas, maxReplicas: h.maxReplicas }, ready: w?.readyReplicas ?? 0 };
    }
    case 'AutoScalingGroup': {
      const [g] = await (await conn.autoScaling(ref.region)).describeGroups([ref.name]);
      return g && { fields: { minSize: g.minSize, desiredCapacity: g.desiredCapacity, maxSize: g.maxSize }, ready: g.inService };
    }
    case 'BundledStack': {
      const s = await (await conn.stack(ref.url)).status();
      return { fields: { workers: s.workers.size }, ready: s.workers.size };
    }
  }
}

/** `Argo CD` or `Flux` when labels or annotations show a GitOps controller owns the object (it would revert a manual change). */
export function managedBy(meta: Record<string, string>): string | undefined {
  const keys = Object.keys(meta);
  if (keys.some((k) => k.startsWith('argocd.argoproj.io/'))) return 'Argo CD';
  if (keys.some((k) => k.startsWith('kustomize.toolkit.fluxcd.io/') || k.startsWith('helm.toolkit.fluxcd.io/'))) return 'Flux';
  return undefined;
}

const QUOTA_RESOURCE: Record<string, string> = { pods: 'pods', 'requests.cpu': 'cpu', cpu: 'cpu', 'requests.memory': 'memory', memory: 'memory' };

/** The quota limits each added pod of `w` counts against: pods, and cpu/memory requests when the pod template sets them. */
function quotaUse(quotas: readonly QuotaState[], w: WorkloadState): NonNullable<ObservedObject['quotas']> {
  const out: NonNullable<ObservedObject['quotas']> = [];
  for (const q of quotas) {
    for (const [resource, hardText] of Object.entries(q.hard)) {
      const podResource = QUOTA_RESOURCE[resource];
      if (!podResource) continue;
      const perPod = podResource === 'pods' ? 1 : parseQuantity(w.podRequests[podResource] ?? '');
      const hard = parseQuantity(hardText);
      const used = parseQuantity(q.used[resource] ?? '0');
      if (perPod === undefined || hard === undefined || used === undefined) continue;
      out.push({ name: q.name, resource, hard, used, perPod });
    }
  }
  return out;
}

import { z } from 'zod';
import type { AutoScalingPort } from '../adapters/aws-autoscaling/port.js';
import type { KubernetesPort } from '../adapters/kubernetes/port.js';
import type { StackAdminPort } from '../adapters/stack-admin/port.js';

/** A live object `surgectl scale` reads or changes, named where it lives (resolved context, region, URL). */
export const ObjectRefSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.enum(['Deployment', 'StatefulSet', 'HorizontalPodAutoscaler']), context: z.string(), namespace: z.string(), name: z.string() }),
  z.object({ kind: z.literal('AutoScalingGroup'), region: z.string(), name: z.string() }),
  z.object({ kind: z.literal('BundledStack'), url: z.string(), name: z.literal('workers') }),
]);
export type ObjectRef = z.infer<typeof ObjectRefSchema>;
export type WorkloadObjectRef = Extract<ObjectRef, { namespace: string }> & { kind: 'Deployment' | 'StatefulSet' };

const ScheduledActionSchema = z.object({
  groupName: z.string(),
  name: z.string(),
  startTime: z.number(),
  endTime: z.number().optional(),
  recurrence: z.string().optional(),
  timeZone: z.string().optional(),
  minSize: z.number().optional(),
  desiredCapacity: z.number().optional(),
  maxSize: z.number().optional(),
});

/**
 * One object as read: the values surgectl may change (`fields`: replicas; HPA minReplicas and
 * maxReplicas; ASG minSize, desiredCapacity and maxSize; stack workers) and what bears on the
 * change. This is what a snapshot keeps and a restore puts back.
 */
export const ObservedObjectSchema = z.object({
  key: z.string(),
  ref: ObjectRefSchema,
  /** The plan's service it belongs to. */
  service: z.string(),
  fields: z.record(z.string(), z.number()),
  /** Ready units now: ready pods, InService instances, running workers. */
  ready: z.number(),
  /** Workloads: updated pods (a rollout is complete when updated and ready reach the target). */
  updated: z.number().optional(),
  /** Workloads: the HPA that scales it (its replicas are changed through the HPA). */
  hpa: z.string().optional(),
  /** HPAs: the key of the workload it scales. */
  scales: z.string().optional(),
  /** `Argo CD` or `Flux` when its labels/annotations say a GitOps controller manages it. */
  managedBy: z.string().optional(),
  /** Workloads: ResourceQuotas of its namespace (hard and used, base units) that count pods or requests. */
  quotas: z.array(z.object({ name: z.string(), resource: z.string(), hard: z.number(), used: z.number(), perPod: z.number() })).optional(),
  /** ASGs: the group's scheduled actions when read. */
  scheduledActions: z.array(ScheduledActionSchema).optional(),
});
export type ObservedObject = z.infer<typeof ObservedObjectSchema>;

/** What a scale snapshot file (`kind: ScaleSnapshot`) holds in `data`. */
export const ScaleSnapshotSchema = z.object({
  plan: z.string(),
  objects: z.array(ObservedObjectSchema),
  /** Scheduled actions `scale schedule` created (region + group + name); a restore deletes them. */
  createdActions: z.array(z.object({ region: z.string(), groupName: z.string(), name: z.string() })).default([]),
});
export type ScaleSnapshot = z.infer<typeof ScaleSnapshotSchema>;
export const SNAPSHOT_KIND = 'ScaleSnapshot';

/** A value wanted for a field: exactly this, or at least this (a maximum is raised, never lowered). */
export interface FieldTarget {
  value: number;
  atLeast?: boolean;
}

/** What an object should become: field values, and the ready units that mean "done". */
export interface DesiredObject {
  key: string;
  fields: Record<string, FieldTarget>;
  /** Ready units to wait for after the change; undefined: nothing to wait for. */
  readyAt?: number;
}

/** One field of one object that changes. */
export interface Change {
  /** The system: `k8s:<context>`, `aws:<region>`, `stack:<url>`. */
  target: string;
  service: string;
  kind: ObjectRef['kind'];
  /** `namespace/name`, the group name, or `workers`. */
  name: string;
  field: string;
  current: number;
  desired: number;
}

/** One write, in the order applied; each sets absolute values, so a rerun is safe. */
export type Step =
  | { op: 'scaleWorkload'; key: string; ref: WorkloadObjectRef; replicas: number }
  | { op: 'setHpaBounds'; key: string; ref: Extract<ObjectRef, { namespace: string }>; minReplicas: number; maxReplicas: number }
  | { op: 'updateGroup'; key: string; ref: Extract<ObjectRef, { kind: 'AutoScalingGroup' }>; sizes: { minSize?: number; desiredCapacity?: number; maxSize?: number } }
  | { op: 'setWorkers'; key: string; ref: Extract<ObjectRef, { kind: 'BundledStack' }>; count: number };

/** An object of the plan: as read, what it becomes, and the readiness to wait for. */
export interface PlannedObject {
  key: string;
  ref: ObjectRef;
  service: string;
  current: Record<string, number>;
  target: Record<string, number>;
  ready: number;
  readyAt?: number;
}

/** The pure result of {@link planScale}: what would change, in order, and what stands in the way. */
export interface ScalePlan {
  objects: PlannedObject[];
  changes: Change[];
  steps: Step[];
  /** The exact API calls the steps make, for --dry-run. */
  calls: string[];
  warnings: string[];
  /** Problems that stop an apply before anything changes (e.g. desired above an ASG's MaxSize). */
  blockers: string[];
}

/** Ports to the three kinds of target, built lazily per context/region/URL (src/commands/adapters.ts). */
export interface ScaleConnect {
  kubernetes(context: string | undefined): Promise<KubernetesPort>;
  autoScaling(region: string | undefined): Promise<AutoScalingPort>;
  stack(url: string | undefined): Promise<StackAdminPort>;
}

/** The object's key: kind and where it lives. */
export function objectKey(ref: ObjectRef): string {
  switch (ref.kind) {
    case 'AutoScalingGroup':
      return `AutoScalingGroup/${ref.region}/${ref.name}`;
    case 'BundledStack':
      return `BundledStack/${ref.url}/workers`;
    default:
      return `${ref.kind}/${ref.context}/${ref.namespace}/${ref.name}`;
  }
}

/** `k8s:<context>`, `aws:<region>`, `stack:<url>`. */
export function systemOf(ref: ObjectRef): string {
  return ref.kind === 'AutoScalingGroup' ? `aws:${ref.region}` : ref.kind === 'BundledStack' ? `stack:${ref.url}` : `k8s:${ref.context}`;
}

/** `shop/api`, `web-asg`, `workers`. */
export function nameOf(ref: ObjectRef): string {
  return 'namespace' in ref ? `${ref.namespace}/${ref.name}` : ref.name;
}

import { z } from 'zod';
import type { CustomObjectRef, KubernetesPort } from '../../adapters/kubernetes/port.js';
import { SurgeError } from '../../errors.js';
import { durationMs } from '../duration.js';
import { kubernetesOf, namespaceOf, selectionMode } from './kubernetes.js';
import { defineFunc, type FuncTable, type ProviderContext } from './types.js';

export const CHAOS_MESH_GROUP = 'chaos-mesh.org';
export const CHAOS_MESH_VERSION = 'v1alpha1';
const PLURALS = { PodChaos: 'podchaos', NetworkChaos: 'networkchaos' } as const;
type ChaosKind = keyof typeof PLURALS;

const dns1123 = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 name: lower-case letters, digits and "-"');

/** Chaos Mesh's selector: which pods the fault hits. */
const selector = z
  .object({
    namespaces: z.array(z.string().min(1)).optional(),
    labelSelectors: z.record(z.string(), z.string()).optional(),
    pods: z.record(z.string(), z.array(z.string())).optional(),
  })
  .strict()
  .refine((s) => s.labelSelectors !== undefined || s.pods !== undefined, { message: 'needs labelSelectors or pods, e.g. {labelSelectors: {app: orders}}' });

const common = {
  /** Object name; default `surgectl-<experiment>-<activity>`. Give the same name to the rollback's `delete`. */
  name: dns1123.optional(),
  namespace: z.string().min(1).optional(),
  mode: selectionMode.default('one'),
  value: z.union([z.number(), z.string()]).optional(),
  selector,
  /** How long Chaos Mesh keeps the fault; default: until the object is deleted. */
  duration: durationMs.optional(),
};

/** A Chaos Mesh manifest, as applied (and as `--dry-run` shows it). */
export function chaosManifest(kind: ChaosKind, name: string, namespace: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: `${CHAOS_MESH_GROUP}/${CHAOS_MESH_VERSION}`,
    kind,
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'surgectl' } },
    spec,
  };
}

function baseSpec(a: { mode: string; value?: number | string | undefined; selector: unknown; duration?: number | undefined }): Record<string, unknown> {
  return {
    mode: a.mode,
    ...(a.value !== undefined ? { value: String(a.value) } : {}),
    selector: a.selector,
    ...(a.duration !== undefined ? { duration: goDuration(a.duration) } : {}),
  };
}

function goDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Fails with SRG_CHAOS_CRD_MISSING unless the cluster serves the Chaos Mesh resource. */
export async function requireChaosMesh(k8s: KubernetesPort, kind: ChaosKind): Promise<void> {
  const groups = await k8s.apiGroups();
  const group = groups.find((g) => g.name === CHAOS_MESH_GROUP);
  const resources = group?.versions.includes(CHAOS_MESH_VERSION) ? await k8s.apiResources(CHAOS_MESH_GROUP, CHAOS_MESH_VERSION) : undefined;
  if (!resources?.includes(PLURALS[kind])) {
    throw new SurgeError(
      'SRG_CHAOS_CRD_MISSING',
      `The cluster does not serve ${kind} (${CHAOS_MESH_GROUP}/${CHAOS_MESH_VERSION}): Chaos Mesh's CRDs are not installed`,
      {
        hint: 'Install Chaos Mesh (https://chaos-mesh.org/docs/production-installation-using-helm/), or use the kubernetes provider\'s delete-pods action, which needs no CRDs.',
      },
    );
  }
}

async function applyChaos(ctx: ProviderContext, kind: ChaosKind, a: { name?: string | undefined; namespace?: string | undefined }, spec: Record<string, unknown>) {
  const k8s = await kubernetesOf(ctx);
  await requireChaosMesh(k8s, kind);
  const namespace = namespaceOf(ctx, k8s, a.namespace);
  const name = a.name ?? ctx.objectName;
  const ref: CustomObjectRef = { group: CHAOS_MESH_GROUP, version: CHAOS_MESH_VERSION, namespace, plural: PLURALS[kind] };
  await k8s.createCustomObject(ref, chaosManifest(kind, name, namespace, spec));
  return { kind, name, namespace };
}

const podChaosArgs = z
  .object({ ...common, action: z.enum(['pod-kill', 'pod-failure', 'container-kill']), containerNames: z.array(z.string().min(1)).optional() })
  .strict()
  .refine((a) => a.action !== 'container-kill' || (a.containerNames?.length ?? 0) > 0, {
    message: 'container-kill needs containerNames',
    path: ['containerNames'],
  });

const podChaos = defineFunc({
  kinds: ['action'],
  summary: 'apply a Chaos Mesh PodChaos (pod-kill, pod-failure, container-kill)',
  args: podChaosArgs,
  describe: (a) => `apply PodChaos ${a.action} (mode ${a.mode}) on ${JSON.stringify(a.selector)}${a.duration !== undefined ? ` for ${goDuration(a.duration)}` : ''}`,
  run: (a, ctx) =>
    applyChaos(ctx, 'PodChaos', a, {
      action: a.action,
      ...baseSpec(a),
      ...(a.containerNames ? { containerNames: a.containerNames } : {}),
    }),
});

const networkChaosArgs = z
  .object({
    ...common,
    action: z.enum(['delay', 'loss', 'partition']),
    delay: z.object({ latency: z.string().min(1), jitter: z.string().optional(), correlation: z.string().optional() }).strict().optional(),
    loss: z.object({ loss: z.string().min(1), correlation: z.string().optional() }).strict().optional(),
    direction: z.enum(['to', 'from', 'both']).optional(),
    target: z.object({ mode: selectionMode.default('all'), value: z.union([z.number(), z.string()]).optional(), selector }).strict().optional(),
  })
  .strict()
  .refine((a) => a.action !== 'delay' || a.delay !== undefined, { message: 'action delay needs delay: {latency: "2s"}', path: ['delay'] })
  .refine((a) => a.action !== 'loss' || a.loss !== undefined, { message: 'action loss needs loss: {loss: "25"}', path: ['loss'] });

const networkChaos = defineFunc({
  kinds: ['action'],
  summary: 'apply a Chaos Mesh NetworkChaos (delay, loss, partition)',
  args: networkChaosArgs,
  describe: (a) =>
    `apply NetworkChaos ${a.action}${a.delay ? ` ${a.delay.latency}` : ''}${a.loss ? ` ${a.loss.loss}%` : ''} on ${JSON.stringify(a.selector)}${a.duration !== undefined ? ` for ${goDuration(a.duration)}` : ''}`,
  run: (a, ctx) =>
    applyChaos(ctx, 'NetworkChaos', a, {
      action: a.action,
      ...baseSpec(a),
      ...(a.delay ? { delay: a.delay } : {}),
      ...(a.loss ? { loss: a.loss } : {}),
      ...(a.direction ? { direction: a.direction } : {}),
      ...(a.target ? { target: { mode: a.target.mode, ...(a.target.value !== undefined ? { value: String(a.target.value) } : {}), selector: a.target.selector } } : {}),
    }),
});

const deleteChaos = defineFunc({
  kinds: ['action'],
  summary: 'delete a Chaos Mesh object (the rollback of pod-chaos / network-chaos); already gone is fine',
  args: z.object({ kind: z.enum(['PodChaos', 'NetworkChaos']), name: dns1123, namespace: z.string().min(1).optional() }).strict(),
  describe: (a) => `delete ${a.kind} ${a.name}`,
  async run(a, ctx) {
    const k8s = await kubernetesOf(ctx);
    const namespace = namespaceOf(ctx, k8s, a.namespace);
    const deleted = await k8s.deleteCustomObject({ group: CHAOS_MESH_GROUP, version: CHAOS_MESH_VERSION, namespace, plural: PLURALS[a.kind] }, a.name);
    return { kind: a.kind, name: a.name, namespace, deleted };
  },
});

/** `provider: {type: chaos-mesh, func: <name>, arguments: {...}}` */
export const CHAOS_MESH_FUNCS: FuncTable = {
  'pod-chaos': podChaos,
  'network-chaos': networkChaos,
  delete: deleteChaos,
};

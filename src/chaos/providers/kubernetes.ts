import { z } from 'zod';
import type { KubernetesPort, PodSummary } from '../../adapters/kubernetes/port.js';
import { SurgeError } from '../../errors.js';
import { durationMs } from '../duration.js';
import { defineFunc, type FuncTable, type ProviderContext } from './types.js';

export async function kubernetesOf(ctx: ProviderContext): Promise<KubernetesPort> {
  if (!ctx.targets.kubernetes) {
    throw new SurgeError('SRG_K8S_CONFIG', 'This activity acts on Kubernetes, but no Kubernetes target was given', {
      hint: 'Run with a kubeconfig (KUBECONFIG or ~/.kube/config) and pick the cluster with --context.',
    });
  }
  return ctx.targets.kubernetes();
}

export function namespaceOf(ctx: ProviderContext, k8s: KubernetesPort, asked: string | undefined): string {
  return asked ?? ctx.targets.namespace ?? k8s.namespace;
}

/** Chaos Mesh's pod selection modes. */
export const selectionMode = z.enum(['one', 'all', 'fixed', 'fixed-percent', 'random-max-percent']);

/** Picks pods the way Chaos Mesh's `mode`/`value` do, with an injected random source. */
export function selectPods<T>(pods: readonly T[], mode: z.infer<typeof selectionMode>, value: number | undefined, random: () => number): T[] {
  const shuffled = [...pods];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as T, shuffled[i] as T];
  }
  switch (mode) {
    case 'one':
      return shuffled.slice(0, 1);
    case 'all':
      return shuffled;
    case 'fixed':
      return shuffled.slice(0, value ?? 1);
    case 'fixed-percent':
      return shuffled.slice(0, Math.floor((pods.length * (value ?? 100)) / 100));
    case 'random-max-percent':
      return shuffled.slice(0, Math.floor((pods.length * random() * (value ?? 100)) / 100));
  }
}

const deletePods = defineFunc({
  kinds: ['action'],
  summary: 'delete pods matching labelSelector through the Kubernetes API (mode one|all|fixed|fixed-percent)',
  args: z
    .object({
      namespace: z.string().min(1).optional(),
      labelSelector: z.string().min(1, 'must select pods, e.g. app=orders (deleting every pod of a namespace is never the default)'),
      mode: selectionMode.default('one'),
      value: z.number().positive().optional(),
      gracePeriodSeconds: z.number().int().min(0).optional(),
    })
    .strict()
    .refine((a) => !['fixed', 'fixed-percent', 'random-max-percent'].includes(a.mode) || a.value !== undefined, {
      message: 'mode fixed, fixed-percent and random-max-percent need a value',
      path: ['value'],
    }),
  describe: (a) => `delete ${a.mode === 'one' ? 'one pod' : `${a.mode}${a.value !== undefined ? ` ${a.value}` : ''} pods`} matching ${a.labelSelector}${a.namespace ? ` in ${a.namespace}` : ''}`,
  async run(a, ctx) {
    const k8s = await kubernetesOf(ctx);
    const namespace = namespaceOf(ctx, k8s, a.namespace);
    const pods = await k8s.listPods(namespace, a.labelSelector);
    if (pods.length === 0) {
      throw new SurgeError('SRG_K8S_API', `No pods match ${a.labelSelector} in namespace ${namespace}; nothing was deleted`, {
        hint: 'Check the labelSelector and --namespace (kubectl get pods -l <selector> -n <namespace>).',
      });
    }
    const chosen = selectPods(pods, a.mode, a.value, ctx.random);
    const deleted: string[] = [];
    for (const pod of chosen) {
      await k8s.deletePod(namespace, pod.name, a.gracePeriodSeconds);
      deleted.push(pod.name);
    }
    return { namespace, matched: pods.length, deleted };
  },
});

const podsProbe = defineFunc({
  kinds: ['probe'],
  summary: 'pods matching labelSelector: {count, ready, running, pods: [{name, phase, ready}]}',
  args: z.object({ namespace: z.string().min(1).optional(), labelSelector: z.string().optional() }).strict(),
  describe: (a) => `pods${a.labelSelector ? ` matching ${a.labelSelector}` : ''}${a.namespace ? ` in ${a.namespace}` : ''}`,
  async run(a, ctx) {
    const k8s = await kubernetesOf(ctx);
    const pods: PodSummary[] = await k8s.listPods(namespaceOf(ctx, k8s, a.namespace), a.labelSelector);
    return {
      count: pods.length,
      ready: pods.filter((p) => p.ready).length,
      running: pods.filter((p) => p.phase === 'Running').length,
      pods: pods.map((p) => ({ name: p.name, phase: p.phase, ready: p.ready })),
    };
  },
});

const waitReady = defineFunc({
  kinds: ['action', 'probe'],
  summary: 'wait until at least `count` pods matching labelSelector are ready (polls every 1 s, up to `timeout`)',
  args: z
    .object({
      namespace: z.string().min(1).optional(),
      labelSelector: z.string().min(1),
      count: z.number().int().min(1).default(1),
      timeout: durationMs.default(120_000),
    })
    .strict(),
  extraTimeMs: (a) => a.timeout,
  describe: (a) => `wait up to ${a.timeout / 1000}s for ${a.count} ready pod(s) matching ${a.labelSelector}`,
  async run(a, ctx) {
    const k8s = await kubernetesOf(ctx);
    const namespace = namespaceOf(ctx, k8s, a.namespace);
    const deadline = ctx.now() + a.timeout;
    for (;;) {
      const ready = (await k8s.listPods(namespace, a.labelSelector)).filter((p) => p.ready).length;
      if (ready >= a.count) return { ready };
      if (ctx.now() >= deadline) throw new SurgeError('SRG_K8S_API', `Only ${ready} of ${a.count} pod(s) matching ${a.labelSelector} became ready within ${a.timeout / 1000}s`);
      await ctx.sleep(1000, ctx.signal);
    }
  },
});

/** `provider: {type: kubernetes, func: <name>, arguments: {...}}` */
export const KUBERNETES_FUNCS: FuncTable = {
  'delete-pods': deletePods,
  pods: podsProbe,
  'wait-ready': waitReady,
};

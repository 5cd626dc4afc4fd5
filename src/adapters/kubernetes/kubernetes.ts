import { ApisApi, AppsV1Api, AutoscalingV2Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1Container } from '@kubernetes/client-node';
import { SurgeError } from '../../errors.js';
import { parseQuantity } from '../../util/quantity.js';
import type { ApiGroup, CustomObjectRef, HpaState, KubernetesPort, PodSummary, QuotaState, ServiceState, WorkloadState } from './port.js';

export interface KubernetesOptions {
  /** kubeconfig files in KUBECONFIG order (the first that sets a key wins, as kubectl does). */
  kubeconfigPaths?: readonly string[];
  /** A kubeconfig document, instead of files. */
  kubeconfigYaml?: string;
  /** Context to use; default the kubeconfig's current-context (kubectl --context). */
  context?: string | undefined;
  /** Default namespace; else the context's namespace, else `default`. */
  namespace?: string | undefined;
}

/**
 * The real adapter on @kubernetes/client-node 1.x. Import this module lazily: the client is big
 * and `surgectl --help` must not load it.
 */
export function createKubernetes(opts: KubernetesOptions): KubernetesPort {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfigYaml !== undefined) {
      kc.loadFromString(opts.kubeconfigYaml);
    } else {
      const [first, ...rest] = opts.kubeconfigPaths ?? [];
      if (!first) throw new Error('no kubeconfig file given');
      kc.loadFromFile(first);
      for (const path of rest) {
        const more = new KubeConfig();
        more.loadFromFile(path);
        kc.mergeConfig(more, true);
      }
    }
  } catch (cause) {
    throw new SurgeError('SRG_K8S_CONFIG', `Cannot load the kubeconfig: ${(cause as Error).message}`, {
      hint: 'Set KUBECONFIG or create ~/.kube/config (kubectl config view should show your clusters).',
      cause,
    });
  }
  if (opts.context !== undefined) {
    if (!kc.getContextObject(opts.context)) {
      throw new SurgeError('SRG_K8S_CONFIG', `The kubeconfig has no context "${opts.context}"`, {
        hint: `Known contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}.`,
      });
    }
    kc.setCurrentContext(opts.context);
  }
  const current = kc.getContextObject(kc.getCurrentContext());
  if (!current || !kc.getCurrentCluster()) {
    throw new SurgeError('SRG_K8S_CONFIG', 'The kubeconfig has no current context with a cluster', { hint: 'Pick one with --context.' });
  }
  const namespace = opts.namespace ?? current.namespace ?? 'default';
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apis = kc.makeApiClient(ApisApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const autoscaling = kc.makeApiClient(AutoscalingV2Api);
  const server = kc.getCurrentCluster()?.server ?? '?';

  const fail = (what: string, err: unknown): SurgeError => {
    const code = statusOf(err);
    // No HTTP status: the request never got an answer (refused, unknown host, TLS, timeout).
    return new SurgeError(code === undefined ? 'SRG_K8S_UNREACHABLE' : 'SRG_K8S_API', `Kubernetes API ${server} ${what}: ${code !== undefined ? `HTTP ${code} ` : ''}${messageOf(err)}`, {
      hint: code === 401 || code === 403 ? 'Check your credentials and RBAC for this resource (kubectl auth can-i).' : undefined,
      cause: err,
    });
  };

  return {
    namespace,
    context: kc.getCurrentContext(),
    async listPods(ns, labelSelector) {
      try {
        const list = await core.listNamespacedPod({ namespace: ns, ...(labelSelector ? { labelSelector } : {}) });
        return list.items.map(
          (p): PodSummary => ({
            name: p.metadata?.name ?? '',
            namespace: p.metadata?.namespace ?? ns,
            phase: p.status?.phase ?? 'Unknown',
            ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
            labels: p.metadata?.labels ?? {},
          }),
        );
      } catch (err) {
        throw fail(`refused listing pods in ${ns}`, err);
      }
    },
    async deletePod(ns, name, gracePeriodSeconds) {
      try {
        await core.deleteNamespacedPod({ namespace: ns, name, ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) });
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return false;
        throw fail(`refused deleting pod ${ns}/${name}`, err);
      }
    },
    async apiGroups() {
      try {
        const list = await apis.getAPIVersions();
        return list.groups.map((g): ApiGroup => ({ name: g.name, versions: g.versions.map((v) => v.version) }));
      } catch (err) {
        throw fail('refused API discovery (GET /apis)', err);
      }
    },
    async apiResources(group, version) {
      try {
        const list = await custom.getAPIResources({ group, version });
        return list.resources.map((r) => r.name).filter((n) => !n.includes('/'));
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw fail(`refused API discovery (GET /apis/${group}/${version})`, err);
      }
    },
    async createCustomObject(ref: CustomObjectRef, body) {
      try {
        return (await custom.createNamespacedCustomObject({ ...ref, body })) as Record<string, unknown>;
      } catch (err) {
        throw fail(`refused creating ${ref.plural}.${ref.group} in ${ref.namespace}`, err);
      }
    },
    async deleteCustomObject(ref: CustomObjectRef, name) {
      try {
        await custom.deleteNamespacedCustomObject({ ...ref, name });
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return false;
        throw fail(`refused deleting ${ref.plural}.${ref.group} ${ref.namespace}/${name}`, err);
      }
    },
    async namespaceExists(name) {
      try {
        await core.readNamespace({ name });
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return false;
        throw fail(`refused reading namespace ${name}`, err);
      }
    },
    async getWorkload(ref) {
      try {
        const { namespace, name } = ref;
        const w = ref.kind === 'Deployment' ? await apps.readNamespacedDeployment({ namespace, name }) : await apps.readNamespacedStatefulSet({ namespace, name });
        return {
          ...ref,
          replicas: w.spec?.replicas ?? 1,
          readyReplicas: w.status?.readyReplicas ?? 0,
          updatedReplicas: w.status?.updatedReplicas ?? 0,
          totalReplicas: w.status?.replicas ?? 0,
          generationObserved: (w.status?.observedGeneration ?? 0) >= (w.metadata?.generation ?? 0),
          labels: w.metadata?.labels ?? {},
          annotations: w.metadata?.annotations ?? {},
          podRequests: sumRequests(w.spec?.template.spec?.containers ?? []),
        } satisfies WorkloadState;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw fail(`refused reading ${ref.kind} ${ref.namespace}/${ref.name}`, err);
      }
    },
    async scaleWorkload(ref, replicas) {
      await withConflictRetry(`${ref.kind} ${ref.namespace}/${ref.name} scale`, fail, async () => {
        const { namespace, name } = ref;
        const scale = ref.kind === 'Deployment' ? await apps.readNamespacedDeploymentScale({ namespace, name }) : await apps.readNamespacedStatefulSetScale({ namespace, name });
        // The resourceVersion read makes the write conditional: a concurrent change gets 409, not overwritten.
        const body = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name, namespace, resourceVersion: scale.metadata?.resourceVersion }, spec: { replicas } };
        if (ref.kind === 'Deployment') await apps.replaceNamespacedDeploymentScale({ namespace, name, body });
        else await apps.replaceNamespacedStatefulSetScale({ namespace, name, body });
      });
    },
    async listHpas(ns) {
      try {
        const list = await autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns });
        return list.items.map(
          (h): HpaState => ({
            namespace: h.metadata?.namespace ?? ns,
            name: h.metadata?.name ?? '',
            minReplicas: h.spec?.minReplicas ?? 1,
            maxReplicas: h.spec?.maxReplicas ?? 1,
            target: { kind: h.spec?.scaleTargetRef.kind ?? '', name: h.spec?.scaleTargetRef.name ?? '' },
            labels: h.metadata?.labels ?? {},
            annotations: h.metadata?.annotations ?? {},
          }),
        );
      } catch (err) {
        throw fail(`refused listing horizontalpodautoscalers in ${ns}`, err);
      }
    },
    async setHpaBounds(namespace, name, bounds) {
      await withConflictRetry(`HorizontalPodAutoscaler ${namespace}/${name}`, fail, async () => {
        const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name });
        if (!hpa.spec) throw new Error(`HorizontalPodAutoscaler ${namespace}/${name} has no spec`);
        hpa.spec.minReplicas = bounds.minReplicas;
        hpa.spec.maxReplicas = bounds.maxReplicas;
        await autoscaling.replaceNamespacedHorizontalPodAutoscaler({ namespace, name, body: hpa });
      });
    },
    async listResourceQuotas(ns) {
      try {
        const list = await core.listNamespacedResourceQuota({ namespace: ns });
        return list.items.map((q): QuotaState => ({ name: q.metadata?.name ?? '', hard: q.status?.hard ?? q.spec?.hard ?? {}, used: q.status?.used ?? {} }));
      } catch (err) {
        throw fail(`refused listing resourcequotas in ${ns}`, err);
      }
    },
    async getService(ns, name) {
      // Both reads at once: a cutover polls this while it waits for the endpoints to follow a switch.
      const [svc, ep] = await Promise.allSettled([core.readNamespacedService({ namespace: ns, name }), core.readNamespacedEndpoints({ namespace: ns, name })]);
      if (svc.status === 'rejected') {
        if (statusOf(svc.reason) === 404) return undefined;
        throw fail(`refused reading Service ${ns}/${name}`, svc.reason);
      }
      // No Endpoints object (a Service without a selector that nobody filled in): nothing behind it.
      if (ep.status === 'rejected' && statusOf(ep.reason) !== 404) throw fail(`refused reading Endpoints ${ns}/${name}`, ep.reason);
      const endpoints = { ready: 0, notReady: 0 };
      // The endpoints controller puts each pod in exactly one subset (pods are grouped by port set), so the sum counts each once.
      for (const subset of ep.status === 'fulfilled' ? (ep.value.subsets ?? []) : []) {
        endpoints.ready += subset.addresses?.length ?? 0;
        endpoints.notReady += subset.notReadyAddresses?.length ?? 0;
      }
      const s = svc.value;
      return {
        namespace: s.metadata?.namespace ?? ns,
        name: s.metadata?.name ?? name,
        selector: s.spec?.selector ?? {},
        labels: s.metadata?.labels ?? {},
        annotations: s.metadata?.annotations ?? {},
        endpoints,
      } satisfies ServiceState;
    },
    async setServiceSelector(namespace, name, selector) {
      try {
        await withConflictRetry(`Service ${namespace}/${name}`, fail, async () => {
          const svc = await core.readNamespacedService({ namespace, name });
          // Already so (a rerun, a rollback of a switch that never happened): no write, no new resourceVersion.
          if (sameLabels(svc.spec?.selector ?? {}, selector)) return;
          // Replace, not merge patch: keys absent from `selector` must go, and the read resourceVersion makes the write conditional.
          svc.spec = { ...svc.spec, selector: { ...selector } };
          await core.replaceNamespacedService({ namespace, name, body: svc });
        });
      } catch (err) {
        if (err instanceof SurgeError && statusOf(err.cause) === 404) {
          throw new SurgeError(err.code, err.message, { hint: `Check the Service's name and namespace: kubectl get services -n ${namespace}`, cause: err.cause });
        }
        throw err;
      }
    },
  };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Attempts of a read-modify-write before a run of 409 Conflicts is given up on. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Runs a read-then-replace; on 409 Conflict (the object changed between our read and write) it
 * reads again and retries, as kubectl does, a bounded number of times.
 */
async function withConflictRetry(what: string, fail: (what: string, err: unknown) => Error, attempt: () => Promise<void>): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await attempt();
      return;
    } catch (err) {
      if (statusOf(err) === 409 && i < CONFLICT_ATTEMPTS) continue;
      throw fail(`refused updating ${what}${statusOf(err) === 409 ? ` after ${i} conflicting writes` : ''}`, err);
    }
  }
}

/** Per-pod resource requests: the containers' requests added up (cpu in millicores, other resources in bytes). */
function sumRequests(containers: readonly V1Container[]): Record<string, string> {
  const total = new Map<string, number>();
  for (const c of containers) {
    for (const [k, v] of Object.entries(c.resources?.requests ?? {})) {
      const n = parseQuantity(String(v));
      if (n !== undefined) total.set(k, (total.get(k) ?? 0) + n);
    }
  }
  return Object.fromEntries([...total].map(([k, n]) => [k, k === 'cpu' ? `${Math.round(n * 1000)}m` : String(Math.round(n))]));
}

/** client-node 1.x throws ApiException {code, body}; network failures are plain errors. */
function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      // not a Status object
    }
  } else if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') {
    return body.message;
  }
  const m = err instanceof Error ? err.message : String(err);
  return m.split('\n')[0] ?? m;
}

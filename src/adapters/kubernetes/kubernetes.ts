import { ApisApi, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { SurgeError } from '../../errors.js';
import type { ApiGroup, CustomObjectRef, KubernetesPort, PodSummary } from './port.js';

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
  };
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

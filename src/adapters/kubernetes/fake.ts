import { SurgeError } from '../../errors.js';
import type { ApiGroup, CustomObjectRef, HpaState, KubernetesPort, PodSummary, QuotaState, ServiceState, WorkloadRef, WorkloadState } from './port.js';

/** A Service as the fake stores it: its endpoints are computed from `pods` on every read. */
export type FakeService = Omit<ServiceState, 'endpoints'>;

export interface FakeKubernetes extends KubernetesPort {
  /**
   * Pods by namespace; tests add and inspect them. The fake makes no pods for workloads (the contract server does):
   * add the ones a Service should find.
   */
  readonly pods: PodSummary[];
  /** Custom objects by `group/version/namespace/plural/name`. */
  readonly objects: Map<string, Record<string, unknown>>;
  /** Served API groups; add `{name: 'chaos-mesh.org', versions: ['v1alpha1']}` to "install" Chaos Mesh. */
  readonly groups: ApiGroup[];
  /** Resources per `group/version`. */
  readonly resources: Map<string, string[]>;
  /** Namespaces that exist (`default` and the fake's namespace at start). */
  readonly namespaces: Set<string>;
  /** Workloads by `kind/namespace/name`. */
  readonly workloads: Map<string, WorkloadState>;
  /** HPAs by `namespace/name`. */
  readonly hpas: Map<string, HpaState>;
  /** Quotas by namespace. */
  readonly quotas: Map<string, QuotaState[]>;
  /**
   * Services by `namespace/name`. Their endpoints are the `pods` of the namespace their selector matches, ready ones
   * under `ready`, as a settled endpoints controller has them (a real cluster gets there a moment after a change);
   * a Service with an empty selector has none (a cluster would leave it the Endpoints it had).
   */
  readonly services: Map<string, FakeService>;
  /**
   * The cluster's controllers, one step: each HPA clamps its target's replicas into its bounds,
   * and ready/updated replicas move one pod toward spec.replicas, the controller having seen the spec (as the contract server's loop).
   */
  tick(): void;
}

/** Installs Chaos Mesh's CRDs into a fake cluster. */
export function installFakeChaosMesh(k: FakeKubernetes): void {
  k.groups.push({ name: 'chaos-mesh.org', versions: ['v1alpha1'] });
  k.resources.set('chaos-mesh.org/v1alpha1', ['podchaos', 'networkchaos', 'iochaos', 'stresschaos']);
}

/** An in-memory cluster with the semantics the contract suite checks (404s, selectors, 409 on duplicates). */
export function createFakeKubernetes(init: { namespace?: string; context?: string; pods?: PodSummary[] } = {}): FakeKubernetes {
  const k: FakeKubernetes = {
    namespace: init.namespace ?? 'default',
    context: init.context ?? 'fake',
    pods: [...(init.pods ?? [])],
    objects: new Map(),
    groups: [{ name: 'apps', versions: ['v1'] }],
    resources: new Map([['apps/v1', ['deployments', 'statefulsets']]]),
    namespaces: new Set(['default', init.namespace ?? 'default']),
    workloads: new Map(),
    hpas: new Map(),
    quotas: new Map(),
    services: new Map(),
    async namespaceExists(name) {
      return k.namespaces.has(name);
    },
    async getWorkload(ref) {
      const w = k.workloads.get(workloadKey(ref));
      return w && structuredClone(w);
    },
    async scaleWorkload(ref, replicas) {
      const w = k.workloads.get(workloadKey(ref));
      if (!w) throw new SurgeError('SRG_K8S_API', `Kubernetes API refused updating ${ref.kind} ${ref.namespace}/${ref.name} scale: HTTP 404 ${ref.kind.toLowerCase()}s.apps "${ref.name}" not found`);
      w.replicas = replicas;
      // A spec change: the status describes the old spec until the controller has seen it (tick).
      w.generationObserved = false;
    },
    async listHpas(ns) {
      return [...k.hpas.values()].filter((h) => h.namespace === ns).map((h) => structuredClone(h));
    },
    async setHpaBounds(ns, name, bounds) {
      const h = k.hpas.get(`${ns}/${name}`);
      if (!h) throw new SurgeError('SRG_K8S_API', `Kubernetes API refused updating HorizontalPodAutoscaler ${ns}/${name}: HTTP 404 horizontalpodautoscalers.autoscaling "${name}" not found`);
      if (bounds.minReplicas < 1 || bounds.maxReplicas < bounds.minReplicas) {
        throw new SurgeError('SRG_K8S_API', `Kubernetes API refused updating HorizontalPodAutoscaler ${ns}/${name}: HTTP 422 spec.maxReplicas must be greater than or equal to minReplicas`);
      }
      h.minReplicas = bounds.minReplicas;
      h.maxReplicas = bounds.maxReplicas;
    },
    async listResourceQuotas(ns) {
      return structuredClone(k.quotas.get(ns) ?? []);
    },
    async getService(ns, name) {
      const svc = k.services.get(`${ns}/${name}`);
      if (!svc) return undefined;
      const want = Object.entries(svc.selector);
      const behind = want.length === 0 ? [] : k.pods.filter((p) => p.namespace === ns && want.every(([key, v]) => p.labels[key] === v));
      const ready = behind.filter((p) => p.ready).length;
      return { ...structuredClone(svc), endpoints: { ready, notReady: behind.length - ready } };
    },
    async setServiceSelector(ns, name, selector) {
      const svc = k.services.get(`${ns}/${name}`);
      const refused = (what: string) => new SurgeError('SRG_K8S_API', `Kubernetes API refused updating Service ${ns}/${name}: ${what}`, { hint: `Check the Service's name and namespace: kubectl get services -n ${ns}` });
      if (!svc) throw refused(`HTTP 404 services "${name}" not found`);
      const bad = Object.entries(selector).flatMap(([key, v]) => (!LABEL_KEY.test(key) ? [key] : !LABEL_VALUE.test(v) ? [v] : []))[0];
      if (bad !== undefined) throw new SurgeError('SRG_K8S_API', `Kubernetes API refused updating Service ${ns}/${name}: HTTP 422 Service "${name}" is invalid: spec.selector: Invalid value: ${JSON.stringify(bad)}: not a valid label`);
      svc.selector = { ...selector };
    },
    tick() {
      for (const h of k.hpas.values()) {
        const w = k.workloads.get(workloadKey({ kind: h.target.kind as WorkloadRef['kind'], namespace: h.namespace, name: h.target.name }));
        if (w) w.replicas = Math.min(Math.max(w.replicas, h.minReplicas), h.maxReplicas);
      }
      for (const w of k.workloads.values()) {
        const next = w.readyReplicas < w.replicas ? w.readyReplicas + 1 : w.replicas;
        w.readyReplicas = w.updatedReplicas = next;
        w.totalReplicas = w.replicas;
        w.generationObserved = true;
      }
    },
    async listPods(ns, labelSelector) {
      const want = parseSelector(labelSelector);
      return k.pods.filter((p) => p.namespace === ns && want.every(([key, v]) => p.labels[key] === v)).map((p) => structuredClone(p));
    },
    async deletePod(ns, name) {
      const i = k.pods.findIndex((p) => p.namespace === ns && p.name === name);
      if (i === -1) return false;
      k.pods.splice(i, 1);
      return true;
    },
    async apiGroups() {
      return structuredClone(k.groups);
    },
    async apiResources(group, version) {
      return k.resources.get(`${group}/${version}`)?.slice();
    },
    async createCustomObject(ref, body) {
      const name = String((body.metadata as { name?: unknown } | undefined)?.name ?? '');
      if (!k.resources.get(`${ref.group}/${ref.version}`)?.includes(ref.plural)) {
        throw new SurgeError('SRG_K8S_API', `Kubernetes API refused creating ${ref.plural}.${ref.group}: HTTP 404 the server could not find the requested resource`);
      }
      const key = objectKey(ref, name);
      if (k.objects.has(key)) throw new SurgeError('SRG_K8S_API', `Kubernetes API refused creating ${ref.plural}.${ref.group}: HTTP 409 ${ref.plural} "${name}" already exists`);
      const stored = { ...structuredClone(body), metadata: { ...(body.metadata as object), uid: `uid-${k.objects.size + 1}` } };
      k.objects.set(key, stored);
      return structuredClone(stored);
    },
    async deleteCustomObject(ref, name) {
      return k.objects.delete(objectKey(ref, name));
    },
  };
  return k;
}

/** Label keys (`[prefix/]name`) and values as the API server validates them, roughly: what a typo would trip. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export function workloadKey(ref: WorkloadRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** A workload for the fake, all replicas ready unless `ready` says otherwise. */
export function fakeWorkload(kind: WorkloadRef['kind'], namespace: string, name: string, replicas: number, extra: Partial<WorkloadState> = {}): WorkloadState {
  return {
    kind,
    namespace,
    name,
    replicas,
    readyReplicas: replicas,
    updatedReplicas: replicas,
    totalReplicas: replicas,
    generationObserved: true,
    labels: { app: name },
    annotations: {},
    podRequests: {},
    ...extra,
  };
}

/** A Service for the fake, labelled with its name. */
export function fakeService(namespace: string, name: string, selector: Record<string, string>, extra: Partial<FakeService> = {}): FakeService {
  return { namespace, name, selector, labels: { app: name }, annotations: {}, ...extra };
}

export function objectKey(ref: CustomObjectRef, name: string): string {
  return `${ref.group}/${ref.version}/${ref.namespace}/${ref.plural}/${name}`;
}

/** Equality-based selectors only (`a=b,c==d`), which is what the drills use. */
export function parseSelector(selector: string | undefined): [string, string][] {
  if (!selector) return [];
  return selector.split(',').map((part) => {
    const [key = '', value = ''] = part.split(/==?/);
    return [key.trim(), value.trim()];
  });
}

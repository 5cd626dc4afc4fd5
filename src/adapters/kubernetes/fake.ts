import { SurgeError } from '../../errors.js';
import type { ApiGroup, CustomObjectRef, KubernetesPort, PodSummary } from './port.js';

export interface FakeKubernetes extends KubernetesPort {
  /** Pods by namespace; tests add and inspect them. */
  readonly pods: PodSummary[];
  /** Custom objects by `group/version/namespace/plural/name`. */
  readonly objects: Map<string, Record<string, unknown>>;
  /** Served API groups; add `{name: 'chaos-mesh.org', versions: ['v1alpha1']}` to "install" Chaos Mesh. */
  readonly groups: ApiGroup[];
  /** Resources per `group/version`. */
  readonly resources: Map<string, string[]>;
}

/** Installs Chaos Mesh's CRDs into a fake cluster. */
export function installFakeChaosMesh(k: FakeKubernetes): void {
  k.groups.push({ name: 'chaos-mesh.org', versions: ['v1alpha1'] });
  k.resources.set('chaos-mesh.org/v1alpha1', ['podchaos', 'networkchaos', 'iochaos', 'stresschaos']);
}

/** An in-memory cluster with the semantics the contract suite checks (404s, selectors, 409 on duplicates). */
export function createFakeKubernetes(init: { namespace?: string; pods?: PodSummary[] } = {}): FakeKubernetes {
  const k: FakeKubernetes = {
    namespace: init.namespace ?? 'default',
    pods: [...(init.pods ?? [])],
    objects: new Map(),
    groups: [{ name: 'apps', versions: ['v1'] }],
    resources: new Map([['apps/v1', ['deployments', 'statefulsets']]]),
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

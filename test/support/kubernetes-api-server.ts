import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A contract test server (HTTPS on loopback, self-signed) speaking the real Kubernetes HTTP API shapes for the calls surgectl makes
 * (PodList, Status errors, APIGroupList / APIResourceList discovery, custom objects, Deployments and
 * StatefulSets with their scale subresource, autoscaling/v2 HPAs, ResourceQuotas, Namespaces, core/v1
 * Services and Endpoints), so the REAL adapter on @kubernetes/client-node can be exercised without a
 * cluster. Loopback only.
 *
 * A controller loop (every `tickMs`) does what the cluster's controllers would: an HPA keeps its
 * target's replicas within [minReplicas, maxReplicas] (so a replicas patch under an HPA is undone,
 * as in a real cluster); ready/updated replicas move one pod per tick toward spec.replicas
 * (except for workloads in `stalled`, whose pods never become ready) and status.observedGeneration
 * catches up with the spec; each workload's pods exist in `pods` (labelled with its pod template's
 * labels, as many Ready as status.readyReplicas; deleting one drops readyReplicas and a not-ready
 * replacement appears, as a ReplicaSet does); and the endpoints controller keeps each Service's
 * Endpoints to the pods its selector matches (ready ones under `addresses`, others under
 * `notReadyAddresses`), so endpoints follow a selector change one tick later, not at once. Writes
 * carrying a stale resourceVersion get 409 Conflict; `conflicts` makes the next N writes find the
 * object changed by "someone else" first, and `beforeWrite` lets a test be that someone.
 */
export interface KubeApiServer {
  url: string;
  token: string;
  /** `namespace/name` -> pod object. */
  pods: Map<string, Record<string, unknown>>;
  /** `group/version/namespace/plural/name` -> object. */
  objects: Map<string, Record<string, unknown>>;
  /** Whether Chaos Mesh's CRDs are served. */
  chaosMesh: boolean;
  /** Every request, `METHOD path?query`. */
  requests: string[];
  /** Every custom object created, in order (kept after deletion). */
  created: Record<string, unknown>[];
  /** `Deployment/ns/name` or `StatefulSet/ns/name` -> object (apps/v1 shape). */
  workloads: Map<string, Record<string, unknown>>;
  /** `ns/name` -> HorizontalPodAutoscaler (autoscaling/v2 shape). */
  hpas: Map<string, Record<string, unknown>>;
  /** `ns/name` -> ResourceQuota. */
  quotas: Map<string, Record<string, unknown>>;
  /** Namespaces that exist (`default`, `shop`, `kube-system` at start). */
  namespaces: Set<string>;
  /** Workload keys whose pods never become ready (a rollout stuck on Pending pods). */
  stalled: Set<string>;
  /** The next N writes (scale, HPA or Service replace) find the object modified by another writer first: 409. */
  conflicts: number;
  /** `ns/name` -> Service (core/v1 shape); seed with `service()`. */
  services: Map<string, Record<string, unknown>>;
  /**
   * `ns/name` -> Endpoints. The controller owns those of Services with a selector (recomputed every tick);
   * a test may set them for a Service without one, which the controller leaves alone as Kubernetes does.
   */
  endpoints: Map<string, Record<string, unknown>>;
  /**
   * Called with the stored object's key (`Service/ns/name`, `Deployment/ns/name`, `HorizontalPodAutoscaler/ns/name`)
   * and the object itself just before each replace is checked, to play another writer changing it between a client's
   * read and its write (change it and call `touch(obj)`). Unset it to stop.
   */
  beforeWrite: ((key: string, stored: Record<string, unknown>) => void) | undefined;
  /** Gives a stored object a new resourceVersion, as any write by someone else would. */
  touch(obj: Record<string, unknown>): void;
  /** A kubeconfig for this server (context `contract`, namespace `shop`). */
  kubeconfig(): string;
  close(): Promise<void>;
}

let podIps = 0;
let clusterIps = 0;
/** Addresses unique within the process, so no two pods (or Services) of any test server share one. */
const nextIp = (prefix: string, n: number) => `${prefix}.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;

/**
 * A pod with a `status.podIP` (the endpoints controller skips pods without one), Running and Ready or Pending and not
 * ready.
 */
export function pod(namespace: string, name: string, labels: Record<string, string>, ready = true): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, uid: `uid-${name}`, resourceVersion: '1' },
    spec: { containers: [{ name: 'app', image: 'shop/orders:1' }], nodeName: 'node-1' },
    status: { phase: ready ? 'Running' : 'Pending', podIP: nextIp('10.244', podIps++), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

/**
 * A ClusterIP Service (core/v1 shape) on port 80 -> 8080. An empty `selector` makes a Service without one, whose
 * Endpoints the controller does not manage.
 */
export function service(
  namespace: string,
  name: string,
  selector: Record<string, string>,
  opts: { labels?: Record<string, string>; annotations?: Record<string, string>; publishNotReadyAddresses?: boolean } = {},
): Record<string, unknown> {
  const clusterIP = nextIp('10.96', clusterIps++);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      uid: `uid-svc-${name}`,
      resourceVersion: '1',
      labels: opts.labels ?? { app: name },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ...(Object.keys(selector).length > 0 ? { selector } : {}),
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
      sessionAffinity: 'None',
      ...(opts.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
    },
    status: { loadBalancer: {} },
  };
}

const CHAOS_RESOURCES = ['podchaos', 'networkchaos'];
const KINDS: Record<string, string> = { podchaos: 'PodChaos', networkchaos: 'NetworkChaos' };

/** A Deployment or StatefulSet in apps/v1 shape, all replicas ready unless `ready` says otherwise. */
export function workload(
  kind: 'Deployment' | 'StatefulSet',
  namespace: string,
  name: string,
  replicas: number,
  opts: {
    ready?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    requests?: Record<string, string>;
    /** The pod template's labels, which are also its selector (default `{app: name}`); e.g. `{app: 'shop', color: 'green'}`. */
    podLabels?: Record<string, string>;
  } = {},
): Record<string, unknown> {
  const ready = opts.ready ?? replicas;
  const podLabels = opts.podLabels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace, uid: `uid-${kind}-${name}`, resourceVersion: '1', generation: 1, labels: opts.labels ?? { app: name }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      replicas,
      selector: { matchLabels: { ...podLabels } },
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
      template: { metadata: { labels: { ...podLabels } }, spec: { containers: [{ name: 'app', image: `shop/${name}:1`, ...(opts.requests ? { resources: { requests: opts.requests } } : {}) }] } },
    },
    status: { replicas, readyReplicas: ready, updatedReplicas: ready, availableReplicas: ready, observedGeneration: 1 },
  };
}

/** An autoscaling/v2 HorizontalPodAutoscaler scaling a Deployment on CPU. */
export function hpa(namespace: string, name: string, target: string, minReplicas: number, maxReplicas: number, opts: { labels?: Record<string, string>; kind?: string } = {}): Record<string, unknown> {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace, uid: `uid-hpa-${name}`, resourceVersion: '1', ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: opts.kind ?? 'Deployment', name: target },
      minReplicas,
      maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    },
    status: { currentReplicas: minReplicas, desiredReplicas: minReplicas },
  };
}

/** A ResourceQuota with hard limits and usage (quantities as strings). */
export function quota(namespace: string, name: string, hard: Record<string, string>, used: Record<string, string>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace, uid: `uid-quota-${name}`, resourceVersion: '1' }, spec: { hard }, status: { hard, used } };
}

export async function startKubeApiServer(opts: { chaosMesh?: boolean; token?: string; tickMs?: number } = {}): Promise<KubeApiServer> {
  const state = {
    workloads: new Map<string, Record<string, unknown>>(),
    hpas: new Map<string, Record<string, unknown>>(),
    quotas: new Map<string, Record<string, unknown>>(),
    namespaces: new Set(['default', 'shop', 'kube-system']),
    stalled: new Set<string>(),
    conflicts: 0,
    services: new Map<string, Record<string, unknown>>(),
    endpoints: new Map<string, Record<string, unknown>>(),
    beforeWrite: undefined as ((key: string, stored: Record<string, unknown>) => void) | undefined,
    pods: new Map<string, Record<string, unknown>>(),
    objects: new Map<string, Record<string, unknown>>(),
    chaosMesh: opts.chaosMesh ?? false,
    requests: [] as string[],
    created: [] as Record<string, unknown>[],
  };
  const token = opts.token ?? 'contract-token-0123456789';
  let rv = 100;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    state.requests.push(`${method} ${url.pathname}${url.search}`);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string) =>
      send(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
    if (req.headers.authorization !== `Bearer ${token}`) return status(401, 'Unauthorized', 'Unauthorized');
    const body = await readBody(req);
    const parts = url.pathname.split('/').filter(Boolean);

    // /api/v1/namespaces/{ns}/pods[/{name}]
    if (parts[0] === 'api' && parts[1] === 'v1' && parts[2] === 'namespaces' && parts[4] === 'pods') {
      const ns = parts[3] ?? '';
      const name = parts[5];
      if (method === 'GET' && name === undefined) {
        const selector = (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((s) => s.split('='));
        const items = [...state.pods.values()].filter((p) => {
          const m = p.metadata as { namespace: string; labels: Record<string, string> };
          return m.namespace === ns && selector.every(([k, v]) => m.labels[k ?? ''] === v);
        });
        return send(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(rv) }, items });
      }
      if (method === 'DELETE' && name !== undefined) {
        const key = `${ns}/${name}`;
        const p = state.pods.get(key);
        if (!p) return status(404, 'NotFound', `pods "${name}" not found`);
        state.pods.delete(key);
        rv++;
        return send(200, p);
      }
    }
    if (handleServices(method, parts, body, send, status)) return;
    const handled = handleScaling(method, parts, body, send, status);
    if (handled) return;
    if (method === 'GET' && url.pathname === '/apis') {
      const groups = [
        { name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } },
        { name: 'autoscaling', versions: [{ groupVersion: 'autoscaling/v2', version: 'v2' }], preferredVersion: { groupVersion: 'autoscaling/v2', version: 'v2' } },
      ];
      if (state.chaosMesh) {
        const v = { groupVersion: 'chaos-mesh.org/v1alpha1', version: 'v1alpha1' };
        groups.push({ name: 'chaos-mesh.org', versions: [v], preferredVersion: v });
      }
      return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    // /apis/chaos-mesh.org/v1alpha1[/namespaces/{ns}/{plural}[/{name}]]
    if (parts[0] === 'apis' && parts[1] === 'chaos-mesh.org' && parts[2] === 'v1alpha1') {
      if (!state.chaosMesh) return status(404, 'NotFound', 'the server could not find the requested resource');
      if (parts.length === 3 && method === 'GET') {
        const resources = CHAOS_RESOURCES.flatMap((r) => [
          { name: r, singularName: r, namespaced: true, kind: KINDS[r], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
          { name: `${r}/status`, singularName: '', namespaced: true, kind: KINDS[r], verbs: ['get', 'patch', 'update'] },
        ]);
        return send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'chaos-mesh.org/v1alpha1', resources });
      }
      const [, , , nsKey, ns, plural, name] = parts;
      if (nsKey === 'namespaces' && ns && plural && CHAOS_RESOURCES.includes(plural)) {
        if (method === 'POST' && name === undefined) {
          const obj = JSON.parse(body) as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
          if (obj.apiVersion !== 'chaos-mesh.org/v1alpha1' || obj.kind !== KINDS[plural]) {
            return status(400, 'BadRequest', `the API version in the data (${obj.apiVersion}) does not match the expected API version (chaos-mesh.org/v1alpha1) or kind ${obj.kind}`);
          }
          const objName = obj.metadata?.name;
          if (!objName) return status(422, 'Invalid', 'metadata.name: Required value');
          const key = `chaos-mesh.org/v1alpha1/${ns}/${plural}/${objName}`;
          if (state.objects.has(key)) return status(409, 'AlreadyExists', `${plural}.chaos-mesh.org "${objName}" already exists`);
          const stored = { ...obj, metadata: { ...obj.metadata, namespace: ns, uid: `uid-${++rv}`, resourceVersion: String(rv), creationTimestamp: new Date().toISOString() } };
          state.objects.set(key, stored);
          state.created.push(stored);
          return send(201, stored);
        }
        if (method === 'DELETE' && name !== undefined) {
          const key = `chaos-mesh.org/v1alpha1/${ns}/${plural}/${name}`;
          const existing = state.objects.get(key);
          if (!existing) return status(404, 'NotFound', `${plural}.chaos-mesh.org "${name}" not found`);
          state.objects.delete(key);
          return send(200, existing);
        }
      }
    }
    return status(404, 'NotFound', 'the server could not find the requested resource');
  };

  type Send = (code: number, body: unknown) => void;
  type Fail = (code: number, reason: string, message: string) => void;
  const meta = (o: Record<string, unknown>) => o.metadata as { name: string; namespace: string; resourceVersion: string };
  const spec = (o: Record<string, unknown>) => o.spec as Record<string, unknown> & { replicas?: number; minReplicas?: number; maxReplicas?: number };
  const bump = (o: Record<string, unknown>) => (meta(o).resourceVersion = String(++rv));
  /** A write's precondition: the resourceVersion it carries (if any) must be the stored one. */
  const stale = (key: string, o: Record<string, unknown>, given: string | undefined): boolean => {
    state.beforeWrite?.(key, o);
    if (state.conflicts > 0) {
      state.conflicts--;
      bump(o); // another writer got there first
    }
    return given !== undefined && given !== '' && given !== meta(o).resourceVersion;
  };
  const conflict = (fail: Fail, resource: string, name: string) =>
    fail(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`);

  /** core/v1 Services (read, replace) and Endpoints (read). True when it answered. */
  function handleServices(method: string, parts: string[], body: string, send: Send, fail: Fail): boolean {
    // /api/v1/namespaces/{ns}/{services|endpoints}/{name}
    if (parts[0] !== 'api' || parts[1] !== 'v1' || parts[2] !== 'namespaces' || parts.length !== 6) return false;
    const [ns, plural, name] = [parts[3] ?? '', parts[4], parts[5] ?? ''];
    if (plural === 'endpoints' && method === 'GET') {
      const ep = state.endpoints.get(`${ns}/${name}`);
      if (ep) send(200, ep);
      else fail(404, 'NotFound', `endpoints "${name}" not found`);
      return true;
    }
    if (plural !== 'services' || (method !== 'GET' && method !== 'PUT')) return false;
    const svc = state.services.get(`${ns}/${name}`);
    if (!svc) {
      fail(404, 'NotFound', `services "${name}" not found`);
      return true;
    }
    if (method === 'GET') {
      send(200, svc);
      return true;
    }
    const req = JSON.parse(body) as { kind?: string; metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
    const stored = spec(svc) as { clusterIP?: string };
    const clusterIP = req.spec?.clusterIP;
    const invalid = req.kind === 'Service' && req.spec ? invalidSelector(req.spec.selector) : undefined;
    if (req.kind !== 'Service' || !req.spec) fail(400, 'BadRequest', `the body of the request was in an unknown format: expected kind Service with a spec, got ${String(req.kind)}`);
    else if (req.metadata?.name !== name) fail(400, 'BadRequest', `the name of the object (${String(req.metadata?.name)}) does not match the name on the URL (${name})`);
    else if (invalid) fail(422, 'Invalid', `Service "${name}" is invalid: spec.selector: Invalid value: ${JSON.stringify(invalid)}: ${LABEL_RULE}`);
    else if (typeof clusterIP === 'string' && clusterIP !== '' && clusterIP !== stored.clusterIP)
      fail(422, 'Invalid', `Service "${name}" is invalid: spec.clusterIPs[0]: Invalid value: []string{"${clusterIP}"}: may not change once set`);
    else if (stale(`Service/${ns}/${name}`, svc, req.metadata?.resourceVersion)) conflict(fail, 'services', name);
    else {
      // A replace takes the whole spec as sent (an absent selector removes it); status and identity stay the server's.
      const { labels, annotations } = req.metadata;
      const next: Record<string, unknown> = { ...meta(svc), labels: labels ?? {} };
      if (annotations) next.annotations = annotations;
      else delete next.annotations;
      svc.metadata = next;
      svc.spec = { ...req.spec, clusterIP: stored.clusterIP, clusterIPs: [stored.clusterIP] };
      bump(svc);
      send(200, svc);
    }
    return true;
  }

  /** Namespaces, quotas, apps/v1 workloads and their scale subresource, autoscaling/v2 HPAs. True when it answered. */
  function handleScaling(method: string, parts: string[], body: string, send: Send, fail: Fail): boolean {
    // /api/v1/namespaces/{ns}[/resourcequotas]
    if (parts[0] === 'api' && parts[1] === 'v1' && parts[2] === 'namespaces' && parts[3] && method === 'GET') {
      const ns = parts[3];
      if (parts.length === 4) {
        if (!state.namespaces.has(ns)) fail(404, 'NotFound', `namespaces "${ns}" not found`);
        else send(200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, uid: `uid-ns-${ns}`, resourceVersion: '1' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
        return true;
      }
      if (parts[4] === 'resourcequotas' && parts.length === 5) {
        const items = [...state.quotas.values()].filter((q) => meta(q).namespace === ns);
        send(200, { apiVersion: 'v1', kind: 'ResourceQuotaList', metadata: { resourceVersion: String(rv) }, items });
        return true;
      }
      return false;
    }
    // /apis/apps/v1/namespaces/{ns}/{deployments|statefulsets}/{name}[/scale]
    if (parts[0] === 'apis' && parts[1] === 'apps' && parts[2] === 'v1' && parts[3] === 'namespaces' && parts[4] && parts[6]) {
      const [ns, plural, name, sub] = [parts[4], parts[5], parts[6], parts[7]];
      const kind = plural === 'deployments' ? 'Deployment' : plural === 'statefulsets' ? 'StatefulSet' : undefined;
      if (!kind || parts.length > 8 || (sub !== undefined && sub !== 'scale')) return false;
      const w = state.workloads.get(`${kind}/${ns}/${name}`);
      if (!w) {
        fail(404, 'NotFound', `${plural}.apps "${name}" not found`);
        return true;
      }
      const scale = () => ({
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: { name, namespace: ns, uid: (w.metadata as { uid: string }).uid, resourceVersion: meta(w).resourceVersion },
        spec: { replicas: spec(w).replicas },
        status: { replicas: (w.status as { replicas: number }).replicas, selector: Object.entries(matchLabels(w)).map(([k, v]) => `${k}=${v}`).join(',') },
      });
      if (method === 'GET') {
        send(200, sub === 'scale' ? scale() : w);
        return true;
      }
      if (method === 'PUT' && sub === 'scale') {
        const req = JSON.parse(body) as { kind?: string; metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
        if (req.kind !== 'Scale') fail(400, 'BadRequest', `the body of the request was in an unknown format: expected kind Scale, got ${String(req.kind)}`);
        else if (typeof req.spec?.replicas !== 'number' || !Number.isInteger(req.spec.replicas) || req.spec.replicas < 0)
          fail(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(req.spec?.replicas)}: must be greater than or equal to 0`);
        else if (stale(`${kind}/${ns}/${name}`, w, req.metadata?.resourceVersion)) conflict(fail, `${plural}.apps`, name);
        else {
          spec(w).replicas = req.spec.replicas;
          (w.metadata as { generation: number }).generation++;
          bump(w);
          send(200, scale());
        }
        return true;
      }
      return false;
    }
    // /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers[/{name}]
    if (parts[0] === 'apis' && parts[1] === 'autoscaling' && parts[2] === 'v2' && parts[3] === 'namespaces' && parts[4] && parts[5] === 'horizontalpodautoscalers') {
      const [ns, name] = [parts[4], parts[6]];
      if (name === undefined && method === 'GET') {
        const items = [...state.hpas.values()].filter((h) => meta(h).namespace === ns);
        send(200, { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscalerList', metadata: { resourceVersion: String(rv) }, items });
        return true;
      }
      if (name === undefined || parts.length > 7) return false;
      const h = state.hpas.get(`${ns}/${name}`);
      if (!h) {
        fail(404, 'NotFound', `horizontalpodautoscalers.autoscaling "${name}" not found`);
        return true;
      }
      if (method === 'GET') {
        send(200, h);
        return true;
      }
      if (method === 'PUT') {
        const req = JSON.parse(body) as { metadata?: { resourceVersion?: string }; spec?: { minReplicas?: number; maxReplicas?: number } };
        const min = req.spec?.minReplicas ?? 1;
        const max = req.spec?.maxReplicas;
        if (typeof max !== 'number' || min < 1 || max < min) {
          fail(422, 'Invalid', `HorizontalPodAutoscaler.autoscaling "${name}" is invalid: spec.maxReplicas: Invalid value: ${String(max)}: must be greater than or equal to \`minReplicas\` (${min})`);
        } else if (stale(`HorizontalPodAutoscaler/${ns}/${name}`, h, req.metadata?.resourceVersion)) conflict(fail, 'horizontalpodautoscalers.autoscaling', name);
        else {
          h.spec = { ...spec(h), ...req.spec };
          bump(h);
          send(200, h);
        }
        return true;
      }
    }
    return false;
  }

  /** The cluster's controllers, one step: HPAs clamp their targets, pods become ready one per tick. */
  const tick = () => {
    for (const h of state.hpas.values()) {
      const ref = spec(h).scaleTargetRef as { kind: string; name: string };
      const w = state.workloads.get(`${ref.kind}/${meta(h).namespace}/${ref.name}`);
      if (!w) continue;
      const s = spec(h);
      const want = Math.min(Math.max(spec(w).replicas ?? 1, s.minReplicas ?? 1), s.maxReplicas ?? 1);
      if (want !== spec(w).replicas) {
        spec(w).replicas = want;
        bump(w);
      }
      h.status = { currentReplicas: want, desiredReplicas: want };
    }
    const podsOf = new Map<string, string[]>();
    const lostReady = new Map<string, number>();
    for (const [podKey, owner] of owned) {
      if (state.pods.has(podKey)) {
        const list = podsOf.get(owner);
        if (list) list.push(podKey);
        else podsOf.set(owner, [podKey]);
        continue;
      }
      // Deleted by someone (a drill, a test): a ready one takes its readiness with it.
      owned.delete(podKey);
      if (readyAtSync.delete(podKey)) lostReady.set(owner, (lostReady.get(owner) ?? 0) + 1);
    }
    for (const [key, w] of state.workloads) {
      const st = w.status as { replicas: number; readyReplicas: number; updatedReplicas: number; availableReplicas: number; observedGeneration: number };
      const want = spec(w).replicas ?? 1;
      const mine = podsOf.get(key) ?? [];
      // Replacements of lost ready pods start not ready, for this tick at least.
      const lost = synced.has(w) ? Math.min(lostReady.get(key) ?? 0, st.readyReplicas) : 0;
      const stalled = state.stalled.has(key) || lost > 0;
      const ready = st.readyReplicas - lost;
      const next = ready < want ? (stalled ? ready : ready + 1) : want;
      if (next !== st.readyReplicas || st.replicas !== want) {
        st.replicas = want;
        st.readyReplicas = st.updatedReplicas = st.availableReplicas = next;
      }
      st.observedGeneration = (w.metadata as { generation?: number }).generation ?? 1;
      syncPods(key, w, synced.has(w) ? mine : dropPods(mine));
      synced.add(w);
    }
    // The garbage collector: a workload that is gone takes its pods with it.
    for (const [owner, keys] of podsOf) if (!state.workloads.has(owner)) dropPods(keys);
    endpointsController();
  };

  /** Which workload (`Kind/ns/name`) made each pod it created (`ns/name`). */
  const owned = new Map<string, string>();
  /** Owned pods that were Ready when the controller last synced them. */
  const readyAtSync = new Set<string>();
  /** Workload objects whose pods exist; a workload replaced by a new object (a test re-seeding it) starts afresh. */
  const synced = new WeakSet<Record<string, unknown>>();
  let podSerial = 0;
  const dropPods = (keys: string[]): string[] => {
    for (const k of keys) {
      state.pods.delete(k);
      owned.delete(k);
      readyAtSync.delete(k);
    }
    return [];
  };

  /** The ReplicaSet / StatefulSet controller: status.replicas pods with the template's labels, status.readyReplicas of them Ready. */
  const syncPods = (key: string, w: Record<string, unknown>, mine: string[]) => {
    const [kind, ns = '', name = ''] = key.split('/');
    const st = w.status as { replicas: number; readyReplicas: number };
    const labels = (spec(w).template as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels ?? {};
    const hash = templateHash(labels);
    const byIndex = (k: string) => Number(k.slice(k.lastIndexOf('-') + 1));
    // Scale down takes not-ready pods first, then the newest (a StatefulSet: the highest ordinal).
    const order = [...mine].sort((a, b) => Number(isReady(state.pods.get(a))) - Number(isReady(state.pods.get(b))) || byIndex(b) - byIndex(a));
    while (mine.length > st.replicas) {
      const k = order.shift() ?? '';
      state.pods.delete(k);
      owned.delete(k);
      readyAtSync.delete(k);
      mine.splice(mine.indexOf(k), 1);
    }
    for (let ordinal = 0; mine.length < st.replicas; ordinal++) {
      const podName = kind === 'StatefulSet' ? `${name}-${ordinal}` : `${name}-${hash}-${podSerial++}`;
      const k = `${ns}/${podName}`;
      if (state.pods.has(k)) continue;
      const p = pod(ns, podName, { ...labels, ...(kind === 'StatefulSet' ? { 'statefulset.kubernetes.io/pod-name': podName } : { 'pod-template-hash': hash }) }, mine.length < st.readyReplicas);
      const owner = kind === 'StatefulSet' ? { kind, name, uid: (w.metadata as { uid: string }).uid } : { kind: 'ReplicaSet', name: `${name}-${hash}`, uid: `uid-rs-${name}-${hash}` };
      Object.assign(p.metadata as object, { resourceVersion: String(++rv), ownerReferences: [{ apiVersion: 'apps/v1', controller: true, ...owner }] });
      state.pods.set(k, p);
      owned.set(k, key);
      mine.push(k);
    }
    // Readiness follows status.readyReplicas, oldest pods first.
    let ready = mine.filter((k) => isReady(state.pods.get(k))).length;
    for (const k of [...mine].sort((a, b) => byIndex(a) - byIndex(b))) {
      const p = state.pods.get(k);
      if (!p) continue;
      if (ready < st.readyReplicas && !isReady(p)) {
        setReady(p, true);
        ready++;
      } else if (ready > st.readyReplicas && isReady(p)) {
        setReady(p, false);
        ready--;
      }
      if (isReady(p)) readyAtSync.add(k);
      else readyAtSync.delete(k);
    }
  };
  const setReady = (p: Record<string, unknown>, ready: boolean) => {
    const st = p.status as { phase: string; conditions: { type: string; status: string }[] };
    st.phase = ready ? 'Running' : 'Pending';
    st.conditions = [{ type: 'Ready', status: ready ? 'True' : 'False' }];
    meta(p).resourceVersion = String(++rv);
  };

  /** Services whose Endpoints this controller wrote (it leaves hand-made ones of selector-less Services alone). */
  const managedEndpoints = new Set<string>();
  /** The endpoints controller: each Service with a selector gets Endpoints listing the pods it matches. */
  const endpointsController = () => {
    for (const key of managedEndpoints) {
      if (!state.services.has(key)) {
        state.endpoints.delete(key);
        managedEndpoints.delete(key);
      }
    }
    for (const [key, svc] of state.services) {
      const s = spec(svc) as { selector?: Record<string, string>; ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[]; publishNotReadyAddresses?: boolean };
      const selector = s.selector ?? {};
      // Kubernetes leaves the Endpoints of a Service without a selector to whoever made them.
      if (Object.keys(selector).length === 0) continue;
      const { namespace: ns, name } = meta(svc);
      const addresses: unknown[] = [];
      const notReadyAddresses: unknown[] = [];
      for (const p of state.pods.values()) {
        const m = p.metadata as { name: string; namespace: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
        const ip = (p.status as { podIP?: string } | undefined)?.podIP;
        if (m.namespace !== ns || !ip || m.deletionTimestamp || !Object.entries(selector).every(([k, v]) => m.labels?.[k] === v)) continue;
        const address = { ip, nodeName: (p.spec as { nodeName?: string } | undefined)?.nodeName, targetRef: { kind: 'Pod', namespace: ns, name: m.name, uid: m.uid } };
        (isReady(p) || s.publishNotReadyAddresses ? addresses : notReadyAddresses).push(address);
      }
      const ports = (s.ports ?? []).map((pt) => ({ name: pt.name, port: typeof pt.targetPort === 'number' ? pt.targetPort : pt.port, protocol: pt.protocol ?? 'TCP' }));
      const subsets =
        addresses.length + notReadyAddresses.length === 0
          ? undefined
          : [{ ...(addresses.length ? { addresses } : {}), ...(notReadyAddresses.length ? { notReadyAddresses } : {}), ports }];
      const old = state.endpoints.get(key);
      if (old && managedEndpoints.has(key) && JSON.stringify(old.subsets) === JSON.stringify(subsets)) continue;
      state.endpoints.set(key, {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name, namespace: ns, uid: `uid-ep-${name}`, resourceVersion: String(++rv), labels: (svc.metadata as { labels?: Record<string, string> }).labels ?? {} },
        ...(subsets ? { subsets } : {}),
      });
      managedEndpoints.add(key);
    }
  };
  const controller = setInterval(tick, opts.tickMs ?? 20);
  controller.unref();

  const tls = selfSignedCert();
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    handle(req, res).catch((err: Error) => {
      res.writeHead(500);
      res.end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    get pods() {
      return state.pods;
    },
    get objects() {
      return state.objects;
    },
    get chaosMesh() {
      return state.chaosMesh;
    },
    set chaosMesh(v: boolean) {
      state.chaosMesh = v;
    },
    get requests() {
      return state.requests;
    },
    get created() {
      return state.created;
    },
    get workloads() {
      return state.workloads;
    },
    get hpas() {
      return state.hpas;
    },
    get quotas() {
      return state.quotas;
    },
    get namespaces() {
      return state.namespaces;
    },
    get stalled() {
      return state.stalled;
    },
    get conflicts() {
      return state.conflicts;
    },
    set conflicts(n: number) {
      state.conflicts = n;
    },
    get services() {
      return state.services;
    },
    get endpoints() {
      return state.endpoints;
    },
    get beforeWrite() {
      return state.beforeWrite;
    },
    set beforeWrite(fn: ((key: string, stored: Record<string, unknown>) => void) | undefined) {
      state.beforeWrite = fn;
    },
    touch: (obj) => {
      bump(obj);
    },
    kubeconfig: () =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: contract`,
        `  cluster: {server: "${url}", certificate-authority-data: "${Buffer.from(tls.cert).toString('base64')}"}`,
        'users:',
        `- name: tester`,
        `  user: {token: "${token}"}`,
        'contexts:',
        '- name: contract',
        '  context: {cluster: contract, user: tester, namespace: shop}',
        '- name: other',
        '  context: {cluster: contract, user: tester}',
        'current-context: contract',
        '',
      ].join('\n'),
    close: () => {
      clearInterval(controller);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A throw-away certificate for 127.0.0.1, so the client verifies TLS against the kubeconfig's
 * certificate-authority-data exactly as it would against a real API server.
 */
function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kube-api-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function isReady(p: Record<string, unknown> | undefined): boolean {
  return ((p?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function matchLabels(w: Record<string, unknown>): Record<string, string> {
  return (w.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
}

/** A stable 9-character stand-in for the pod-template-hash label a Deployment's ReplicaSet puts on its pods. */
function templateHash(labels: Record<string, string>): string {
  let h = 5381;
  for (const ch of JSON.stringify(Object.entries(labels).sort())) h = ((h * 33) ^ ch.charCodeAt(0)) >>> 0;
  return h.toString(36).padStart(9, '0').slice(-9);
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_RULE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** The first key or value of a label selector the API server's validation would refuse, if any. */
function invalidSelector(selector: unknown): string | undefined {
  if (selector === undefined || selector === null) return undefined;
  if (typeof selector !== 'object') return String(selector);
  for (const [key, value] of Object.entries(selector)) {
    const slash = key.lastIndexOf('/');
    const [prefix, name] = slash === -1 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
    if (name.length > 63 || !LABEL_NAME.test(name) || (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))) return key;
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) return String(value);
  }
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

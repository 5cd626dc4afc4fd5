import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { hpa, pod, quota, service, startKubeApiServer, workload, type KubeApiServer } from '../../../test/support/kubernetes-api-server.js';
import { createFakeKubernetes, fakeService, fakeWorkload, installFakeChaosMesh, objectKey, workloadKey, type FakeKubernetes } from './fake.js';
import { createKubernetes } from './kubernetes.js';
import type { CustomObjectRef, HpaState, KubernetesPort, QuotaState, ServiceState, WorkloadState } from './port.js';

/** What the suite needs from each implementation besides the port itself. */
interface Harness {
  port: KubernetesPort;
  addPod(namespace: string, name: string, labels: Record<string, string>, ready?: boolean): void;
  installChaosMesh(): void;
  hasObject(ref: CustomObjectRef, name: string): boolean;
  podNames(namespace: string): string[];
  addWorkload(w: WorkloadState): void;
  addHpa(h: HpaState): void;
  addQuota(namespace: string, q: QuotaState): void;
  /** spec.replicas as the cluster has it. */
  replicasOf(kind: WorkloadState['kind'], namespace: string, name: string): number | undefined;
  addService(namespace: string, name: string, selector: Record<string, string>, labels: Record<string, string>): void;
}

/**
 * Reads until `done` holds or the deadline passes and returns the last read either way, so the assertion after it
 * shows what was seen. The endpoints controller of a cluster (and of the contract server) follows a change a moment later.
 */
async function settle<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!done(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    v = await read();
  }
  return v;
}

const endpointsAre = (want: ServiceState['endpoints']) => (s: ServiceState | undefined) => s?.endpoints.ready === want.ready && s.endpoints.notReady === want.notReady;

const podChaosRef: CustomObjectRef = { group: 'chaos-mesh.org', version: 'v1alpha1', namespace: 'shop', plural: 'podchaos' };
const manifest = (name: string) => ({
  apiVersion: 'chaos-mesh.org/v1alpha1',
  kind: 'PodChaos',
  metadata: { name, namespace: 'shop' },
  spec: { action: 'pod-kill', mode: 'one', selector: { labelSelectors: { app: 'orders' } } },
});

function contract(name: string, setup: () => Promise<Harness>) {
  describe(`KubernetesPort contract: ${name}`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await setup();
      h.addPod('shop', 'orders-1', { app: 'orders', tier: 'api' });
      h.addPod('shop', 'orders-2', { app: 'orders', tier: 'api' }, false);
      h.addPod('shop', 'payments-1', { app: 'payments' });
      h.addPod('other', 'orders-x', { app: 'orders' });
    });

    it('knows the default namespace of its context', () => {
      expect(h.port.namespace).toBe('shop');
    });

    it('lists pods of a namespace by label selector with phase and readiness', async () => {
      const pods = await h.port.listPods('shop', 'app=orders');
      expect(pods.map((p) => [p.name, p.phase, p.ready]).sort()).toEqual([
        ['orders-1', 'Running', true],
        ['orders-2', 'Pending', false],
      ]);
      expect(pods[0]?.labels.app).toBe('orders');
      expect((await h.port.listPods('shop', 'app=orders,tier=api')).length).toBe(2);
      expect((await h.port.listPods('shop')).length).toBe(3);
      expect(await h.port.listPods('shop', 'app=nothing')).toEqual([]);
    });

    it('deletes a pod, and deleting a missing pod is not an error', async () => {
      expect(await h.port.deletePod('shop', 'orders-1', 0)).toBe(true);
      expect(h.podNames('shop').sort()).toEqual(['orders-2', 'payments-1']);
      expect(await h.port.deletePod('shop', 'orders-1')).toBe(false);
    });

    it('discovers whether Chaos Mesh is installed', async () => {
      expect((await h.port.apiGroups()).map((g) => g.name)).not.toContain('chaos-mesh.org');
      expect(await h.port.apiResources('chaos-mesh.org', 'v1alpha1')).toBeUndefined();
      h.installChaosMesh();
      expect(await h.port.apiGroups()).toContainEqual({ name: 'chaos-mesh.org', versions: ['v1alpha1'] });
      expect(await h.port.apiResources('chaos-mesh.org', 'v1alpha1')).toEqual(expect.arrayContaining(['podchaos', 'networkchaos']));
    });

    it('creates and deletes custom objects; a duplicate is refused, a missing one is fine to delete', async () => {
      h.installChaosMesh();
      const created = await h.port.createCustomObject(podChaosRef, manifest('kill-one'));
      expect(created).toMatchObject({ kind: 'PodChaos', metadata: { name: 'kill-one' } });
      expect(h.hasObject(podChaosRef, 'kill-one')).toBe(true);
      await expect(h.port.createCustomObject(podChaosRef, manifest('kill-one'))).rejects.toMatchObject({ code: 'SRG_K8S_API', message: expect.stringContaining('409') });
      expect(await h.port.deleteCustomObject(podChaosRef, 'kill-one')).toBe(true);
      expect(h.hasObject(podChaosRef, 'kill-one')).toBe(false);
      expect(await h.port.deleteCustomObject(podChaosRef, 'kill-one')).toBe(false);
    });

    it('reads Deployments and StatefulSets with replica counts, labels and per-pod requests; a missing one is undefined', async () => {
      h.addWorkload(fakeWorkload('Deployment', 'shop', 'api', 3, { readyReplicas: 2, updatedReplicas: 2, labels: { app: 'api', 'argocd.argoproj.io/instance': 'shop' }, podRequests: { cpu: '250m' } }));
      h.addWorkload(fakeWorkload('StatefulSet', 'shop', 'db', 2));
      expect(await h.port.getWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' })).toMatchObject({
        replicas: 3,
        readyReplicas: 2,
        updatedReplicas: 2,
        totalReplicas: 3,
        generationObserved: true,
        labels: { 'argocd.argoproj.io/instance': 'shop' },
        podRequests: { cpu: '250m' },
      });
      expect(await h.port.getWorkload({ kind: 'StatefulSet', namespace: 'shop', name: 'db' })).toMatchObject({ kind: 'StatefulSet', replicas: 2, readyReplicas: 2 });
      expect(await h.port.getWorkload({ kind: 'Deployment', namespace: 'shop', name: 'nope' })).toBeUndefined();
      expect(await h.port.getWorkload({ kind: 'StatefulSet', namespace: 'shop', name: 'api' })).toBeUndefined();
      expect(await h.port.namespaceExists('shop')).toBe(true);
      expect(await h.port.namespaceExists('no-such-ns')).toBe(false);
    });

    it('scales a workload through the scale subresource; scaling a missing one is refused with 404', async () => {
      h.addWorkload(fakeWorkload('Deployment', 'shop', 'api', 3));
      h.addWorkload(fakeWorkload('StatefulSet', 'shop', 'db', 2));
      await h.port.scaleWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' }, 7);
      await h.port.scaleWorkload({ kind: 'StatefulSet', namespace: 'shop', name: 'db' }, 4);
      expect(h.replicasOf('Deployment', 'shop', 'api')).toBe(7);
      expect(h.replicasOf('StatefulSet', 'shop', 'db')).toBe(4);
      await expect(h.port.scaleWorkload({ kind: 'Deployment', namespace: 'shop', name: 'nope' }, 1)).rejects.toMatchObject({ code: 'SRG_K8S_API', message: expect.stringContaining('404') });
    });

    it('lists HPAs of a namespace and sets their bounds; max below min is refused', async () => {
      h.addHpa({ namespace: 'shop', name: 'api', minReplicas: 2, maxReplicas: 5, target: { kind: 'Deployment', name: 'api' }, labels: {}, annotations: {} });
      expect(await h.port.listHpas('shop')).toEqual([expect.objectContaining({ name: 'api', minReplicas: 2, maxReplicas: 5, target: { kind: 'Deployment', name: 'api' } })]);
      expect(await h.port.listHpas('default')).toEqual([]);
      await h.port.setHpaBounds('shop', 'api', { minReplicas: 8, maxReplicas: 12 });
      expect(await h.port.listHpas('shop')).toEqual([expect.objectContaining({ minReplicas: 8, maxReplicas: 12 })]);
      await expect(h.port.setHpaBounds('shop', 'api', { minReplicas: 8, maxReplicas: 3 })).rejects.toMatchObject({ code: 'SRG_K8S_API', message: expect.stringContaining('422') });
    });

    it('lists ResourceQuotas with hard limits and usage', async () => {
      h.addQuota('shop', { name: 'compute', hard: { pods: '10', 'requests.cpu': '4' }, used: { pods: '6', 'requests.cpu': '1500m' } });
      expect(await h.port.listResourceQuotas('shop')).toEqual([{ name: 'compute', hard: { pods: '10', 'requests.cpu': '4' }, used: { pods: '6', 'requests.cpu': '1500m' } }]);
      expect(await h.port.listResourceQuotas('default')).toEqual([]);
    });

    describe('Services (blue-green)', () => {
      beforeEach(() => {
        h.addPod('shop', 'shop-blue-1', { app: 'shop', color: 'blue' });
        h.addPod('shop', 'shop-blue-2', { app: 'shop', color: 'blue' });
        h.addPod('shop', 'shop-blue-3', { app: 'shop', color: 'blue' }, false);
        h.addPod('shop', 'shop-green-1', { app: 'shop', color: 'green' });
        h.addPod('shop', 'shop-green-2', { app: 'shop', color: 'green' });
        h.addPod('shop', 'shop-green-3', { app: 'shop', color: 'green' });
        // Same labels in another namespace: a Service only ever selects pods of its own.
        h.addPod('other', 'shop-green-x', { app: 'shop', color: 'green' });
        h.addService('shop', 'shop', { app: 'shop', color: 'blue' }, { app: 'shop', 'app.kubernetes.io/part-of': 'store' });
      });
      const read = () => h.port.getService('shop', 'shop');

      it('reads selector, labels and endpoint counts, and the endpoints follow a selector switch and its rollback', async () => {
        const before = await settle(read, endpointsAre({ ready: 2, notReady: 1 }));
        expect(before).toEqual({
          namespace: 'shop',
          name: 'shop',
          selector: { app: 'shop', color: 'blue' },
          labels: { app: 'shop', 'app.kubernetes.io/part-of': 'store' },
          annotations: {},
          endpoints: { ready: 2, notReady: 1 },
        });
        await h.port.setServiceSelector('shop', 'shop', { app: 'shop', color: 'green' });
        // The selector is the API object itself: it reads back at once; the endpoints catch up.
        expect((await read())?.selector).toEqual({ app: 'shop', color: 'green' });
        expect((await settle(read, endpointsAre({ ready: 3, notReady: 0 })))?.endpoints).toEqual({ ready: 3, notReady: 0 });
        await h.port.setServiceSelector('shop', 'shop', { app: 'shop', color: 'blue' });
        expect(await settle(read, endpointsAre({ ready: 2, notReady: 1 }))).toMatchObject({ selector: { app: 'shop', color: 'blue' }, endpoints: { ready: 2, notReady: 1 } });
      });

      it('replaces the selector rather than merging into it, leaving labels alone', async () => {
        h.addService('shop', 'canary', { app: 'shop', color: 'blue', track: 'stable' }, { app: 'canary' });
        await h.port.setServiceSelector('shop', 'canary', { app: 'shop', color: 'green' });
        const svc = await settle(() => h.port.getService('shop', 'canary'), endpointsAre({ ready: 3, notReady: 0 }));
        expect(svc).toMatchObject({ selector: { app: 'shop', color: 'green' }, labels: { app: 'canary' }, endpoints: { ready: 3, notReady: 0 } });
        expect(Object.keys(svc?.selector ?? {}).sort()).toEqual(['app', 'color']);
        // Selecting nothing that runs empties it: no pod has track=canary.
        await h.port.setServiceSelector('shop', 'canary', { app: 'shop', track: 'canary' });
        expect(await settle(() => h.port.getService('shop', 'canary'), endpointsAre({ ready: 0, notReady: 0 }))).toMatchObject({ endpoints: { ready: 0, notReady: 0 } });
      });

      it('a missing Service reads as undefined and cannot be switched; a selector the API server would not accept is refused', async () => {
        expect(await h.port.getService('shop', 'x')).toBeUndefined();
        expect(await h.port.getService('other', 'shop')).toBeUndefined();
        await expect(h.port.setServiceSelector('shop', 'x', { color: 'green' })).rejects.toMatchObject({
          code: 'SRG_K8S_API',
          message: expect.stringMatching(/Service shop\/x: HTTP 404 services "x" not found/),
          hint: expect.stringContaining('kubectl get services -n shop'),
        });
        await expect(h.port.setServiceSelector('shop', 'shop', { app: 'shop', color: 'green!' })).rejects.toMatchObject({
          code: 'SRG_K8S_API',
          message: expect.stringMatching(/HTTP 422 .*spec\.selector: Invalid value: "green!"/),
        });
        expect((await read())?.selector).toEqual({ app: 'shop', color: 'blue' });
      });
    });

    it('refuses to create a custom object whose resource is not served', async () => {
      await expect(h.port.createCustomObject(podChaosRef, manifest('x'))).rejects.toMatchObject({ code: 'SRG_K8S_API', message: expect.stringContaining('404') });
    });
  });
}

contract('fake', async () => {
  const k: FakeKubernetes = createFakeKubernetes({ namespace: 'shop' });
  return {
    port: k,
    addPod: (namespace, name, labels, ready = true) => k.pods.push({ name, namespace, labels, ready, phase: ready ? 'Running' : 'Pending' }),
    installChaosMesh: () => installFakeChaosMesh(k),
    hasObject: (ref, name) => k.objects.has(objectKey(ref, name)),
    podNames: (ns) => k.pods.filter((p) => p.namespace === ns).map((p) => p.name),
    addWorkload: (w) => k.workloads.set(workloadKey(w), w),
    addHpa: (x) => k.hpas.set(`${x.namespace}/${x.name}`, x),
    addQuota: (ns, q) => k.quotas.set(ns, [...(k.quotas.get(ns) ?? []), q]),
    replicasOf: (kind, ns, name) => k.workloads.get(workloadKey({ kind, namespace: ns, name }))?.replicas,
    addService: (ns, name, selector, labels) => k.services.set(`${ns}/${name}`, fakeService(ns, name, selector, { labels })),
  };
});

const servers: KubeApiServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

contract('real adapter (@kubernetes/client-node) against the contract API server', async () => {
  const server = await startKubeApiServer();
  servers.push(server);
  const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
  const path = join(dir, 'config');
  await writeFile(path, server.kubeconfig());
  return {
    port: createKubernetes({ kubeconfigPaths: [path] }),
    addPod: (namespace, name, labels, ready = true) => server.pods.set(`${namespace}/${name}`, pod(namespace, name, labels, ready)),
    installChaosMesh: () => (server.chaosMesh = true),
    hasObject: (ref, name) => server.objects.has(`${ref.group}/${ref.version}/${ref.namespace}/${ref.plural}/${name}`),
    podNames: (ns) => [...server.pods.keys()].filter((k) => k.startsWith(`${ns}/`)).map((k) => k.slice(ns.length + 1)),
    addWorkload: (w) => {
      server.workloads.set(`${w.kind}/${w.namespace}/${w.name}`, workload(w.kind, w.namespace, w.name, w.replicas, { ready: w.readyReplicas, labels: w.labels, requests: w.podRequests }));
      // Nothing moves on its own during the contract cases: the controller is tested below.
      server.stalled.add(`${w.kind}/${w.namespace}/${w.name}`);
    },
    addHpa: (x) => server.hpas.set(`${x.namespace}/${x.name}`, hpa(x.namespace, x.name, x.target.name, x.minReplicas, x.maxReplicas)),
    addQuota: (ns, q) => server.quotas.set(`${ns}/${q.name}`, quota(ns, q.name, q.hard, q.used)),
    replicasOf: (kind, ns, name) => (server.workloads.get(`${kind}/${ns}/${name}`)?.spec as { replicas?: number } | undefined)?.replicas,
    addService: (ns, name, selector, labels) => server.services.set(`${ns}/${name}`, service(ns, name, selector, { labels })),
  };
});

describe('real adapter configuration and errors', () => {
  it('picks a context, falls back to the default namespace and names unknown contexts', async () => {
    const server = await startKubeApiServer();
    servers.push(server);
    expect(createKubernetes({ kubeconfigYaml: server.kubeconfig(), context: 'other' }).namespace).toBe('default');
    expect(createKubernetes({ kubeconfigYaml: server.kubeconfig(), context: 'other', namespace: 'ns1' }).namespace).toBe('ns1');
    expect(() => createKubernetes({ kubeconfigYaml: server.kubeconfig(), context: 'prod' })).toThrow(
      expect.objectContaining({ code: 'SRG_K8S_CONFIG', message: 'The kubeconfig has no context "prod"' }),
    );
    expect(() => createKubernetes({ kubeconfigPaths: ['/nonexistent/kubeconfig'] })).toThrow(expect.objectContaining({ code: 'SRG_K8S_CONFIG' }));
  });

  it('reports a refused request with the API status and a hint on 401', async () => {
    const server = await startKubeApiServer();
    servers.push(server);
    const wrongToken = server.kubeconfig().replace(server.token, 'wrong-token');
    const k = createKubernetes({ kubeconfigYaml: wrongToken });
    await expect(k.listPods('shop')).rejects.toMatchObject({
      code: 'SRG_K8S_API',
      message: expect.stringContaining('HTTP 401'),
      hint: expect.stringContaining('RBAC'),
    });
  });

  it('retries a write that hit a 409 Conflict after re-reading, and gives up after 5', async () => {
    const server = await startKubeApiServer();
    servers.push(server);
    server.workloads.set('Deployment/shop/api', workload('Deployment', 'shop', 'api', 2));
    server.hpas.set('shop/web', hpa('shop', 'web', 'web', 1, 3));
    const k = createKubernetes({ kubeconfigYaml: server.kubeconfig() });
    server.conflicts = 2;
    await k.scaleWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' }, 6);
    expect((server.workloads.get('Deployment/shop/api')?.spec as { replicas: number }).replicas).toBe(6);
    expect(server.requests.filter((r) => r.startsWith('PUT /apis/apps/v1/namespaces/shop/deployments/api/scale')).length).toBe(3);
    server.conflicts = 1;
    await k.setHpaBounds('shop', 'web', { minReplicas: 4, maxReplicas: 6 });
    expect(server.hpas.get('shop/web')?.spec).toMatchObject({ minReplicas: 4, maxReplicas: 6 });
    server.conflicts = 100;
    await expect(k.scaleWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' }, 9)).rejects.toMatchObject({
      code: 'SRG_K8S_API',
      message: expect.stringMatching(/409.*|after 5 conflicting writes/),
    });
    expect((server.workloads.get('Deployment/shop/api')?.spec as { replicas: number }).replicas).toBe(6);
  });

  it('retries a Service selector switch that raced another writer without losing that write, gives up after 5, and skips a switch already made', async () => {
    const server = await startKubeApiServer();
    servers.push(server);
    server.services.set('shop/shop', service('shop', 'shop', { app: 'shop', color: 'blue', track: 'stable' }));
    const k = createKubernetes({ kubeconfigYaml: server.kubeconfig() });
    const puts = () => server.requests.filter((r) => r === 'PUT /api/v1/namespaces/shop/services/shop').length;
    // Someone annotates the Service between our read and our write: our PUT carries a stale resourceVersion.
    server.beforeWrite = (key, stored) => {
      server.beforeWrite = undefined;
      expect(key).toBe('Service/shop/shop');
      (stored.metadata as { annotations?: Record<string, string> }).annotations = { 'deploy.example.com/by': 'someone-else' };
      server.touch(stored);
    };
    await k.setServiceSelector('shop', 'shop', { app: 'shop', color: 'green' });
    expect(puts()).toBe(2);
    expect(server.requests.filter((r) => r === 'GET /api/v1/namespaces/shop/services/shop').length).toBe(2);
    // The retry re-read: the other writer's annotation survived, and the selector is exactly ours.
    expect(await k.getService('shop', 'shop')).toMatchObject({ selector: { app: 'shop', color: 'green' }, annotations: { 'deploy.example.com/by': 'someone-else' } });
    expect((server.services.get('shop/shop')?.spec as { selector: unknown }).selector).toEqual({ app: 'shop', color: 'green' });

    await k.setServiceSelector('shop', 'shop', { color: 'green', app: 'shop' });
    expect(puts()).toBe(2);

    server.conflicts = 100;
    await expect(k.setServiceSelector('shop', 'shop', { app: 'shop', color: 'blue' })).rejects.toMatchObject({
      code: 'SRG_K8S_API',
      message: expect.stringMatching(/refused updating Service shop\/shop after 5 conflicting writes: HTTP 409 Operation cannot be fulfilled on services "shop"/),
    });
    expect(puts()).toBe(7);
    expect((server.services.get('shop/shop')?.spec as { selector: unknown }).selector).toEqual({ app: 'shop', color: 'green' });
  });

  it('a blue-green switch on Deployments: their pods carry the template labels, a stuck green rollout does not count as ready, the endpoints follow the selector, and a killed pod drops out until its replacement is ready', async () => {
    const server = await startKubeApiServer({ tickMs: 5 });
    servers.push(server);
    server.workloads.set('Deployment/shop/shop-blue', workload('Deployment', 'shop', 'shop-blue', 3, { podLabels: { app: 'shop', color: 'blue' } }));
    server.workloads.set('Deployment/shop/shop-green', workload('Deployment', 'shop', 'shop-green', 0, { podLabels: { app: 'shop', color: 'green' } }));
    server.services.set('shop/shop', service('shop', 'shop', { app: 'shop', color: 'blue' }));
    const k = createKubernetes({ kubeconfigYaml: server.kubeconfig() });
    const green = { kind: 'Deployment', namespace: 'shop', name: 'shop-green' } as const;
    const read = () => k.getService('shop', 'shop');

    expect(await settle(read, endpointsAre({ ready: 3, notReady: 0 }))).toMatchObject({ endpoints: { ready: 3, notReady: 0 } });
    const bluePods = await k.listPods('shop', 'app=shop,color=blue');
    expect(bluePods.map((p) => [p.name.startsWith('shop-blue-'), p.ready, p.labels['pod-template-hash'] !== undefined])).toEqual([
      [true, true, true],
      [true, true, true],
      [true, true, true],
    ]);

    // Green's rollout stuck on Pending pods: the controller has seen the new spec, yet green is not ready.
    server.stalled.add('Deployment/shop/shop-green');
    await k.scaleWorkload(green, 3);
    const greenReady = (w: WorkloadState | undefined) => !!w && w.generationObserved && w.totalReplicas === w.updatedReplicas && w.readyReplicas >= w.replicas;
    const stuck = await settle(() => k.getWorkload(green), (w) => !!w?.generationObserved && w.totalReplicas === 3);
    expect(stuck).toMatchObject({ replicas: 3, readyReplicas: 0, totalReplicas: 3, generationObserved: true });
    expect(greenReady(stuck)).toBe(false);
    expect((await k.listPods('shop', 'color=green')).map((p) => p.ready)).toEqual([false, false, false]);
    server.stalled.delete('Deployment/shop/shop-green');
    const ready = await settle(() => k.getWorkload(green), greenReady);
    expect(ready).toMatchObject({ replicas: 3, readyReplicas: 3, updatedReplicas: 3, totalReplicas: 3, generationObserved: true });
    expect((await k.listPods('shop', 'color=green')).filter((p) => p.ready).length).toBe(3);

    // Blue and green both have 3 ready pods, so the counts alone cannot tell them apart: wait for green's pods by name.
    const addresses = () => {
      const subsets = (server.endpoints.get('shop/shop')?.subsets ?? []) as { addresses?: { targetRef: { name: string } }[] }[];
      return subsets
        .flatMap((s) => s.addresses ?? [])
        .map((a) => a.targetRef.name)
        .sort();
    };
    const greenNames = (await k.listPods('shop', 'color=green')).map((p) => p.name).sort();
    const blueNames = bluePods.map((p) => p.name).sort();
    const behind = (names: string[]) => (s: ServiceState | undefined) => endpointsAre({ ready: 3, notReady: 0 })(s) && addresses().join() === names.join();
    await k.setServiceSelector('shop', 'shop', { app: 'shop', color: 'green' });
    expect(await settle(read, behind(greenNames))).toMatchObject({ selector: { app: 'shop', color: 'green' }, endpoints: { ready: 3, notReady: 0 } });
    expect(addresses()).toEqual(greenNames);

    // A pod killed behind the Service: its replacement starts not ready (held there while green is stalled), then
    // becomes ready and the endpoints are whole again, on a new pod.
    const victim = greenNames[0] ?? '';
    server.stalled.add('Deployment/shop/shop-green');
    expect(await k.deletePod('shop', victim, 0)).toBe(true);
    expect(await settle(read, endpointsAre({ ready: 2, notReady: 1 }))).toMatchObject({ endpoints: { ready: 2, notReady: 1 } });
    expect(await k.getWorkload(green)).toMatchObject({ replicas: 3, readyReplicas: 2 });
    expect(addresses()).not.toContain(victim);
    server.stalled.delete('Deployment/shop/shop-green');
    expect(await settle(read, endpointsAre({ ready: 3, notReady: 0 }))).toMatchObject({ endpoints: { ready: 3, notReady: 0 } });
    expect(addresses()).toHaveLength(3);
    expect(addresses()).not.toContain(victim);

    // The rollback: blue took no traffic meanwhile but kept running, so switching back is immediate.
    await k.setServiceSelector('shop', 'shop', { app: 'shop', color: 'blue' });
    expect(await settle(read, behind(blueNames))).toMatchObject({ selector: { app: 'shop', color: 'blue' } });
    expect(addresses()).toEqual(blueNames);
  });

  it("runs the cluster's controllers: pods become ready over time, and an HPA undoes a replicas patch below its minimum", async () => {
    const server = await startKubeApiServer({ tickMs: 5 });
    servers.push(server);
    server.workloads.set('Deployment/shop/api', workload('Deployment', 'shop', 'api', 2));
    server.workloads.set('Deployment/shop/web', workload('Deployment', 'shop', 'web', 3));
    server.hpas.set('shop/web', hpa('shop', 'web', 'web', 3, 5));
    const k = createKubernetes({ kubeconfigYaml: server.kubeconfig() });
    await k.scaleWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' }, 5);
    await k.scaleWorkload({ kind: 'Deployment', namespace: 'shop', name: 'web' }, 1);
    const deadline = Date.now() + 5_000;
    let api = await k.getWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' });
    while (api?.readyReplicas !== 5 && Date.now() < deadline) api = await k.getWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' });
    expect(api).toMatchObject({ replicas: 5, readyReplicas: 5, updatedReplicas: 5 });
    let web = await k.getWorkload({ kind: 'Deployment', namespace: 'shop', name: 'web' });
    while (web?.replicas !== 3 && Date.now() < deadline) web = await k.getWorkload({ kind: 'Deployment', namespace: 'shop', name: 'web' });
    expect(web?.replicas).toBe(3);
  });

  it('tells an API server that does not answer (exit 3) from one that refuses (exit 2)', async () => {
    const server = await startKubeApiServer();
    const kubeconfig = server.kubeconfig();
    await server.close();
    const k = createKubernetes({ kubeconfigYaml: kubeconfig });
    const err = await k.listPods('shop').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SRG_K8S_UNREACHABLE', exitCode: 3, message: expect.stringContaining(server.url) });
    await expect(k.getService('shop', 'shop')).rejects.toMatchObject({ code: 'SRG_K8S_UNREACHABLE', exitCode: 3, message: expect.stringContaining('reading Service shop/shop') });
    await expect(k.setServiceSelector('shop', 'shop', { color: 'green' })).rejects.toMatchObject({
      code: 'SRG_K8S_UNREACHABLE',
      exitCode: 3,
      message: expect.stringContaining('updating Service shop/shop'),
    });
  });
});

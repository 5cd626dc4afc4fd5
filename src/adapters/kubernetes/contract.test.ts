import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { pod, startKubeApiServer, type KubeApiServer } from '../../../test/support/kubernetes-api-server.js';
import { createFakeKubernetes, installFakeChaosMesh, objectKey, type FakeKubernetes } from './fake.js';
import { createKubernetes } from './kubernetes.js';
import type { CustomObjectRef, KubernetesPort } from './port.js';

/** What the suite needs from each implementation besides the port itself. */
interface Harness {
  port: KubernetesPort;
  addPod(namespace: string, name: string, labels: Record<string, string>, ready?: boolean): void;
  installChaosMesh(): void;
  hasObject(ref: CustomObjectRef, name: string): boolean;
  podNames(namespace: string): string[];
}

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

  it('tells an API server that does not answer (exit 3) from one that refuses (exit 2)', async () => {
    const server = await startKubeApiServer();
    const kubeconfig = server.kubeconfig();
    await server.close();
    const k = createKubernetes({ kubeconfigYaml: kubeconfig });
    const err = await k.listPods('shop').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SRG_K8S_UNREACHABLE', exitCode: 3, message: expect.stringContaining(server.url) });
  });
});

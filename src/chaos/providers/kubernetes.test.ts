import { describe, expect, it } from 'vitest';
import { createFakeKubernetes, installFakeChaosMesh } from '../../adapters/kubernetes/fake.js';
import { parseExperiment } from '../experiment.js';
import { runExperiment } from '../runner.js';
import { selectPods } from './kubernetes.js';

const pods = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

describe('selectPods (Chaos Mesh modes)', () => {
  it('picks one, all, a fixed number or a percentage', () => {
    const r = () => 0.5;
    expect(selectPods(pods(5), 'one', undefined, r)).toHaveLength(1);
    expect(selectPods(pods(5), 'all', undefined, r).sort()).toEqual(pods(5));
    expect(selectPods(pods(5), 'fixed', 2, r)).toHaveLength(2);
    expect(selectPods(pods(10), 'fixed-percent', 30, r)).toHaveLength(3);
    expect(selectPods(pods(10), 'random-max-percent', 50, () => 0.99).length).toBeLessThanOrEqual(5);
    expect(new Set(selectPods(pods(10), 'fixed', 10, Math.random)).size).toBe(10);
  });
});

describe('kubernetes and chaos-mesh providers (fake cluster)', () => {
  it('applies a PodChaos with the documented manifest and removes it in the rollback', async () => {
    const k8s = createFakeKubernetes({ namespace: 'shop' });
    installFakeChaosMesh(k8s);
    const created: unknown[] = [];
    const create = k8s.createCustomObject;
    k8s.createCustomObject = async (ref, body) => {
      created.push({ ref, body });
      return create(ref, body);
    };
    const e = parseExperiment({
      title: 'Kill orders containers',
      method: [
        {
          type: 'action',
          name: 'kill-app-container',
          provider: {
            type: 'chaos-mesh',
            func: 'pod-chaos',
            arguments: { action: 'container-kill', mode: 'fixed-percent', value: 50, containerNames: ['app'], selector: { labelSelectors: { app: 'orders' } }, duration: '30s' },
          },
        },
      ],
      rollbacks: [
        { type: 'action', name: 'remove', provider: { type: 'chaos-mesh', func: 'delete', arguments: { kind: 'PodChaos', name: 'surgectl-kill-orders-containers-kill-app-container' } } },
      ],
    });
    const j = await runExperiment(e, { targets: { kubernetes: async () => k8s } });
    expect(j.status).toBe('completed');
    expect(created).toEqual([
      {
        ref: { group: 'chaos-mesh.org', version: 'v1alpha1', namespace: 'shop', plural: 'podchaos' },
        body: {
          apiVersion: 'chaos-mesh.org/v1alpha1',
          kind: 'PodChaos',
          metadata: { name: 'surgectl-kill-orders-containers-kill-app-container', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'surgectl' } },
          spec: { action: 'container-kill', mode: 'fixed-percent', value: '50', selector: { labelSelectors: { app: 'orders' } }, duration: '30s', containerNames: ['app'] },
        },
      },
    ]);
    expect(j.rollbacks[0]).toMatchObject({ status: 'succeeded', output: { deleted: true } });
    expect(k8s.objects.size).toBe(0);
  });

  it('aborts with SRG_CHAOS_CRD_MISSING when Chaos Mesh is not installed, creating nothing', async () => {
    const k8s = createFakeKubernetes();
    const e = parseExperiment({
      title: 't',
      method: [{ type: 'action', name: 'kill', provider: { type: 'chaos-mesh', func: 'pod-chaos', arguments: { action: 'pod-kill', selector: { labelSelectors: { app: 'x' } } } } }],
    });
    const j = await runExperiment(e, { targets: { kubernetes: async () => k8s } });
    expect(j.status).toBe('aborted');
    expect(j.error).toMatchObject({ code: 'SRG_CHAOS_CRD_MISSING', message: expect.stringContaining('PodChaos') });
    expect(k8s.objects.size).toBe(0);
  });

  it('fails delete-pods when nothing matches, and uses --namespace over the context namespace', async () => {
    const k8s = createFakeKubernetes({ namespace: 'default', pods: [{ name: 'orders-1', namespace: 'shop', phase: 'Running', ready: true, labels: { app: 'orders' } }] });
    const e = (selector: string) =>
      parseExperiment({ title: 't', method: [{ type: 'action', name: 'del', provider: { type: 'kubernetes', func: 'delete-pods', arguments: { labelSelector: selector } } }] });
    const none = await runExperiment(e('app=nothing'), { targets: { kubernetes: async () => k8s, namespace: 'shop' } });
    expect(none.run[0]).toMatchObject({ status: 'failed', exception: { code: 'SRG_K8S_API', message: expect.stringContaining('No pods match app=nothing in namespace shop') } });
    const ok = await runExperiment(e('app=orders'), { targets: { kubernetes: async () => k8s, namespace: 'shop' } });
    expect(ok.run[0]).toMatchObject({ status: 'succeeded', output: { namespace: 'shop', matched: 1, deleted: ['orders-1'] } });
    expect(k8s.pods).toEqual([]);
  });
});

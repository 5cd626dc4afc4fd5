import { describe, expect, it } from 'vitest';
import { createFakeKubernetes, fakeService, fakeWorkload, workloadKey, type FakeKubernetes } from '../adapters/kubernetes/fake.js';
import { createFakeStackAdmin } from '../adapters/stack-admin/fake.js';
import { createFakePrometheus } from '../adapters/prometheus/fake.js';
import { createLocalFlagsProvider } from '../flags/provider.js';
import { createRecordingReporter } from '../reporter.js';
import { checkAction, STEP_KINDS, type StepContext } from './kinds.js';
import type { RunbookPorts } from './ports.js';

/** Runs a kind as the engine does: fields checked by its schema, then before → run (→ undo). */
function kindOf(action: Record<string, unknown> & { kind: string }) {
  const { spec, problems } = checkAction(action, 'step');
  expect(problems).toEqual([]);
  const kind = STEP_KINDS[action.kind];
  if (!kind) throw new Error(`no kind ${action.kind}`);
  return { kind, spec: spec as never };
}

function ctx(ports: Partial<RunbookPorts>, signal = new AbortController().signal): StepContext {
  let t = 0;
  return {
    ports: ports as RunbookPorts,
    signal,
    now: () => (t += 10),
    sleep: async () => undefined,
    reporter: createRecordingReporter(true),
    env: {},
  };
}

describe('step kinds', () => {
  it('stack-admin: workers recorded before the change and put back by undo', async () => {
    const admin = createFakeStackAdmin();
    const c = ctx({ stackAdmin: async () => admin });
    const { kind, spec } = kindOf({ kind: 'stack-admin', url: 'http://127.0.0.1:8080', call: 'workers', value: 32 });
    const undo = await kind.before?.(spec, c);
    expect(undo).toEqual({ workers: 8 });
    expect((await kind.run(spec, c)).passed).toBe(true);
    expect(admin.state.workers.size).toBe(32);
    await kind.undo?.(spec, undo, c);
    expect(admin.state.workers.size).toBe(8);
    expect(kind.describe(spec)).toBe('stack http://127.0.0.1:8080: workers 32');
  });

  it('flags: a set from surgectl.yaml switched off, its old values put back; an unknown flag is refused before any switch', async () => {
    const admin = createFakeStackAdmin();
    const c = ctx({ flags: async () => createLocalFlagsProvider(admin), flagSet: async () => ['recommendations', 'loyalty-points'] });
    const { kind, spec } = kindOf({ kind: 'flags', provider: 'local', set: 'peak' });
    const undo = await kind.before?.(spec, c);
    expect(undo).toEqual({ environment: 'stack', flags: { recommendations: true, 'loyalty-points': true } });
    await kind.run(spec, c);
    expect(Object.fromEntries((await admin.flags()).map((f) => [f.name, f.enabled]))).toMatchObject({ recommendations: false, 'loyalty-points': false, 'order-notifications': true });
    await kind.undo?.(spec, undo, c);
    expect((await admin.flags()).every((f) => f.enabled)).toBe(true);
    expect(kind.describeUndo?.(spec, undo)).toBe('surgectl flags on recommendations --provider local --env stack && surgectl flags on loyalty-points --provider local --env stack');

    const bad = kindOf({ kind: 'flags', flags: { 'no-such-flag': false, recommendations: false } });
    const calls = admin.calls.length;
    await expect(bad.kind.before?.(bad.spec, c)).rejects.toThrow(/flag no-such-flag does not exist/);
    expect(admin.calls.slice(calls).filter((x) => x.startsWith('setFlag'))).toEqual([]);
  });

  it('kubernetes-selector: sets only the named key, refuses a selector with no ready pod, undo restores the exact old selector', async () => {
    const k8s: FakeKubernetes = createFakeKubernetes({ namespace: 'shop' });
    k8s.services.set('shop/orders', fakeService('shop', 'orders', { app: 'orders', color: 'blue' }));
    for (const [name, color, ready] of [['b1', 'blue', true], ['g1', 'green', true], ['g2', 'green', false]] as const) {
      k8s.pods.push({ name, namespace: 'shop', phase: 'Running', ready, labels: { app: 'orders', color } });
    }
    const c = ctx({ kubernetes: async () => k8s });
    const { kind, spec } = kindOf({ kind: 'kubernetes-selector', namespace: 'shop', service: 'orders', selector: { color: 'green' } });
    const undo = await kind.before?.(spec, c);
    const r = await kind.run(spec, c);
    expect(r).toMatchObject({ passed: true, output: { selector: { app: 'orders', color: 'green' }, endpoints: { ready: 1, notReady: 1 } } });
    await kind.undo?.(spec, undo, c);
    expect((await k8s.getService('shop', 'orders'))?.selector).toEqual({ app: 'orders', color: 'blue' });

    const none = kindOf({ kind: 'kubernetes-selector', namespace: 'shop', service: 'orders', selector: { color: 'purple' } });
    const refused = await none.kind.run(none.spec, c);
    expect(refused.passed).toBe(false);
    expect(refused.message).toMatch(/matches no ready pod .*the Service was not changed/);
    expect((await k8s.getService('shop', 'orders'))?.selector).toEqual({ app: 'orders', color: 'blue' });
  });

  it('kubernetes-ready: a rollout in progress or a status behind its spec does not count as ready', async () => {
    const k8s = createFakeKubernetes({ namespace: 'shop' });
    const ref = { kind: 'Deployment' as const, namespace: 'shop', name: 'orders-green' };
    const c = ctx({ kubernetes: async () => k8s });
    const { kind, spec } = kindOf({ kind: 'kubernetes-ready', namespace: 'shop', name: 'orders-green' });
    k8s.workloads.set(workloadKey(ref), fakeWorkload('Deployment', 'shop', 'orders-green', 3, { updatedReplicas: 1, totalReplicas: 3 }));
    expect((await kind.run(spec, c)).message).toMatch(/rollout in progress \(1 of 3 pods updated\)/);
    k8s.workloads.set(workloadKey(ref), fakeWorkload('Deployment', 'shop', 'orders-green', 3, { generationObserved: false }));
    expect((await kind.run(spec, c)).message).toMatch(/does not describe its current spec yet/);
    k8s.workloads.set(workloadKey(ref), fakeWorkload('Deployment', 'shop', 'orders-green', 3, { readyReplicas: 2 }));
    expect((await kind.run(spec, c)).message).toMatch(/has 2 ready replica\(s\), needs 3/);
    k8s.workloads.set(workloadKey(ref), fakeWorkload('Deployment', 'shop', 'orders-green', 3));
    expect((await kind.run(spec, c)).passed).toBe(true);
  });

  it('wait-until: passes once the condition holds; when its time runs out it says what it saw last', async () => {
    let depth = 5;
    const prom = createFakePrometheus(() => [{ metric: {}, value: depth-- }]);
    const c = ctx({ prometheus: () => prom });
    const { kind, spec } = kindOf({ kind: 'wait-until', prometheus: 'http://127.0.0.1:9090', query: 'sum(surgectl_queue_depth)', condition: 'value<2' });
    expect(await kind.run(spec, c)).toMatchObject({ passed: true, output: { value: 1, polls: 5 } });

    const ac = new AbortController();
    const stuck = createFakePrometheus(() => [{ metric: {}, value: 7 }]);
    let polls = 0;
    const c2: StepContext = { ...ctx({ prometheus: () => stuck }, ac.signal), sleep: async () => void (++polls === 3 && ac.abort()) };
    const r = await kind.run(spec, c2);
    expect(r.passed).toBe(false);
    expect(r.message).toBe('sum(surgectl_queue_depth) did not meet "value<2" in time (3 check(s); last: 7)');
  });

  it('http: a change unless GET/HEAD; the expected status decides', async () => {
    const c = ctx({ http: async (req) => ({ status: req.method === 'POST' ? 409 : 200, body: '{"ok":true}' }) });
    const get = kindOf({ kind: 'http', url: 'http://127.0.0.1:1/x' });
    expect(get.kind.mutating(get.spec)).toBe(false);
    expect(await get.kind.run(get.spec, c)).toMatchObject({ passed: true, output: { status: 200, body: { ok: true } } });
    const post = kindOf({ kind: 'http', url: 'http://127.0.0.1:1/x', method: 'POST', body: { a: 1 }, expectStatus: [200, 201] });
    expect(post.kind.mutating(post.spec)).toBe(true);
    expect((await post.kind.run(post.spec, c)).message).toBe('POST http://127.0.0.1:1/x answered 409, expected 200 or 201');
  });

  it('each kind refuses fields it does not have, naming them', () => {
    expect(checkAction({ kind: 'haproxy-weight', endpoint: 'x:1', backend: 'orders', weights: { green: 10 }, wieght: 1 }, 'steps[2].action').problems.join('\n')).toMatch(/steps\[2\]\.action: Unrecognized key: "wieght"/);
    expect(checkAction({ kind: 'haproxy-weight', endpoint: 'x:1', backend: 'orders' }, 'a').problems).toEqual(['a: give either weights or shift']);
    expect(checkAction({ kind: 'flags', set: 'peak', flags: { a: true } }, 'a').problems).toEqual(['a: give either flags or set']);
  });
});

import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createFakeAutoScaling, type FakeAutoScaling } from '../adapters/aws-autoscaling/fake.js';
import { createFakeKubernetes, fakeWorkload, type FakeKubernetes } from '../adapters/kubernetes/fake.js';
import { createFakeStackAdmin, type FakeStackAdmin } from '../adapters/stack-admin/fake.js';
import { createRecordingReporter } from '../reporter.js';
import { applyOutcome, restoreOutcome } from './outcome.js';
import { parseScalePlan } from './plan-file.js';
import { applyScale, planFromFile, reconcileServices, restoreScale, scaleStatus, scheduleScale, type ScaleRunOptions } from './run.js';
import type { ScaleConnect } from './types.js';

interface World {
  k8s: FakeKubernetes;
  aws: FakeAutoScaling;
  stack: FakeStackAdmin;
  dir: string;
  connect: ScaleConnect;
}

async function world(): Promise<World> {
  const k8s = createFakeKubernetes({ namespace: 'shop', context: 'prod' });
  k8s.namespaces.add('shop');
  k8s.workloads.set('Deployment/shop/intake', fakeWorkload('Deployment', 'shop', 'intake', 2));
  k8s.workloads.set('Deployment/shop/worker', fakeWorkload('Deployment', 'shop', 'worker', 3, { labels: { app: 'worker', 'argocd.argoproj.io/instance': 'shop' } }));
  k8s.workloads.set('StatefulSet/shop/cache', fakeWorkload('StatefulSet', 'shop', 'cache', 1, { podRequests: { cpu: '500m' } }));
  k8s.hpas.set('shop/worker', { namespace: 'shop', name: 'worker', minReplicas: 3, maxReplicas: 6, target: { kind: 'Deployment', name: 'worker' }, labels: {}, annotations: {} });
  k8s.quotas.set('shop', [{ name: 'compute', hard: { 'requests.cpu': '2' }, used: { 'requests.cpu': '1500m' } }]);
  const aws = createFakeAutoScaling([{ name: 'web-asg', minSize: 1, desiredCapacity: 2, maxSize: 4, inService: 2, instances: 2 }], { region: 'eu-west-1' });
  const stack = createFakeStackAdmin({ url: 'http://127.0.0.1:9999' });
  const dir = await mkdtemp(join(tmpdir(), 'surgectl-scale-'));
  const connect: ScaleConnect = { kubernetes: async () => k8s, autoScaling: async () => aws, stack: async () => stack };
  return { k8s, aws, stack, dir, connect };
}

const planDoc = (services: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'surgectl/v1',
  kind: 'ScalePlan',
  metadata: { name: 'black-friday' },
  spec: { window: { start: '2030-11-27T06:00:00Z', end: '2030-11-28T06:00:00Z' }, services, ...extra },
});

const fullPlan = planDoc([
  { name: 'intake', replicas: 5, targets: [{ kind: 'Deployment', name: 'intake' }] },
  { name: 'worker', replicas: 8, targets: [{ kind: 'Deployment', name: 'worker' }] },
  { name: 'cache', replicas: 3, targets: [{ kind: 'StatefulSet', name: 'cache' }] },
  { name: 'web', replicas: 6, asg: { min: 4, desired: 6, max: 9 }, targets: [{ kind: 'AutoScalingGroup', name: 'web-asg' }] },
  { name: 'local', replicas: 12, targets: [{ kind: 'BundledStack', role: 'workers' }] },
]);

/** Every spec field of every object, as the systems hold them: what a restore must give back exactly. */
function specs(w: World): string {
  return JSON.stringify({
    workloads: [...w.k8s.workloads.values()].map((x) => [x.kind, x.name, x.replicas]),
    hpas: [...w.k8s.hpas.values()].map((h) => [h.name, h.minReplicas, h.maxReplicas]),
    groups: [...w.aws.groups.values()].map((g) => [g.name, g.minSize, g.desiredCapacity, g.maxSize]),
    scheduled: [...w.aws.scheduled.entries()],
    workers: w.stack.state.workers.size,
  });
}

describe('surgectl scale engine', () => {
  let w: World;
  let opts: ScaleRunOptions;
  beforeEach(async () => {
    w = await world();
    const file = join(w.dir, 'plan.yaml');
    await writeFile(file, stringify(fullPlan));
    opts = { file, cwd: w.dir, connect: w.connect, reporter: createRecordingReporter(), now: () => Date.parse('2030-11-01T00:00:00Z') };
  });

  const tickAll = () => {
    for (let i = 0; i < 20; i++) {
      w.k8s.tick();
      w.aws.tick();
    }
  };

  it('plans current -> desired per object, through the HPA for a workload under one, with warnings; nothing changes', async () => {
    const before = specs(w);
    const r = await planFromFile(opts);
    expect(r.changes.map((c) => `${c.kind} ${c.name} ${c.field} ${c.current}->${c.desired}`)).toEqual([
      'AutoScalingGroup web-asg minSize 1->4',
      'AutoScalingGroup web-asg desiredCapacity 2->6',
      'AutoScalingGroup web-asg maxSize 4->9',
      'HorizontalPodAutoscaler shop/worker minReplicas 3->8',
      'HorizontalPodAutoscaler shop/worker maxReplicas 6->8',
      'Deployment shop/intake replicas 2->5',
      'StatefulSet shop/cache replicas 1->3',
      'BundledStack workers workers 8->12',
    ]);
    expect(r.changes[0]).toEqual({ target: 'aws:eu-west-1', service: 'web', kind: 'AutoScalingGroup', name: 'web-asg', field: 'minSize', current: 1, desired: 4 });
    expect(r.warnings.join('\n')).toMatch(/Deployment shop\/worker is scaled by HorizontalPodAutoscaler shop\/worker/);
    expect(r.warnings.join('\n')).toMatch(/maxReplicas 6 would block the target 8/);
    expect(r.warnings.join('\n')).toMatch(/managed by Argo CD/);
    expect(r.warnings.join('\n')).toMatch(/StatefulSet shop\/cache: ResourceQuota compute would block the target: requests.cpu used 1.50 \+ 2 pods x 0.50 > hard 2/);
    expect(r.calls[0]).toBe('[aws eu-west-1] UpdateAutoScalingGroup {"AutoScalingGroupName":"web-asg","MinSize":4,"DesiredCapacity":6,"MaxSize":9}');
    expect(r.calls).toContain('[k8s prod] PUT /apis/apps/v1/namespaces/shop/deployments/intake/scale {"spec":{"replicas":5}}');
    expect(specs(w)).toBe(before);
  });

  it('applies after a snapshot and confirmation, waits for readiness, and a rerun is a no-op', async () => {
    const reporter = createRecordingReporter();
    const r = await applyScale({ ...opts, reporter, dryRun: false, timeoutMs: 5_000, pollMs: 1, onProgress: tickAll });
    expect(applyOutcome(r)).toBeUndefined();
    expect(r.snapshot).toMatch(/\.surgectl\/snapshots\/scale-\d{8}T\d{6}Z\.json$/);
    expect(r.ready).toBe(true);
    expect(r.readiness.every((x) => x.done)).toBe(true);
    expect(w.k8s.workloads.get('Deployment/shop/worker')?.replicas).toBe(8); // raised by its HPA, not patched
    expect(w.k8s.hpas.get('shop/worker')).toMatchObject({ minReplicas: 8, maxReplicas: 8 });
    expect(w.aws.groups.get('web-asg')).toMatchObject({ minSize: 4, desiredCapacity: 6, maxSize: 9, inService: 6 });
    expect(w.stack.state.workers.size).toBe(12);
    const writes = w.aws.calls.filter((c) => c.method === 'updateGroup').length;
    const again = await applyScale({ ...opts, reporter, dryRun: false, timeoutMs: 5_000, pollMs: 1 });
    expect(again.changes).toEqual([]);
    expect(again.snapshot).toBeUndefined();
    expect(again.ready).toBe(true);
    expect(w.aws.calls.filter((c) => c.method === 'updateGroup').length).toBe(writes);
    expect((await readdir(join(w.dir, '.surgectl', 'snapshots'))).length).toBe(1);
  });

  it('snapshot -> apply -> restore leaves every spec exactly as before, for every kind; a second restore changes nothing', async () => {
    const before = specs(w);
    const r = await applyScale({ ...opts, dryRun: false, timeoutMs: 0 });
    expect(specs(w)).not.toBe(before);
    const restored = await restoreScale({ snapshot: r.snapshot as string, connect: w.connect, reporter: createRecordingReporter(), dryRun: false });
    expect(restoreOutcome(restored)).toBeUndefined();
    w.k8s.tick(); // the HPA, its bounds back, brings its Deployment back
    expect(specs(w)).toBe(before);
    const again = await restoreScale({ snapshot: r.snapshot as string, connect: w.connect, reporter: createRecordingReporter(), dryRun: false });
    expect(again.changes).toEqual([]);
    expect(again.applied).toEqual([]);
  });

  it('--dry-run lists the exact calls and changes nothing', async () => {
    const before = specs(w);
    const r = await applyScale({ ...opts, dryRun: true, timeoutMs: 1000 });
    expect(r.calls).toHaveLength(5);
    expect(r.snapshot).toBeUndefined();
    expect(specs(w)).toBe(before);
  });

  it('refuses a desired capacity above MaxSize unless the plan raises MaxSize; nothing changes', async () => {
    await writeFile(opts.file, stringify(planDoc([{ name: 'web', replicas: 6, targets: [{ kind: 'AutoScalingGroup', name: 'web-asg' }] }])));
    const before = specs(w);
    const r = await applyScale({ ...opts, dryRun: false, timeoutMs: 0 });
    expect(applyOutcome(r)).toMatchObject({ code: 'SRG_SCALE_TARGET', exitCode: 2, message: expect.stringMatching(/desired 6 is above MaxSize 4.*nothing was changed/) });
    expect(specs(w)).toBe(before);
  });

  it('names every object, namespace and group that does not exist, before changing anything', async () => {
    await writeFile(
      opts.file,
      stringify(
        planDoc([
          { name: 'a', replicas: 2, targets: [{ kind: 'Deployment', name: 'nope' }, { kind: 'Deployment', name: 'intake', namespace: 'ghost' }] },
          { name: 'b', replicas: 2, targets: [{ kind: 'AutoScalingGroup', name: 'no-asg' }, { kind: 'Deployment', name: 'intake' }] },
        ]),
      ),
    );
    const before = specs(w);
    const err = await applyScale({ ...opts, dryRun: false, timeoutMs: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SRG_SCALE_TARGET', exitCode: 2 });
    expect((err as { details: string[] }).details).toEqual([
      'Deployment nope not found in namespace shop (context prod)',
      'namespace ghost does not exist (context prod)',
      'AutoScalingGroup no-asg not found in region eu-west-1',
    ]);
    expect(specs(w)).toBe(before);
  });

  it('a failure part way says what was applied and what not, and the snapshot restores the applied part', async () => {
    const before = specs(w);
    const failing: ScaleConnect = {
      ...w.connect,
      kubernetes: async () => ({
        ...w.k8s,
        scaleWorkload: async () => {
          throw Object.assign(new Error('Kubernetes API refused updating Deployment shop/intake scale: HTTP 403 forbidden'), {});
        },
      }),
    };
    const r = await applyScale({ ...opts, connect: failing, dryRun: false, timeoutMs: 0 });
    const err = applyOutcome(r);
    expect(err).toMatchObject({ code: 'SRG_SCALE_PARTIAL', exitCode: 2, message: expect.stringContaining('2 of 5 writes were applied') });
    expect(err?.details.filter((d) => d.startsWith('applied:')).length).toBe(2);
    expect(err?.details.filter((d) => d.startsWith('not applied:')).length).toBe(2);
    expect(err?.hint).toContain(`surgectl scale restore ${r.snapshot}`);
    expect(w.aws.groups.get('web-asg')?.desiredCapacity).toBe(6);
    const restored = await restoreScale({ snapshot: r.snapshot as string, connect: w.connect, reporter: createRecordingReporter(), dryRun: false });
    expect(restoreOutcome(restored)).toBeUndefined();
    expect(specs(w)).toBe(before);
  });

  it('a declined confirmation changes nothing', async () => {
    const before = specs(w);
    await expect(applyScale({ ...opts, reporter: createRecordingReporter(false), dryRun: false, timeoutMs: 0 })).rejects.toMatchObject({ code: 'SRG_CLI_ABORTED' });
    expect(specs(w)).toBe(before);
  });

  it('times out when pods never become ready (exit 20), and status --watch reports the same', async () => {
    const r = await applyScale({ ...opts, dryRun: false, timeoutMs: 30, pollMs: 5, now: () => Date.now() });
    expect(applyOutcome(r)).toMatchObject({ code: 'SRG_SCALE_NOT_READY', exitCode: 20 });
    const s = await scaleStatus({ ...opts, watchTimeoutMs: 5_000, pollMs: 1, now: () => Date.now(), onProgress: tickAll });
    expect(s.ready).toBe(true);
    expect(s.rows.find((x) => x.name === 'shop/intake')).toMatchObject({ ready: 5, target: 5, done: true });
  });

  it('schedules start and end actions for ASGs; a rerun is unchanged; restore deletes them', async () => {
    const before = specs(w);
    const r = await scheduleScale({ ...opts, dryRun: false });
    expect(r.actions.map((a) => [a.name, a.at, a.minSize, a.desiredCapacity, a.maxSize, a.state])).toEqual([
      ['surgectl-black-friday-start', '2030-11-27T06:00:00.000Z', 4, 6, 9, 'created'],
      ['surgectl-black-friday-end', '2030-11-28T06:00:00.000Z', 1, 2, 4, 'created'],
    ]);
    expect(r.skipped).toHaveLength(5);
    expect(w.aws.groups.get('web-asg')).toMatchObject({ minSize: 1, desiredCapacity: 2, maxSize: 4 });
    const again = await scheduleScale({ ...opts, dryRun: false });
    expect(again.actions.map((a) => a.state)).toEqual(['unchanged', 'unchanged']);
    expect(again.snapshot).toBeUndefined();
    await restoreScale({ snapshot: r.snapshot as string, connect: w.connect, reporter: createRecordingReporter(), dryRun: false });
    expect(w.aws.scheduled.get('web-asg')).toEqual([]);
    expect(specs(w).replace('"scheduled":[["web-asg",[]]]', '"scheduled":[]')).toBe(before);
  });
});

describe('ScalePlan file validation', () => {
  it('lists every problem with its path', () => {
    let err: unknown;
    try {
      parseScalePlan(
        planDoc([
          { name: 'a', replicas: -1 },
          { name: 'b', replicas: 2, asg: { min: 5, desired: 2, max: 1 }, targets: [{ kind: 'Deployment', name: 'x' }] },
          { name: 'c', replicas: 2, targets: [{ kind: 'Deployment', name: 'x' }] },
          { name: 'd', replicas: 2 },
        ]),
        'plan.yaml',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'SRG_SCALE_PLAN', exitCode: 10 });
    expect((err as { details: string[] }).details).toEqual([expect.stringMatching(/^spec\.services\.0\.replicas: /)]);
    try {
      parseScalePlan(planDoc([{ name: 'b', replicas: 2, asg: { min: 5, desired: 2, max: 1 }, targets: [{ kind: 'Deployment', name: 'x' }] }, { name: 'c', replicas: 2, targets: [{ kind: 'Deployment', name: 'x' }] }, { name: 'd', replicas: 2 }]), 'plan.yaml');
    } catch (e) {
      err = e;
    }
    expect((err as { details: string[] }).details).toEqual([
      'spec.services.0.asg: expected min <= desired <= max, got 5/2/1',
      'spec.services.1.targets.0: Deployment x is also a target of service "b"',
      'spec.services.2: service "d" has no targets: add spec.services.2.targets, or scale.targets.d in surgectl.yaml',
    ]);
  });

  it('takes targets from surgectl.yaml scale.targets when the plan has none', () => {
    const f = parseScalePlan(planDoc([{ name: 'worker', replicas: 4 }]), 'plan.yaml', { worker: [{ kind: 'Deployment', name: 'worker', namespace: 'shop' }] });
    expect(f.services[0]?.targets).toEqual([{ kind: 'Deployment', name: 'worker', namespace: 'shop' }]);
  });
});

describe('reconcileServices (the rehearsal scale step)', () => {
  it('scales the bundled stack through observe -> plan -> apply, keeps the value to go back to, and is a no-op when already there', async () => {
    const w = await world();
    const seen: number[] = [];
    const services = [{ name: 'worker', replicas: 3, targets: [{ kind: 'BundledStack' as const, role: 'workers' as const }] }];
    const first = await reconcileServices(services, w.connect, { onObserved: (o) => seen.push(o[0]?.fields.workers ?? -1) });
    expect(seen).toEqual([8]);
    expect(first.result.applied).toEqual(['[stack] PUT http://127.0.0.1:9999/admin/workers {"count":3}']);
    expect(w.stack.state.workers.size).toBe(3);
    const second = await reconcileServices(services, w.connect);
    expect(second.plan.steps).toEqual([]);
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../support/cli.js';
import { hpa, startKubeApiServer, workload, type KubeApiServer } from '../support/kubernetes-api-server.js';
import { startTestStack, tempDir, type TestStack } from '../support/stack.js';

/**
 * `surgectl scale plan/apply/status/restore` as a user runs them: the built CLI against a running
 * bundled stack and the Kubernetes contract API server (through the real @kubernetes/client-node).
 */
describe('surgectl scale (e2e)', () => {
  let stack: TestStack;
  let k8s: KubeApiServer;
  const dir = tempDir('surgectl-scale-e2e-');
  let env: Record<string, string>;

  const plan = (services: unknown[]) =>
    stringify({ apiVersion: 'surgectl/v1', kind: 'ScalePlan', metadata: { name: 'flash-sale' }, spec: { window: { start: '2030-11-27T06:00:00Z', end: '2030-11-27T18:00:00Z' }, services } });
  const specs = () =>
    JSON.stringify({
      api: (k8s.workloads.get('Deployment/shop/api')?.spec as { replicas: number }).replicas,
      hpa: k8s.hpas.get('shop/worker')?.spec,
    });

  beforeAll(async () => {
    stack = await startTestStack({ workers: 4 });
    k8s = await startKubeApiServer({ tickMs: 10 });
    k8s.workloads.set('Deployment/shop/api', workload('Deployment', 'shop', 'api', 2));
    k8s.workloads.set('Deployment/shop/worker', workload('Deployment', 'shop', 'worker', 2));
    k8s.hpas.set('shop/worker', hpa('shop', 'worker', 'worker', 2, 4));
    writeFileSync(join(dir.path, 'kubeconfig'), k8s.kubeconfig());
    env = { KUBECONFIG: join(dir.path, 'kubeconfig'), SURGECTL_STACK_ADMIN_TOKEN: stack.adminToken };
    writeFileSync(
      join(dir.path, 'plan.yaml'),
      plan([
        { name: 'intake', replicas: 5, targets: [{ kind: 'Deployment', name: 'api' }] },
        { name: 'worker', replicas: 6, targets: [{ kind: 'HorizontalPodAutoscaler', name: 'worker', namespace: 'shop' }] },
        { name: 'local', replicas: 9, targets: [{ kind: 'BundledStack', url: stack.url, role: 'workers' }] },
      ]),
    );
  });
  afterAll(async () => {
    await k8s.close();
    await stack.dispose();
    dir.remove();
  });

  const cli = (args: string[]) => runCli(args, { cwd: dir.path, env, timeoutMs: 60_000 });
  const stackWorkers = async () => ((await (await fetch(`${stack.url}/admin/status`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as { workers: { size: number } }).workers.size;

  it('plan -> apply (refused off a TTY without --yes) -> status -> rerun no-op -> restore', async () => {
    const before = { k8s: specs(), workers: await stackWorkers() };

    const planned = await cli(['-o', 'json', 'scale', 'plan', '-f', 'plan.yaml']);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    const changes = (JSON.parse(planned.stdout) as { changes: { kind: string; name: string; field: string; current: number; desired: number }[] }).changes;
    expect(changes.map((c) => `${c.kind} ${c.name} ${c.field} ${c.current}->${c.desired}`)).toEqual([
      'HorizontalPodAutoscaler shop/worker minReplicas 2->6',
      'HorizontalPodAutoscaler shop/worker maxReplicas 4->6',
      'Deployment shop/api replicas 2->5',
      'BundledStack workers workers 4->9',
    ]);
    const human = await cli(['scale', 'plan', '-f', 'plan.yaml']);
    expect(human.stdout).toMatch(/Deployment\s+shop\/api\s+replicas\s+2 -> 5/);
    expect(human.stdout).toContain('maxReplicas 4 would block the target 6');

    const refused = await cli(['scale', 'apply', '-f', 'plan.yaml']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[SRG_CLI_NOT_A_TTY]');
    expect(refused.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect({ k8s: specs(), workers: await stackWorkers() }).toEqual(before);

    const dry = await cli(['scale', 'apply', '-f', 'plan.yaml', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('PUT /apis/apps/v1/namespaces/shop/deployments/api/scale {"spec":{"replicas":5}}');
    expect(dry.stdout).toContain(`PUT ${stack.url}/admin/workers {"count":9}`);

    const applied = await cli(['--yes', '-o', 'json', 'scale', 'apply', '-f', 'plan.yaml', '--timeout', '30s']);
    expect(applied.code, applied.stderr).toBe(0);
    const report = JSON.parse(applied.stdout) as { snapshot: string; ready: boolean; applied: string[] };
    expect(report.ready).toBe(true);
    expect(report.applied).toHaveLength(3);
    expect(existsSync(report.snapshot)).toBe(true);
    expect(report.snapshot.startsWith(join(dir.path, '.surgectl', 'snapshots'))).toBe(true);
    expect(JSON.parse(readFileSync(report.snapshot, 'utf8'))).toMatchObject({ apiVersion: 'surgectl/v1', kind: 'ScaleSnapshot' });
    expect(await stackWorkers()).toBe(9);
    expect(k8s.hpas.get('shop/worker')?.spec).toMatchObject({ minReplicas: 6, maxReplicas: 6 });

    const status = await cli(['-o', 'json', 'scale', 'status', '-f', 'plan.yaml']);
    expect(status.code).toBe(0);
    const rows = (JSON.parse(status.stdout) as { rows: { name: string; ready: number; target: number; done: boolean }[] }).rows;
    expect(rows.find((r) => r.name === 'shop/worker')).toMatchObject({ ready: 6, target: 6, done: true });

    const puts = k8s.requests.filter((r) => r.startsWith('PUT')).length;
    const again = await cli(['--yes', '-o', 'json', 'scale', 'apply', '-f', 'plan.yaml']);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { changes: unknown[]; snapshot?: string }).changes).toEqual([]);
    expect(k8s.requests.filter((r) => r.startsWith('PUT')).length).toBe(puts);

    const restored = await cli(['--yes', 'scale', 'restore', report.snapshot]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await stackWorkers()).toBe(before.workers);
    expect(JSON.parse(specs()).api).toBe(2);
    expect(JSON.parse(specs()).hpa).toEqual(JSON.parse(before.k8s).hpa);
  });

  it('an unknown deployment or namespace is named, exit 2, and nothing changes; a bad plan is exit 10 with every problem', async () => {
    writeFileSync(
      join(dir.path, 'bad-targets.yaml'),
      plan([{ name: 'intake', replicas: 5, targets: [{ kind: 'Deployment', name: 'ghost' }, { kind: 'Deployment', name: 'api', namespace: 'nowhere' }, { kind: 'Deployment', name: 'api' }] }]),
    );
    const before = specs();
    const r = await cli(['--yes', 'scale', 'apply', '-f', 'bad-targets.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[SRG_SCALE_TARGET]');
    expect(r.stderr).toContain('Deployment ghost not found in namespace shop (context contract)');
    expect(r.stderr).toContain('namespace nowhere does not exist (context contract)');
    expect(specs()).toBe(before);

    writeFileSync(join(dir.path, 'invalid.yaml'), plan([{ name: 'intake', replicas: 'many' }, { name: 'x', replicas: 1, targets: [{ kind: 'Pod', name: 'p' }] }]));
    const bad = await cli(['scale', 'plan', '-f', 'invalid.yaml']);
    expect(bad.code).toBe(10);
    expect(bad.stderr).toContain('[SRG_SCALE_PLAN]');
    expect(bad.stderr).toContain('spec.services.0.replicas');
    expect(bad.stderr).toContain('spec.services.1.targets.0.kind');

    const snap = await cli(['--yes', 'scale', 'restore', 'no-such-snapshot.json']);
    expect(snap.code).toBe(10);
    expect(snap.stderr).toContain('[SRG_SCALE_SNAPSHOT]');
  });
});

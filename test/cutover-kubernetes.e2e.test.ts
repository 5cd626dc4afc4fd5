import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CutoverState } from '../src/runbooks/cutover.js';
import type { RunbookJournal } from '../src/runbooks/types.js';
import { runCli, type CliResult } from './support/cli.js';
import { service, startKubeApiServer, workload, type KubeApiServer } from './support/kubernetes-api-server.js';
import { ensureBuilt, tempDir, waitFor } from './support/stack.js';

/**
 * `surgectl cutover --target kubernetes` as a user runs it: the built CLI, through the real
 * @kubernetes/client-node adapter, against the Kubernetes contract API server, whose controllers
 * make the Deployments' pods and keep the Service's Endpoints to the pods its selector matches.
 * Two Deployments (orders-blue, orders-green: pod labels app=orders + color) behind the Service
 * `orders`, which starts on blue.
 */
describe('surgectl cutover --target kubernetes (contract API server)', () => {
  let k8s: KubeApiServer;
  const root = tempDir('surgectl-cutover-k8s-');
  const kubeconfig = join(root.path, 'kubeconfig');
  /** Each test runs from its own folder: the cutover state (.surgectl/cutover/last.json) is per folder. */
  let cwd: { path: string; remove(): void };
  const folders: { remove(): void }[] = [];

  const REPLICAS = 3;
  const BLUE = { app: 'orders', color: 'blue' };
  const GREEN = { app: 'orders', color: 'green' };

  /** Fresh Deployments and Service (new objects, so the controller makes their pods afresh). */
  const seed = (green: { ready?: number; stalled?: boolean } = {}) => {
    k8s.stalled.clear();
    k8s.workloads.set('Deployment/shop/orders-blue', workload('Deployment', 'shop', 'orders-blue', REPLICAS, { podLabels: BLUE, labels: { app: 'orders' } }));
    k8s.workloads.set('Deployment/shop/orders-green', workload('Deployment', 'shop', 'orders-green', REPLICAS, { podLabels: GREEN, labels: { app: 'orders' }, ...(green.ready === undefined ? {} : { ready: green.ready }) }));
    if (green.stalled) k8s.stalled.add('Deployment/shop/orders-green');
    k8s.services.set('shop/orders', service('shop', 'orders', { ...BLUE }));
  };
  const selector = () => ({ ...((k8s.services.get('shop/orders')?.spec as { selector?: Record<string, string> }).selector ?? {}) });
  const replicasOf = (name: string) => (k8s.workloads.get(`Deployment/shop/${name}`)?.spec as { replicas: number }).replicas;
  /** Pod IPs of a color's pods that are Ready, sorted. */
  const readyIpsOf = (color: string) =>
    [...k8s.pods.values()]
      .filter((p) => (p.metadata as { namespace: string; labels?: Record<string, string> }).namespace === 'shop' && (p.metadata as { labels?: Record<string, string> }).labels?.color === color)
      .filter((p) => ((p.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((p) => (p.status as { podIP: string }).podIP)
      .sort();
  /** The ready addresses of the Service's Endpoints, sorted. */
  const endpointIps = () =>
    ((k8s.endpoints.get('shop/orders')?.subsets as { addresses?: { ip: string }[] }[] | undefined) ?? [])
      .flatMap((s) => s.addresses ?? [])
      .map((a) => a.ip)
      .sort();
  /** Waits until the Service's Endpoints are exactly the ready pods of `color` (the endpoints controller follows a tick later). */
  const endpointsOn = (color: string) =>
    waitFor(`the Service's endpoints to be ${color}'s ${REPLICAS} ready pods`, () => {
      const want = readyIpsOf(color);
      const got = endpointIps();
      return want.length === REPLICAS && JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
    }, { timeoutMs: 10_000 });
  const servicePuts = () => k8s.requests.filter((r) => r.startsWith('PUT /api/v1/namespaces/shop/services/')).length;

  const cli = (args: string[], opts: { kubeconfig?: string } = {}): Promise<CliResult> =>
    runCli(args, { cwd: cwd.path, env: { KUBECONFIG: opts.kubeconfig ?? kubeconfig }, timeoutMs: 60_000 });
  const cutoverArgs = (extra: string[] = []) => ['--yes', 'cutover', '--target', 'kubernetes', '-n', 'shop', '--to', 'green', '--to-deployment', 'orders-green', '--no-analysis', '-o', 'json', ...extra];
  const stateFile = () => JSON.parse(readFileSync(join(cwd.path, '.surgectl', 'cutover', 'last.json'), 'utf8')) as CutoverState;
  const step = (j: RunbookJournal, name: string) => j.steps.find((s) => s.step === name);

  beforeAll(async () => {
    ensureBuilt();
    // The controllers run every 250 ms: endpoints follow a selector change a realistic moment later
    // (a loaded cluster's endpoints controller lags by as much), not within the next few requests.
    k8s = await startKubeApiServer({ tickMs: 250 });
    writeFileSync(kubeconfig, k8s.kubeconfig());
  });
  afterAll(async () => {
    await k8s?.close();
    for (const f of folders) f.remove();
    root.remove();
  });
  beforeEach(async () => {
    cwd = tempDir('surgectl-cutover-k8s-run-');
    folders.push(cwd);
    seed();
    await endpointsOn('blue');
  });

  it('switches the Service to green (app kept, endpoints on green), journals the old selector, and --rollback puts blue back exactly', async () => {
    const r = await cli(cutoverArgs());
    expect(r.code, r.stderr).toBe(0);
    expect(selector()).toEqual(GREEN);
    await endpointsOn('green');

    const j = JSON.parse(r.stdout) as RunbookJournal;
    expect(j.status).toBe('completed');
    expect(j.runbook.name).toBe('blue-green-kubernetes');
    expect(j.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['precheck-ready:completed', 'precheck-smoke:skipped', 'switch-selector:completed', 'post-switch-analysis:skipped']);
    expect(step(j, 'precheck-ready')?.output).toMatchObject({ replicas: REPLICAS, readyReplicas: REPLICAS });
    // The write-ahead undo is the whole old selector, so a rollback restores it exactly.
    expect(step(j, 'switch-selector')).toMatchObject({ undo: BLUE, precondition: { status: 'passed' }, confirmedBy: '--yes' });
    expect((step(j, 'switch-selector')?.output as { selector: Record<string, string> }).selector).toEqual(GREEN);
    // The journal printed is the one on disk, and the state file points at it.
    const state = stateFile();
    expect(state).toMatchObject({ target: 'kubernetes', from: 'blue', to: 'green', status: 'completed' });
    expect(JSON.parse(readFileSync(state.journal, 'utf8'))).toMatchObject({ status: 'completed' });
    expect(r.stderr).toContain(`journal: ${state.journal}`);

    const back = await cli(['--yes', 'cutover', '--rollback', '-o', 'json']);
    expect(back.code, back.stderr).toBe(0);
    expect(selector()).toEqual(BLUE);
    await endpointsOn('blue');
    const undone = JSON.parse(back.stdout) as RunbookJournal;
    expect(undone.status).toBe('rolled-back');
    expect(step(undone, 'switch-selector')).toMatchObject({ status: 'rolled-back', rollback: { status: 'completed' } });
    expect(stateFile().rolledBackAt).toBeDefined();
    // A second rollback has nothing left to undo, says so, and writes nothing.
    const puts = servicePuts();
    const again = await cli(['--yes', 'cutover', '--rollback']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('[SRG_RUNBOOK_JOURNAL]');
    expect(again.stderr).toContain('nothing to roll back');
    expect(servicePuts()).toBe(puts);
  });

  it('--rollback is not held up by an unrelated, half-written runbook in ./runbooks', async () => {
    const r = await cli(cutoverArgs());
    expect(r.code, r.stderr).toBe(0);
    expect(selector()).toEqual(GREEN);
    // A colleague's work in progress in the project's runbooks folder, unrelated to the cutover.
    mkdirSync(join(cwd.path, 'runbooks'));
    writeFileSync(join(cwd.path, 'runbooks', 'wip.yaml'), 'apiVersion: surgectl/v1\nkind: Runbook\nname: wip\nversion: 1\nsteps:\n  - name: todo\n    kind: teleport\n    action: {}\n');
    const back = await cli(['--yes', 'cutover', '--rollback']);
    expect(back.code, back.stderr).toBe(0);
    expect(selector()).toEqual(BLUE);
  });

  it('a green whose pods never become ready: exit 20, the selector untouched, the journal names the failed precheck and why', async () => {
    // The contract server counts a pod as updated only once it is ready (updatedReplicas follows
    // readyReplicas), so the check reports a rollout in progress; a cluster that counts Pending pods
    // of the new template as updated gets "0 ready replica(s)". Either way it names green and why.
    const NOT_READY = /Deployment shop\/orders-green(: rollout in progress \(0 of 3 pods updated\)| has 0 ready replica\(s\), needs 3)/;
    seed({ ready: 0, stalled: true });
    // The stuck rollout as the cluster shows it: green's pods exist and none is Ready.
    const greenPods = () => [...k8s.pods.values()].filter((p) => (p.metadata as { labels?: Record<string, string> }).labels?.color === 'green').length;
    await waitFor("green's pods to exist, none ready", () => (greenPods() === REPLICAS && readyIpsOf('green').length === 0) || undefined);
    const puts = servicePuts();

    const r = await cli(cutoverArgs(['--journal', 'not-ready.json']));
    expect(r.code, r.stderr).toBe(20);
    expect(r.stderr).toContain('[SRG_RUNBOOK_STEP_FAILED]');
    expect(r.stderr).toMatch(new RegExp(`step precheck-ready failed: ${NOT_READY.source}`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(selector()).toEqual(BLUE);
    expect(servicePuts()).toBe(puts);
    expect(endpointIps()).toEqual(readyIpsOf('blue'));

    const j = JSON.parse(readFileSync(join(cwd.path, 'not-ready.json'), 'utf8')) as RunbookJournal;
    expect(j.status).toBe('failed');
    expect(step(j, 'precheck-ready')).toMatchObject({ status: 'failed', output: { readyReplicas: 0, replicas: REPLICAS } });
    expect(step(j, 'precheck-ready')?.error).toMatch(new RegExp(`^${NOT_READY.source}$`));
    expect(step(j, 'switch-selector')?.status).toBe('pending');
    // A failed cutover cannot be finished: blue still carries the traffic.
    const fin = await cli(['--yes', 'cutover', 'finish', '--force']);
    expect(fin.code).toBe(20);
    expect(fin.stderr).toContain('[SRG_RUNBOOK_PRECONDITION]');
    expect(fin.stderr).toContain('blue still carries traffic');
    expect(replicasOf('orders-blue')).toBe(REPLICAS);
  });

  it('finish waits for the scale-down delay (exit 20 saying until when), then scales blue to 0; --rollback is then refused', async () => {
    const r = await cli(cutoverArgs(['--scale-down-delay', '10m']));
    expect(r.code, r.stderr).toBe(0);
    const endedAt = Date.parse(stateFile().endedAt);
    const early = await cli(['--yes', 'cutover', 'finish']);
    expect(early.code).toBe(20);
    expect(early.stderr).toContain('[SRG_RUNBOOK_PRECONDITION]');
    expect(early.stderr).toContain(`blue stays up until ${new Date(endedAt + 600_000).toISOString()}`);
    expect(early.stderr).toMatch(/--force/);
    expect(replicasOf('orders-blue')).toBe(REPLICAS);

    const forced = await cli(['--yes', 'cutover', 'finish', '--force', '-o', 'json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(replicasOf('orders-blue')).toBe(0);
    expect(replicasOf('orders-green')).toBe(REPLICAS);
    await waitFor("blue's pods gone", () => readyIpsOf('blue').length === 0 || undefined);
    const fj = JSON.parse(forced.stdout) as RunbookJournal;
    expect(fj.runbook.name).toBe('blue-green-kubernetes-finish');
    expect(step(fj, 'scale-down-old')).toMatchObject({ status: 'completed', undo: REPLICAS });
    expect(stateFile().finishedAt).toBeDefined();

    const refused = await cli(['--yes', 'cutover', '--rollback']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[SRG_RUNBOOK_JOURNAL]');
    expect(refused.stderr).toMatch(/the cutover to green was finished at \S+: blue is scaled down, so traffic cannot go back at once/);
    expect(selector()).toEqual(GREEN);
  });

  it('finish without --force once a 1s scale-down delay has passed', async () => {
    const r = await cli(cutoverArgs(['--scale-down-delay', '1s']));
    expect(r.code, r.stderr).toBe(0);
    const readyAt = Date.parse(stateFile().endedAt) + 1_000;
    await waitFor('the scale-down delay to pass', () => Date.now() > readyAt || undefined, { timeoutMs: 5_000 });
    const fin = await cli(['--yes', 'cutover', 'finish']);
    expect(fin.code, fin.stderr).toBe(0);
    expect(replicasOf('orders-blue')).toBe(0);
  });

  it('a new selector that matches no pod is not a finished switch: exit 20 and the old selector back', async () => {
    // --label names a key green's pods do not carry: {app, color: blue, tier: green} selects nothing.
    const r = await cli(cutoverArgs(['--label', 'tier', '--journal', 'no-match.json']));
    expect(r.code, r.stderr).toBe(20);
    expect(selector()).toEqual(BLUE);
    await endpointsOn('blue');
    const j = JSON.parse(readFileSync(join(cwd.path, 'no-match.json'), 'utf8')) as RunbookJournal;
    // Refused before the write (failed) or switched and put back (rolled-back): either way blue serves.
    expect(['failed', 'rolled-back']).toContain(j.status);
    // The step's own words, or its 30s timeout when the engine stops it first.
    expect(step(j, 'switch-selector')?.error).toMatch(/matches no ready pod|has no ready endpoints|timed out after 30s/);
  }, 90_000);

  // The adapter's SRG_K8S_UNREACHABLE (exit 3) becomes the step's error text, and the run's outcome
  // is the failed step's: exit 20, as for any precheck that does not hold.
  it('the API server unreachable: the precheck fails naming it, exit 3 (unreachable), nothing switched, resumable', async () => {
    const gone = await startKubeApiServer({ tickMs: 1_000 });
    const goneConfig = join(cwd.path, 'gone-kubeconfig');
    writeFileSync(goneConfig, gone.kubeconfig());
    await gone.close();
    const r = await cli(cutoverArgs(['--journal', 'unreachable.json']), { kubeconfig: goneConfig });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('[SRG_K8S_UNREACHABLE]');
    expect(r.stderr).toContain(`step precheck-ready failed: Kubernetes API ${gone.url}`);
    expect(r.stderr).toContain('surgectl runbook resume');
    expect(r.stderr).toContain(`connect ECONNREFUSED ${new URL(gone.url).host}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const j = JSON.parse(readFileSync(join(cwd.path, 'unreachable.json'), 'utf8')) as RunbookJournal;
    expect(j.status).toBe('failed');
    expect(step(j, 'precheck-ready')?.error).toContain(gone.url);
    expect(step(j, 'switch-selector')?.status).toBe('pending');
    expect(selector()).toEqual(BLUE);
  });
});

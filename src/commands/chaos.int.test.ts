import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pod, startKubeApiServer, type KubeApiServer } from '../../test/support/kubernetes-api-server.js';
import { REPO_ROOT, startTestStack, type TestStack } from '../../test/support/stack.js';
import type { Journal } from '../chaos/runner.js';
import { main } from '../cli.js';
import type { Runtime } from '../runtime.js';

/** Runs the CLI in-process as a user would, with captured output. */
async function cli(args: string[], opts: { env?: Record<string, string>; cwd?: string; onStderr?: (s: string) => void; signal?: AbortSignal } = {}) {
  let stdout = '';
  let stderr = '';
  const runtime: Runtime = {
    env: { NO_COLOR: '1', SURGECTL_CONFIG: '', ...opts.env },
    cwd: opts.cwd ?? dir,
    argv0: 'surgectl',
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: {
      write: (s: string) => {
        stderr += s;
        opts.onStderr?.(s);
      },
      isTTY: false,
    },
    now: () => Date.now(),
    signal: opts.signal ?? new AbortController().signal,
  };
  const code = await main(args, runtime);
  return { code, stdout, stderr };
}

let dir: string;
let stack: TestStack;
let kube: KubeApiServer;
let kubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-cli-'));
  stack = await startTestStack({ seedInventory: 1_000, workers: 2 });
  kube = await startKubeApiServer();
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, kube.kubeconfig());
});
afterAll(async () => {
  await stack?.dispose();
  await kube?.close();
});

async function experimentFile(name: string, yaml: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, yaml);
  return path;
}

const stackEnv = () => ({ SURGECTL_STACK_ADMIN_TOKEN: stack.adminToken });

describe('surgectl chaos validate', () => {
  it('accepts every shipped scenario', async () => {
    const files = (await readdir(join(REPO_ROOT, 'scenarios', 'chaos'))).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['payment-outage.yaml', 'worker-crash.yaml', 'pod-kill.yaml', 'network-delay.yaml']));
    for (const f of files) {
      const r = await cli(['-o', 'json', 'chaos', 'validate', join(REPO_ROOT, 'scenarios', 'chaos', f)]);
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ valid: true });
    }
  });

  it('lists every problem of a bad file and exits 10', async () => {
    const path = await experimentFile(
      'bad.yaml',
      'title: bad\nmethod:\n  - {type: action, name: a, provider: {type: stack, func: explode}}\n  - {type: probe, name: b, tolerance: "p(99)<", provider: {type: stack, func: oversold}}\n',
    );
    const r = await cli(['chaos', 'validate', path]);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('[SRG_CHAOS_EXPERIMENT]');
    expect(r.stderr).toContain('method[0].provider.func: unknown stack function "explode"');
    expect(r.stderr).toMatch(/method\[1\]\.tolerance: /);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user error
  });
});

describe('surgectl chaos run', () => {
  it('--dry-run prints the plan and changes nothing', async () => {
    const before = await (await fetch(`${stack.url}/admin/faults/payment`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json();
    const r = await cli(['chaos', 'run', join(REPO_ROOT, 'scenarios/chaos/payment-outage.yaml'), '--dry-run', '--url', stack.url], { env: stackEnv() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dry run: nothing is changed');
    expect(r.stdout).toMatch(/method\s+action\s+payment-gateway-outage\s+stack\s+payment gateway: 100% errors for 20s, then restored/);
    expect(r.stdout).toMatch(/rollback\s+action\s+clear-all-faults/);
    const after = await (await fetch(`${stack.url}/admin/faults/payment`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json();
    expect(after).toEqual(before);
  });

  it('refuses to change a live system off a terminal without --yes', async () => {
    const r = await cli(['chaos', 'run', join(REPO_ROOT, 'scenarios/chaos/payment-outage.yaml'), '--url', stack.url], { env: stackEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[SRG_CLI_NOT_A_TTY]');
  });

  it('runs a drill that holds: exit 0, summary table, journal written', async () => {
    const path = await experimentFile(
      'kill-worker.yaml',
      `title: kill a worker
steady-state-hypothesis:
  title: healthy
  probes:
    - {type: probe, name: nothing-oversold, tolerance: 0, provider: {type: stack, func: oversold}}
    - {type: probe, name: ready, tolerance: 200, provider: {type: http, url: '${stack.url}/readyz'}}
method:
  - {type: action, name: kill-worker, provider: {type: stack, func: kill-worker}}
rollbacks:
  - {type: action, name: workers-back, provider: {type: stack, func: set-workers, arguments: {count: 2}}}
`,
    );
    const journalPath = join(dir, 'out', 'ok-journal.json');
    const r = await cli(['--yes', 'chaos', 'run', path, '--url', stack.url, '--journal-path', journalPath], { env: stackEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/before\s+probe\s+nothing-oversold\s+met/);
    expect(r.stdout).toMatch(/method\s+action\s+kill-worker\s+ok/);
    expect(r.stdout).toMatch(/rollback\s+action\s+workers-back\s+ok/);
    expect(r.stdout).toContain('Drill "kill a worker": completed');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as Journal;
    expect(journal).toMatchObject({ status: 'completed', deviated: false, rollback_failed: false });
    expect(journal.steady_states.before?.probes[1]).toMatchObject({ output: { status: 200 }, tolerance_met: true });
    expect(journal.run[0]).toMatchObject({ activity: { name: 'kill-worker' }, status: 'succeeded', output: { killed: 1 } });
  });

  it('exits 21 with SRG_CHAOS_DEVIATED when the steady state deviates, after rolling back', async () => {
    const path = await experimentFile(
      'drop.yaml',
      `title: drop everything
steady-state-hypothesis:
  title: intake answers
  probes:
    - type: probe
      name: intake-answers
      # A list on an http probe is "one of these statuses" (Chaos Toolkit); a 2xx range is written as a range.
      tolerance: {type: range, range: [200, 299], target: status}
      provider:
        type: http
        method: POST
        url: '${stack.url}/v1/orders'
        headers: {idempotency-key: chaos-cli-probe}
        arguments: {customerId: c1, items: [{sku: SKU-0001, qty: 1}]}
method:
  - {type: action, name: drop-all, provider: {type: stack, func: drop-requests, arguments: {ratio: 1}}}
rollbacks:
  - {type: action, name: clear-all-faults, provider: {type: stack, func: clear-faults}}
`,
    );
    const journalPath = join(dir, 'deviated.json');
    const r = await cli(['--yes', 'chaos', 'run', path, '--url', stack.url, '--journal-path', journalPath], { env: stackEnv() });
    expect(r.code).toBe(21);
    expect(r.stderr).toContain('[SRG_CHAOS_DEVIATED]');
    expect(r.stderr).toContain('intake-answers');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as Journal;
    expect(journal).toMatchObject({ status: 'failed', deviated: true });
    expect(journal.steady_states.after?.probes[0]?.output).toMatchObject({ status: 503 });
    expect(journal.rollbacks[0]).toMatchObject({ status: 'succeeded' });
    const status = (await (await fetch(`${stack.url}/admin/status`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as { faults: { dropRatio: number } };
    expect(status.faults.dropRatio).toBe(0);
  });

  it('exits 30 with SRG_CHAOS_ROLLBACK when a rollback fails', async () => {
    const path = await experimentFile(
      'bad-rollback.yaml',
      `title: rollback to nowhere
method:
  - {type: probe, name: oversold, provider: {type: stack, func: oversold}}
rollbacks:
  - {type: action, name: restore-via-nowhere, provider: {type: http, method: POST, url: 'http://127.0.0.1:9/restore', timeout: 2}}
  - {type: action, name: clear-all-faults, provider: {type: stack, func: clear-faults}}
`,
    );
    const r = await cli(['--yes', 'chaos', 'run', path, '--url', stack.url, '--journal-path', join(dir, 'rb.json')], { env: stackEnv() });
    expect(r.code).toBe(30);
    expect(r.stderr).toContain('[SRG_CHAOS_ROLLBACK]');
    expect(r.stderr).toContain('restore-via-nowhere');
    const journal = JSON.parse(await readFile(join(dir, 'rb.json'), 'utf8')) as Journal;
    // The other rollback still ran.
    expect(journal.rollbacks.map((x) => x.status)).toEqual(['failed', 'succeeded']);
  });

  it('on interrupt stops the method, still rolls back, writes the journal and exits 130', async () => {
    const path = await experimentFile(
      'interrupt.yaml',
      `title: long outage
method:
  - {type: action, name: outage, provider: {type: stack, func: payment-fault, arguments: {failureRate: 1}}, pauses: {after: 120}}
  - {type: action, name: never-reached, provider: {type: stack, func: kill-worker}}
rollbacks:
  - {type: action, name: clear-all-faults, provider: {type: stack, func: clear-faults}}
`,
    );
    const ac = new AbortController();
    const r = await cli(['--yes', 'chaos', 'run', path, '--url', stack.url, '--journal-path', join(dir, 'int.json')], {
      env: stackEnv(),
      signal: ac.signal,
      // The operator presses Ctrl-C once the fault is in.
      onStderr: (line) => {
        if (line.startsWith('action outage')) setImmediate(() => ac.abort());
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('[SRG_CLI_INTERRUPTED]');
    const journal = JSON.parse(await readFile(join(dir, 'int.json'), 'utf8')) as Journal;
    expect(journal.status).toBe('interrupted');
    expect(journal.run.map((x) => x.activity.name)).toEqual(['outage']);
    expect(journal.rollbacks.map((x) => [x.activity.name, x.status])).toEqual([['clear-all-faults', 'succeeded']]);
    const payment = (await (await fetch(`${stack.url}/admin/faults/payment`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as { failureRate: number };
    expect(payment.failureRate).toBe(0);
  });

  it('explains a missing admin token', async () => {
    const r = await cli(['--yes', 'chaos', 'run', join(REPO_ROOT, 'scenarios/chaos/payment-outage.yaml'), '--url', stack.url, '--token-env', 'NO_SUCH_TOKEN_VAR']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[SRG_STACK_ADMIN] No admin token');
    expect(r.stderr).toContain('NO_SUCH_TOKEN_VAR');
  });

  it('deletes a pod through the Kubernetes API (real client, kubeconfig, --context/--namespace)', async () => {
    kube.pods.set('shop/orders-a', pod('shop', 'orders-a', { app: 'orders' }));
    kube.pods.set('shop/orders-b', pod('shop', 'orders-b', { app: 'orders' }));
    kube.pods.set('shop/payments-a', pod('shop', 'payments-a', { app: 'payments' }));
    const path = await experimentFile(
      'pod-kill.yaml',
      `title: kill one orders pod
method:
  - {type: action, name: delete-one, provider: {type: kubernetes, func: delete-pods, arguments: {labelSelector: app=orders}}}
  - {type: probe, name: left, provider: {type: kubernetes, func: pods, arguments: {labelSelector: app=orders}}}
`,
    );
    const r = await cli(['--yes', '-o', 'json', 'chaos', 'run', path, '--kubeconfig', kubeconfig, '--context', 'other', '-n', 'shop', '--journal-path', join(dir, 'k8s.json')]);
    expect(r.code, r.stderr).toBe(0);
    const journal = JSON.parse(r.stdout) as Journal;
    const deleted = (journal.run[0]?.output as { deleted: string[] }).deleted;
    expect(deleted).toHaveLength(1);
    expect(['orders-a', 'orders-b']).toContain(deleted[0]);
    expect(kube.pods.has(`shop/${deleted[0]}`)).toBe(false);
    expect(kube.pods.has('shop/payments-a')).toBe(true);
    expect(journal.run[1]?.output).toMatchObject({ count: 1 });
    expect(kube.requests).toContain(`DELETE /api/v1/namespaces/shop/pods/${deleted[0]}`);
  });

  it('applies a Chaos Mesh NetworkChaos when the CRDs exist and deletes it in the rollback; a clear error otherwise', async () => {
    const scenario = join(REPO_ROOT, 'scenarios/chaos/network-delay.yaml');
    kube.pods.set('shop/orders-c', pod('shop', 'orders-c', { app: 'orders' }));
    kube.chaosMesh = false;
    const missing = await cli(['--yes', 'chaos', 'run', scenario, '--kubeconfig', kubeconfig, '--journal-path', join(dir, 'crd.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('[SRG_CHAOS_CRD_MISSING]');
    expect(missing.stderr).toContain('NetworkChaos');
    expect(missing.stderr).toContain('hint:');
    const aborted = JSON.parse(await readFile(join(dir, 'crd.json'), 'utf8')) as Journal;
    expect(aborted.status).toBe('aborted');
    // The rollback still ran (deleting an object that was never created is fine).
    expect(aborted.rollbacks[0]).toMatchObject({ status: 'succeeded', output: { deleted: false } });

    kube.chaosMesh = true;
    const path = await experimentFile(
      'delay.yaml',
      (await readFile(scenario, 'utf8')).replace('pauses: {after: 60}', 'pauses: {after: 0}'),
    );
    const r = await cli(['--yes', 'chaos', 'run', path, '--kubeconfig', kubeconfig, '--journal-path', join(dir, 'nc.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(kube.created.at(-1)).toMatchObject({
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'NetworkChaos',
      metadata: { name: 'surgectl-payment-delay', namespace: 'shop' },
      spec: {
        action: 'delay',
        mode: 'all',
        selector: { labelSelectors: { app: 'orders' } },
        delay: { latency: '2s', jitter: '100ms' },
        direction: 'to',
        target: { mode: 'all', selector: { labelSelectors: { app: 'payments' } } },
        duration: '60s',
      },
    });
    expect(kube.requests).toContain('POST /apis/chaos-mesh.org/v1alpha1/namespaces/shop/networkchaos');
    expect(kube.requests).toContain('DELETE /apis/chaos-mesh.org/v1alpha1/namespaces/shop/networkchaos/surgectl-payment-delay');
    expect(kube.objects.size).toBe(0);
  });
});

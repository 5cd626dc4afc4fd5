/**
 * npm run bench:scale — `surgectl scale plan` on a plan of 50 Deployments (each under its own
 * namespace quota check and HPA lookup) against the Kubernetes contract API server on loopback,
 * through the real @kubernetes/client-node. The reads go out in parallel; the target is < 1 s.
 * Prints the first (cold: client loaded, TLS handshakes) and the median of BENCH_ROUNDS warm runs.
 * Env: BENCH_DEPLOYMENTS (default 50), BENCH_ROUNDS (default 5).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createKubernetes } from '../src/adapters/kubernetes/kubernetes.js';
import { createRecordingReporter } from '../src/reporter.js';
import { planFromFile } from '../src/scale/run.js';
import { startKubeApiServer, workload } from '../test/support/kubernetes-api-server.js';

const N = Number(process.env.BENCH_DEPLOYMENTS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));

const server = await startKubeApiServer();
const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
try {
  for (let i = 0; i < N; i++) server.workloads.set(`Deployment/shop/svc-${i}`, workload('Deployment', 'shop', `svc-${i}`, 2));
  const file = join(dir, 'plan.yaml');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'surgectl/v1',
      kind: 'ScalePlan',
      metadata: { name: 'bench' },
      spec: { services: Array.from({ length: N }, (_, i) => ({ name: `svc-${i}`, replicas: 6, targets: [{ kind: 'Deployment', name: `svc-${i}` }] })) },
    }),
  );
  const kubeconfigYaml = server.kubeconfig();
  const run = async () => {
    const t0 = performance.now();
    const k8s = createKubernetes({ kubeconfigYaml });
    const r = await planFromFile({
      file,
      cwd: dir,
      connect: { kubernetes: async () => k8s, autoScaling: () => Promise.reject(new Error('no AWS here')), stack: () => Promise.reject(new Error('no stack here')) },
      reporter: createRecordingReporter(),
      now: () => Date.now(),
    });
    if (r.changes.length !== N) throw new Error(`expected ${N} changes, got ${r.changes.length}`);
    return performance.now() - t0;
  };
  const cold = await run();
  const warm: number[] = [];
  for (let i = 0; i < ROUNDS; i++) warm.push(await run());
  warm.sort((a, b) => a - b);
  const median = warm[Math.floor(warm.length / 2)] ?? 0;
  const requests = server.requests.length;
  console.log(`scale plan, ${N} Deployments against the contract API server (${requests} requests in ${ROUNDS + 1} runs):`);
  console.log(`  cold ${cold.toFixed(0)} ms · warm median ${median.toFixed(0)} ms (of ${ROUNDS}) · target < 1000 ms: ${Math.max(cold, median) < 1000 ? 'met' : 'NOT met'}`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

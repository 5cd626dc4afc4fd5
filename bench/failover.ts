/**
 * npm run bench:failover — RTO and RPO of `surgectl drill failover` on this machine. Each run
 * starts a fresh pair of regions (test/support/regions.ts: two temporary PostgreSQL clusters in
 * asynchronous streaming replication, an order stack with 8 workers on each, real HAProxy in
 * front) and runs the CLI in-process, as a user would with `--yes drill failover -o json`, at
 * BENCH_RATE orders/s (default 200):
 *
 *  planned: failover a -> b (fence, replay, promote, move traffic, synthetic order), failback
 *           b -> a (rebuild a by pg_rewind, switch back, rebuild b);
 *  forced:  the same with --kill-primary: a's postmaster SIGKILLed, then failover --force; its
 *           RPO is what the drill measures, every acknowledged order looked up on the final primary.
 *
 * Prints, per kind, median and max of the failover's RTO, the failback's RTO, the longest time the
 * load went without an acknowledged order, and the acknowledged orders missing. Bounded:
 * BENCH_DRILLS runs of each kind (default 3, at most 10), each drill's load capped at 2 minutes,
 * the whole bench at 20 minutes.
 */
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { DrillReport } from '../src/regions/drill-report.js';
import { runMain } from '../test/support/cli.js';
import { startRegions } from '../test/support/regions.js';

const DRILLS = Math.min(10, Math.max(1, Number(process.env.BENCH_DRILLS ?? 3)));
const RATE = Math.max(1, Number(process.env.BENCH_RATE ?? 200));
const DEADLINE = Date.now() + 20 * 60_000;

interface Run {
  kind: 'planned' | 'forced';
  failoverRtoMs?: number;
  failbackRtoMs?: number;
  gapMs?: number;
  acknowledged: number;
  missing: number;
  status: string;
}

async function drill(kind: Run['kind']): Promise<Run> {
  const regions = await startRegions();
  try {
    const env = { SURGECTL_STACK_ADMIN_TOKEN: regions.adminToken, PATH: process.env.PATH ?? '', SURGECTL_CONFIG: join(regions.cwd, 'surgectl.yaml') };
    const args = ['--yes', 'drill', 'failover', '--to', 'b', ...regions.trafficArgs, '--workers', '8', '--rate', String(RATE), '--max-duration', '2m', '--report-dir', join(regions.cwd, 'report'), '-o', 'json'];
    if (kind === 'forced') args.push('--kill-primary');
    const out = await runMain(args, { cwd: regions.cwd, env });
    if (!out.stdout.trim().startsWith('{')) throw new Error(`drill failover (${kind}) printed no report, exit ${out.code}:\n${out.stderr}`);
    const r = JSON.parse(out.stdout) as DrillReport;
    const [fo, fb] = r.parts;
    return {
      kind,
      ...(fo?.rtoMs !== undefined ? { failoverRtoMs: fo.rtoMs } : {}),
      ...(fb?.rtoMs !== undefined ? { failbackRtoMs: fb.rtoMs } : {}),
      ...(fo?.observedGapMs !== undefined ? { gapMs: fo.observedGapMs } : {}),
      acknowledged: r.orders.acknowledged,
      missing: r.orders.missing.length,
      status: r.status,
    };
  } finally {
    await regions.stop();
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const max = (xs: readonly number[]) => (xs.length === 0 ? NaN : Math.max(...xs));
const secs = (xs: readonly number[]) => `median ${(median(xs) / 1000).toFixed(2)} s · max ${(max(xs) / 1000).toFixed(2)} s`;
const defined = (xs: readonly (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);

const runs: Run[] = [];
for (const kind of ['planned', 'forced'] as const) {
  for (let i = 0; i < DRILLS && Date.now() < DEADLINE; i++) {
    const r = await drill(kind);
    runs.push(r);
    console.error(
      `${kind} ${i + 1}/${DRILLS}: ${r.status}; failover RTO ${r.failoverRtoMs ?? '-'} ms, failback RTO ${r.failbackRtoMs ?? '-'} ms, longest without an acknowledged order ${r.gapMs ?? '-'} ms; ${r.missing} of ${r.acknowledged} acknowledged orders missing`,
    );
  }
}

const date = new Date().toISOString().slice(0, 10);
console.log(`bench:failover · ${date} · ${cpus().length} vCPU · ${Math.round(totalmem() / 2 ** 30)} GiB · Node ${process.versions.node} · ${RATE} orders/s through HAProxy · asynchronous streaming replication`);
for (const kind of ['planned', 'forced'] as const) {
  const rs = runs.filter((r) => r.kind === kind);
  if (rs.length === 0) continue;
  const missing = rs.map((r) => r.missing);
  console.log(`${kind === 'planned' ? 'planned drill' : 'forced drill (--kill-primary)'}: ${rs.length} runs, ${rs.filter((r) => r.status === 'passed').length} passed every gate`);
  console.log(`  failover RTO (${kind === 'planned' ? 'first refused order' : 'the SIGKILL'} to the synthetic order accepted):${kind === 'planned' ? '' : '        '} ${secs(defined(rs.map((r) => r.failoverRtoMs)))}`);
  console.log(`  failback RTO:                                                      ${secs(defined(rs.map((r) => r.failbackRtoMs)))}`);
  console.log(`  longest time without an acknowledged order during the failover:   ${secs(defined(rs.map((r) => r.gapMs)))}`);
  console.log(`  RPO, acknowledged orders missing afterwards: median ${median(missing)} · max ${max(missing)} (of ${Math.round(median(rs.map((r) => r.acknowledged)))} acknowledged per drill)`);
}
if (runs.some((r) => r.kind === 'planned' && r.status !== 'passed')) process.exitCode = 1;

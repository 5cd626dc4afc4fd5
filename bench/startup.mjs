/* global process, console */
// npm run bench:startup — wall time of `surgectl --version` against `node -e 0` (median of many
// runs). Target: <= 1.5x. BENCH_RUNS overrides the run count (default 30).
import { spawnSync } from 'node:child_process';
import { CLI, median, requireBuild } from './lib.mjs';

requireBuild();
const runs = Number(process.env.BENCH_RUNS ?? 30);
const time = (args) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const node = [];
const cli = [];
time(['-e', '0']);
time([CLI, '--version']);
// Interleaved so a noisy neighbour hurts both sides alike.
for (let i = 0; i < runs; i++) {
  node.push(time(['-e', '0']));
  cli.push(time([CLI, '--version']));
}
const a = median(node);
const b = median(cli);
console.table([
  { command: 'node -e 0', medianMs: a.toFixed(1) },
  { command: 'surgectl --version', medianMs: b.toFixed(1) },
]);
console.log(`startup ratio: ${(b / a).toFixed(2)}x (target <= 1.5x) ${b / a <= 1.5 ? 'OK' : 'ABOVE TARGET'} over ${runs} runs`);

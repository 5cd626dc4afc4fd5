/* global process, console, performance, fetch, setTimeout */
// npm run bench:pipeline — confirmed orders per second end to end (intake -> reserve -> pay ->
// confirm) with the default workers, against the intake rate of the same run. Target >= 0.5x.
// BENCH_DURATION (s of load, default 10), BENCH_CONNECTIONS (default 50), BENCH_WORKERS (default: the config default).
import { load, orderRequest, requireBuild, spawnStack, summarize } from './lib.mjs';

requireBuild();
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const workersArgs = process.env.BENCH_WORKERS ? ['--workers', process.env.BENCH_WORKERS] : [];

const stack = await spawnStack([...workersArgs, '--max-backlog', '10000000']);
const { url, adminToken } = stack.info;
const status = async () => {
  const res = await fetch(`${url}/admin/status`, { headers: { authorization: `Bearer ${adminToken}` } });
  return res.json();
};
const finished = (s) => ['confirmed', 'sold_out', 'payment_failed', 'cancelled'].reduce((a, k) => a + (s.orders.byStatus[k] ?? 0), 0);

const t0 = performance.now();
const intake = summarize('intake', await load({ url, connections, duration, requests: [orderRequest()] }));
const loadEnd = performance.now();
let s = await status();
// Bounded wait for the backlog to drain: never longer than 3x the load phase (the rate is measured over the whole window either way).
const deadline = loadEnd + duration * 3_000;
const open = (x) => ['accepted', 'reserved', 'payment_pending', 'paid'].reduce((a, k) => a + (x.orders.byStatus[k] ?? 0), 0);
while (open(s) > 0) {
  if (performance.now() > deadline) break;
  await new Promise((r) => setTimeout(r, 100));
  s = await status();
}
const tEnd = performance.now();
const done = finished(s);
const confirmedPerSec = s.orders.byStatus.confirmed / ((tEnd - t0) / 1000);
await stack.stop();

console.table([
  { stage: 'intake (accepted)', perSec: intake.ordersPerSec, count: Object.values(s.orders.byStatus).reduce((a, b) => a + b, 0), p99ms: intake.p99ms },
  { stage: 'pipeline (confirmed)', perSec: Math.round(confirmedPerSec), count: s.orders.byStatus.confirmed, p99ms: '-' },
]);
console.log(`workers: ${s.workers.size}; finished ${done} orders, ${s.queue.depth} still waiting when measured`);
const ratio = confirmedPerSec / Math.max(1, intake.ordersPerSec);
console.log(`pipeline ratio: ${ratio.toFixed(2)}x of the intake rate (target >= 0.50x) ${ratio >= 0.5 ? 'OK' : 'BELOW TARGET'}`);

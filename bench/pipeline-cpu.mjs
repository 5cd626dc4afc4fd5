/* global process, console, fetch, setTimeout, performance */
// npm run bench:pipeline-cpu — the pipeline alone: fill the queue with --workers 0 (BENCH_FILL s
// of load, default 4), then start 64 workers and time how fast they drain it, with the stack
// process's CPU time per order (Linux /proc). Separates pipeline cost from intake cost, which
// bench:pipeline mixes on one event loop.
import { cpuMs, load, orderRequest, requireBuild, spawnStack } from './lib.mjs';

requireBuild();
const fill = Number(process.env.BENCH_FILL ?? 4);
const workers = Number(process.env.BENCH_WORKERS ?? 64);
const stack = await spawnStack(['--workers', '0', '--max-backlog', '100000000']);
const { url, adminToken } = stack.info;
const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
await load({ url, connections: 50, duration: fill, requests: [orderRequest()] });
const status = async () => (await fetch(`${url}/admin/status`, { headers })).json();
const open = (x) => ['accepted', 'reserved', 'payment_pending', 'paid'].reduce((a, k) => a + (x.orders.byStatus[k] ?? 0), 0);
let s = await status();
const queued = open(s);
const c0 = cpuMs(stack.child.pid);
const m0 = cpuMs(stack.child.pid, { mainThread: true });
const t0 = performance.now();
await fetch(`${url}/admin/workers`, { method: 'PUT', headers, body: JSON.stringify({ count: workers }) });
const deadline = t0 + 60_000; // bounded: a stuck pipeline ends the run, it is reported as "left"
while (open(s) > 0 && performance.now() < deadline) {
  await new Promise((r) => setTimeout(r, 50));
  s = await status();
}
const secs = (performance.now() - t0) / 1000;
const done = queued - open(s);
const cpu = cpuMs(stack.child.pid) - c0;
const mainCpu = cpuMs(stack.child.pid, { mainThread: true }) - m0;
await stack.stop();
console.log(`workers ${workers}: drained ${done} of ${queued} orders in ${secs.toFixed(1)} s = ${Math.round(done / secs)} confirmed/s; stack CPU ${(cpu / Math.max(1, done)).toFixed(3)} ms per order, of it on the main thread (event loop) ${(mainCpu / Math.max(1, done)).toFixed(3)} ms`);

/* global process, console */
// npm run bench:intake — the durable POST /v1/orders against a bare fastify 202 (the ceiling),
// same machine, same connections and duration. Targets: >= 0.8x the ceiling, p99 <= 10 ms.
// Rows: the ceiling, the durable floor (bench/floor-server.mjs), the API over an in-memory store,
// the stack with 0 workers, the stack as it runs by default.
// BENCH_DURATION (s, default 10) and BENCH_CONNECTIONS (default 50) override the run.
// Besides orders/s it prints each server's and the load generator's CPU per answered request
// (Linux): on a small machine the generator shares the cores, so the rate of one row depends on
// what the others cost, while CPU per request says where the time goes.
import { join } from 'node:path';
import { DRIVER, ROOT, load, measure, orderRequest, requireBuild, spawnJsonServer, spawnStack } from './lib.mjs';

requireBuild();
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const run = { connections, duration, requests: [orderRequest()] };

async function row(name, server) {
  await load({ ...run, url: server.info.url, duration: 2 }); // warm-up
  const r = await measure(name, server.child.pid, { ...run, url: server.info.url });
  await server.stop();
  const { seconds: _seconds, ...shown } = r;
  return shown;
}

const base = await row('bare fastify 202 (ceiling)', await spawnJsonServer([join(ROOT, 'bench', 'ceiling-server.mjs')]));
// The floor of any durable intake on this machine: the same route plus one group-committed
// INSERT and an fdatasync before the answer, nothing else. The gap between it and the ceiling is
// what durability alone costs here; no order API can beat it.
const floor = await row('durable floor (1 INSERT + fdatasync)', await spawnJsonServer([join(ROOT, 'bench', 'floor-server.mjs')]));
// The API layer over an in-memory store: shows how much of the gap is HTTP/validation vs storage.
const api = await row('order API, in-memory store', await spawnJsonServer([join(ROOT, 'bench', 'api-only-server.mjs')]));
// Durable intake with no workers: the store's group commit alone, without the pipeline competing
// for the same event loop. Shedding off (huge --max-backlog): the point is what intake can take.
const storeOnly = await row('durable, 0 workers', await spawnStack(['--workers', '0', '--max-backlog', '100000000']));
const real = await row('POST /v1/orders (durable, default workers)', await spawnStack(['--max-backlog', '100000000']));

const ratio = real.ordersPerSec / Math.max(1, base.ordersPerSec);
const ratio0 = storeOnly.ordersPerSec / Math.max(1, base.ordersPerSec);
console.table([base, floor, api, storeOnly, real]);
console.log(`${DRIVER}, ${connections} connections, ${duration} s each; serverCpuUs / clientCpuUs = CPU per answered request (µs)`);
console.log(`durable floor: ${(floor.ordersPerSec / Math.max(1, base.ordersPerSec)).toFixed(2)}x of the ceiling (the most any durable intake can reach here)`);
console.log(`API layer alone: ${(api.ordersPerSec / Math.max(1, base.ordersPerSec)).toFixed(2)}x of the ceiling`);
console.log(`durable, 0 workers: ${ratio0.toFixed(2)}x of the ceiling, p99 ${storeOnly.p99ms} ms`);
console.log(`intake ratio: ${ratio.toFixed(2)}x of the ceiling (target >= 0.80x) ${ratio >= 0.8 ? 'OK' : 'BELOW TARGET'}`);
console.log(`intake p99: ${real.p99ms} ms (target <= 10 ms) ${real.p99ms <= 10 ? 'OK' : 'ABOVE TARGET'}`);
if (real.non2xx > 0 || real.errors > 0) console.log(`warning: ${real.non2xx} non-2xx answers and ${real.errors} errors during the real run`);

/* global process, console */
// npm run bench:intake — the durable POST /v1/orders against a bare fastify 202 (the ceiling),
// same machine, same connections and duration. Targets: >= 0.8x the ceiling, p99 <= 10 ms.
// BENCH_DURATION (s, default 10) and BENCH_CONNECTIONS (default 50) override the run.
import { join } from 'node:path';
import { ROOT, load, orderRequest, requireBuild, spawnJsonServer, spawnStack, summarize } from './lib.mjs';

requireBuild();
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

const ceiling = await spawnJsonServer([join(ROOT, 'bench', 'ceiling-server.mjs')]);
await load({ url: ceiling.info.url, connections, duration: 2, requests: [orderRequest()] }); // warm-up
const base = summarize('bare fastify 202 (ceiling)', await load({ url: ceiling.info.url, connections, duration, requests: [orderRequest()] }));
await ceiling.stop();

// The API layer over an in-memory store: shows how much of the gap is HTTP/validation vs storage.
const apiOnly = await spawnJsonServer([join(ROOT, 'bench', 'api-only-server.mjs')]);
await load({ url: apiOnly.info.url, connections, duration: 2, requests: [orderRequest()] });
const api = summarize('order API, in-memory store', await load({ url: apiOnly.info.url, connections, duration, requests: [orderRequest()] }));
await apiOnly.stop();

// Durable intake with no workers: the store's group commit alone, without the pipeline's commits
// competing for the same event loop.
// Shedding off (huge --max-backlog): the point is what intake can take, not how it refuses.
const idle = await spawnStack(['--workers', '0', '--max-backlog', '100000000']);
await load({ url: idle.info.url, connections, duration: 2, requests: [orderRequest()] });
const storeOnly = summarize('durable, 0 workers', await load({ url: idle.info.url, connections, duration, requests: [orderRequest()] }));
await idle.stop();

const stack = await spawnStack(['--max-backlog', '100000000']);
await load({ url: stack.info.url, connections, duration: 2, requests: [orderRequest()] }); // warm-up
const real = summarize('POST /v1/orders (durable, default workers)', await load({ url: stack.info.url, connections, duration, requests: [orderRequest()] }));
await stack.stop();

const ratio = real.ordersPerSec / Math.max(1, base.ordersPerSec);
console.table([base, api, storeOnly, real]);
console.log(`API layer alone: ${(api.ordersPerSec / Math.max(1, base.ordersPerSec)).toFixed(2)}x of the ceiling`);
console.log(`connections ${connections}, ${duration} s each`);
console.log(`intake ratio: ${ratio.toFixed(2)}x of the ceiling (target >= 0.80x) ${ratio >= 0.8 ? 'OK' : 'BELOW TARGET'}`);
console.log(`intake p99: ${real.p99ms} ms (target <= 10 ms) ${real.p99ms <= 10 ? 'OK' : 'ABOVE TARGET'}`);
if (real.non2xx > 0 || real.errors > 0) console.log(`warning: ${real.non2xx} non-2xx answers and ${real.errors} errors during the real run`);

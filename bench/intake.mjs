/* global process, console */
// npm run bench:intake — the durable POST /v1/orders against a bare fastify 202 (the ceiling),
// same machine, same connections and duration. Targets: >= 0.8x the ceiling, p99 <= 10 ms.
// Rows: the ceiling, the durable floor (bench/floor-server.mjs), the API over an in-memory store,
// the stack with 0 workers, the stack as it runs by default.
// BENCH_DURATION (s per row, default 10), BENCH_CONNECTIONS (default 50) and BENCH_ROUNDS
// (default 3) override the run. The rows run in turn, round after round, and each figure is the
// median over the rounds, ratios included (each round's ratio is taken within the round): on a
// shared VM the speed drifts by a factor of two within minutes, so one pass of each row in a row
// would compare the ceiling on a fast minute with the stack on a slow one.
// Besides orders/s it prints each server's and the load generator's CPU per answered request
// (Linux): on a small machine the generator shares the cores, so the rate of one row depends on
// what the others cost, while CPU per request says where the time goes.
// BENCH_RATE=N (autocannon only) offers every row the same N requests/s instead of as many as it
// takes: no row saturates, so CPU per request compares the rows' costs without the saturation
// effects (batching, cross-CPU wake-ups) that move it at full load. The target lines need full
// load and are not judged in that mode.
import { join } from 'node:path';
import { DRIVER, ROOT, load, measure, median, orderRequest, requireBuild, spawnJsonServer, spawnStack } from './lib.mjs';

requireBuild();
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
if (!(Number.isInteger(rounds) && rounds >= 1)) {
  console.error(`BENCH_ROUNDS must be a whole number >= 1, got ${process.env.BENCH_ROUNDS}`);
  process.exit(1);
}
const rate = process.env.BENCH_RATE === undefined ? undefined : Number(process.env.BENCH_RATE);
if (rate !== undefined && !(Number.isInteger(rate) && rate >= 1)) {
  console.error(`BENCH_RATE must be a whole number of requests/s >= 1, got ${process.env.BENCH_RATE}`);
  process.exit(1);
}
if (rate !== undefined && DRIVER !== 'autocannon') {
  console.error('BENCH_RATE needs the autocannon driver (wrk cannot hold a fixed rate); unset BENCH_DRIVER');
  process.exit(1);
}
const run = { connections, duration, requests: [orderRequest()], ...(rate === undefined ? {} : { overallRate: rate }) };

const ROWS = [
  { key: 'ceiling', name: 'bare fastify 202 (ceiling)', start: () => spawnJsonServer([join(ROOT, 'bench', 'ceiling-server.mjs')]) },
  // The floor of any durable intake on this machine: the same route plus one group-committed
  // INSERT and an fdatasync before the answer, nothing else. The gap between it and the ceiling
  // is what durability alone costs here.
  { key: 'floor', name: 'durable floor (1 INSERT + fdatasync)', start: () => spawnJsonServer([join(ROOT, 'bench', 'floor-server.mjs')]) },
  // The API layer over an in-memory store: how much of the gap is HTTP/validation vs storage.
  { key: 'api', name: 'order API, in-memory store', start: () => spawnJsonServer([join(ROOT, 'bench', 'api-only-server.mjs')]) },
  // Durable intake with no workers: the store's group commit alone, without the pipeline
  // competing for the same event loop. Shedding off (huge --max-backlog): the point is what
  // intake can take.
  { key: 'durable0', name: 'durable, 0 workers', start: () => spawnStack(['--workers', '0', '--max-backlog', '100000000']) },
  { key: 'real', name: 'POST /v1/orders (durable, default workers)', start: () => spawnStack(['--max-backlog', '100000000']) },
];

async function measureRow(row) {
  const server = await row.start();
  try {
    await load({ ...run, url: server.info.url, duration: 2 }); // warm-up
    return await measure(row.name, server.child.pid, { ...run, url: server.info.url });
  } finally {
    await server.stop();
  }
}

/** results[key] = one measurement per round */
const results = Object.fromEntries(ROWS.map((r) => [r.key, []]));
for (let round = 1; round <= rounds; round++) {
  for (const row of ROWS) {
    const r = await measureRow(row);
    results[row.key].push(r);
    console.log(`round ${round}/${rounds}: ${row.name}: ${r.ordersPerSec}/s, p99 ${r.p99ms} ms`);
  }
}

const num = (v) => (typeof v === 'number' ? v : NaN);
const ratioTo = (key) => median(results[key].map((r, i) => r.ordersPerSec / Math.max(1, results.ceiling[i].ordersPerSec)));
const table = ROWS.map((row) => {
  const rs = results[row.key];
  const med = (f) => {
    const m = median(rs.map((r) => num(r[f])));
    return Number.isNaN(m) ? '-' : Math.round(m * 10) / 10;
  };
  return {
    name: row.name,
    ordersPerSec: med('ordersPerSec'),
    xCeiling: Math.round(ratioTo(row.key) * 100) / 100,
    p50ms: med('p50ms'),
    p99ms: med('p99ms'),
    non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
    errors: rs.reduce((a, r) => a + r.errors + r.timeouts, 0),
    serverCpuUs: med('serverCpuUs'),
    clientCpuUs: med('clientCpuUs'),
  };
});
console.table(table);
const row = (key) => table[ROWS.findIndex((r) => r.key === key)];
console.log(
  `${DRIVER}, ${connections} connections, ${duration} s per row, ${rate === undefined ? 'full load' : `${rate} requests/s offered to every row`}, median of ${rounds} round(s); xCeiling = the row's rate / the ceiling's in the same round`,
);
console.log(`serverCpuUs / clientCpuUs = CPU per answered request (µs); per-round ceilings: ${results.ceiling.map((r) => r.ordersPerSec).join(', ')}/s`);
if (rate !== undefined) {
  console.log('fixed rate: compare serverCpuUs between rows; the ratio and p99 targets are judged at full load (unset BENCH_RATE)');
  process.exit(0);
}
console.log(`durable floor: ${row('floor').xCeiling}x of the ceiling (what durability alone leaves on this machine)`);
console.log(`API layer alone: ${row('api').xCeiling}x of the ceiling`);
console.log(`durable, 0 workers: ${row('durable0').xCeiling}x of the ceiling, p99 ${row('durable0').p99ms} ms`);
const real = row('real');
console.log(`intake ratio: ${real.xCeiling}x of the ceiling (target >= 0.80x) ${real.xCeiling >= 0.8 ? 'OK' : 'BELOW TARGET'}`);
console.log(`intake p99: ${real.p99ms} ms (target <= 10 ms) ${real.p99ms <= 10 ? 'OK' : 'ABOVE TARGET'}`);
if (real.non2xx > 0 || real.errors > 0) console.log(`warning: ${real.non2xx} non-2xx answers and ${real.errors} errors/timeouts during the real runs`);

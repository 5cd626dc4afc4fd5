/* global process, console */
// npm run bench:intake — the durable POST /v1/orders against a bare fastify 202 (the ceiling),
// same machine, same connections and duration, unique Idempotency-Keys (issue 16, part 1).
// Rows, in turn, round after round:
//   ceiling   bare fastify answering 202 (bench/ceiling-server.mjs)
//   floor     the ceiling's route + one group-committed INSERT + fdatasync, nothing else (diagnostic:
//             what durability alone leaves on this machine and disk)
//   paused    `stack up --workers 0`: the judged row, >= 0.8x the ceiling, p99 <= 10 ms, every 202
//             on disk (fdatasync) before it is sent
//   workers   the stack with its default workers and --max-backlog: p99 <= 10 ms judged; it may
//             shed with 503 + Retry-After, never time out
// With BENCH_MINIMAL=1, two diagnostic rows more (bench/minimal-accept-server.mjs): the least a
// durable, idempotent accept can do (raw node:http, the journal INSERT + fdatasync, no schema,
// metrics or log), on the event loop and with its SQLite work on a thread of its own.
// Each figure is the median over BENCH_ROUNDS rounds (default 3), ratios taken within each round:
// on a shared VM the speed drifts within minutes. Besides orders/s it prints each server's CPU per
// answered request (Linux /proc: every thread of the process) and, with autocannon, the load
// generator's. Driver: wrk when it is installed (the issue's figures are wrk's; it costs the
// shared cores far less than autocannon), else autocannon; BENCH_DRIVER=wrk|autocannon chooses
// (BENCH_RATE needs autocannon).
// BENCH_DURATION (s per row, default 10), BENCH_CONNECTIONS (default 50), BENCH_RATE=N
// (autocannon: every row offered the same N requests/s; CPU per request without saturation).
//
// `npm run bench:intake -- --backend postgres` (issue 14): the stack on --store postgres://… (a
// fresh database made and dropped by the run, workers 0) beside pgbench running a one-row INSERT
// script at the same concurrency on the same server, same run. Targets: >= 0.5x pgbench's TPS,
// p99 <= 20 ms. BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) is the server.
import { join } from 'node:path';
import { DRIVER, ROOT, load, measure, median, orderRequest, preferWrk, requireBuild, spawnJsonServer, spawnStack } from './lib.mjs';

requireBuild();
if (process.env.BENCH_RATE === undefined) preferWrk();
const args = process.argv.slice(2);
const backendAt = args.indexOf('--backend');
const backend = backendAt >= 0 ? args[backendAt + 1] : 'sqlite';
if (backend !== 'sqlite' && backend !== 'postgres') {
  console.error(`--backend must be sqlite or postgres, got ${backend ?? '(nothing)'}`);
  process.exit(2);
}
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
  console.error('BENCH_RATE needs the autocannon driver (wrk cannot hold a fixed rate): BENCH_DRIVER=autocannon');
  process.exit(1);
}
const run = { connections, duration, requests: [orderRequest()], ...(rate === undefined ? {} : { overallRate: rate }) };

if (backend === 'postgres') {
  const { benchPostgres } = await import('./intake-postgres.mjs');
  await benchPostgres({ connections, duration, rounds, run });
  process.exit(0);
}

const ROWS = [
  { key: 'ceiling', name: 'bare fastify 202 (ceiling)', start: () => spawnJsonServer([join(ROOT, 'bench', 'ceiling-server.mjs')]) },
  { key: 'floor', name: 'durable floor (1 INSERT + fdatasync)', start: () => spawnJsonServer([join(ROOT, 'bench', 'floor-server.mjs')]) },
  // Shedding off (huge --max-backlog): the point is what intake can take while the queue fills.
  { key: 'paused', name: 'stack, workers paused (--workers 0)', start: () => spawnStack(['--workers', '0', '--max-backlog', '100000000']) },
  // As a user runs it: default workers and backlog limit, so it may shed past the limit.
  { key: 'workers', name: 'stack, default workers', start: () => spawnStack([]) },
  ...(process.env.BENCH_MINIMAL === '1'
    ? [
        { key: 'minimal', name: 'minimal durable accept (diagnostic)', start: () => spawnJsonServer([join(ROOT, 'bench', 'minimal-accept-server.mjs')]) },
        { key: 'minimalThread', name: 'minimal, SQLite on a thread (diagnostic)', start: () => spawnJsonServer([join(ROOT, 'bench', 'minimal-accept-server.mjs'), '--thread']) },
      ]
    : []),
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
    console.log(`round ${round}/${rounds}: ${row.name}: ${r.ordersPerSec}/s, p99 ${r.p99ms} ms, ${r.serverCpuUs} µs CPU per request${r.non2xx > 0 ? `, ${r.non2xx} non-2xx` : ''}`);
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
    '2xx/s': med('ordersPerSec'),
    xCeiling: Math.round(ratioTo(row.key) * 100) / 100,
    p50ms: med('p50ms'),
    p99ms: med('p99ms'),
    non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    timeouts: rs.reduce((a, r) => a + (r.timeouts ?? 0), 0),
    serverCpuUs: med('serverCpuUs'),
    serverMainUs: med('serverMainUs'),
    clientCpuUs: med('clientCpuUs'),
  };
});
console.table(table);
const row = (key) => table[ROWS.findIndex((r) => r.key === key)];
console.log(
  `${DRIVER}, ${connections} connections, ${duration} s per row, ${rate === undefined ? 'full load' : `${rate} requests/s offered to every row`}, median of ${rounds} round(s); xCeiling = the row's 2xx rate / the ceiling's in the same round`,
);
console.log(`serverCpuUs / serverMainUs / clientCpuUs = CPU per answered request (µs): the server process (all threads), its event loop, the load generator; per-round ceilings: ${results.ceiling.map((r) => r.ordersPerSec).join(', ')}/s`);
if (rate !== undefined) {
  console.log('fixed rate: compare serverCpuUs between rows; the targets are judged at full load (unset BENCH_RATE)');
  process.exit(0);
}
const paused = row('paused');
const workers = row('workers');
console.log(`durable floor: ${row('floor').xCeiling}x of the ceiling (what one INSERT + fdatasync per request leaves on this machine and disk)`);
console.log(`intake, workers paused: ${paused.xCeiling}x of the ceiling (target >= 0.80x) ${paused.xCeiling >= 0.8 ? 'OK' : 'BELOW TARGET'}; p99 ${paused.p99ms} ms (target <= 10 ms) ${paused.p99ms <= 10 ? 'OK' : 'ABOVE TARGET'}`);
const timedOut = workers.timeouts + workers.errors;
console.log(
  `intake, default workers: p99 ${workers.p99ms} ms (target <= 10 ms) ${workers.p99ms <= 10 ? 'OK' : 'ABOVE TARGET'}; ${workers.non2xx} shed or refused, ${timedOut} errors/timeouts ${timedOut === 0 ? 'OK' : '(target: none)'}`,
);

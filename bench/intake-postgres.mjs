/* global process, console, URL */
// The PostgreSQL rows of `npm run bench:intake -- --backend postgres` (issue 14): the stack on
// --store postgres://…/<fresh database> with its workers paused, beside pgbench running a one-row
// INSERT script (an order-sized row with a unique key, as an accept writes) at the same
// concurrency on the same server, rows in turn, round after round. Targets: the stack's 202/s
// >= 0.5x pgbench's TPS, p99 <= 20 ms. Each round gets fresh databases, dropped afterwards.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DRIVER, load, measure, median, spawnStack, tempDir } from './lib.mjs';

const SERVER_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** pgbench from PATH or PostgreSQL's versioned bin folders. */
function pgbenchPath() {
  for (const d of (process.env.PATH ?? '').split(':')) if (d !== '' && existsSync(join(d, 'pgbench'))) return join(d, 'pgbench');
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const v of readdirSync(root).sort().reverse()) if (existsSync(join(root, v, 'bin', 'pgbench'))) return join(root, v, 'bin', 'pgbench');
  }
  throw new Error('pgbench is not installed (apt-get install -y postgresql-client, or PostgreSQL\'s own packages)');
}

async function admin(sql) {
  const c = new pg.Client({ connectionString: SERVER_URL });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

async function withDatabase(prefix, fn) {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** pgbench's one-row INSERT at `connections` clients for `duration` s: TPS and p99 from its per-transaction log. */
async function runPgbench(url, { connections, duration }) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('CREATE TABLE bench_orders (id BIGSERIAL PRIMARY KEY, idem_key TEXT NOT NULL UNIQUE, body TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())');
  await c.end();
  const dir = tempDir('surgectl-pgbench-');
  try {
    const script = join(dir.path, 'insert.sql');
    writeFileSync(
      script,
      "\\set k random(1, 1000000000000)\nINSERT INTO bench_orders (idem_key, body) VALUES ('pgb-' || :client_id || '-' || :k, '{\"customerId\":\"cust-1\",\"items\":[{\"sku\":\"SKU-0001\",\"qty\":1}]}') ON CONFLICT (idem_key) DO NOTHING;\n",
    );
    const u = new URL(url);
    const args = ['-n', '-c', String(connections), '-j', '2', '-T', String(duration), '-f', script, '-l', '--log-prefix', join(dir.path, 'log'), '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'), u.pathname.slice(1)];
    const out = await new Promise((res, rej) =>
      execFile(pgbenchPath(), args, { encoding: 'utf8', cwd: dir.path }, (err, stdout, stderr) => (err ? rej(new Error(`pgbench failed: ${err.message}\n${stderr}`)) : res(stdout))),
    );
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? NaN);
    // per-transaction log lines: client_id transaction_no time_us script_no epoch epoch_us
    const lat = [];
    for (const f of readdirSync(dir.path).filter((n) => n.startsWith('log'))) {
      for (const line of readFileSync(join(dir.path, f), 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (Number.isFinite(us)) lat.push(us);
      }
    }
    lat.sort((a, b) => a - b);
    const pct = (p) => (lat.length === 0 ? NaN : Math.round(lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] / 10) / 100);
    return { tps: Math.round(tps), p50ms: pct(50), p99ms: pct(99) };
  } finally {
    dir.remove();
  }
}

export async function benchPostgres({ connections, duration, rounds, run }) {
  const pgbenchRows = [];
  const stackRows = [];
  for (let round = 1; round <= rounds; round++) {
    const p = await withDatabase('surgectl_pgbench', (url) => runPgbench(url, { connections, duration }));
    pgbenchRows.push(p);
    console.log(`round ${round}/${rounds}: pgbench one-row INSERT, ${connections} clients: ${p.tps} TPS, p99 ${p.p99ms} ms`);
    const s = await withDatabase('surgectl_bench', async (url) => {
      const stack = await spawnStack(['--store', url, '--workers', '0', '--max-backlog', '100000000', '--store-pool', String(Math.min(connections, 50))]);
      try {
        await load({ ...run, url: stack.info.url, duration: 2 }); // warm-up
        return await measure('stack on PostgreSQL, workers paused', stack.child.pid, { ...run, url: stack.info.url });
      } finally {
        await stack.stop();
      }
    });
    stackRows.push(s);
    console.log(`round ${round}/${rounds}: stack on PostgreSQL, workers paused: ${s.ordersPerSec}/s, p99 ${s.p99ms} ms, ${s.serverCpuUs} µs stack CPU per request`);
  }
  const ratio = median(stackRows.map((s, i) => s.ordersPerSec / Math.max(1, pgbenchRows[i].tps)));
  const p99 = median(stackRows.map((s) => s.p99ms));
  console.table([
    { name: `pgbench one-row INSERT (${connections} clients)`, 'per s': median(pgbenchRows.map((r) => r.tps)), p50ms: median(pgbenchRows.map((r) => r.p50ms)), p99ms: median(pgbenchRows.map((r) => r.p99ms)) },
    {
      name: 'stack --store postgres, workers paused',
      'per s': median(stackRows.map((r) => r.ordersPerSec)),
      p50ms: median(stackRows.map((r) => r.p50ms)),
      p99ms: p99,
      non2xx: stackRows.reduce((a, r) => a + r.non2xx, 0),
      serverCpuUs: median(stackRows.map((r) => (typeof r.serverCpuUs === 'number' ? r.serverCpuUs : NaN))),
    },
  ]);
  console.log(`${DRIVER}, ${connections} connections, ${duration} s per row, median of ${rounds} round(s); PostgreSQL at ${new URL(SERVER_URL).host}`);
  console.log(`stack on PostgreSQL: ${Math.round(ratio * 100) / 100}x pgbench's TPS (target >= 0.5x) ${ratio >= 0.5 ? 'OK' : 'BELOW TARGET'}; p99 ${p99} ms (target <= 20 ms) ${p99 <= 20 ? 'OK' : 'ABOVE TARGET'}`);
}

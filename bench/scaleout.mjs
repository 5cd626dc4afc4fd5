/* global process, console, fetch */
// npm run bench:scaleout — end-to-end confirmed orders per second of the order stack on its
// backends, in one run on this machine: each configuration is a fresh `surgectl stack up` (the
// built CLI, its own processes) driven with order requests over BENCH_CONNECTIONS (default 50)
// for BENCH_DURATION s (default 10); confirmed/s is the growth of the confirmed count in
// GET /admin/status over the load window, accepted/s what the intake answered 202.
//   sqlite                    the embedded stack, one process (the baseline)
//   postgres                  one process on PostgreSQL (127.0.0.1:5432, a fresh database)
//   postgres+rabbitmq         the same, workers fed by RabbitMQ through the outbox (a fresh vhost)
//   postgres 2+2              2 intake replicas + 2 worker processes on PostgreSQL
//   postgres+rabbitmq 2+2     the same with RabbitMQ
// Needs the machine's PostgreSQL (psql) and RabbitMQ (rabbitmqctl). Bounded by the durations.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { load, orderRequest, requireBuild, spawnStack } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

function psql(sql) {
  execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-qAtc', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
}
function rabbitmqctl(...args) {
  execFileSync('rabbitmqctl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A fresh database and vhost per configuration, dropped afterwards. */
function backing(name, { queue }) {
  const db = `surgectl_bench_${run}_${name}`;
  psql(`CREATE DATABASE ${db}`);
  const vhost = queue ? `surgectl_bench_${run}_${name}` : undefined;
  if (vhost) {
    rabbitmqctl('add_vhost', vhost);
    rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  }
  return {
    args: ['--store', `postgres://postgres@127.0.0.1:5432/${db}`, ...(vhost ? ['--queue', `amqp://guest:guest@127.0.0.1:5672/${vhost}`] : [])],
    drop() {
      psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      if (vhost) rabbitmqctl('delete_vhost', vhost);
    },
  };
}

async function confirmed(url, token) {
  const r = await fetch(`${url}/admin/status`, { headers: { authorization: `Bearer ${token}` } });
  const s = await r.json();
  return s.orders.byStatus.confirmed ?? 0;
}

async function measureConfig(name, args, backend) {
  const b = backend ? backing(name.replace(/\W+/g, '_'), backend) : undefined;
  const stack = await spawnStack(['--max-backlog', '1000000', ...(b?.args ?? []), ...args]);
  try {
    const { url, adminToken } = stack.info;
    // a short warm-up, so that the first connections and JIT are not the figure
    await load({ url, connections: 10, duration: 2, requests: [orderRequest()] });
    const c0 = await confirmed(url, adminToken);
    const r = await load({ url, connections: CONNECTIONS, duration: DURATION, requests: [orderRequest()] });
    const c1 = await confirmed(url, adminToken);
    return { name, acceptedPerSec: Math.round(r['2xx'] / r.duration), confirmedPerSec: Math.round((c1 - c0) / r.duration), p99ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
  } finally {
    await stack.stop();
    b?.drop();
  }
}

requireBuild();
const rows = [];
rows.push(await measureConfig('sqlite', []));
rows.push(await measureConfig('postgres', [], { queue: false }));
rows.push(await measureConfig('postgres+rabbitmq', [], { queue: true }));
rows.push(await measureConfig('postgres 2+2', ['--intake-replicas', '2', '--worker-processes', '2', '--workers', '32'], { queue: false }));
rows.push(await measureConfig('postgres+rabbitmq 2+2', ['--intake-replicas', '2', '--worker-processes', '2', '--workers', '32'], { queue: true }));
console.log(`bench:scaleout — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs, ${CONNECTIONS} connections, ${DURATION} s per configuration`);
console.table(rows);

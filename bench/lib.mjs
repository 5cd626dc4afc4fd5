/* global process, console, setTimeout, clearTimeout */
// Shared helpers of the benchmarks: they measure the BUILT CLI/stack (run `npm run build` first),
// each server under test in its own process so the load generator does not share its event loop.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist', 'bin', 'surgectl.js');

export function requireBuild() {
  if (!existsSync(CLI)) {
    console.error(`${CLI} is missing: run \`npm run build\` first`);
    process.exit(1);
  }
}

export function tempDir(prefix) {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Spawns a node process that prints one JSON object with at least `url` on stdout; resolves with it. */
export function spawnJsonServer(args, opts = {}) {
  const child = spawn(process.execPath, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`server did not start: ${out}`));
    }, opts.timeoutMs ?? 30_000);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const start = out.indexOf('{');
      if (start < 0) return;
      try {
        const info = JSON.parse(out.slice(start));
        clearTimeout(timer);
        res({
          info,
          child,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done(child.exitCode);
              child.once('exit', (code) => done(code));
              child.kill('SIGTERM');
            }),
        });
      } catch {
        // incomplete JSON so far
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code} before starting: ${out}`));
    });
  });
}

/**
 * `surgectl -o json stack up` on free ports and a temp data dir, stock high enough never to sell out.
 * BENCH_CPU_PROF=<dir> runs the stack under `node --cpu-prof` (a profile per thread lands in <dir>
 * when it stops): where a benchmark's time goes, from the same run.
 */
export async function spawnStack(extraArgs = [], env = {}) {
  const dir = tempDir('surgectl-bench-');
  const prof = process.env.BENCH_CPU_PROF;
  const s = await spawnJsonServer(
    [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] : []), CLI, '-o', 'json', 'stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', dir.path, '--seed-inventory', '100000000', ...extraArgs],
    { cwd: dir.path, env: { SURGECTL_CONFIG: '', ...env } },
  );
  return {
    ...s,
    async stop() {
      await s.stop();
      dir.remove();
    },
  };
}

let keySeq = 0;
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
/** One POST /v1/orders per request, each with a unique Idempotency-Key (a real client's behaviour). */
export function orderRequest() {
  return {
    method: 'POST',
    path: '/v1/orders',
    headers: { 'content-type': 'application/json' },
    setupRequest(req) {
      const n = ++keySeq;
      req.headers = { ...req.headers, 'idempotency-key': `bench-${run}-${n}` };
      req.body = JSON.stringify({ customerId: `cust-${n % 5000}`, items: [{ sku: `SKU-${String((n % 25) + 1).padStart(4, '0')}`, qty: 1 }] });
      return req;
    },
  };
}

/**
 * CPU time (user + system, ms) a process has used, from Linux /proc; undefined elsewhere. CPU per
 * request is steadier than requests per second on a shared 2-core VM, and says where a gap is.
 */
export function cpuMs(pid, { mainThread = false } = {}) {
  try {
    // the process's main thread (its event loop) has the process's id as its thread id
    const f = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Runs `load(opts)` against the server process `pid` and adds the server's and the load generator's CPU per answered request (µs). */
export async function measure(name, pid, opts) {
  const server0 = cpuMs(pid);
  const main0 = cpuMs(pid, { mainThread: true });
  const client0 = process.cpuUsage();
  const r = summarize(name, await load(opts));
  const server1 = cpuMs(pid);
  const main1 = cpuMs(pid, { mainThread: true });
  const client = process.cpuUsage(client0);
  const answered = Math.max(1, r.ordersPerSec * r.seconds + r.non2xx);
  return {
    ...r,
    serverCpuUs: server0 === undefined || server1 === undefined ? '-' : Math.round(((server1 - server0) * 1000) / answered),
    // the event loop's share: the one thread that parses, validates, commits and answers
    serverMainUs: main0 === undefined || main1 === undefined ? '-' : Math.round(((main1 - main0) * 1000) / answered),
    // wrk's CPU is its own process's; only autocannon's is ours to measure
    clientCpuUs: driverOf(opts) === 'autocannon' ? Math.round((client.user + client.system) / answered) : '-',
  };
}

/** Whether the wrk binary is on PATH. */
function hasWrk() {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, 'wrk')));
}

/** The load generator: autocannon (default, in this process) or wrk (BENCH_DRIVER=wrk, a separate process). */
export let DRIVER = process.env.BENCH_DRIVER ?? 'autocannon';

/**
 * For benchmarks that only need full-load runs (no fixed rate): wrk when it is installed and
 * BENCH_DRIVER does not say otherwise. On a shared 2-core machine wrk costs the cores far less
 * per request than autocannon in the benchmark's own process.
 */
export function preferWrk() {
  if (process.env.BENCH_DRIVER === undefined && hasWrk()) DRIVER = 'wrk';
}
if (DRIVER !== 'autocannon' && DRIVER !== 'wrk') {
  console.error(`BENCH_DRIVER must be autocannon or wrk, got ${DRIVER}`);
  process.exit(1);
}

/** The driver of one run: DRIVER, but autocannon for a fixed rate (`overallRate`): wrk cannot hold one. */
function driverOf(opts) {
  return opts.overallRate !== undefined ? 'autocannon' : DRIVER;
}

/** Drives `opts.url` with `opts.connections` for `opts.duration` s; resolves with autocannon's result shape. */
export function load(opts) {
  return driverOf(opts) === 'wrk' ? loadWrk(opts) : loadAutocannon(opts);
}

function loadAutocannon(opts) {
  return new Promise((res, rej) => {
    const inst = autocannon({ connections: 50, duration: 10, ...opts }, (err, result) => (err ? rej(err) : res(result)));
    autocannon.track(inst, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

/** wrk with bench/wrk-order.lua (order requests only); one thread unless BENCH_WRK_THREADS says otherwise. */
function loadWrk(opts) {
  const args = ['-t', process.env.BENCH_WRK_THREADS ?? '1', '-c', String(opts.connections ?? 50), '-d', `${opts.duration ?? 10}s`, '-s', join(ROOT, 'bench', 'wrk-order.lua'), opts.url];
  return new Promise((res, rej) => {
    execFile('wrk', args, { encoding: 'utf8' }, (err, out) => {
      if (err) return rej(new Error(err.code === 'ENOENT' ? 'wrk is not installed (apt-get install -y wrk), or leave BENCH_DRIVER unset for autocannon' : `wrk failed: ${err.message}`));
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return rej(new Error(`wrk printed no summary:\n${out}`));
      const w = JSON.parse(line);
      const ms = (us) => Math.round(us / 10) / 100;
      res({ '2xx': w.requests - w.non2xx, non2xx: w.non2xx, errors: w.errors, timeouts: w.timeouts, duration: w.durationUs / 1e6, latency: { p50: ms(w.p50Us), p99: ms(w.p99Us) } });
    });
  });
}

export function summarize(name, r) {
  const ok = r['2xx'];
  return {
    name,
    ordersPerSec: Math.round(ok / r.duration),
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    seconds: r.duration,
  };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/* global process, console, setTimeout, clearTimeout, performance, fetch */
// npm run bench:overload — the stack at ~7x its capacity (docs/order-stack.md, "Operating under
// failure"). Phases, each on a fresh stack (the built CLI, its own process, --max-backlog 200):
//   1. capacity: 128 connections as fast as they go, the backlog at its limit most of the time:
//      confirmed orders/s = what the pipeline completes at saturation.
//   2. overload: BENCH_OVERLOAD (default 7) x capacity over 1000 keep-alive connections, with
//      --health-port; meanwhile a separate probe process asks /healthz and /readyz on a NEW
//      connection every 100 ms, on the health port and on the API port. Goodput = confirmed
//      orders/s during the overload / capacity (target >= 0.8); probe p99 (target <= 1 s).
//      Also per CPU-second of the stack (overload vs capacity), which holds still when other
//      jobs on a shared machine take CPU from the stack in one phase and not in the next.
//   Phases 1-2 run BENCH_ROUNDS times (default 3); goodput is taken within each round (the
//   machine's speed drifts between minutes) and the median is reported.
//   3. cost: server CPU per answered request (all threads, Linux /proc) for accepted orders at
//      half the capacity, and for refused ones (0 workers, --max-backlog 1: every order shed
//      before its body is read) at the same rate and connections: a refusal must cost a small
//      fraction.
//   Peak RSS (VmHWM) of the overloaded stack (target: about 225 MiB or less).
// Each phase also prints the CPU the stack and this process (the load generator) used: on 2
// cores they share the machine, so what the generator takes the stack does not get.
// BENCH_DURATION (s per phase, default 15), BENCH_CONNECTIONS (overload, default 1000),
// BENCH_OVERLOAD (factor, default 7), BENCH_ROUNDS (default 3). Every loop is bounded by those durations and counts.
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cpuMs, load, median, orderRequest, requireBuild, spawnStack } from './lib.mjs';

const PROBE_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 20_000;
const IDLE_SAMPLE_MS = 2_000;

// The probe runs in its own process: in this one, the load generator's event loop would delay
// its timers and sockets and the probe would measure the generator, not the stack.
if (process.argv[2] === '--probe') {
  const [, , , targetsJson, seconds] = process.argv;
  const targets = JSON.parse(targetsJson);
  const rounds = Math.min(10_000, Math.floor((Number(seconds) * 1000) / PROBE_INTERVAL_MS));
  const results = Object.fromEntries(targets.map((t) => [t.name, { ms: [], failed: 0, statuses: {} }]));
  const once = (t) =>
    new Promise((res) => {
      const start = performance.now();
      // agent: false = a new TCP connection per probe, as a kubelet or a load balancer makes
      const req = get(t.url, { agent: false, headers: { connection: 'close' }, timeout: PROBE_TIMEOUT_MS }, (r) => {
        r.resume();
        r.once('end', () => res({ ms: performance.now() - start, status: r.statusCode }));
      });
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', () => res({ ms: performance.now() - start, status: 'error' }));
    });
  const pending = [];
  for (let i = 0; i < rounds; i++) {
    for (const t of targets) {
      pending.push(
        once(t).then((r) => {
          const slot = results[t.name];
          slot.statuses[r.status] = (slot.statuses[r.status] ?? 0) + 1;
          if (r.status === 'error') slot.failed++;
          else slot.ms.push(r.ms);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
  }
  await Promise.all(pending);
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
}

requireBuild();
const duration = Number(process.env.BENCH_DURATION ?? 15);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 1000);
const factor = Number(process.env.BENCH_OVERLOAD ?? 7);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
/** Enough to keep the backlog full (the pipeline, not the client, is then the limit). */
const SATURATION_CONNECTIONS = 128;
for (const [name, v] of [['BENCH_DURATION', duration], ['BENCH_CONNECTIONS', connections], ['BENCH_OVERLOAD', factor], ['BENCH_ROUNDS', rounds]]) {
  if (!(Number.isFinite(v) && v > 0)) {
    console.error(`${name} must be a positive number, got ${process.env[name]}`);
    process.exit(1);
  }
}

const quantile = (xs, q) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round1 = (x) => Math.round(x * 10) / 10;

/** Counters of the stack's /metrics that the phases need, asked when the stack is not loaded. */
async function counters(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (re) => {
    const m = text.match(re);
    return m ? Number(m[1]) : 0;
  };
  return {
    confirmed: value(/^surgectl_orders_completed_total\{status="confirmed"\} (\S+)$/m),
    accepted: value(/^surgectl_orders_accepted_total (\S+)$/m),
    shed: value(/^surgectl_orders_rejected_total\{reason="shed"\} (\S+)$/m),
  };
}

/** VmHWM (peak resident set) of a process, MiB. */
function peakRssMiB(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB$/m);
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `opts` load against a fresh stack; returns confirmed/accepted orders/s over the load window, and the stack's CPU. */
async function phase(stackArgs, opts, during = async () => undefined) {
  const stack = await spawnStack(['--max-backlog', '200', '--log-level', 'warn', ...stackArgs]);
  try {
    const url = stack.info.url;
    await load({ url, connections: 8, duration: 2, requests: [orderRequest()] }); // warm-up
    // let the warm-up's backlog drain, bounded
    for (let i = 0; i < 50; i++) {
      const a = await counters(url);
      await new Promise((r) => setTimeout(r, 100));
      const b = await counters(url);
      if (b.confirmed === a.confirmed) break;
    }
    // The stack's own CPU when nothing comes in (timers, the idle dispatcher), taken out of the cost per request.
    const idle0 = cpuMs(stack.child.pid);
    const idleMain0 = cpuMs(stack.child.pid, { mainThread: true });
    await new Promise((r) => setTimeout(r, IDLE_SAMPLE_MS));
    const idleCores = (cpuMs(stack.child.pid) - idle0) / IDLE_SAMPLE_MS;
    const idleMainCores = (cpuMs(stack.child.pid, { mainThread: true }) - idleMain0) / IDLE_SAMPLE_MS;
    const before = await counters(url);
    const cpu0 = cpuMs(stack.child.pid);
    const main0 = cpuMs(stack.child.pid, { mainThread: true });
    const gen0 = process.cpuUsage();
    const t0 = performance.now();
    const [r, extra] = await Promise.all([load({ url, requests: [orderRequest()], ...opts }), during(stack)]);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuMs(stack.child.pid);
    const main1 = cpuMs(stack.child.pid, { mainThread: true });
    const gen = process.cpuUsage(gen0);
    const after = await counters(url);
    return {
      confirmedPerSec: (after.confirmed - before.confirmed) / seconds,
      acceptedPerSec: (after.accepted - before.accepted) / seconds,
      shed: after.shed - before.shed,
      answered: r['2xx'] + r.non2xx,
      ok: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      offeredPerSec: (r['2xx'] + r.non2xx) / r.duration,
      seconds,
      // CPU use in cores: the stack (all its threads) and this process (the load generator)
      stackCores: cpu0 === undefined || cpu1 === undefined ? NaN : (cpu1 - cpu0) / 1000 / seconds,
      generatorCores: (gen.user + gen.system) / 1e6 / seconds,
      // the stack's event loop (intake and workers) alone
      mainCores: main0 === undefined || main1 === undefined ? NaN : (main1 - main0) / 1000 / seconds,
      idleCores,
      idleMainCores,
      peakRssMiB: peakRssMiB(stack.child.pid),
      extra,
    };
  } finally {
    await stack.stop();
  }
}

function runProbe(targets, seconds) {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--probe', JSON.stringify(targets), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return rej(new Error(`the probe process exited with ${code}`));
      res(JSON.parse(out));
    });
  });
}

const round2 = (x) => Math.round(x * 100) / 100;
const cores = (p) => `stack ${round2(p.stackCores)} cores (event loop ${round2(p.mainCores)}), load generator ${round2(p.generatorCores)} cores; load average ${loadavg()[0].toFixed(1)}`;
console.log(`${new Date().toISOString()}: ${cpus().length} CPUs; ${duration} s per phase, ${rounds} round(s); overload ${factor}x over ${connections} connections, --max-backlog 200`);

/** One round: capacity, then the overload with its probes; the goodput ratio is taken within the round. */
async function measureRound(round) {
  const sat = await phase([], { connections: SATURATION_CONNECTIONS, duration });
  console.log(`round ${round}: 1. capacity (${SATURATION_CONNECTIONS} connections): ${round1(sat.confirmedPerSec)} confirmed/s, ${round1(sat.acceptedPerSec)} accepted/s, ${sat.shed} shed; ${cores(sat)}`);
  // Capacity is the saturated rate: the stricter denominator. A fixed rate just under it (tried
  // first) came out 10-40 % lower on this shared machine, as the generator's paced bursts fill
  // the backlog of 200 and are shed, and would flatter the goodput ratio.
  const capacity = sat.confirmedPerSec;
  const overRate = Math.round(capacity * factor);
  const over = await phase(['--health-port', '0'], { connections, duration, overallRate: overRate }, async (stack) => {
    const targets = [
      { name: 'health port /healthz', url: `${stack.info.healthUrl}/healthz` },
      { name: 'health port /readyz', url: `${stack.info.healthUrl}/readyz` },
      { name: 'API port /healthz', url: `${stack.info.url}/healthz` },
      { name: 'API port /readyz', url: `${stack.info.url}/readyz` },
    ];
    // starts once the load has ramped up, ends with it
    await new Promise((r) => setTimeout(r, 1_000));
    return runProbe(targets, Math.max(1, duration - 2));
  });
  console.log(
    `round ${round}: 2. overload (${overRate}/s offered, ${round1(over.offeredPerSec)}/s answered): ${round1(over.confirmedPerSec)} confirmed/s, ${round1(over.acceptedPerSec)} accepted/s, ${over.shed} shed, ${over.errors} errors/timeouts; ${cores(over)}`,
  );
  // Confirmed orders per CPU-second of the stack, overload vs capacity: the share of the stack's
  // CPU that still confirms orders under overload. On a shared machine the stack gets less CPU
  // in one minute than in the next; this ratio does not depend on how much it got.
  const perCpu = (p) => p.confirmedPerSec / Math.max(0.01, p.stackCores);
  return { sat, capacity, over, goodput: over.confirmedPerSec / Math.max(1, capacity), goodputPerCpu: perCpu(over) / perCpu(sat) };
}

const results = [];
for (let round = 1; round <= rounds; round++) results.push(await measureRound(round));

// The probes of all rounds together.
const probes = {};
for (const r of results) {
  for (const [name, p] of Object.entries(r.over.extra)) {
    const slot = (probes[name] ??= { ms: [], failed: 0, statuses: {} });
    slot.ms.push(...p.ms);
    slot.failed += p.failed;
    for (const [k, v] of Object.entries(p.statuses)) slot.statuses[k] = (slot.statuses[k] ?? 0) + v;
  }
}
const probeRows = Object.entries(probes).map(([name, r]) => ({ probe: name, n: r.ms.length, failed: r.failed, statuses: JSON.stringify(r.statuses), p50ms: round1(quantile(r.ms, 0.5)), p99ms: round1(quantile(r.ms, 0.99)), maxMs: round1(Math.max(...r.ms)) }));
console.table(probeRows);

const capacity = median(results.map((r) => r.capacity));
const goodput = median(results.map((r) => r.goodput));
const goodputPerCpu = median(results.map((r) => r.goodputPerCpu));
const peakRss = Math.max(...results.map((r) => r.over.peakRssMiB ?? 0));

// Cost per answered request at the same offered rate over the same connections: accepted (the
// whole pipeline, payment thread included) vs refused before the body (0 workers, the backlog of
// 1 full after the first order). Spread over as many connections as the overload used, so each
// sends less than one request per second and the hold after a refusal (1 s) never binds: this
// is the cost of a refusal the stack does make.
const costRate = Math.max(50, Math.min(Math.round(capacity / 2), Math.round(connections * 0.6)));
const accepted = await phase(['--max-backlog', '100000000'], { connections, duration, overallRate: costRate });
const refused = await phase(['--workers', '0', '--max-backlog', '1'], { connections, duration, overallRate: costRate });
const perReq = (n, cpuMsUsed) => (cpuMsUsed * 1000) / Math.max(1, n);
const acceptedUs = perReq(accepted.ok, (accepted.stackCores - accepted.idleCores) * accepted.seconds * 1000);
const refusedUs = perReq(refused.non2xx, (refused.stackCores - refused.idleCores) * refused.seconds * 1000);
const acceptedLoopUs = perReq(accepted.ok, (accepted.mainCores - accepted.idleMainCores) * accepted.seconds * 1000);
const refusedLoopUs = perReq(refused.non2xx, (refused.mainCores - refused.idleMainCores) * refused.seconds * 1000);
console.log(
  `cost at ${costRate}/s over ${connections} connections, the idle stack's own CPU (${round2(refused.idleCores)} cores) taken out: accepted order ${Math.round(acceptedUs)} µs CPU (event loop ${Math.round(acceptedLoopUs)} µs; ${accepted.ok} accepted), refused order ${Math.round(refusedUs)} µs CPU (event loop ${Math.round(refusedLoopUs)} µs; ${refused.non2xx} refused)`,
);

const health = probeRows.filter((r) => r.probe.startsWith('health port'));
const worstHealthP99 = Math.max(...health.map((r) => r.p99ms));
console.log('');
console.log(`capacity ${round1(capacity)} confirmed/s (median of ${results.map((r) => round1(r.capacity)).join(', ')}/s)`);
console.log(`goodput at ${factor}x: ${round2(goodput)}x of capacity (median of ${results.map((r) => round2(r.goodput)).join(', ')}; target >= 0.8x) ${goodput >= 0.8 ? 'OK' : 'BELOW TARGET'}`);
console.log(`confirmed orders per CPU-second of the stack at ${factor}x: ${round2(goodputPerCpu)}x of those at capacity (median of ${results.map((r) => round2(r.goodputPerCpu)).join(', ')}; replacement target >= 0.8x on a shared machine) ${goodputPerCpu >= 0.8 ? 'OK' : 'BELOW TARGET'}`);
console.log(`health port p99 on a new connection: ${worstHealthP99} ms (target <= 1000 ms) ${worstHealthP99 <= 1000 ? 'OK' : 'ABOVE TARGET'}`);
for (const r of probeRows.filter((x) => x.probe.startsWith('API port'))) console.log(`${r.probe} on a new connection: p50 ${r.p50ms} ms, p99 ${r.p99ms} ms (no target: the API port is the one under overload)`);
console.log(`a refusal costs ${round1((refusedUs / acceptedUs) * 100)} % of an accepted order (event loop: ${round1((refusedLoopUs / acceptedLoopUs) * 100)} %)`);
console.log(`peak RSS of the overloaded stack: ${peakRss} MiB (target about 225 MiB or less)`);

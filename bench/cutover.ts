/**
 * npm run bench:cutover — how fast a cutover moves traffic through a real HAProxy, step delays
 * excluded. Two tiny node:http backends (blue, green; test/support/haproxy.ts startTestBackend,
 * which counts hits) sit behind HAProxy with the test config of test/support/haproxy.ts (the
 * traffic settings of deploy/haproxy/haproxy.cfg, fast checks). The runbook engine (startRunbook,
 * the code behind `surgectl runbook run` and `surgectl cutover`) runs a runbook of haproxy-weight
 * shift steps 10,50,100 with no analysis and no waits, through the real runtime API client
 * (createHaproxy), BENCH_CUTOVERS times, alternating blue→green and green→blue, while one probe
 * client sends back-to-back GETs through HAProxy on a kept-alive connection and notes which
 * server answered each one.
 *
 * Measured per cutover:
 *  (a) engine: the sum of the shift steps' durations from the journal (each reads the weights,
 *      journals them, sets both weights and reads them back), i.e. from the first weight change
 *      to the last one;
 *  (b) traffic: from the call that starts the cutover until the probe's last answer from the old
 *      server, after which it sees only the new one (checked until the next cutover starts).
 * Prints median / p95 / max of both. Bounded: BENCH_CUTOVERS (default 20, at most 200) and a
 * 120 s deadline for the whole run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createHaproxy } from '../src/adapters/haproxy/haproxy.js';
import { createRecordingReporter } from '../src/reporter.js';
import type { RunbookPorts } from '../src/runbooks/ports.js';
import { startRunbook, type RunbookRunContext } from '../src/runbooks/run.js';
import { startHaproxy, startTestBackend } from '../test/support/haproxy.js';

const CUTOVERS = Math.min(200, Math.max(1, Number(process.env.BENCH_CUTOVERS ?? 20)));
const DEADLINE = Date.now() + 120_000;
/** Answers from the new server the probe must see after a cutover before the next one starts. */
const SETTLE_ANSWERS = 200;

const RUNBOOK = `apiVersion: surgectl/v1
kind: Runbook
name: bench-cutover
version: 1
description: haproxy-weight shift steps only (no analysis, no waits), for bench:cutover.
params:
  haproxy: { type: string }
  from: { type: string }
  to: { type: string }
steps:
  - name: shift-\${item}
    each: [10, 50, 100]
    kind: haproxy-weight
    action: { endpoint: '\${haproxy}', backend: orders, shift: { from: '\${from}', to: '\${to}', percent: '\${item}' } }
    timeout: 10s
`;

/** One probe answer: when its request was sent and answered (performance.now() ms) and by which server. */
interface Answer {
  sentAt: number;
  at: number;
  server: string;
}

const unavailable = (what: string) => () => Promise.reject(new Error(`bench:cutover runs haproxy-weight steps only, not ${what}`));

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}
const stats = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${quantile(s, 0.5).toFixed(1)} ms · p95 ${quantile(s, 0.95).toFixed(1)} ms · max ${(s[s.length - 1] ?? NaN).toFixed(1)} ms`;
};

const blue = await startTestBackend('blue');
const green = await startTestBackend('green');
const haproxy = await startHaproxy({ servers: [{ name: 'blue', port: blue.port, weight: 100 }, { name: 'green', port: green.port, weight: 0 }] });
const dir = mkdtempSync(join(tmpdir(), 'bench-cutover-'));
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const frontend = new URL(haproxy.url);
const answers: Answer[] = [];
let probing = true;
let probeErrors = 0;

/** One GET through HAProxy; resolves with the server that answered (x-served-by). */
const probeOnce = () =>
  new Promise<string>((resolve, reject) => {
    const req = request({ host: frontend.hostname, port: frontend.port, path: '/probe', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-served-by'] ?? `status ${res.statusCode}`)));
    });
    req.setTimeout(2_000, () => req.destroy(new Error('probe timed out')));
    req.on('error', reject);
    req.end();
  });

const probe = (async () => {
  while (probing && Date.now() < DEADLINE) {
    const sentAt = performance.now();
    try {
      const server = await probeOnce();
      answers.push({ sentAt, at: performance.now(), server });
    } catch {
      probeErrors++;
    }
  }
})();

try {
  const hp = createHaproxy({ endpoint: haproxy.statsEndpoint });
  // Both servers up in HAProxy's health checks before anything moves (polled, bounded).
  for (;;) {
    if ((await hp.servers('orders')).every((s) => s.up)) break;
    if (Date.now() > DEADLINE) throw new Error('blue and green did not come up in HAProxy');
    await delay(50);
  }
  const file = join(dir, 'bench-cutover.yaml');
  writeFileSync(file, RUNBOOK);
  // Only HAProxy is reached; any other port a step asked for would be a bug in this bench.
  const ports = new Proxy({ haproxy: (endpoint: string) => createHaproxy({ endpoint }) } as Partial<RunbookPorts>, {
    get: (target, name: string) => (name in target ? target[name as keyof RunbookPorts] : unavailable(name)),
  }) as RunbookPorts;
  const ctx: RunbookRunContext = {
    cwd: dir,
    env: {},
    sources: { builtinDir: join(dir, 'no-builtins'), userDir: join(dir, 'runbooks') },
    ports,
    reporter: createRecordingReporter(),
    yes: true,
    interactive: false,
    autoRollback: false,
    user: 'bench',
    reason: 'bench:cutover',
    auditPath: join(dir, 'audit.log'),
    signal: new AbortController().signal,
    now: () => Date.now(),
    sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : {}),
  };

  const engineMs: number[] = [];
  const trafficMs: number[] = [];
  const wallMs: number[] = [];
  let strays = 0;
  let from = 'blue';
  let to = 'green';
  for (let i = 0; i < CUTOVERS && Date.now() < DEADLINE; i++) {
    const t0 = performance.now();
    const r = await startRunbook(ctx, { nameOrPath: file, params: { haproxy: haproxy.statsEndpoint, from, to }, dryRun: false, journalPath: join(dir, `journal-${i}.json`) });
    const t1 = performance.now();
    if (r.journal?.status !== 'completed') throw new Error(`cutover ${i + 1} (${from} -> ${to}) ended ${r.journal?.status ?? 'without a journal'}: ${r.journal?.message ?? ''}`);
    engineMs.push(r.journal.steps.reduce((sum, s) => sum + (s.durationMs ?? 0), 0));
    wallMs.push(t1 - t0);
    // Wait (bounded) until the probe has SETTLE_ANSWERS answers sent after the cutover returned.
    const settled = () => answers.filter((a) => a.sentAt >= t1).length >= SETTLE_ANSWERS;
    while (!settled()) {
      if (Date.now() > DEADLINE) throw new Error(`the probe did not get ${SETTLE_ANSWERS} answers after cutover ${i + 1}`);
      await delay(5);
    }
    const window = answers.filter((a) => a.sentAt >= t0);
    const lastOld = window.reduce((last, a, k) => (a.server !== to ? k : last), -1);
    const after = window.filter((a) => a.sentAt >= t1);
    strays += after.filter((a) => a.server !== to).length;
    // No answer from the old server at all (possible only if the probe stalled): count the first new one.
    trafficMs.push(lastOld >= 0 ? (window[lastOld] as Answer).at - t0 : ((window[0]?.at ?? t1) - t0));
    [from, to] = [to, from];
  }
  probing = false;
  await probe;
  const cores = cpus().length;
  const date = new Date().toISOString().slice(0, 10);
  console.log(`bench:cutover · ${date} · ${cores} vCPU · Node ${process.versions.node} · HAProxy runtime API at ${haproxy.statsEndpoint}`);
  console.log(`${engineMs.length} cutovers (blue→green and back), weights 10,50,100, no analysis and no waits; probe: ${answers.length} back-to-back GETs through HAProxy, ${probeErrors} failed`);
  console.log(`  (a) engine, first weight change to last (sum of the 3 shift steps): ${stats(engineMs)}`);
  console.log(`  (b) start of the cutover until the probe sees only the new color:  ${stats(trafficMs)}`);
  console.log(`      whole startRunbook call (load, validate, journal, audit):      ${stats(wallMs)}`);
  console.log(`  answers from the old color after a cutover returned: ${strays} (of ${engineMs.length * SETTLE_ANSWERS}+ checked); backend hits: blue ${blue.hits.GET}, green ${green.hits.GET}`);
  if (strays > 0 || probeErrors > 0) process.exitCode = 1;
} finally {
  probing = false;
  await probe;
  agent.destroy();
  await haproxy.stop();
  await Promise.all([blue.close(), green.close()]);
  rmSync(dir, { recursive: true, force: true });
}

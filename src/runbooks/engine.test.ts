import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeHaproxy, type FakeHaproxy } from '../adapters/haproxy/fake.js';
import { createFakePrometheus, type FakePrometheus } from '../adapters/prometheus/fake.js';
import { isSurgeError, type SurgeError } from '../errors.js';
import { createRecordingReporter } from '../reporter.js';
import { cutover, cutoverFinish, cutoverRollback } from './cutover.js';
import { runbookOutcome } from './engine.js';
import { findRunbook, listRunbooks, resolveRunbook, validateRunbook } from './load.js';
import type { RunbookPorts } from './ports.js';
import { resumeRunbook, rollbackJournal, startRunbook, type RunbookRunContext } from './run.js';
import type { RunbookJournal } from './types.js';

let dir: string;
let haproxy: FakeHaproxy;
let prom: FakePrometheus;
let errorRate: number;
let http: string[];
let shell: string[];
let clock: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'surgectl-runbook-'));
  haproxy = createFakeHaproxy({ orders: [{ name: 'blue', weight: 100 }, { name: 'green', weight: 0 }] });
  errorRate = 0;
  prom = createFakePrometheus((q) => [{ metric: {}, value: q.includes('histogram_quantile') ? 42 : errorRate }]);
  http = [];
  shell = [];
  clock = Date.parse('2026-11-27T03:00:00Z');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ports(): RunbookPorts {
  return {
    haproxy: () => haproxy,
    prometheus: () => prom,
    kubernetes: () => Promise.reject(new Error('no kubernetes in this test')),
    stackAdmin: () => Promise.reject(new Error('no stack in this test')),
    flags: () => Promise.reject(new Error('no flags in this test')),
    flagSet: () => Promise.reject(new Error('no flag sets in this test')),
    replication: () => Promise.reject(new Error('no postgres in this test')),
    http: async (req) => {
      http.push(`${req.method} ${req.url}`);
      return { status: 200, body: '{"status":"ready"}' };
    },
    shell: async (cmd) => {
      shell.push(Array.isArray(cmd.command) ? cmd.command.join(' ') : cmd.command);
      const text = Array.isArray(cmd.command) ? cmd.command.join(' ') : cmd.command;
      return { exitCode: text.includes('fail') ? 1 : 0, stdout: `ran ${text}`, stderr: text.includes('fail') ? 'it failed' : '' };
    },
    loadtest: async () => ({ passed: true, thresholds: [{ metric: 'http_req_failed', threshold: 'rate<0.01', ok: true, value: 0 }], requests: 100, failed: 0 }),
    scale: { apply: () => Promise.reject(new Error('no scale')), restore: () => Promise.reject(new Error('no scale')) },
  };
}

function context(over: Partial<RunbookRunContext> = {}): RunbookRunContext & { reporter: ReturnType<typeof createRecordingReporter> } {
  return {
    cwd: dir,
    env: { DEPLOY_TOKEN: 'tok-s3cret-value' },
    sources: { userDir: join(dir, 'runbooks') },
    ports: ports(),
    reporter: createRecordingReporter(true),
    yes: true,
    interactive: false,
    autoRollback: false,
    user: 'oncall',
    reason: 'INC-1',
    signal: new AbortController().signal,
    now: () => (clock += 5),
    sleep: async () => undefined,
    ...over,
  } as RunbookRunContext & { reporter: ReturnType<typeof createRecordingReporter> };
}

const FAST = { interval: '1s', initial_delay: '1s', count: 2, smoke: false };

async function userRunbook(name: string, text: string): Promise<void> {
  await mkdir(join(dir, 'runbooks'), { recursive: true });
  await writeFile(join(dir, 'runbooks', `${name}.yaml`), text);
}

const readLines = async (p: string) => (await readFile(p, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('runbook loading', () => {
  it('ships the blue-green runbooks, each valid', async () => {
    const { runbooks: all, problems } = await listRunbooks({ userDir: join(dir, 'runbooks') });
    expect(problems).toEqual([]);
    expect(all.map((r) => r.spec.name)).toEqual(expect.arrayContaining(['blue-green-haproxy', 'blue-green-kubernetes', 'blue-green-haproxy-finish', 'blue-green-kubernetes-finish']));
    expect(all.every((r) => r.source === 'builtin' && /^[0-9a-f]{16}$/.test(r.digest))).toBe(true);
  });

  it('lists every problem of a bad runbook at once, with its path', () => {
    const raw = {
      apiVersion: 'surgectl/v1',
      kind: 'Runbook',
      name: 'bad',
      version: 1,
      params: { n: { type: 'number', default: 'many' } },
      steps: [
        { name: 'a', kind: 'teleport', action: {} },
        { name: 'b', kind: 'haproxy-weight', action: { endpoint: 'x:1', backend: 'orders', weights: { green: 300 } }, timeout: 'soon' },
        { name: 'b', kind: 'http', action: { url: '${nowhere}/x' } },
      ],
    };
    let err: unknown;
    try {
      validateRunbook(raw, 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect(isSurgeError(err) && err.code).toBe('SRG_RUNBOOK_INVALID');
    const details = (err as SurgeError).details.join('\n');
    expect((err as SurgeError).exitCode).toBe(10);
    expect(details).toMatch(/params\.n\.default: parameter n must be a number, got 'many'/);
    expect(details).toMatch(/steps\[0\]\.action\.kind: unknown step kind 'teleport'/);
    expect(details).toMatch(/steps\[1\]\.action\.weights\.green/);
    expect(details).toMatch(/steps\[1\]\.timeout: 'soon' is not/);
    expect(details).toMatch(/steps\[2\]: \$\{nowhere\} is not a declared parameter/);
    expect(details).toMatch(/steps\[2\]\.name: 'b' is used by another step/);
  });

  it('names missing, unknown and ill-typed parameters together', async () => {
    const rb = await findRunbook('blue-green-haproxy', { userDir: join(dir, 'runbooks'), cwd: dir });
    let err: unknown;
    try {
      resolveRunbook(rb, { count: 'three', weights: '', colour: 'green', to_url: 'ftp://x' }, {});
    } catch (e) {
      err = e;
    }
    expect(isSurgeError(err) && err.code).toBe('SRG_RUNBOOK_PARAM');
    const d = (err as SurgeError).details.join('\n');
    expect(d).toMatch(/unknown parameter colour/);
    expect(d).toMatch(/parameter count must be a number, got 'three'/);
    expect(d).toMatch(/parameter weights must be a comma-separated list/);
    expect(d).toMatch(/parameter to_url must be an http\(s\) URL/);
  });
});

describe('runbook run', () => {
  it('a dry run resolves every step and touches nothing', async () => {
    const c = context();
    const r = await startRunbook(c, { nameOrPath: 'blue-green-haproxy', params: { ...FAST, weights: '25,100' }, dryRun: true });
    expect(haproxy.calls).toEqual([]);
    expect(prom.queries).toEqual([]);
    expect(http).toEqual([]);
    expect(r.journal).toBeUndefined();
    expect(r.plan.steps.map((s) => s.name)).toEqual(['precheck-health', 'precheck-smoke', 'shift-25', 'shift-100', 'post-switch-analysis']);
    expect(r.plan.steps[1]?.enabled).toBe(false);
    expect(r.plan.steps[2]?.action).toBe('haproxy 127.0.0.1:9999 backend orders: blue weight 75, green weight 25 (25% to green)');
    expect(r.plan.steps[2]?.mutating).toBe(true);
    expect(r.plan.steps[2]?.verify).toMatch(/analysis on http:\/\/127\.0\.0\.1:9090: error-rate success value<0\.01 ×2/);
  });

  it('runs to the end: weights step to green, a journal and an audit line per phase', async () => {
    const c = context();
    const r = await startRunbook(c, { nameOrPath: 'blue-green-haproxy', params: FAST, dryRun: false, journalPath: 'j.json' });
    expect(r.journal?.status).toBe('completed');
    expect(haproxy.calls.filter((x) => x.startsWith('set'))).toEqual([
      // The server gaining weight goes first, so the backend's total never dips.
      'set server orders/green weight 10',
      'set server orders/blue weight 90',
      'set server orders/green weight 50',
      'set server orders/blue weight 50',
      'set server orders/green weight 100',
      'set server orders/blue weight 0',
    ]);
    const journal = JSON.parse(await readFile(join(dir, 'j.json'), 'utf8')) as RunbookJournal;
    expect(journal.steps.map((s) => [s.step, s.status])).toEqual([
      ['precheck-health', 'completed'],
      ['precheck-smoke', 'skipped'],
      ['shift-10', 'completed'],
      ['shift-50', 'completed'],
      ['shift-100', 'completed'],
      ['post-switch-analysis', 'completed'],
    ]);
    expect(journal.steps[2]?.undo).toEqual({ blue: 100, green: 0 });
    expect(journal.steps[2]?.confirmedBy).toBe('--yes');
    expect(journal.user).toBe('oncall');
    expect(journal.reason).toBe('INC-1');
    const audit = await readLines(join(dir, '.surgectl', 'audit.log'));
    expect(audit[0]).toMatchObject({ phase: 'run', result: 'started', user: 'oncall', reason: 'INC-1', runbook: 'blue-green-haproxy' });
    expect(audit.at(-1)).toMatchObject({ phase: 'run', result: 'completed' });
    expect(audit.filter((a) => a.step === 'shift-50').map((a) => `${String(a.phase)}:${String(a.result)}`)).toEqual(['precondition:passed', 'action:completed', 'verify:passed']);
    expect(runbookOutcome(journal, 'j.json')).toBeUndefined();
  });

  it('a failed verify rolls back every completed step in reverse order and exits 20', async () => {
    const c = context();
    // Errors appear once half the traffic is on green.
    const base = prom;
    prom = createFakePrometheus((q) => (haproxy.calls.includes('set server orders/green weight 50') && !q.includes('histogram') ? [{ metric: {}, value: 0.2 }] : [{ metric: {}, value: 0 }]));
    void base;
    const r = await startRunbook(c, { nameOrPath: 'blue-green-haproxy', params: FAST, dryRun: false, journalPath: 'j.json' });
    const j = r.journal as RunbookJournal;
    expect(j.status).toBe('rolled-back');
    expect(j.steps.map((s) => s.status)).toEqual(['completed', 'skipped', 'rolled-back', 'rolled-back', 'pending', 'pending']);
    expect(j.steps[3]?.error).toMatch(/verify failed: analysis failed: error-rate failed/);
    const sets = haproxy.calls.filter((x) => x.startsWith('set'));
    expect(sets.slice(4)).toEqual(['set server orders/blue weight 90', 'set server orders/green weight 10', 'set server orders/blue weight 100', 'set server orders/green weight 0']);
    expect((await haproxy.servers('orders')).map((s) => [s.name, s.weight])).toEqual([['blue', 100], ['green', 0]]);
    const out = runbookOutcome(j, 'j.json');
    expect(out?.code).toBe('SRG_RUNBOOK_STEP_FAILED');
    expect(out?.exitCode).toBe(20);
  });

  it('a failure after an irreversible step (a promotion) rolls back only the steps after it; the fence before it stays', async () => {
    const { createFakeReplicationCluster } = await import('../adapters/postgres-replication/fake.js');
    const fake = createFakeReplicationCluster();
    const A = 'postgres://postgres@127.0.0.1:15432/postgres';
    const B = 'postgres://postgres@127.0.0.1:15433/postgres';
    fake.addPrimary(A, { name: 'pg_a' });
    fake.addStandby(B, A, { name: 'pg_b' });
    await userRunbook('promote-then-fail', `apiVersion: surgectl/v1
kind: Runbook
name: promote-then-fail
version: 1
autoRollback: true
steps:
  - { name: fence, kind: pg-fence, action: { url: '${A}', standby: '${B}' } }
  - { name: promote, kind: pg-promote, action: { url: '${B}', wait: 5s } }
  - { name: after, kind: shell, action: { command: [echo, after] }, rollback: { kind: shell, command: [echo, undo-after] } }
  - { name: boom, kind: shell, action: { command: [sh, -c, fail] } }
`);
    const c = context({ ports: { ...ports(), replication: async (url) => fake.port(url) } });
    const r = await startRunbook(c, { nameOrPath: 'promote-then-fail', params: {}, dryRun: false, journalPath: 'j.json' });
    const j = r.journal as RunbookJournal;
    expect(j.status).toBe('rolled-back');
    expect(j.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['fence:completed', 'promote:completed', 'after:rolled-back', 'boom:failed']);
    expect(shell).toEqual(['echo after', 'sh -c fail', 'echo undo-after']);
    // the old primary stays fenced: unfencing it now would put two primaries in play
    expect((await fake.port(A).status()).readOnly).toBe(true);
    expect((await fake.port(B).status()).role).toBe('primary');
    expect(c.reporter.messages.map((m) => m.message)).toContain('promote cannot be undone: only the steps after it are rolled back; promote and the steps before it stay as they are');
    // and a later `runbook rollback` has nothing left to undo before it
    await expect(rollbackJournal({ ...c, yes: true }, 'j.json')).rejects.toMatchObject({ code: 'SRG_RUNBOOK_JOURNAL', message: expect.stringContaining('nothing to roll back after promote, which cannot be undone') });
  });

  it('without autoRollback, asks on a terminal; a "no" leaves the steps and says how to undo', async () => {
    await userRunbook('two', `apiVersion: surgectl/v1
kind: Runbook
name: two
version: 1
steps:
  - { name: one, kind: shell, action: { command: [echo, one] }, rollback: { kind: shell, command: [echo, undo-one] } }
  - { name: two, kind: shell, action: { command: [sh, -c, fail] } }
`);
    const reporter = createRecordingReporter(false);
    const c = context({ yes: false, interactive: true, reporter });
    const r = await startRunbook(c, { nameOrPath: 'two', params: {}, dryRun: false, journalPath: 'j.json' });
    // "no" to the first step's confirmation: nothing ran.
    expect(r.journal?.status).toBe('aborted');
    expect(shell).toEqual([]);
    const yes = context({ yes: true });
    const r2 = await startRunbook(yes, { nameOrPath: 'two', params: {}, dryRun: false, journalPath: 'k.json' });
    // --yes off a terminal answers the rollback question too: undone.
    expect(r2.journal?.status).toBe('rolled-back');
    expect(shell).toEqual(['echo one', 'sh -c fail', 'echo undo-one']);
  });

  it('a rollback waits for an action its timeout abandoned, so the undo lands after it', async () => {
    await userRunbook('slow', `apiVersion: surgectl/v1
kind: Runbook
name: slow
version: 1
steps:
  - { name: a, kind: shell, action: { command: [echo, a] }, rollback: { kind: shell, command: [echo, undo-a] } }
  - { name: b, kind: http, action: { url: 'http://127.0.0.1:1/slow', method: POST }, timeout: 50ms }
`);
    const events: string[] = [];
    const c = context({
      ports: {
        ...ports(),
        shell: async (cmd) => {
          events.push((cmd.command as string[]).slice(1).join(' '));
          return { exitCode: 0, stdout: '', stderr: '' };
        },
        http: () =>
          new Promise((resolve) =>
            setTimeout(() => {
              events.push('b landed');
              resolve({ status: 200, body: '' });
            }, 300),
          ),
      },
    });
    const r = await startRunbook(c, { nameOrPath: 'slow', params: {}, dryRun: false, journalPath: 'j.json' });
    expect(r.journal?.steps[1]?.error).toBe("timed out after 50ms (the step's timeout)");
    expect(r.journal?.status).toBe('rolled-back');
    expect(events).toEqual(['a', 'b landed', 'undo-a']);
  });

  it('refuses off a terminal without --yes before touching anything', async () => {
    const c = context({ yes: false, interactive: false });
    await expect(startRunbook(c, { nameOrPath: 'blue-green-haproxy', params: FAST, dryRun: false })).rejects.toMatchObject({ code: 'SRG_CLI_NOT_A_TTY' });
    expect(haproxy.calls).toEqual([]);
    expect(http).toEqual([]);
  });

  it('a rollback that fails ends with exit 30 and names what is left to do by hand', async () => {
    prom = createFakePrometheus((q) => (haproxy.calls.includes('set server orders/green weight 50') && !q.includes('histogram') ? [{ metric: {}, value: 0.5 }] : [{ metric: {}, value: 0 }]));
    const c = context({
      ports: {
        ...ports(),
        // HAProxy goes away right after the failed analysis: the weights cannot be put back.
        prometheus: () => ({
          url: prom.url,
          query: async (q, o) => {
            const r = await prom.query(q, o);
            if ((r[0]?.value ?? 0) > 0.1) haproxy.fail('unreachable');
            return r;
          },
        }),
      },
    });
    const r = await startRunbook(c, { nameOrPath: 'blue-green-haproxy', params: FAST, dryRun: false, journalPath: 'j.json' });
    const j = r.journal as RunbookJournal;
    expect(j.status).toBe('rollback-failed');
    expect(j.manual?.join('\n')).toMatch(/shift-50: .*echo "set server orders\/green weight 10" \| socat stdio tcp:127\.0\.0\.1:9999/);
    const out = runbookOutcome(j, 'j.json');
    expect(out?.exitCode).toBe(30);
    expect(out?.details.join('\n')).toMatch(/left to do by hand: shift-10/);
    // Once HAProxy is back, `runbook rollback` finishes the job.
    haproxy.fail(undefined);
    const again = await rollbackJournal(context(), 'j.json');
    expect(again.journal.status).toBe('rolled-back');
    expect((await haproxy.servers('orders')).map((s) => s.weight)).toEqual([100, 0]);
  });

  it('resumes after an interruption at every step and finishes with each change made once', async () => {
    const total = 6;
    for (let stopAfter = 0; stopAfter < total - 1; stopAfter++) {
      haproxy = createFakeHaproxy({ orders: [{ name: 'blue', weight: 100 }, { name: 'green', weight: 0 }] });
      const ac = new AbortController();
      let ended = 0;
      const c = context({ signal: ac.signal, observer: { start: () => undefined, end: () => (++ended > stopAfter ? ac.abort() : undefined) } });
      const path = `j-${stopAfter}.json`;
      const first = await startRunbook(c, { nameOrPath: 'blue-green-haproxy', params: FAST, dryRun: false, journalPath: path });
      expect(first.journal?.status).toBe('interrupted');
      expect(runbookOutcome(first.journal as RunbookJournal, path)?.exitCode).toBe(130);
      const r = await resumeRunbook(context(), path);
      expect(r.journal.status).toBe('completed');
      expect(r.journal.resumes).toHaveLength(1);
      expect(haproxy.calls.filter((x) => x === 'set server orders/green weight 50')).toHaveLength(1);
      expect((await haproxy.servers('orders')).map((s) => s.weight)).toEqual([0, 100]);
    }
  });

  it('a resumed step that did not finish has its precondition checked again', async () => {
    const ac = new AbortController();
    // Interrupted in the middle of shift-50's action.
    const c = context({
      signal: ac.signal,
      ports: {
        ...ports(),
        haproxy: () => ({
          ...haproxy,
          endpoint: haproxy.endpoint,
          servers: (b) => haproxy.servers(b),
          setState: (b, s, st) => haproxy.setState(b, s, st),
          setWeight: async (b, s, w) => {
            await haproxy.setWeight(b, s, w);
            if (w === 50) ac.abort();
          },
        }),
      },
    });
    const first = await startRunbook(c, { nameOrPath: 'blue-green-haproxy', params: FAST, dryRun: false, journalPath: 'j.json' });
    expect(first.journal?.steps[3]).toMatchObject({ step: 'shift-50', status: 'running', undo: { blue: 90, green: 10 } });
    // Green went down meanwhile: the resume stops at the precondition and rolls back with the recorded undo.
    haproxy.setUp('orders', 'green', false);
    const r = await resumeRunbook(context(), 'j.json');
    expect(r.journal.steps[3]?.precondition?.status).toBe('failed');
    expect(r.journal.steps[3]?.error).toMatch(/precondition failed: orders\/green is down/);
    expect(r.journal.status).toBe('rolled-back');
    expect((await haproxy.servers('orders')).map((s) => s.weight)).toEqual([100, 0]);
  });

  it('refuses to resume a journal written by another version of the runbook', async () => {
    await userRunbook('one', `apiVersion: surgectl/v1
kind: Runbook
name: one
version: 1
steps:
  - { name: a, kind: ask, action: { question: ok? } }
  - { name: b, kind: shell, action: { command: [echo, b] } }
`);
    const ac = new AbortController();
    const c = context({ signal: ac.signal, observer: { start: () => undefined, end: () => ac.abort() } });
    await startRunbook(c, { nameOrPath: 'one', params: {}, dryRun: false, journalPath: 'j.json' });
    await userRunbook('one', (await readFile(join(dir, 'runbooks', 'one.yaml'), 'utf8')).replace('version: 1', 'version: 2'));
    await expect(resumeRunbook(context(), 'j.json')).rejects.toThrow(/written by one version 1 .*now version 2/);
    await expect(resumeRunbook(context(), 'missing.json')).rejects.toMatchObject({ code: 'SRG_RUNBOOK_JOURNAL' });
  });

  it('keeps secrets out of the journal, the audit log and the plan', async () => {
    await userRunbook('secret', `apiVersion: surgectl/v1
kind: Runbook
name: secret
version: 1
params:
  token: { type: string, secret: true, env: DEPLOY_TOKEN }
steps:
  - { name: call, kind: http, action: { url: 'http://127.0.0.1:1/deploy', method: POST, headers: { authorization: 'Bearer \${token}' }, body: { note: 'token \${token}' } } }
`);
    const c = context();
    const r = await startRunbook(c, { nameOrPath: 'secret', params: {}, dryRun: false, journalPath: 'j.json' });
    expect(r.journal?.status).toBe('completed');
    const files = [await readFile(join(dir, 'j.json'), 'utf8'), await readFile(join(dir, '.surgectl', 'audit.log'), 'utf8'), JSON.stringify(r.plan)];
    for (const f of files) expect(f).not.toContain('tok-s3cret-value');
    expect(JSON.parse(files[0] as string).params.token).toBe('***');
    expect(r.plan.steps[0]?.action).toContain('http://127.0.0.1:1/deploy');
  });
});

describe('cutover', () => {
  it('--rollback puts the weights back from the last journal; finish waits for the scale-down delay', async () => {
    const c = context();
    const r = await cutover(c, { target: 'haproxy', to: 'green', from: 'blue', params: FAST, scaleDownDelayMs: 60_000, dryRun: false });
    expect(r.journal?.status).toBe('completed');
    await expect(cutoverFinish(context(), { force: false, dryRun: false, params: { drain: '1s' } })).rejects.toMatchObject({ code: 'SRG_RUNBOOK_PRECONDITION', message: expect.stringMatching(/blue stays up until/) });
    const back = await cutoverRollback(context());
    expect(back.journal.status).toBe('rolled-back');
    expect((await haproxy.servers('orders')).map((s) => [s.name, s.weight])).toEqual([['blue', 100], ['green', 0]]);
    await expect(cutoverFinish(context(), { force: true, dryRun: false, params: {} })).rejects.toThrow(/rolled back/);
  });

  it('finish drains then puts the old color in maintenance once the delay has passed', async () => {
    await cutover(context(), { target: 'haproxy', to: 'green', from: 'blue', params: FAST, scaleDownDelayMs: 1_000, dryRun: false });
    clock += 2_000;
    const f = await cutoverFinish(context(), { force: false, dryRun: false, params: { drain: '1s' } });
    expect(f.journal?.status).toBe('completed');
    expect(haproxy.calls.filter((x) => x.startsWith('set') && x.includes('state'))).toEqual(['set server orders/blue state drain', 'set server orders/blue state maint']);
    await expect(cutoverRollback(context())).rejects.toThrow(/was finished/);
  });

  it('on Kubernetes the Deployments follow the colors: a cutover back to blue checks orders-blue, and finish takes out orders-green', async () => {
    const plan = await cutover(context(), { target: 'kubernetes', to: 'blue', from: 'green', params: { namespace: 'shop' }, scaleDownDelayMs: 0, dryRun: true });
    expect(plan.plan.params).toMatchObject({ to_deployment: 'orders-blue', to: 'blue', from: 'green' });
    expect(plan.plan.steps[0]?.action).toBe('Deployment shop/orders-blue has all its replicas ready');
    await mkdir(join(dir, '.surgectl', 'cutover'), { recursive: true });
    await writeFile(
      join(dir, '.surgectl', 'cutover', 'last.json'),
      JSON.stringify({ kind: 'surgectl.cutover.state', target: 'kubernetes', runbook: 'blue-green-kubernetes', from: 'green', to: 'blue', params: { namespace: 'shop' }, journal: join(dir, 'j.json'), status: 'completed', endedAt: '2026-11-27T02:00:00.000Z', scaleDownDelayMs: 0 }),
    );
    const finish = await cutoverFinish(context(), { force: false, dryRun: true, params: {} });
    expect(finish.plan.steps.map((s) => s.action)).toEqual(['Deployment shop/orders-green: replicas 0']);
  });
});

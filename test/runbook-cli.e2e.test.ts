import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { RunbookJournal } from '../src/runbooks/types.js';
import { runCli, type CliResult } from './support/cli.js';
import { freePort } from './support/ports.js';
import { ensureBuilt, REPO_ROOT, tempDir } from './support/stack.js';

/**
 * `surgectl runbook list|show|run|resume|rollback` and the usage side of `surgectl cutover`, run
 * as a user would: the built CLI in a project folder of its own (user runbooks in ./runbooks/),
 * with `shell` steps whose side effects are files and `http` steps against a local server that
 * records every request, so "touches nothing" and "ran" are both observed, not assumed.
 */

/** One request the hook server answered. */
interface Hit {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** An HTTP server that records each request and answers it with the request echoed back as JSON (as httpbin does). */
interface HookServer {
  url: string;
  hits: Hit[];
  close(): Promise<void>;
}

async function startHookServer(): Promise<HookServer> {
  const hits: Hit[] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    const hit = { method: req.method ?? '', url: req.url ?? '/', headers: req.headers };
    hits.push(hit);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(hit));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A TCP listener that only counts connections: stands in for HAProxy's runtime API in a dry run that must not reach it. */
async function startConnectionCounter(): Promise<{ endpoint: string; connections: () => number; close(): Promise<void> }> {
  let n = 0;
  const server: TcpServer = createTcpServer((socket) => {
    n++;
    socket.destroy();
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { endpoint: `127.0.0.1:${port}`, connections: () => n, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A runbook that asks a hook server, creates a marker file (undone by removing it) and announces it. */
const TOUCH_RUNBOOK = `apiVersion: surgectl/v1
kind: Runbook
name: touch-marker
version: 1
description: Creates a marker file and tells a hook about it.
params:
  file: { type: string, default: marker.txt, description: the file to create }
  hook: { type: url, description: the hook server }
steps:
  - name: ping-hook
    kind: http
    action: { url: '\${hook}/ping' }
  - name: make-marker
    kind: shell
    action: { command: ['touch', '\${file}'] }
    rollback: { kind: shell, command: ['rm', '-f', '\${file}'] }
  - name: announce
    kind: http
    action: { url: '\${hook}/made', method: POST, body: { file: '\${file}' } }
    rollback: none
`;

/** The first step completes and is undone by a shell action (its side effect: undone.txt); the second fails. */
const FAILING_RUNBOOK = `apiVersion: surgectl/v1
kind: Runbook
name: fail-second
version: 1
params:
  undo: { type: string, default: 'echo undone > undone.txt', description: the first step's rollback }
steps:
  - name: first
    kind: shell
    action: { command: 'echo one > first.txt' }
    rollback: { kind: shell, command: '\${undo}' }
  - name: second
    kind: shell
    action: { command: 'echo disk full >&2; exit 3' }
`;

/** A secret from the environment in an http step's header. */
const SECRET_RUNBOOK = `apiVersion: surgectl/v1
kind: Runbook
name: call-with-token
version: 1
params:
  hook: { type: url }
  token: { type: string, secret: true, env: SOME_TOKEN, description: the hook's API token }
steps:
  - name: call
    kind: http
    action: { url: '\${hook}/secure', method: POST, headers: { authorization: 'Bearer \${token}' }, body: { hello: world } }
    rollback: none
`;

/** Four kinds of problem at once: an unknown kind, a field of the wrong type, an undeclared parameter, a duplicate step name. */
const BROKEN_RUNBOOK = `apiVersion: surgectl/v1
kind: Runbook
name: broken
version: 1
params:
  target: { type: url, default: 'http://127.0.0.1:1' }
steps:
  - name: beam-up
    kind: teleport
    action: { to: mars }
  - name: settle
    kind: wait
    action: { duration: 5 }
  - name: settle
    kind: http
    action: { url: '\${nowhere}/health' }
`;

/** The cutover runbooks every install ships. */
const BLUE_GREEN = ['blue-green-haproxy', 'blue-green-haproxy-finish', 'blue-green-kubernetes', 'blue-green-kubernetes-finish'];
/** Every runbook shipped in scenarios/runbooks (the blue-green ones and any added since), by its name. */
const BUILTINS = readdirSync(join(REPO_ROOT, 'scenarios', 'runbooks'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => (parseYaml(readFileSync(join(REPO_ROOT, 'scenarios', 'runbooks', f), 'utf8')) as { name: string }).name)
  .sort();
const NO_STACK_TRACE = /\n\s+at /;

describe('surgectl runbook (e2e)', () => {
  let hook: HookServer;
  /** The project folder of the current test: its cwd, holding runbooks/ and .surgectl/. */
  let project: { path: string; remove(): void };
  const projects: { remove(): void }[] = [];

  beforeAll(async () => {
    ensureBuilt();
    hook = await startHookServer();
  });
  afterAll(async () => {
    await hook?.close();
    for (const p of projects) p.remove();
  });
  beforeEach(() => {
    project = tempDir('surgectl-runbook-cli-');
    projects.push(project);
    hook.hits.length = 0;
  });

  const at = (...parts: string[]) => join(project.path, ...parts);
  const userRunbook = (file: string, text: string) => {
    mkdirSync(at('runbooks'), { recursive: true });
    writeFileSync(at('runbooks', file), text);
  };
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runCli(args, { cwd: project.path, env, timeoutMs: 30_000 });
  const journalsWritten = () => (existsSync(at('.surgectl', 'runbooks')) ? readdirSync(at('.surgectl', 'runbooks')) : []);
  const readJournal = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as RunbookJournal;
  /** The journal path `runbook run` announced on stderr. */
  const announcedJournal = (stderr: string) => /journal: (\S+\.json) \(resume with/.exec(stderr)?.[1];

  describe('list and show', () => {
    it('list shows the built-ins and a user runbook from ./runbooks, as a table and as JSON', async () => {
      expect(BUILTINS).toEqual(expect.arrayContaining(BLUE_GREEN));
      userRunbook('touch.yaml', TOUCH_RUNBOOK);
      const table = await cli(['runbook', 'list']);
      expect(table.code, table.stderr).toBe(0);
      for (const name of BUILTINS) expect(table.stdout).toMatch(new RegExp(`^${name}\\s+\\d+\\s+\\d+\\s+built-in\\s`, 'm'));
      expect(table.stdout).toMatch(new RegExp(`^touch-marker\\s+1\\s+3\\s+${at('runbooks', 'touch.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+Creates a marker file`, 'm'));

      const json = await cli(['runbook', 'list', '-o', 'json']);
      expect(json.code, json.stderr).toBe(0);
      const rows = JSON.parse(json.stdout) as { name: string; version: number; steps: number; source: string }[];
      expect(rows.map((r) => r.name).sort()).toEqual([...BUILTINS, 'touch-marker'].sort());
      expect(rows.filter((r) => r.source === 'builtin').map((r) => r.name).sort()).toEqual(BUILTINS);
      expect(rows.find((r) => r.name === 'touch-marker')).toEqual({ name: 'touch-marker', version: 1, steps: 3, source: at('runbooks', 'touch.yaml'), description: 'Creates a marker file and tells a hook about it.' });
    });

    it('a user runbook named like a built-in: exit 10 naming the file and the built-in', async () => {
      userRunbook('mine.yaml', TOUCH_RUNBOOK.replace('name: touch-marker', 'name: blue-green-haproxy'));
      const r = await cli(['runbook', 'list']);
      expect(r.code).toBe(10);
      // The valid runbooks are still listed; the clash is named after them.
      expect(r.stdout).toMatch(/^blue-green-haproxy\s+1\s+\d+\s+built-in/m);
      expect(r.stdout).not.toContain('mine.yaml');
      expect(r.stderr).toContain('[SRG_RUNBOOK_INVALID]');
      expect(r.stderr).toContain(`${at('runbooks', 'mine.yaml')} is named blue-green-haproxy, like a built-in runbook`);
      expect(r.stderr).not.toMatch(NO_STACK_TRACE);
    });

    it('show blue-green-haproxy: the parameters with their defaults, each step marked CHANGE or check; -o yaml has the same', async () => {
      const r = await cli(['runbook', 'show', 'blue-green-haproxy']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^blue-green-haproxy v1 \(built-in, digest [0-9a-f]{16}\)$/m);
      expect(r.stdout).toMatch(/^NAME\s+TYPE\s+DEFAULT\s+DESCRIPTION$/m);
      expect(r.stdout).toMatch(/^weights\s+list\s+10,50,100\s+share of traffic on the new color/m);
      expect(r.stdout).toMatch(/^count\s+number\s+3\s+analysis measurements/m);
      expect(r.stdout).toMatch(/^haproxy\s+string\s+127\.0\.0\.1:9999\s/m);
      expect(r.stdout).toMatch(/^ 1\. precheck-health {2}\[check\] GET http:\/\/127\.0\.0\.1:8081\/readyz expecting 200$/m);
      expect(r.stdout).toMatch(/^ 3\. shift-10 {2}\[CHANGE\] haproxy 127\.0\.0\.1:9999 backend orders: blue weight 90, green weight 10/m);
      expect(r.stdout).toMatch(/^ 5\. shift-100 {2}\[CHANGE\] /m);
      expect(r.stdout).toMatch(/^ 6\. post-switch-analysis {2}\[check\] analysis on http:\/\/127\.0\.0\.1:9090/m);
      expect(r.stdout).toContain('rollback: auto (put back what it changed)');

      const y = await cli(['runbook', 'show', 'blue-green-haproxy', '-o', 'yaml']);
      expect(y.code, y.stderr).toBe(0);
      const doc = parseYaml(y.stdout) as { name: string; params: Record<string, { type: string; default?: unknown }>; plan: { steps: { name: string; mutating: boolean }[] } };
      expect(doc.name).toBe('blue-green-haproxy');
      expect(doc.params.weights).toMatchObject({ type: 'list', default: [10, 50, 100] });
      expect(doc.plan.steps.map((s) => `${s.name}:${s.mutating ? 'change' : 'check'}`)).toEqual([
        'precheck-health:check',
        'precheck-smoke:check',
        'shift-10:change',
        'shift-50:change',
        'shift-100:change',
        'post-switch-analysis:check',
      ]);
    });

    it('show with a parameter of the wrong type: exit 2 naming the parameter and the type expected', async () => {
      const r = await cli(['runbook', 'show', 'blue-green-haproxy', '--param', 'count=three']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('[SRG_RUNBOOK_PARAM]');
      expect(r.stderr).toContain("parameter count must be a number, got 'three'");
      expect(r.stderr).not.toMatch(NO_STACK_TRACE);
    });

    it('show takes a path to a runbook file outside ./runbooks, with its parameters resolved', async () => {
      mkdirSync(at('plans'));
      writeFileSync(at('plans', 'touch.yaml'), TOUCH_RUNBOOK);
      const r = await cli(['runbook', 'show', './plans/touch.yaml', '--param', `hook=${hook.url}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`touch-marker v1 (${at('plans', 'touch.yaml')}, digest `);
      expect(r.stdout).toMatch(/^hook\s+url\s+required\s+the hook server$/m);
      expect(r.stdout).toContain(` 2. make-marker  [CHANGE] run touch marker.txt`);
      expect(r.stdout).toContain(`      rollback: run rm -f marker.txt`);
      expect(hook.hits).toEqual([]);
    });
  });

  it('run --dry-run prints every step with its parameters resolved and touches nothing', async () => {
    userRunbook('touch.yaml', TOUCH_RUNBOOK);
    const r = await cli(['runbook', 'run', 'touch-marker', '--dry-run', '--param', `hook=${hook.url}`, '--param', 'file=dry.txt']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Steps of touch-marker v1 (params: file=dry.txt hook=${hook.url})`);
    expect(r.stdout).toContain(` 1. ping-hook  [check] GET ${hook.url}/ping`);
    expect(r.stdout).toContain(` 2. make-marker  [CHANGE] run touch dry.txt`);
    expect(r.stdout).toContain(`      rollback: run rm -f dry.txt`);
    expect(r.stdout).toContain(` 3. announce  [CHANGE] POST ${hook.url}/made`);
    expect(existsSync(at('dry.txt'))).toBe(false);
    expect(hook.hits).toEqual([]);
    expect(existsSync(at('.surgectl'))).toBe(false);
  });

  it('a runbook with several problems: exit 10, every problem listed on stderr with its path, no stack trace', async () => {
    userRunbook('broken.yaml', BROKEN_RUNBOOK);
    for (const args of [['runbook', 'show', 'runbooks/broken.yaml'], ['--yes', 'runbook', 'run', './runbooks/broken.yaml']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(10);
      expect(r.stderr).toContain(`[SRG_RUNBOOK_INVALID] runbook ${at('runbooks', 'broken.yaml')} is not valid`);
      expect(r.stderr).toContain("steps[0].action.kind: unknown step kind 'teleport'; expected one of http,");
      expect(r.stderr).toContain('steps[1].action.duration: Invalid input: expected string, received number');
      expect(r.stderr).toContain('steps[2]: ${nowhere} is not a declared parameter');
      expect(r.stderr).toContain("steps[2].name: 'settle' is used by another step");
      expect(r.stderr).not.toMatch(NO_STACK_TRACE);
      expect(existsSync(at('.surgectl'))).toBe(false);
    }
  });

  it('off a terminal a change needs --yes: refused with exit 2 and nothing run; with --yes it runs, journals and audits', async () => {
    userRunbook('touch.yaml', TOUCH_RUNBOOK);
    const refused = await cli(['runbook', 'run', 'touch-marker', '--param', `hook=${hook.url}`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[SRG_CLI_NOT_A_TTY] runbook touch-marker changes live systems and there is no terminal to confirm on');
    expect(refused.stderr).toContain('--yes');
    expect(existsSync(at('marker.txt'))).toBe(false);
    expect(hook.hits).toEqual([]);
    expect(journalsWritten()).toEqual([]);
    expect(existsSync(at('.surgectl', 'audit.log'))).toBe(false);

    const ran = await cli(['--yes', 'runbook', 'run', 'touch-marker', '--param', `hook=${hook.url}`, '--reason', 'e2e test']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(existsSync(at('marker.txt'))).toBe(true);
    expect(hook.hits.map((h) => `${h.method} ${h.url}`)).toEqual(['GET /ping', 'POST /made']);
    const path = announcedJournal(ran.stderr);
    expect(path).toBeDefined();
    expect(path?.startsWith(at('.surgectl', 'runbooks', 'touch-marker-'))).toBe(true);
    expect(journalsWritten()).toHaveLength(1);
    const j = readJournal(path as string);
    expect(j).toMatchObject({ kind: 'surgectl.runbook.journal', status: 'completed', reason: 'e2e test', params: { file: 'marker.txt', hook: hook.url } });
    expect(j.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['ping-hook:completed', 'make-marker:completed', 'announce:completed']);
    expect(j.steps.find((s) => s.step === 'make-marker')?.confirmedBy).toBe('--yes');
    expect(ran.stdout).toMatch(/^touch-marker: completed$/m);
    // The audit log: one JSON line per phase, each naming the journal and the reason.
    const audit = readFileSync(at('.surgectl', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: string; phase: string; result: string; journal: string; reason: string });
    expect(audit.map((a) => `${a.step}:${a.phase}:${a.result}`)).toEqual(['-:run:started', 'ping-hook:action:completed', 'make-marker:action:completed', 'announce:action:completed', '-:run:completed']);
    expect(new Set(audit.map((a) => a.journal))).toEqual(new Set([path]));
    expect(new Set(audit.map((a) => a.reason))).toEqual(new Set(['e2e test']));

    // -o json prints the journal itself.
    const json = await cli(['--yes', '-o', 'json', 'runbook', 'run', 'touch-marker', '--param', `hook=${hook.url}`, '--param', 'file=second.txt', '--journal', 'second.json']);
    expect(json.code, json.stderr).toBe(0);
    const printed = JSON.parse(json.stdout) as RunbookJournal;
    expect(printed).toEqual(readJournal(at('second.json')));
    expect(printed.status).toBe('completed');
    expect(existsSync(at('second.txt'))).toBe(true);

    // The refused run wrote no journal, so it may not announce one (its "resume with" would point at nothing).
    expect(refused.stderr).not.toContain('journal:');
  });

  it('a failing step rolls back the completed one with its shell rollback (exit 20); a rollback that fails is exit 30 naming what is left by hand', async () => {
    userRunbook('fail.yaml', FAILING_RUNBOOK);
    const r = await cli(['--yes', 'runbook', 'run', 'fail-second', '--journal', 'rolled-back.json']);
    expect(r.code).toBe(20);
    expect(r.stderr).toContain('[SRG_RUNBOOK_STEP_FAILED] step second failed: exited with status 3: disk full; every completed step was rolled back');
    expect(r.stderr).not.toMatch(NO_STACK_TRACE);
    expect(readFileSync(at('undone.txt'), 'utf8')).toBe('undone\n');
    const j = readJournal(at('rolled-back.json'));
    expect(j.status).toBe('rolled-back');
    expect(j.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['first:rolled-back', 'second:failed']);
    expect(j.steps[0]?.rollback).toMatchObject({ status: 'completed', output: { exitCode: 0 } });

    const stuck = await cli(['--yes', 'runbook', 'run', 'fail-second', '--journal', 'stuck.json', '--param', 'undo=echo cannot reach the host >&2; exit 7']);
    expect(stuck.code).toBe(30);
    expect(stuck.stderr).toContain('[SRG_RUNBOOK_ROLLBACK]');
    expect(stuck.stderr).toContain('left to do by hand: first: run echo cannot reach the host >&2; exit 7 (the rollback failed: exited with status 7: cannot reach the host)');
    expect(stuck.stderr).toContain(`surgectl runbook rollback ${at('stuck.json')}`);
    expect(stuck.stderr).not.toMatch(NO_STACK_TRACE);
    const sj = readJournal(at('stuck.json'));
    expect(sj.status).toBe('rollback-failed');
    expect(sj.manual).toHaveLength(1);
    expect(sj.steps[0]).toMatchObject({ step: 'first', status: 'rollback-failed', rollback: { status: 'failed' } });
  });

  it('resume and rollback refuse journals with nothing left to do, and a journal that does not exist, with exit 2', async () => {
    userRunbook('touch.yaml', TOUCH_RUNBOOK);
    userRunbook('fail.yaml', FAILING_RUNBOOK);
    const done = await cli(['--yes', 'runbook', 'run', 'touch-marker', '--param', `hook=${hook.url}`, '--journal', 'done.json']);
    expect(done.code, done.stderr).toBe(0);
    const hits = hook.hits.length;
    const resumed = await cli(['--yes', 'runbook', 'resume', 'done.json']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain(`[SRG_RUNBOOK_JOURNAL] ${at('done.json')}: the run is completed; there is nothing left to resume`);
    expect(hook.hits.length).toBe(hits);

    const missing = await cli(['--yes', 'runbook', 'resume', 'no-such-journal.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`cannot read the journal ${at('no-such-journal.json')}: ENOENT`);
    expect(missing.stderr).not.toMatch(NO_STACK_TRACE);

    const failed = await cli(['--yes', 'runbook', 'run', 'fail-second', '--journal', 'rolled-back.json']);
    expect(failed.code).toBe(20);
    const again = await cli(['--yes', 'runbook', 'rollback', 'rolled-back.json']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('[SRG_RUNBOOK_JOURNAL]');
    expect(again.stderr).toContain('nothing to roll back');
    const forward = await cli(['--yes', 'runbook', 'resume', 'rolled-back.json']);
    expect(forward.code).toBe(2);
    expect(forward.stderr).toContain('the run is rolled-back; there is nothing left to resume');
  });

  it('a secret parameter from the environment reaches the server but never stdout, stderr, the journal or the audit log', async () => {
    const token = 'tok-7f3c9a1e5b2d4c6e';
    userRunbook('secret.yaml', SECRET_RUNBOOK);
    const env = { SOME_TOKEN: token };
    const outputs: [string, string][] = [];
    for (const args of [
      ['runbook', 'show', 'call-with-token', '--param', `hook=${hook.url}`],
      ['runbook', 'run', 'call-with-token', '--param', `hook=${hook.url}`, '--dry-run', '-o', 'json'],
      ['--yes', 'runbook', 'run', 'call-with-token', '--param', `hook=${hook.url}`, '--journal', 'table.json'],
      ['--yes', '-o', 'json', 'runbook', 'run', 'call-with-token', '--param', `hook=${hook.url}`, '--journal', 'json.json'],
    ]) {
      const r = await cli(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      outputs.push([`stdout of ${args.join(' ')}`, r.stdout], [`stderr of ${args.join(' ')}`, r.stderr]);
    }
    // It was used: the server saw it, twice (the two real runs), and echoed it back in its answer.
    expect(hook.hits.map((h) => h.headers.authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
    for (const file of ['table.json', 'json.json', join('.surgectl', 'audit.log')]) outputs.push([file, readFileSync(at(file), 'utf8')]);
    expect(readJournal(at('table.json')).params.token).toBe('***');
    const leaks = outputs.filter(([, text]) => text.includes(token)).map(([where]) => where);
    expect(leaks).toEqual([]);
  });

  it('usage: an unknown subcommand is exit 2; runbook, runbook run and cutover help each have examples', async () => {
    const bogus = await cli(['runbook', 'bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("[SRG_CLI_USAGE] unknown command 'bogus'");
    expect(bogus.stderr).toContain('surgectl runbook --help');
    for (const args of [['runbook', '--help'], ['runbook', 'run', '--help'], ['cutover', '--help']]) {
      const h = await cli(args);
      expect(h.code, args.join(' ')).toBe(0);
      expect(h.stdout).toMatch(/Examples:\n {2}\$ surgectl /);
    }
  });

  describe('cutover (usage and dry run)', () => {
    it('without --to: exit 2 with a hint; rising weights are required: exit 2 naming the rule', async () => {
      const noTo = await cli(['cutover']);
      expect(noTo.code).toBe(2);
      expect(noTo.stderr).toContain('[SRG_CLI_USAGE] cutover needs --to <color> (or --rollback)');
      expect(noTo.stderr).toContain('hint: e.g. surgectl cutover --to green --dry-run');

      const weights = await cli(['cutover', '--to', 'green', '--weights', '50,20']);
      expect(weights.code).toBe(2);
      expect(weights.stderr).toContain("--weights must be rising percentages ending at 100, e.g. 10,50,100, got '50,20'");
      expect(existsSync(at('.surgectl'))).toBe(false);
    });

    it('--to green --dry-run prints the steps and reaches nothing: no HAProxy connection, no request, no journal, no audit, no state', async () => {
      const haproxy = await startConnectionCounter();
      try {
        const r = await cli(['cutover', '--to', 'green', '--dry-run', '--haproxy', haproxy.endpoint, '--to-url', hook.url, '--prometheus', hook.url, '--weights', '25,100']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain('Steps of blue-green-haproxy v1');
        expect(r.stdout).toContain(` 1. precheck-health  [check] GET ${hook.url}/readyz expecting 200`);
        expect(r.stdout).toContain(` 3. shift-25  [CHANGE] haproxy ${haproxy.endpoint} backend orders: blue weight 75, green weight 25 (25% to green)`);
        expect(r.stdout).toContain(` 4. shift-100  [CHANGE] haproxy ${haproxy.endpoint} backend orders: blue weight 0, green weight 100 (100% to green)`);
        expect(r.stdout).toContain(` 5. post-switch-analysis  [check] analysis on ${hook.url}`);
        expect(haproxy.connections()).toBe(0);
        expect(hook.hits).toEqual([]);
        expect(existsSync(at('.surgectl'))).toBe(false);
      } finally {
        await haproxy.close();
      }
    });
  });
});

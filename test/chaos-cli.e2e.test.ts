import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Journal } from '../src/chaos/runner.js';
import { runMain } from './support/cli.js';
import { REPO_ROOT, startTestStack, tempDir, type TestStack } from './support/stack.js';

/**
 * `surgectl chaos run` outcomes that do not depend on a healthy target: an unreachable stack or a
 * bad kubeconfig aborts with the underlying error (not a failed rollback, not "not steady"), the
 * journal path is checked before the drill, and a journal that still cannot be written keeps the
 * drill's own outcome.
 */

const SCENARIOS = join(REPO_ROOT, 'scenarios', 'chaos');
const TOKEN = { SURGECTL_STACK_ADMIN_TOKEN: 'abcdefabcdefabcdef' };

interface Target {
  url: string;
  hits: number;
  /** Status answered to GET /health, by hit number (1-based); default 200. */
  health: (hit: number) => number;
  /** Runs on every request before it is answered. */
  onRequest?: (path: string) => void;
  close(): Promise<void>;
}

async function startTarget(): Promise<Target> {
  const t: Target = { url: '', hits: 0, health: () => 200, close: async () => undefined };
  let healthHits = 0;
  const server: Server = createServer((req, res) => {
    t.hits++;
    const path = req.url ?? '/';
    t.onRequest?.(path);
    const status = path === '/health' ? t.health(++healthHits) : 200;
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return t;
}

let dir: { path: string; remove(): void };
let n = 0;

beforeAll(() => {
  dir = tempDir('surgectl-chaos-cli-');
});
afterAll(() => dir?.remove());

function fresh(): string {
  const w = join(dir.path, `w${++n}`);
  mkdirSync(w);
  return w;
}

/** An http-only experiment: health before and after, a "fault" call, and optionally a rollback. */
/** `out/` in the workspace exists when the drill checks it and is a file once the fault runs. */
function breakOutDirDuringFault(t: Target, w: string): void {
  mkdirSync(join(w, 'out'));
  t.onRequest = (p) => {
    if (p === '/fault') {
      rmSync(join(w, 'out'), { recursive: true, force: true });
      writeFileSync(join(w, 'out'), 'not a directory');
    }
  };
}

function httpExperiment(w: string, t: Target, rollbackUrl?: string): string {
  const path = join(w, 'exp.yaml');
  writeFileSync(
    path,
    [
      'title: http drill',
      'steady-state-hypothesis:',
      '  title: healthy',
      '  probes:',
      `    - {type: probe, name: health, tolerance: 200, provider: {type: http, url: "${t.url}/health"}}`,
      'method:',
      `  - {type: action, name: fault, provider: {type: http, url: "${t.url}/fault", method: POST}}`,
      ...(rollbackUrl ? ['rollbacks:', `  - {type: action, name: restore, provider: {type: http, url: "${rollbackUrl}", method: POST, timeout: 2}}`] : []),
      '',
    ].join('\n'),
  );
  return path;
}

describe('chaos run against a target that cannot be used', () => {
  for (const file of ['payment-outage.yaml', 'consumer-pause.yaml', 'worker-crash.yaml']) {
    it(`${file} with an unreachable stack: SRG_STACK_UNREACHABLE (exit 3), not a failed rollback`, async () => {
      const w = fresh();
      const r = await runMain(['--yes', 'chaos', 'run', join(SCENARIOS, file), '--url', 'http://127.0.0.1:1'], { cwd: w, env: TOKEN });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/error \[SRG_STACK_UNREACHABLE\] The drill ".*" was aborted: .*127\.0\.0\.1:1/);
      expect(r.stderr).not.toContain('SRG_CHAOS_ROLLBACK');
      const j = JSON.parse(readFileSync(join(w, 'journal.json'), 'utf8')) as Journal;
      expect(j).toMatchObject({ status: 'aborted', rollback_failed: false, run: [], error: { code: 'SRG_STACK_UNREACHABLE' } });
      expect(r.stdout).toMatch(/rollbacks: \d of \d failed; nothing had been injected, so nothing is left changed/);
    });
  }

  it('a steady-state probe that cannot reach the stack aborts the drill with that error, exit 3 (no load section)', async () => {
    const w = fresh();
    const path = join(w, 'stack-probe.yaml');
    writeFileSync(
      path,
      [
        'title: stack probe',
        'steady-state-hypothesis: {title: t, probes: [{type: probe, name: oversold, tolerance: 0, provider: {type: stack, func: oversold}}]}',
        'method: [{type: action, name: kill, provider: {type: stack, func: kill-worker}}]',
        'rollbacks: [{type: action, name: clear, provider: {type: stack, func: clear-faults}}]',
        '',
      ].join('\n'),
    );
    const r = await runMain(['--yes', 'chaos', 'run', path, '--url', 'http://127.0.0.1:1'], { cwd: w, env: TOKEN });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/\[SRG_STACK_UNREACHABLE\] The drill "stack probe" was aborted: oversold: No stack answered GET \/admin\/status at http:\/\/127\.0\.0\.1:1/);
    const j = JSON.parse(readFileSync(join(w, 'journal.json'), 'utf8')) as Journal;
    expect(j).toMatchObject({ status: 'aborted', deviated: false, rollback_failed: false, run: [] });
  });

  it('pod-kill with a kubeconfig that does not exist: SRG_K8S_CONFIG (exit 10), not "not steady"', async () => {
    const w = fresh();
    const r = await runMain(['--yes', 'chaos', 'run', join(SCENARIOS, 'pod-kill.yaml'), '--kubeconfig', join(w, 'nokube')], { cwd: w });
    expect(r.code, r.stderr).toBe(10);
    expect(r.stderr).toMatch(/error \[SRG_K8S_CONFIG\] The drill "Kill one orders pod" was aborted: ready-orders-pods: Cannot load the kubeconfig/);
    expect(r.stderr).not.toContain('SRG_CHAOS_NOT_STEADY');
  });
});

describe('chaos run flags and the journal path', () => {
  it('--dry-run still validates --hypothesis-frequency and --url', async () => {
    const r = await runMain(['chaos', 'run', join(SCENARIOS, 'payment-outage.yaml'), '--dry-run', '--hypothesis-frequency', 'abc'], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --hypothesis-frequency must be a number >= 0, got 'abc'/);
    expect(r.stdout).toBe('');
    const url = await runMain(['chaos', 'run', join(SCENARIOS, 'payment-outage.yaml'), '--dry-run', '--url', 'ftp://x'], { cwd: dir.path });
    expect(url.code, url.stderr).toBe(2);
    expect(url.stderr).toMatch(/\[SRG_CLI_USAGE\] --url must be an http\(s\) URL, e\.g\. http:\/\/127\.0\.0\.1:8080, got 'ftp:\/\/x'/);
  });

  it('--journal-path naming a directory fails before the drill touches the target, leaving no temp file', async () => {
    const w = fresh();
    const t = await startTarget();
    try {
      const exp = httpExperiment(w, t);
      mkdirSync(join(w, 'journals'));
      const r = await runMain(['--yes', 'chaos', 'run', exp, '--journal-path', 'journals'], { cwd: w });
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --journal-path .*journals.* is a directory/);
      expect(t.hits).toBe(0);
      expect(readdirSync(w).sort()).toEqual(['exp.yaml', 'journals']);
    } finally {
      await t.close();
    }
  });

  it('a journal that cannot be written after a passing drill: results printed, user error (exit 2), no temp file', async () => {
    const w = fresh();
    const t = await startTarget();
    try {
      const exp = httpExperiment(w, t);
      breakOutDirDuringFault(t, w);
      const r = await runMain(['--yes', 'chaos', 'run', exp, '--journal-path', 'out/journal.json'], { cwd: w });
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stdout).toMatch(/Drill "http drill": completed/);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] .*--journal-path .*out\/journal\.json/);
      expect(readdirSync(w).sort()).toEqual(['exp.yaml', 'out']);
    } finally {
      await t.close();
    }
  });

  it('a journal that cannot be written keeps the drill outcome: a deviation stays 21, a failed rollback stays 30', async () => {
    const t = await startTarget();
    try {
      for (const [expected, code, rollback] of [
        [21, 'SRG_CHAOS_DEVIATED', undefined],
        [30, 'SRG_CHAOS_ROLLBACK', 'http://127.0.0.1:1/restore'],
      ] as const) {
        const w = fresh();
        const exp = httpExperiment(w, t, rollback);
        // Healthy before, unhealthy after (a deviation) only in the first case.
        t.health = (hit) => (expected === 21 && hit > 1 ? 500 : 200);
        breakOutDirDuringFault(t, w);
        const r = await runMain(['--yes', 'chaos', 'run', exp, '--journal-path', 'out/journal.json'], { cwd: w });
        expect(r.stderr).not.toMatch(/internal error/);
        expect(r.code, r.stderr).toBe(expected);
        expect(r.stderr).toContain(`[${code}]`);
        expect(r.stderr).toMatch(/- the journal was not written: .*out\/journal\.json/);
        expect(r.stdout).toMatch(/Drill "http drill"/);
        expect(readdirSync(w).sort()).toEqual(['exp.yaml', 'out']);
      }
    } finally {
      await t.close();
    }
  });
});

/**
 * Chaos Toolkit experiments as users have them (our own corpus in test/fixtures/ctk): each
 * validates and dry-runs, and the ones that can run here run for real against the bundled stack,
 * with http, process and python providers (the python module is ours, on PYTHONPATH).
 */
describe('Chaos Toolkit experiments as written', () => {
  const CTK = join(REPO_ROOT, 'test', 'fixtures', 'ctk');
  const baseEnv = { PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: join(CTK, 'python'), SHOP_URL: 'http://127.0.0.1:9', SHOP_ADMIN_TOKEN: 'fixture-admin-token-123' };
  const runnable = ['intake-pause.json', 'readiness-list-tolerance.yaml', 'process-and-dry.yaml'];
  let stack: TestStack | undefined;
  afterAll(async () => stack?.dispose());

  for (const file of runnable) {
    it(`${file}: validates and dry-runs unchanged`, async () => {
      const w = fresh();
      const v = await runMain(['chaos', 'validate', join(CTK, file), '-o', 'json'], { cwd: w, env: baseEnv });
      expect(v.code, v.stderr).toBe(0);
      expect(JSON.parse(v.stdout)).toMatchObject({ valid: true });
      const d = await runMain(['chaos', 'run', join(CTK, file), '--dry-run', '-o', 'json'], { cwd: w, env: baseEnv });
      expect(d.code, d.stderr).toBe(0);
      const plan = JSON.parse(d.stdout) as { steps: { does: string }[] };
      expect(plan.steps.length).toBeGreaterThan(0);
      expect(d.stdout).not.toContain(baseEnv.SHOP_ADMIN_TOKEN);
    });
  }

  it('intake-pause.json runs for real against the bundled stack: http, process and python providers, secrets redacted', async () => {
    stack = await startTestStack({ seedInventory: 100, workers: 2 });
    const w = fresh();
    const env = { ...baseEnv, SHOP_URL: stack.url, SHOP_ADMIN_TOKEN: stack.adminToken };
    const r = await runMain(['--yes', 'chaos', 'run', join(CTK, 'intake-pause.json'), '--journal-path', 'j.json'], { cwd: w, env });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const text = readFileSync(join(w, 'j.json'), 'utf8');
    expect(text).not.toContain(stack.adminToken);
    const j = JSON.parse(text) as Journal;
    expect(j).toMatchObject({ status: 'completed', deviated: false, options: { rollback_strategy: 'always' } });
    const byName = Object.fromEntries(j.run.map((x) => [x.activity.name, x]));
    expect(byName['readiness-while-paused']).toMatchObject({ output: { status: 503 }, tolerance_met: true });
    expect(byName['say-region']).toMatchObject({ output: { status: 0, stdout: 'region eu-west-1\n' } });
    expect(byName['resume-intake']).toMatchObject({ status: 'succeeded', output: { status: 200, region: 'eu-west-1' } });
    expect(j.steady_states.before?.probes.map((p) => [p.activity.name, p.tolerance_met])).toEqual([
      ['healthz-answers', true],
      ['ready-or-shedding', true],
      ['intake-open', true],
      ['ready-status-from-python', true],
      ['nothing-oversold', true],
    ]);
    expect(j.steady_states.before?.probes[3]?.output).toBe(200);
    expect(j.rollbacks.map((x) => x.status)).toEqual(['succeeded']);
  });

  it('readiness-list-tolerance.yaml: a 404 is not "one of [200, 503]", so the steady state is not met (exit 21)', async () => {
    stack ??= await startTestStack({ seedInventory: 100, workers: 2 });
    const w = fresh();
    const r = await runMain(['--yes', 'chaos', 'run', join(CTK, 'readiness-list-tolerance.yaml')], { cwd: w, env: { ...baseEnv, SHOP_URL: stack.url } });
    expect(r.code, r.stderr).toBe(21);
    expect(r.stderr).toContain('SRG_CHAOS_NOT_STEADY');
    const j = JSON.parse(readFileSync(join(w, 'journal.json'), 'utf8')) as Journal;
    expect(j.steady_states.before?.probes[0]).toMatchObject({ output: { status: 404 }, tolerance_met: false, tolerance_result: { message: 'status 404 is not one of [200,503]' } });
  });

  it('process-and-dry.yaml: shell and mapping arguments, a dry activity, the runtime block picks the strategies', async () => {
    const w = fresh();
    const r = await runMain(['--yes', 'chaos', 'run', join(CTK, 'process-and-dry.yaml')], { cwd: w, env: { ...baseEnv, MARKER_DIR: w } });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(join(w, 'journal.json'), 'utf8')) as Journal;
    expect(j.options).toMatchObject({ rollback_strategy: 'deviated', hypothesis_strategy: 'before-method-only' });
    expect(j.steady_states.before?.probes[0]).toMatchObject({ output: { stdout: 'hello world\n' }, tolerance_met: true });
    expect(j.run.map((x) => [x.activity.name, x.status])).toEqual([
      ['would-delete-everything', 'succeeded'],
      ['status-of-false', 'succeeded'],
      ['mapping-arguments', 'succeeded'],
    ]);
    expect(j.run[0]).toMatchObject({ output: null, activity: { dry: true } });
    expect(j.run[1]).toMatchObject({ output: { status: 1 }, tolerance_met: true });
    expect(readFileSync(join(w, 'ctk-marker'), 'utf8')).toBe('ran');
    expect(j.rollbacks).toEqual([]);
    expect(j.rollbacks_skipped).toMatch(/deviated/);
  });

  it('a module that is not installed: validation names it, its pip package and the native equivalent', async () => {
    const r = await runMain(['chaos', 'validate', join(CTK, 'kubernetes-extension.json')], { cwd: fresh(), env: baseEnv });
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/method\[0\]\.provider\.module: Python module "chaosk8s\.pod\.actions" cannot be imported \(ModuleNotFoundError: No module named 'chaosk8s'\)/);
    expect(r.stderr).toMatch(/pip package chaostoolkit-kubernetes/);
    expect(r.stderr).toMatch(/native equivalent: provider \{type: kubernetes, func: delete-pods/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an interpreter that does not exist is named, with --python', async () => {
    const r = await runMain(['chaos', 'validate', join(CTK, 'intake-pause.json'), '--python', '/nonexistent/python9'], { cwd: fresh(), env: baseEnv });
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/the Python interpreter "\/nonexistent\/python9" was not found; install Python 3 or pass --python PATH/);
  });

  it('an undefined ${name} is reported as undefined, not as a bad URL', async () => {
    const r = await runMain(['chaos', 'validate', join(CTK, 'undefined-placeholder.yaml')], { cwd: fresh(), env: baseEnv });
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/method\[0\]\.provider\.url: \$\{service_url\} is not defined in the experiment's configuration or secrets/);
    expect(r.stderr).not.toMatch(/must be an http/);
  });

  it('a missing env entry and a vault secret are named with what to do instead', async () => {
    const missing = await runMain(['chaos', 'validate', join(CTK, 'intake-pause.json')], { cwd: fresh(), env: { PATH: process.env.PATH } });
    expect(missing.code).toBe(10);
    expect(missing.stderr).toMatch(/configuration\.base_url: environment variable SHOP_URL is not set and the entry has no default/);
    const vault = await runMain(['chaos', 'validate', join(CTK, 'vault-secret.yaml')], { cwd: fresh(), env: baseEnv });
    expect(vault.code).toBe(10);
    expect(vault.stderr).toMatch(/secrets\.db\.password: value type "vault" is not supported .*use \{type: env, key: NAME\}/);
  });
});

/**
 * Chaos Toolkit controls run for real: our own control module (test/fixtures/ctk/python/
 * surgectl_control_fixture.py) appends one line per hook call to CONTROL_LOG, numbered by a
 * counter in the module, so the numbers prove one interpreter served the whole drill.
 */
describe('Chaos Toolkit controls', () => {
  const CTK = join(REPO_ROOT, 'test', 'fixtures', 'ctk');
  const env = (w: string, extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH,
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONPATH: join(CTK, 'python'),
    CONTROL_LOG: join(w, 'controls.log'),
    ...extra,
  });
  const logOf = (w: string) => readFileSync(join(w, 'controls.log'), 'utf8').trimEnd().split('\n');

  /** Every hook call of controls.yaml in Chaos Toolkit's order: `<hook> <tag> <activity> <status>`. */
  const EXPECTED = [
    'configure_control root - -',
    'configure_control activity - -',
    'before_experiment_control root - -',
    'before_hypothesis_control root - -',
    'before_activity_control root exit-zero -',
    'after_activity_control root exit-zero succeeded',
    'after_hypothesis_control root - met',
    'before_method_control root - -',
    'before_activity_control root say-hello -',
    'before_activity_control activity say-hello -',
    'after_activity_control root say-hello succeeded',
    'after_activity_control activity say-hello succeeded',
    'before_activity_control root after-hello -',
    'after_activity_control root after-hello succeeded',
    'after_method_control root - 2-runs',
    'before_hypothesis_control root - -',
    'before_activity_control root exit-zero -',
    'after_activity_control root exit-zero succeeded',
    'after_hypothesis_control root - met',
    'before_rollback_control root - -',
    'before_activity_control root undo -',
    'after_activity_control root undo succeeded',
    'after_rollback_control root - 1-runs',
    'after_experiment_control root - completed',
    'cleanup_control root - -',
    'cleanup_control activity - -',
  ];

  it('a root control and an activity control run around every level, in order, in one interpreter, and are journaled', async () => {
    const w = fresh();
    const r = await runMain(['--yes', 'chaos', 'run', join(CTK, 'controls.yaml')], { cwd: w, env: env(w) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/controls are recorded|not run by surgectl/);
    expect(logOf(w)).toEqual(EXPECTED.map((line, i) => `${i + 1} ${line}`));
    const j = JSON.parse(readFileSync(join(w, 'journal.json'), 'utf8')) as Journal;
    expect(j.status).toBe('completed');
    expect(j.controls.map((c) => [c.name, c.hook, c.activity ?? '-', c.status, c.error])).toEqual(
      EXPECTED.map((line) => {
        const [hook, tag, activity] = line.split(' ');
        return [tag === 'root' ? 'audit' : 'per-activity', hook, hook === 'before_activity_control' || hook === 'after_activity_control' ? activity : '-', 'succeeded', null];
      }),
    );
    expect(j.controls[0]).toMatchObject({ module: 'surgectl_control_fixture', start: expect.any(String), duration: expect.any(Number) });
  });

  it('a hook that raises is journaled with its error and the drill completes; the other hooks still run', async () => {
    const w = fresh();
    const r = await runMain(['--yes', 'chaos', 'run', join(CTK, 'controls.yaml')], { cwd: w, env: env(w, { FAIL_ON: 'before_method_control' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: control audit: before_method_control failed: RuntimeError: before_method_control refused by the fixture; the drill goes on/);
    expect(r.stdout).toMatch(/controls: 26 hook call\(s\), 1 failed \(audit before_method_control\); the drill went on/);
    const j = JSON.parse(readFileSync(join(w, 'journal.json'), 'utf8')) as Journal;
    expect(j).toMatchObject({ status: 'completed', deviated: false });
    expect(j.run.map((x) => [x.activity.name, x.status])).toEqual([
      ['say-hello', 'succeeded'],
      ['after-hello', 'succeeded'],
    ]);
    const failed = j.controls.filter((c) => c.status === 'failed');
    expect(failed).toEqual([expect.objectContaining({ name: 'audit', hook: 'before_method_control', error: 'RuntimeError: before_method_control refused by the fixture' })]);
    // The hook raised after writing its line: every call was still made, in order.
    expect(logOf(w)).toEqual(EXPECTED.map((line, i) => `${i + 1} ${line}`));
  });

  it('--dry-run lists the controls and the hooks that would run, and runs none', async () => {
    const w = fresh();
    const r = await runMain(['chaos', 'run', join(CTK, 'controls.yaml'), '--dry-run', '-o', 'json'], { cwd: w, env: env(w) });
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { steps: { name: string; notes: string }[]; controls: unknown[] };
    expect(plan.controls).toEqual([
      {
        name: 'audit',
        module: 'surgectl_control_fixture',
        appliesTo: 'every level',
        scope: 'before and after',
        hooks: [
          'configure_control',
          'cleanup_control',
          'before_experiment_control',
          'after_experiment_control',
          'before_hypothesis_control',
          'after_hypothesis_control',
          'before_method_control',
          'after_method_control',
          'before_rollback_control',
          'after_rollback_control',
          'before_activity_control',
          'after_activity_control',
        ],
      },
      {
        name: 'per-activity',
        module: 'surgectl_control_fixture',
        appliesTo: 'activity say-hello',
        scope: 'before and after',
        hooks: ['configure_control', 'cleanup_control', 'before_activity_control', 'after_activity_control'],
      },
    ]);
    expect(plan.steps.find((s) => s.name === 'say-hello')?.notes).toMatch(/controls audit, per-activity/);
    expect(readdirSync(w)).toEqual([]);
    const table = await runMain(['chaos', 'run', join(CTK, 'controls.yaml'), '--dry-run'], { cwd: w, env: env(w) });
    expect(table.stdout).toMatch(/per-activity \(surgectl_control_fixture\): activity say-hello, before and after — runs configure_control, cleanup_control, before_activity_control, after_activity_control/);
  });

  it('a control module that cannot be imported is refused before the drill (exit 10), naming the module and its pip package', async () => {
    const w = fresh();
    const v = await runMain(['chaos', 'validate', join(CTK, 'control-not-installed.yaml')], { cwd: w, env: env(w) });
    expect(v.code, v.stderr).toBe(10);
    expect(v.stderr).toMatch(
      /controls\[0\]\.provider\.module: control "safeguards": Python module "chaosaddons\.controls\.safeguards" cannot be imported \(ModuleNotFoundError: No module named 'chaosaddons'\); it usually comes from the pip package chaostoolkit-addons/,
    );
    const r = await runMain(['--yes', 'chaos', 'run', join(CTK, 'control-not-installed.yaml')], { cwd: w, env: env(w) });
    expect(r.code, r.stderr).toBe(10);
    expect(r.stderr).toContain('[SRG_CHAOS_EXPERIMENT]');
    expect(readdirSync(w)).toEqual([]);
  });
});

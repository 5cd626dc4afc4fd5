import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Journal } from '../src/chaos/runner.js';
import { runMain } from './support/cli.js';
import { REPO_ROOT, tempDir } from './support/stack.js';

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

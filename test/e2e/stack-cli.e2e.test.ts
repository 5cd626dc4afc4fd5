import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StackConfigSchema } from '../../src/config/schema.js';
import { runCli } from '../support/cli.js';
import { httpClient, spawnStackProcess, tempDir, waitFor, CLI_JS, ensureBuilt } from '../support/stack.js';
import { spawn } from 'node:child_process';

/** `surgectl stack up` / `stack status` as a user runs them: the built CLI in a child process. */
const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));
const newDir = () => {
  const d = tempDir('surgectl-e2e-');
  dirs.push(d);
  return d.path;
};

/** The built CLI as a long-running child (stack up, status --watch): its output so far and its exit code. */
function spawnLongCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const child = spawn(process.execPath, [CLI_JS, ...args], {
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    env: { ...process.env, NO_COLOR: '1', SURGECTL_CONFIG: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const io = { out: '', err: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (io.out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (io.err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, io, exited };
}

describe('surgectl stack up', () => {
  it('starts, prints a readable block, answers, and stops cleanly on SIGTERM with exit 0', async () => {
    ensureBuilt();
    const dataDir = newDir();
    const { child, io, exited } = spawnLongCli(['stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', dataDir, '--workers', '2'], {
      cwd: dataDir,
      env: { SURGECTL_STACK_ADMIN_TOKEN: 'e2e-admin-token-0123456789' },
    });
    try {
      await waitFor('the startup block', () => io.out.includes('Press Ctrl+C'), { timeoutMs: 20_000 });
      expect(io.out).toContain('surgectl order stack is up');
      // a token given through the environment is never printed, only where it came from
      expect(io.out).not.toContain('e2e-admin-token-0123456789');
      expect(io.out).toMatch(/token\s+<from SURGECTL_STACK_ADMIN_TOKEN>/);
      const url = /intake\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\/orders/.exec(io.out)?.[1];
      expect(url).toBeDefined();
      expect(io.out).toMatch(/metrics\s+http:\/\/127\.0\.0\.1:\d+\/metrics/);
      expect(io.out).toMatch(/payment\s+http:\/\/127\.0\.0\.1:\d+/);
      const http = httpClient(url!);
      expect((await http.call('GET', '/readyz')).status).toBe(200);
      expect((await http.postOrder({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'e2e-1')).status).toBe(202);
      await http.close();

      const status = await runCli(['-o', 'json', 'stack', 'status', '--url', url!], { env: { SURGECTL_STACK_ADMIN_TOKEN: 'e2e-admin-token-0123456789' } });
      expect(status.code).toBe(0);
      const s = JSON.parse(status.stdout) as { intake: { paused: boolean }; workers: { size: number } };
      expect(s).toMatchObject({ intake: { paused: false }, workers: { size: 2 } });

      const table = await runCli(['stack', 'status', '--url', url!, '--token-env', 'MY_TOKEN'], { env: { MY_TOKEN: 'e2e-admin-token-0123456789' } });
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/intake\s+open/);

      const refused = await runCli(['stack', 'status', '--url', url!], { env: { SURGECTL_STACK_ADMIN_TOKEN: 'wrong-token-wrong-token' } });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('[SRG_STACK_ADMIN]');
      expect(refused.stderr).toContain('hint:');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(io.err).toContain('stopped cleanly');
      expect(io.err).not.toMatch(/internal error|FSTDEP/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('prints one JSON object with -o json', async () => {
    const p = await spawnStackProcess({ dataDir: newDir() });
    try {
      expect(p.info).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), adminToken: expect.any(String), workers: StackConfigSchema.parse({}).workers });
      expect(p.info.intakeUrl).toBe(`${p.info.url}/v1/orders`);
      expect(p.info.adminToken.length).toBeGreaterThanOrEqual(32);
    } finally {
      p.child.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
    }
  });

  it('refuses a port in use with SRG_STACK_PORT_IN_USE and a hint (exit 2)', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dataDir = newDir();
      const r = await runCli(['stack', 'up', '--port', String(port), '--payment-port', '0', '--data-dir', dataDir], { cwd: dataDir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[SRG_STACK_PORT_IN_USE]');
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
      expect(r.stderr).toContain('--port');
    } finally {
      blocker.close();
    }
  });

  it('names --payment-port in the hint when the payment port is taken (exit 2)', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dataDir = newDir();
      const r = await runCli(['stack', 'up', '--port', '0', '--payment-port', String(port), '--data-dir', dataDir], { cwd: dataDir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[SRG_STACK_PORT_IN_USE]');
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
      expect(r.stderr).toContain('--payment-port');
      expect(r.stderr).not.toContain('paymentPort');
    } finally {
      blocker.close();
    }
  });

  it('refuses a data dir that is a file, a log file that is a directory and a bad seed in one line, writing nothing', async () => {
    const root = newDir();
    const file = join(root, 'a-file');
    writeFileSync(file, 'hi');
    const onFile = await runCli(['stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', file], { cwd: root });
    expect(onFile.code).toBe(10);
    expect(onFile.stderr).toContain('[SRG_STACK_DATA_DIR]');
    expect(onFile.stderr).toContain('expected a directory');
    expect(onFile.stderr).not.toMatch(/\n\s+at /);

    const logDir = join(root, 'logs');
    mkdirSync(logDir);
    const dataDir = join(root, 'data');
    const onLog = await runCli(['stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', dataDir, '--log-file', logDir], { cwd: root });
    expect(onLog.code).toBe(2);
    expect(onLog.stderr).toContain('[SRG_CLI_USAGE]');
    expect(onLog.stderr).toContain('--log-file');
    expect(onLog.stderr).toContain('is a directory');
    expect(onLog.stderr).not.toMatch(/\n\s+at /);

    const fresh = join(root, 'fresh');
    const badSeed = await runCli(['stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', fresh, '--seed-inventory', join(root, 'missing.yaml')], { cwd: root });
    expect(badSeed.code).toBe(10);
    expect(badSeed.stderr).toContain('[SRG_STACK_SEED]');
    expect(existsSync(fresh)).toBe(false);
  });

  it('refuses a second stack on the same data dir (exit 2, SRG_STACK_LOCKED)', async () => {
    const dataDir = newDir();
    const p = await spawnStackProcess({ dataDir });
    try {
      const r = await runCli(['stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', dataDir], { cwd: dataDir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[SRG_STACK_LOCKED]');
    } finally {
      p.child.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
    }
  });

  // Out-of-range flag values used to come back as config errors (exit 10) naming stack.workers; a flag
  // is part of the command line, so they are usage errors naming the flag, like non-numeric values.
  it('rejects bad and out-of-range flag values as usage errors (exit 2) naming the flag', async () => {
    const bad = await runCli(['stack', 'up', '--workers', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--workers must be a whole number');
    const range = await runCli(['stack', 'up', '--workers', '9999', '--data-dir', newDir()]);
    expect(range.code).toBe(2);
    expect(range.stderr).toContain('[SRG_CLI_USAGE]');
    expect(range.stderr).toContain('--workers must be a whole number 0..512, got 9999');
    expect(range.stderr).not.toContain('stack.workers');
    const rate = await runCli(['stack', 'up', '--rate-limit', 'fast']);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toContain("--rate-limit must be a positive number or 'off', got 'fast'");
    const seed = await runCli(['stack', 'up', '--seed-inventory', '1.5']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain("--seed-inventory must be a whole number >= 0 or a file path, got '1.5'");
    const url = await runCli(['stack', 'status', '--url', 'localhost:8080']);
    expect(url.code).toBe(2);
    expect(url.stderr).toContain("--url must be an http(s) URL, e.g. http://127.0.0.1:8080, got 'localhost:8080'");
  });

  it('the same out-of-range value from surgectl.yaml is a config error (exit 10) naming the key, from env naming the variable', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'surgectl.yaml'), 'stack:\n  workers: 9999\n');
    const file = await runCli(['stack', 'up'], { cwd: dir });
    expect(file.code).toBe(10);
    expect(file.stderr).toContain('[SRG_CONFIG_INVALID]');
    expect(file.stderr).toContain('stack.workers: expected a whole number 0..512, got 9999');
    const env = await runCli(['stack', 'up'], { cwd: newDir(), env: { SURGECTL_STACK_WORKERS: '9999' } });
    expect(env.code).toBe(10);
    expect(env.stderr).toContain('[SRG_CONFIG_ENV]');
    expect(env.stderr).toContain("SURGECTL_STACK_WORKERS must be a whole number 0..512, got '9999'");
  });

  it('says clearly when no stack answers (exit 3, SRG_STACK_UNREACHABLE)', async () => {
    const r = await runCli(['stack', 'status', '--url', 'http://127.0.0.1:1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[SRG_STACK_UNREACHABLE]');
    // Say what happened rather than "(TypeError)". fetch refused port 1 (a Fetch-standard "bad
    // port") without connecting; the one admin client is on undici, which connects, and nothing listens.
    expect(r.stderr).not.toContain('TypeError');
    expect(r.stderr).toContain('connection refused: nothing listens on 127.0.0.1:1');
    expect(r.stderr).toContain('surgectl stack up');
  });
});

describe('surgectl stack status interrupted', () => {
  it('Ctrl+C while a stack is slow to answer is an interruption (exit 130), not an unreachable stack', async () => {
    const silent: Server = createServer(() => undefined); // accepts connections, never answers
    let connected = false;
    silent.on('connection', () => (connected = true));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const { child, io, exited } = spawnLongCli(['stack', 'status', '--url', `http://127.0.0.1:${port}`]);
    try {
      await waitFor('the status request', () => connected, { timeoutMs: 15_000 });
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(io.err).toContain('[SRG_CLI_INTERRUPTED]');
      expect(io.err).not.toContain('SRG_STACK_UNREACHABLE');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      silent.close();
    }
  });
});

describe('surgectl stack status --watch', () => {
  const token = 'e2e-watch-token-0123456789';

  it('prints a JSON line per interval with the intake and confirm rates, and ends with exit 0 on Ctrl+C', async () => {
    const p = await spawnStackProcess({ dataDir: newDir(), args: ['--workers', '2'], env: { SURGECTL_STACK_ADMIN_TOKEN: token } });
    const { child: watch, io, exited } = spawnLongCli(['-o', 'json', 'stack', 'status', '-w', '--interval', '0.3', '--url', p.info.url], {
      env: { SURGECTL_STACK_ADMIN_TOKEN: token },
    });
    type Sample = { at: string; acceptedPerSec: number | null; confirmedPerSec: number | null; status: { workers: { size: number } } };
    const samples = () =>
      io.out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Sample);
    try {
      await waitFor('the first sample', () => samples().length >= 1, { timeoutMs: 15_000 });
      const http = httpClient(p.info.url);
      for (let i = 0; i < 5; i++) expect((await http.postOrder({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }, `watch-${i}`)).status).toBe(202);
      await http.close();
      await waitFor('a sample that saw the orders', () => samples().some((s) => (s.acceptedPerSec ?? 0) > 0), { timeoutMs: 15_000 });
      watch.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(io.err).not.toMatch(/error/i);
      const all = samples();
      expect(all[0]).toMatchObject({ acceptedPerSec: null, confirmedPerSec: null, status: { workers: { size: 2 } } });
      for (const s of all.slice(1)) {
        expect(s.acceptedPerSec).toBeGreaterThanOrEqual(0);
        expect(s.confirmedPerSec).toBeGreaterThanOrEqual(0);
      }
      expect(new Date(all[all.length - 1]!.at).getTime()).toBeGreaterThan(new Date(all[0]!.at).getTime());
    } finally {
      if (watch.exitCode === null) watch.kill('SIGKILL');
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('prints a header and one table row per sample; --interval alone or out of range is a usage error', async () => {
    const p = await spawnStackProcess({ dataDir: newDir(), args: ['--workers', '1'], env: { SURGECTL_STACK_ADMIN_TOKEN: token } });
    try {
      const { child: watch, io, exited } = spawnLongCli(['stack', 'status', '--watch', '--interval', '0.2', '--url', p.info.url], {
        env: { SURGECTL_STACK_ADMIN_TOKEN: token },
      });
      await waitFor('three rows', () => io.out.split('\n').filter((l) => /^\d\d:\d\d:\d\d /.test(l)).length >= 3, { timeoutMs: 15_000 });
      watch.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = io.out.split('\n');
      expect(lines[0]).toBe(p.info.url);
      expect(lines[1]).toMatch(/^TIME\s+INTAKE\s+QUEUE\s+OLDEST\s+WORKERS\s+ACCEPTED\/S\s+CONFIRMED\/S\s+BREAKER\s+OVERSOLD$/);
      // first row has no rate yet, later rows do
      expect(lines[2]).toMatch(/^\d\d:\d\d:\d\d\s+open\s+0\s+0\.0s\s+0\/1\s+-\s+-\s+closed\s+0$/);
      expect(lines[3]).toMatch(/^\d\d:\d\d:\d\d\s+open\s+0\s+0\.0s\s+0\/1\s+0\.0\s+0\.0\s+closed\s+0$/);

      const alone = await runCli(['stack', 'status', '--interval', '1', '--url', p.info.url], { env: { SURGECTL_STACK_ADMIN_TOKEN: token } });
      expect(alone.code).toBe(2);
      expect(alone.stderr).toContain('--interval needs --watch');
      const tooFast = await runCli(['stack', 'status', '-w', '--interval', '0', '--url', p.info.url], { env: { SURGECTL_STACK_ADMIN_TOKEN: token } });
      expect(tooFast.code).toBe(2);
      expect(tooFast.stderr).toContain("--interval must be a number from 0.2 to 3600, got '0'");
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
});

import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startTestRedisServer, type TestRedisServer } from '../support/redis.js';
import { CLI_JS, ensureBuilt, httpClient, tempDir, waitFor } from '../support/stack.js';

/** `surgectl stack up --cache redis://…` as a user runs it: the built CLI, a Redis of the test's own. */
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  // Every cleanup runs, even after one failed: a stack or redis-server left behind outlives the suite.
  const failed: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve().then(c).catch((err: unknown) => failed.push(err));
  if (failed.length > 0) throw new AggregateError(failed, 'cleanup after the suite failed');
});

const TOKEN = 'e2e-cache-admin-token-0123456789';
const PASSWORD = 'e2e-redis-s3cret';

/** `surgectl stack up` on free ports in `dataDir`, logging to stderr, with `args`; killed at the end if still running. */
function stackUp(dataDir: string, args: string[]) {
  const child = spawn(process.execPath, [CLI_JS, 'stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', dataDir, '--workers', '2', '--log-file', '-', ...args], {
    cwd: dataDir,
    env: { ...process.env, NO_COLOR: '1', SURGECTL_CONFIG: '', SURGECTL_STACK_ADMIN_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const io = { out: '', err: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (io.out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (io.err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, io, exited };
}

describe('surgectl stack up --cache', () => {
  it('uses Redis for the rate limit (stack status says so) and never shows the URL password', async () => {
    ensureBuilt();
    const redis: TestRedisServer = await startTestRedisServer();
    cleanups.push(() => redis.close());
    const dir = tempDir('surgectl-e2e-cache-');
    cleanups.push(() => dir.remove());
    // The private server asks for no password: ioredis sends the URL's AUTH anyway and goes on
    // when the server says none is set. What matters here is that it appears in no output.
    const url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}/0`;
    const { child, io, exited } = stackUp(dir.path, ['--rate-limit', '3', '--cache', url]);

    await waitFor('the startup block', () => io.out.includes('Press Ctrl+C') || child.exitCode !== null, { timeoutMs: 20_000 });
    expect(io.out, io.err).toContain('surgectl order stack is up');
    const base = /intake\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\/orders/.exec(io.out)?.[1];
    expect(base).toBeDefined();
    // The console says where the cache is (the URL without its password).
    expect(io.out + io.err).toContain(`cache: redis://127.0.0.1:${redis.port}/0 (rate limit shared by every stack on it, inventory copy)`);
    const start = io.err.split('\n').find((l) => l.includes('"order stack started"'));
    expect(start, io.err).toBeDefined();
    const started = JSON.parse(start!) as { cache?: string; cacheMode?: string };
    expect(started.cache).toBe(`redis://127.0.0.1:${redis.port}/0`);

    const http = httpClient(base!);
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await http.postOrder({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }, `e2e-cache-${i}`)).status);
      // 3 per second for this client, decided in Redis (the stack's gauge says where).
      expect(statuses.filter((s) => s === 202).length).toBeLessThanOrEqual(3);
      expect(statuses).toContain(429);
      const metrics = (await http.call('GET', '/metrics')).text;
      expect(metrics).toContain('surgectl_rate_limit_shared{mode="redis"} 1');
      expect(metrics).toContain('surgectl_rate_limit_fallbacks_total 0');
    } finally {
      await http.close();
    }

    const status = await runCli(['stack', 'status', '--url', base!], { env: { SURGECTL_STACK_ADMIN_TOKEN: TOKEN } });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/\n {2}cache {5}redis \(rate limit shared, inventory copy\)\n/);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const text of [io.out, io.err, status.stdout, status.stderr]) expect(text).not.toContain(PASSWORD);
  });

  it('starts when Redis is down: the console warns, stack status says local, orders are taken', async () => {
    ensureBuilt();
    const redis: TestRedisServer = await startTestRedisServer();
    cleanups.push(() => redis.close());
    await redis.stop();
    const dir = tempDir('surgectl-e2e-cache-');
    cleanups.push(() => dir.remove());
    const { child, io, exited } = stackUp(dir.path, ['--cache', `redis://127.0.0.1:${redis.port}/0`]);
    await waitFor('the startup block', () => io.out.includes('Press Ctrl+C') || child.exitCode !== null, { timeoutMs: 20_000 });
    expect(io.out + io.err).toContain(`cache: Redis at redis://127.0.0.1:${redis.port}/0 does not answer: the rate limit is per process`);
    const base = /intake\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\/orders/.exec(io.out)?.[1];
    const http = httpClient(base!);
    try {
      expect((await http.postOrder({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'e2e-down-1')).status).toBe(202);
    } finally {
      await http.close();
    }
    const status = await runCli(['stack', 'status', '--url', base!], { env: { SURGECTL_STACK_ADMIN_TOKEN: TOKEN } });
    expect(status.stdout).toMatch(/\n {2}cache {5}local \(Redis unreachable/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

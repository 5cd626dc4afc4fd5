import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './ports.js';

/** The standing Redis the integration suites use: loopback, no password (`.ci/run` starts it when down). */
export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = 6379;

/**
 * An ioredis client for tests: it reconnects fast (a test that stops and restarts a server waits
 * for it) and has an 'error' listener, so a refused connection is not printed by ioredis as an
 * unhandled error event. Close it with `disconnect()`.
 */
export function testRedisClient(port = REDIS_PORT, opts: RedisOptions = {}): Redis {
  const client = new Redis({ host: REDIS_HOST, port, retryStrategy: () => 50, maxRetriesPerRequest: 1, connectTimeout: 1_000, ...opts });
  client.on('error', () => undefined);
  return client;
}

/**
 * Fails loudly when the test Redis does not answer PING, naming the suite and how to start it.
 * Never a skip, with or without CI=true: these suites prove features against the real server.
 */
export async function requireRedis(suite: string): Promise<void> {
  const client = testRedisClient(REDIS_PORT, { lazyConnect: true, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const ci = process.env.CI === 'true' ? 'CI=true: this suite must run against a real Redis' : 'this suite needs a real Redis';
    throw new Error(
      `${suite}: Redis on ${REDIS_HOST}:${REDIS_PORT} is unreachable (${(err as Error).message}); ${ci}. ` +
        'Start it with `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no` (as .ci/run does).',
      { cause: err },
    );
  } finally {
    client.disconnect();
  }
}

/** A key prefix of its own on the test Redis, for one test. */
export interface TestKeyPrefix {
  /** `surgectl_test:<random>` (no trailing colon). */
  prefix: string;
  /** The keys under the prefix right now. */
  keys(): Promise<string[]>;
  /** Deletes every key under the prefix; returns how many there were. */
  cleanup(): Promise<number>;
}

/** A unique key prefix on the test Redis, with the means to list and delete its keys. */
export function testKeyPrefix(client: Redis, name = 'surgectl_test'): TestKeyPrefix {
  const prefix = `${name}:${randomBytes(6).toString('hex')}`;
  const keys = async (): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    // SCAN, not KEYS: other suites share this server. Bounded: SCAN ends when the cursor is back at 0.
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  };
  return {
    prefix,
    keys,
    cleanup: async () => {
      const found = await keys();
      if (found.length > 0) await client.unlink(...found);
      return found.length;
    },
  };
}

/** A Redis server of the test's own, on a free loopback port, that the test may stop, start and pause. */
export interface TestRedisServer {
  port: number;
  /** Starts it again on the same port after stop() (an empty database). */
  start(): Promise<void>;
  /** Stops it (SIGTERM, SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** CLIENT PAUSE for `ms` (mode WRITE blocks writes and scripts; ALL blocks everything, and cannot be ended early). */
  pause(ms: number, mode: 'WRITE' | 'ALL'): Promise<void>;
  /** CLIENT UNPAUSE (after a WRITE pause). */
  unpause(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

/** redis-server's path; fails loudly with how to install it. */
export function requireRedisServer(): string {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error('redis-server is not installed: these tests stop and pause a Redis of their own. Install it with `apt-get install -y --no-install-recommends redis-server`.');
  }
  return 'redis-server';
}

/**
 * Starts a private redis-server (no persistence) for tests that stop or pause Redis: the standing
 * server on 6379 is shared with other suites, which a pause there would stall.
 */
export async function startTestRedisServer(): Promise<TestRedisServer> {
  const bin = requireRedisServer();
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'surgectl-redis-'));
  let child: ChildProcess | undefined;
  let output = '';
  const admin = () => testRedisClient(port, { lazyConnect: true, retryStrategy: () => null });

  const start = async () => {
    if (child !== undefined) return;
    output = '';
    const c = spawn(bin, ['--port', String(port), '--bind', REDIS_HOST, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.on('data', (d: Buffer) => (output = (output + d.toString('utf8')).slice(-4000)));
    c.stderr?.on('data', (d: Buffer) => (output = (output + d.toString('utf8')).slice(-4000)));
    child = c;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`redis-server on port ${port} exited (${c.exitCode}) at start: ${output}`);
      const client = admin();
      try {
        await client.connect();
        await client.ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s: ${output}`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        client.disconnect();
      }
    }
  };
  const stop = async () => {
    const c = child;
    if (c === undefined) return;
    child = undefined;
    if (c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const kill = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(kill);
  };
  const command = async (...args: string[]) => {
    const client = admin();
    try {
      await client.connect();
      await client.call(args[0]!, ...args.slice(1));
    } finally {
      client.disconnect();
    }
  };
  await start();
  return {
    port,
    start,
    stop,
    pause: (ms, mode) => command('CLIENT', 'PAUSE', String(ms), mode),
    unpause: () => command('CLIENT', 'UNPAUSE'),
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

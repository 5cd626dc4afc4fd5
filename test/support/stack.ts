import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { StackConfigSchema, type StackConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/order-core/logger.js';
import { storeFromConfig } from '../../src/commands/stack-options.js';
import { startStack, type RunningStack, type StackStartedInfo } from '../../src/order-core/stack.js';

/** The repository root (this file is test/support/stack.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI; `npm test` builds before running vitest. */
export const CLI_JS = join(REPO_ROOT, 'dist', 'bin', 'surgectl.js');

export function tempDir(prefix = 'surgectl-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes a seed catalog file `[{sku, stock, priceCents}]` and returns its path. */
export function writeSeedFile(dir: string, items: { sku: string; stock: number; priceCents?: number }[]): string {
  const path = join(dir, 'seed.json');
  writeFileSync(path, JSON.stringify(items));
  return path;
}

export interface TestStack extends RunningStack {
  dataDir: string;
  /** Stops the stack (if running) and removes its temp data dir. */
  dispose(): Promise<void>;
}

/**
 * Starts a REAL stack in this process on free loopback ports with a fresh temp data dir and a
 * silent logger. Overrides are validated through the real config schema; `store` ('sqlite', the
 * default, or a postgres:// URL such as a TestDatabase's) picks the order store as `stack.store`
 * does. The caller creates and drops a PostgreSQL database (test/support/postgres.ts).
 */
export async function startTestStack(overrides: Partial<StackConfig> = {}): Promise<TestStack> {
  const dir = tempDir('surgectl-stack-');
  const config = StackConfigSchema.parse({ host: '127.0.0.1', port: 0, paymentPort: 0, dataDir: dir.path, workers: 4, paymentLatencyMs: 0, ...overrides });
  let stack: RunningStack;
  try {
    stack = await startStack({ ...config, store: storeFromConfig(config), logger: silentLogger(), defaultMetrics: false, cwd: dir.path });
  } catch (err) {
    dir.remove();
    throw err;
  }
  let stopped = false;
  return {
    ...stack,
    stop: async (opts?: { drainTimeoutMs?: number }) => {
      stopped = true;
      return stack.stop(opts);
    },
    dataDir: dir.path,
    async dispose() {
      if (!stopped) await stack.stop({ drainTimeoutMs: 5_000 });
      dir.remove();
    },
  };
}

export function ensureBuilt(): void {
  if (!existsSync(CLI_JS)) throw new Error(`${CLI_JS} is missing: run \`npm run build\` first (npm test does)`);
}

export interface StackProcess {
  child: ChildProcess;
  info: StackStartedInfo;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128+signal number style: null code and the signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `surgectl -o json stack up` as a child process (the built CLI) and resolves once it has
 * printed its URLs. Extra args are appended; ports default to 0 (free).
 */
export async function spawnStackProcess(opts: { dataDir: string; args?: string[]; env?: Record<string, string>; timeoutMs?: number }): Promise<StackProcess> {
  ensureBuilt();
  const args = [CLI_JS, '-o', 'json', 'stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', opts.dataDir, ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: opts.dataDir,
    env: { ...process.env, NO_COLOR: '1', SURGECTL_CONFIG: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  const info = await new Promise<StackStartedInfo>((res, rej) => {
    const check = () => {
      const start = out.indexOf('{');
      if (start >= 0) {
        try {
          return res(JSON.parse(out.slice(start)) as StackStartedInfo);
        } catch {
          // not complete yet
        }
      }
      if (child.exitCode !== null) return rej(new Error(`stack up exited with ${child.exitCode} before starting:\n${err}`));
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        return rej(new Error(`stack up did not print its URLs within the deadline:\nstdout: ${out}\nstderr: ${err}`));
      }
      setTimeout(check, 25);
    };
    check();
  });
  return { child, info, stdout: () => out, stderr: () => err, exited };
}

/** Polls `cond` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/** A small HTTP client over a real socket pool for tests and benchmarks. */
export function httpClient(baseUrl: string, opts: { connections?: number; adminToken?: string; timeoutMs?: number } = {}) {
  // a timeout for tests that kill servers: a request on a connection that dies unanswered fails instead of waiting
  const timeouts = opts.timeoutMs !== undefined ? { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs } : {};
  const pool = new Pool(baseUrl, { connections: opts.connections ?? 32, pipelining: 1, ...timeouts });
  async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, init: { json?: unknown; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...init.headers };
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] ??= 'application/json';
    }
    const res = await pool.request({ method, path, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined; // not JSON (e.g. /metrics): callers read `text`
    }
    return { status: res.statusCode, headers: res.headers, body: parsed, text };
  }
  const admin = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, json?: unknown) =>
    call(method, path, { ...(json !== undefined ? { json } : {}), headers: { authorization: `Bearer ${opts.adminToken ?? ''}` } });
  return {
    call,
    admin,
    postOrder: (order: unknown, key: string, headers: Record<string, string> = {}) =>
      call('POST', '/v1/orders', { json: order, headers: { 'idempotency-key': key, ...headers } }),
    close: () => pool.close(),
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

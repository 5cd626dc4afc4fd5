import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { freePort } from './ports.js';

const run = promisify(execFile);
const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'unleash-entry.mjs');

/** A REAL unleash-server (npm unleash-server 6.10) on a loopback port, in its own PostgreSQL database. */
export interface TestUnleash {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** An admin API token (`*:*.<secret>`), for the Admin API. */
  adminToken: string;
  /** A client API token for project `default`, environment `development`. */
  clientToken: string;
  /** The PostgreSQL database it runs on (unleash_<random>). */
  database: string;
  port: number;
  /** The server process id (a test may freeze or kill it to cut the server off mid-operation). */
  pid: number;
  /** The last lines of the server's log (stdout + stderr). */
  logTail(lines?: number): string;
  /**
   * Stops the server (SIGTERM, waits for exit) and drops its database, unless `keepDatabase`
   * (to restart on the same data with `startUnleash({ database, port })`). Idempotent.
   */
  stop(opts?: { keepDatabase?: boolean }): Promise<void>;
}

export interface StartUnleashOptions {
  /** Reuse this database (already created by an earlier start); default: a new unleash_<random>. */
  database?: string;
  /** Listen on this port (e.g. to restart on the same URL); default: a free one. */
  port?: number;
  /** Tokens; default: fresh random ones. Pass the earlier ones when restarting on the same database. */
  adminToken?: string;
  clientToken?: string;
  /** How long to wait for GET /health; default 60 s (the first start runs the migrations). */
  timeoutMs?: number;
}

const PG = ['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres'];

async function psql(sql: string, db = 'postgres'): Promise<void> {
  await run('psql', [...PG, '-d', db, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { timeout: 30_000 });
}


function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts a real Unleash server: creates its database on 127.0.0.1:5432 (user postgres), spawns
 * test/support/unleash-entry.mjs in a child node process with INIT_ADMIN_API_TOKENS /
 * INIT_CLIENT_API_TOKENS, and polls GET /health until it answers. Its logs go to a temp file (not
 * the test output); when it cannot start, this throws with the log tail.
 */
export async function startUnleash(opts: StartUnleashOptions = {}): Promise<TestUnleash> {
  const database = opts.database ?? `unleash_test_${randomBytes(5).toString('hex')}`;
  if (!opts.database) {
    try {
      await psql(`CREATE DATABASE ${database}`);
    } catch (err) {
      throw new Error(`startUnleash: cannot create database ${database} on PostgreSQL 127.0.0.1:5432 as postgres (is it running?): ${(err as Error).message}`, { cause: err });
    }
  }
  const port = opts.port ?? (await freePort());
  const adminToken = opts.adminToken ?? `*:*.${randomBytes(16).toString('hex')}`;
  const clientToken = opts.clientToken ?? `default:development.${randomBytes(16).toString('hex')}`;
  const logDir = mkdtempSync(join(tmpdir(), 'surgectl-unleash-'));
  const logFile = join(logDir, 'unleash.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [ENTRY], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      NODE_ENV: 'production',
      UNLEASH_TEST_PORT: String(port),
      UNLEASH_TEST_DB: database,
      INIT_ADMIN_API_TOKENS: adminToken,
      INIT_CLIENT_API_TOKENS: clientToken,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited = false;
  child.once('exit', () => (exited = true));

  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async (stopOpts: { keepDatabase?: boolean } = {}): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
      }
    }
    if (!stopOpts.keepDatabase) {
      // WITH (FORCE) ends any session a killed server left behind.
      await psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    }
    rmSync(logDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastError = '';
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      const res = await request(`${url}/health`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      await res.body.text();
      if (res.statusCode === 200) {
        return { url, adminToken, clientToken, database, port, pid: child.pid ?? 0, logTail: (n = 40) => tail(logFile, n), stop };
      }
      lastError = `GET /health answered ${res.statusCode}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const why = exited ? `the server process exited (code ${child.exitCode}, signal ${child.signalCode})` : `GET ${url}/health did not answer 200 in time (${lastError})`;
  const logs = tail(logFile, 40);
  await stop({ keepDatabase: Boolean(opts.database) });
  throw new Error(`startUnleash: ${why}. Server log tail:\n${logs}`);
}

/**
 * Creates flags on a real Unleash through its Admin API (test setup; surgectl itself never
 * creates flags), each switched on in `on` environments.
 */
export async function createUnleashFlags(u: Pick<TestUnleash, 'url' | 'adminToken'>, flags: readonly { name: string; description?: string; on?: readonly string[] }[], project = 'default'): Promise<void> {
  for (const f of flags) {
    const res = await request(`${u.url}/api/admin/projects/${project}/features`, {
      method: 'POST',
      headers: { authorization: u.adminToken, 'content-type': 'application/json' },
      body: JSON.stringify({ name: f.name, type: 'operational', description: f.description ?? '' }),
    });
    const text = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`creating Unleash flag ${f.name}: ${res.statusCode} ${text}`);
    for (const env of f.on ?? []) {
      const on = await request(`${u.url}/api/admin/projects/${project}/features/${f.name}/environments/${env}/on`, { method: 'POST', headers: { authorization: u.adminToken } });
      await on.body.text();
      if (on.statusCode !== 200) throw new Error(`switching Unleash flag ${f.name} on in ${env}: ${on.statusCode}`);
    }
  }
}

/** `{ "<flag>/<env>": enabled }` for every flag of `project`, straight from the Admin API (for before/after comparisons). */
export async function unleashState(u: Pick<TestUnleash, 'url' | 'adminToken'>, project = 'default'): Promise<Record<string, boolean>> {
  const res = await request(`${u.url}/api/admin/projects/${project}/features`, { headers: { authorization: u.adminToken } });
  const doc = (await res.body.json()) as { features: { name: string; environments: { name: string; enabled: boolean }[] }[] };
  const out: Record<string, boolean> = {};
  for (const f of doc.features) for (const e of f.environments) out[`${f.name}/${e.name}`] = e.enabled;
  return out;
}

import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './ports.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the integration suites use: loopback, trust auth, user PGUSER or postgres. */
export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;

export function pgUser(): string {
  return process.env.PGUSER ?? 'postgres';
}

/** URL of `database` on the test server (port overridable, e.g. a proxy in front of it). */
export function pgUrl(database: string, port = PG_PORT): string {
  return `postgres://${encodeURIComponent(pgUser())}@${PG_HOST}:${port}/${database}`;
}

/** Runs one statement on the `postgres` maintenance database. */
async function admin<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: pgUrl('postgres'), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await client.query<R>(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Whether the test PostgreSQL answers. When it does not: under CI=true this throws (a suite that
 * needs it must never pass by skipping); elsewhere it warns, naming the suite, and returns false
 * so the suite can be skipped visibly.
 */
export async function requirePostgres(suite: string): Promise<boolean> {
  try {
    await admin('SELECT 1');
    return true;
  } catch (err) {
    const msg = `${suite}: PostgreSQL on ${PG_HOST}:${PG_PORT} (user ${pgUser()}) is unreachable: ${(err as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${msg}; CI must run this suite against a real server`, { cause: err });
    console.warn(`${msg}; skipped`);
    return false;
  }
}

export interface TestDatabase {
  /** surgectl_test_<random> */
  name: string;
  /** postgres://user@127.0.0.1:5432/<name> */
  url: string;
  /** Drops it, closing any connection still open to it. */
  drop(): Promise<void>;
}

/** Creates an empty, uniquely named database on the test server. */
export async function createTestDatabase(prefix = 'surgectl_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (err) {
    throw new Error(`cannot create database ${name} on PostgreSQL ${PG_HOST}:${PG_PORT} as ${pgUser()} (is it running?): ${(err as Error).message}`, { cause: err });
  }
  return {
    name,
    url: pgUrl(name),
    drop: async () => {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A TCP relay in front of the real PostgreSQL (see {@link startPostgresRelay}). */
export interface PostgresRelay {
  port: number;
  /** Every connection cut and new ones refused: the server "went away". */
  cut(): Promise<void>;
  /** Listening again on the same port: the server is back. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of the real PostgreSQL, so a test can make the server go away for one
 * store or stack (every connection cut, new ones refused) and come back on the same port.
 */
export async function startPostgresRelay(): Promise<PostgresRelay> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(PG_PORT, PG_HOST);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
      server = s;
    });
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s !== undefined) await new Promise<void>((r) => s.close(() => r()));
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

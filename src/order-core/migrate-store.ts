import { withoutPassword } from '../util/url.js';

/** Options of migrateOrderStore (`surgectl stack migrate`). */
export interface MigrateOrderStoreOptions {
  /** postgres://user[:password]@host:port/database; the password is never part of the result. */
  url: string;
  /** Hash partitions of `orders`, used only when this run creates the table; 1..256. Default 8. */
  partitions?: number | undefined;
  /** Return the SQL that would run and change nothing. Default false. */
  dryRun?: boolean | undefined;
}

/** What `stack migrate` did (or, with dryRun, would do). */
export interface MigrateOrderStoreResult {
  /** The database as it may be shown: postgres://user@host:port/db. */
  database: string;
  dryRun: boolean;
  /** The schema version before this run. */
  from: number;
  /** The version afterwards (a dry run: still `from`). */
  current: number;
  /** The version this surgectl writes. */
  latest: number;
  /** Versions applied by this run, in order (a dry run: the ones it would apply). */
  applied: number[];
  /** The statements run, or with dryRun the ones that would run, in order. */
  sql: string[];
}

/**
 * Brings a PostgreSQL order store database to this surgectl's schema (idempotent: a current
 * database is left as it is), or with dryRun returns the SQL and changes nothing. Processes
 * migrating at once apply each version once (an advisory lock).
 * @throws SurgeError SRG_STACK_STORE_UNREACHABLE when PostgreSQL does not answer;
 * SRG_STACK_STORE_VERSION when the database is newer than this surgectl or a migration fails.
 */
export async function migrateOrderStore(opts: MigrateOrderStoreOptions): Promise<MigrateOrderStoreResult> {
  // pg is loaded only by the commands that use PostgreSQL.
  const { LATEST_VERSION, MIGRATIONS, migrate } = await import('./storage/postgres/schema.js');
  const r = await migrate(opts.url, { ...(opts.partitions !== undefined ? { partitions: opts.partitions } : {}), dryRun: opts.dryRun === true });
  const dryRun = opts.dryRun === true;
  const from = dryRun ? r.current : r.applied.length > 0 ? r.applied[0]! - 1 : r.current;
  return {
    database: withoutPassword(opts.url, 'PostgreSQL'),
    dryRun,
    from,
    current: r.current,
    latest: LATEST_VERSION,
    applied: dryRun ? MIGRATIONS.filter((m) => m.version > r.current).map((m) => m.version) : r.applied,
    sql: r.sql,
  };
}

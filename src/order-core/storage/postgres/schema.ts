import pg from 'pg';
import { SurgeError } from '../../../errors.js';
import { withoutPassword } from '../../../util/url.js';

/** Hash partitions of `orders` on a fresh database when none is asked for. */
export const DEFAULT_PARTITIONS = 8;
/** Partition counts migrate() accepts; beyond this the planner's per-partition cost dominates. */
export const MAX_PARTITIONS = 256;

/** What a migration's SQL may depend on; fixed when the migration is applied. */
export interface MigrationContext {
  /** Hash partitions of `orders` (only the migration creating the table reads it). */
  partitions: number;
}

/** One schema version: its statements, applied in one transaction and recorded in schema_migrations. */
export interface Migration {
  version: number;
  name: string;
  sql(ctx: MigrationContext): string[];
}

/*
 * History is a jsonb column of the order row, as in SQLite, not an order_events table: every
 * transition already rewrites the order row under its row lock, so appending to the array costs no
 * extra row, index entry or round trip, and GET /v1/orders/:id is one primary-key read. An events
 * table would add an insert and an index entry per transition on the hottest path (and a second
 * read per status poll) for a log nobody queries across orders. The array stays short: a gateway
 * outage adds one entry, not one per retry (see deferPayment).
 */

/**
 * The migrations, in order. Append only: a released version's SQL never changes (a database that
 * applied it must mean the same thing as one that applies it now).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'orders (hash-partitioned), products, idempotency keys, reservations, outbox, flag overrides, meta',
    sql: ({ partitions }) => [
      `CREATE TABLE products (
        sku text PRIMARY KEY,
        name text NOT NULL,
        price_cents integer NOT NULL,
        stock integer NOT NULL,
        reserved integer NOT NULL DEFAULT 0,
        sold integer NOT NULL DEFAULT 0,
        -- the last line of defence against overselling: the database refuses it
        CONSTRAINT products_no_oversell CHECK (reserved >= 0 AND sold >= 0 AND reserved + sold <= stock)
      )`,
      // Identity columns are not allowed on partitioned tables before PostgreSQL 17: a plain sequence.
      `CREATE SEQUENCE orders_seq AS bigint`,
      `CREATE TABLE orders (
        seq bigint NOT NULL DEFAULT nextval('orders_seq'),
        id text NOT NULL,
        idem_key text NOT NULL,
        request_hash text NOT NULL,
        customer_id text NOT NULL,
        items text NOT NULL,
        payment_token text,
        client_id text,
        amount_cents bigint NOT NULL,
        status text NOT NULL CHECK (status IN ('accepted', 'reserved', 'payment_pending', 'paid', 'confirmed', 'sold_out', 'payment_failed', 'cancelled')),
        reason text,
        history jsonb NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        -- queue: NULL when the order needs no more work; while leased it equals lease_until, so an
        -- expired lease makes the job due again without a sweep
        next_attempt_at bigint,
        lease_owner text,
        lease_until bigint,
        attempts integer NOT NULL DEFAULT 0,
        pay_attempts integer NOT NULL DEFAULT 0,
        charge_id text,
        reserved_until bigint,
        notified smallint NOT NULL DEFAULT 0,
        PRIMARY KEY (id)
      ) PARTITION BY HASH (id)`,
      `ALTER SEQUENCE orders_seq OWNED BY orders.seq`,
      ...Array.from({ length: partitions }, (_, i) => `CREATE TABLE orders_p${i} PARTITION OF orders FOR VALUES WITH (MODULUS ${partitions}, REMAINDER ${i})`),
      `CREATE INDEX orders_queue ON orders (next_attempt_at, seq) WHERE next_attempt_at IS NOT NULL`,
      // Only reservations no charge was sent for can expire; an order reserved with its charge
      // marked at once (the usual case) never enters this index.
      `CREATE INDEX orders_reserved_until ON orders (reserved_until) WHERE reserved_until IS NOT NULL AND pay_attempts = 0`,
      // A unique index on a partitioned table must contain the partition key (id), so the
      // Idempotency-Key's uniqueness lives in a table keyed by the key itself.
      `CREATE TABLE idempotency_keys (
        key text PRIMARY KEY,
        order_id text NOT NULL,
        request_hash text NOT NULL,
        created_at bigint NOT NULL
      )`,
      `CREATE TABLE reservations (
        order_id text NOT NULL,
        sku text NOT NULL,
        qty integer NOT NULL CHECK (qty > 0),
        state text NOT NULL CHECK (state IN ('held', 'sold', 'released')),
        PRIMARY KEY (order_id, sku)
      )`,
      `CREATE TABLE outbox (
        order_id text PRIMARY KEY,
        kind text NOT NULL,
        payload jsonb NOT NULL,
        created_at bigint NOT NULL
      )`,
      `CREATE TABLE flag_overrides (
        name text PRIMARY KEY,
        enabled boolean NOT NULL,
        updated_at bigint NOT NULL
      )`,
      `CREATE TABLE meta (
        key text PRIMARY KEY,
        value text NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'loyalty ledger; traceparent of the intake span on orders',
    sql: () => [
      // NULL: accepted untraced (every order of a v1 database)
      `ALTER TABLE orders ADD COLUMN trace_parent text`,
      `CREATE TABLE loyalty_ledger (
        order_id text PRIMARY KEY,
        customer_id text NOT NULL,
        points integer NOT NULL,
        created_at bigint NOT NULL
      )`,
      `CREATE INDEX loyalty_customer ON loyalty_ledger (customer_id)`,
    ],
  },
];

/** The schema version this code reads and writes. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export interface MigrateOptions {
  /** Hash partitions of `orders` when the migration creating it runs; ignored afterwards. 1..256, default 8. */
  partitions?: number;
  /** Return the SQL that would run, execute nothing. Default false. */
  dryRun?: boolean;
  /** Stop at this version (tests of an upgrade build an older database with it). Default: the latest. */
  target?: number;
  /** The database as messages name it (no password) when `db` is a pool. Default: the URL given, or "(pooled connection)". */
  location?: string;
}

export interface MigrateResult {
  /** Versions applied by this call, in order (empty when the database was current). */
  applied: number[];
  /** The version the database is at afterwards (for a dry run: still before). */
  current: number;
  /** The statements run (or, with dryRun, that would run), in order. */
  sql: string[];
}

const BOOTSTRAP_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Serialises migrate() across processes starting at once (an arbitrary constant, "surgectl" in ASCII). */
const MIGRATE_LOCK_KEY = 0x73757267;


function checkPartitions(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
    throw new SurgeError('SRG_STACK_STORE_VERSION', `the orders partition count must be a whole number from 1 to ${MAX_PARTITIONS}, got ${n}`, {
      hint: `pass a partition count from 1 to ${MAX_PARTITIONS} (default ${DEFAULT_PARTITIONS})`,
    });
  }
}

/**
 * Brings a database to the latest schema version (or `target`): each pending migration runs in its
 * own transaction and is recorded in schema_migrations, under an advisory lock so that processes
 * starting together apply each version once. Re-running applies nothing.
 * @throws SurgeError SRG_STACK_STORE_UNREACHABLE when PostgreSQL cannot be reached;
 * SRG_STACK_STORE_VERSION when the database is at a version newer than this code knows (a newer
 * surgectl migrated it; running old code on it could corrupt it), a migration fails, or the
 * partition count or target cannot be applied.
 */
export async function migrate(db: pg.Pool | string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const partitions = opts.partitions ?? DEFAULT_PARTITIONS;
  checkPartitions(partitions);
  const target = opts.target ?? LATEST_VERSION;
  if (!Number.isInteger(target) || target < 0 || target > LATEST_VERSION) {
    throw new SurgeError('SRG_STACK_STORE_VERSION', `migration target must be a version from 0 to ${LATEST_VERSION}, got ${target}`);
  }
  const where = opts.location ?? (typeof db === 'string' ? withoutPassword(db, 'PostgreSQL') : '(pooled connection)');
  const { client, done } = await connectForMigration(db, where, 'the order store', 'check that PostgreSQL is running and that the URL names an existing database the user may create tables in');
  const pending = MIGRATIONS.filter((m) => m.version <= target);
  const ctx: MigrationContext = { partitions };
  return applyMigrations(client, done, {
    table: 'schema_migrations',
    bootstrapSql: BOOTSTRAP_SQL,
    lockKey: MIGRATE_LOCK_KEY,
    latest: LATEST_VERSION,
    dryRun: opts.dryRun === true,
    migrations: pending.map((m) => ({ version: m.version, name: m.name, statements: () => m.sql(ctx) })),
    newer: (current) => `the order store database ${where} is at schema version ${current}, newer than the ${LATEST_VERSION} this surgectl knows`,
    failed: (m, err) => `migration ${m.version} (${m.name}) of the order store database ${where} failed: ${err}`,
    failHint: 'the version was rolled back whole; check that the user may create tables in that database, then run surgectl stack migrate again',
  });
}

/** One versioned migration as the runner applies it: its statements are built only when it is pending. */
export interface VersionedMigration {
  version: number;
  name: string;
  statements(): string[];
}

/**
 * The one migration runner (the order store's schema, the work outbox's): under an advisory
 * lock (not taken for a dry run), reads the highest version recorded in `table` (created by
 * `bootstrapSql` when missing), refuses a database from a newer version, then applies each
 * pending migration in its own transaction with its record row. `dryRun` returns the SQL and
 * changes nothing. Always ends the connection.
 */
export async function applyMigrations(
  client: pg.ClientBase,
  done: () => Promise<void>,
  o: {
    table: string;
    bootstrapSql: string;
    lockKey: number;
    latest: number;
    dryRun: boolean;
    migrations: readonly VersionedMigration[];
    /** Runs first (under the lock): throws when the database cannot take these migrations. */
    check?: (client: pg.ClientBase) => Promise<void>;
    newer(current: number): string;
    failed(m: VersionedMigration, error: string): string;
    failHint: string;
  },
): Promise<MigrateResult> {
  let locked = false;
  try {
    if (!o.dryRun) {
      await client.query('SELECT pg_advisory_lock($1)', [o.lockKey]);
      locked = true;
    }
    await o.check?.(client);
    const exists = (await client.query<{ t: string | null }>(`SELECT to_regclass('${o.table}')::text AS t`)).rows[0]?.t != null;
    const current = exists ? ((await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${o.table}`)).rows[0]?.v ?? 0) : 0;
    if (current > o.latest) {
      throw new SurgeError('SRG_STACK_STORE_VERSION', o.newer(current), { hint: 'a newer surgectl migrated it: run that version, or point the stack at another database' });
    }
    const record = (m: VersionedMigration) => `INSERT INTO ${o.table} (version, name) VALUES (${m.version}, '${m.name.replace(/'/g, "''")}')`;
    const plan = o.migrations.filter((m) => m.version > current).map((m) => ({ m, statements: m.statements() }));
    const sql = [...(exists ? [] : [o.bootstrapSql]), ...plan.flatMap(({ m, statements }) => [...statements, record(m)])];
    if (o.dryRun) return { applied: [], current, sql };
    if (!exists) await client.query(o.bootstrapSql);
    const applied: number[] = [];
    for (const { m, statements } of plan) {
      await client.query('BEGIN');
      try {
        for (const s of statements) await client.query(s);
        await client.query(record(m));
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new SurgeError('SRG_STACK_STORE_VERSION', o.failed(m, (err as Error).message), { hint: o.failHint, cause: err });
      }
      applied.push(m.version);
    }
    return { applied, current: applied.at(-1) ?? current, sql };
  } finally {
    if (locked) await client.query('SELECT pg_advisory_unlock($1)', [o.lockKey]).catch(() => undefined);
    await done().catch(() => undefined);
  }
}

/**
 * One connection for a migration (the store's or the work outbox's): a new client for a URL, or
 * one from the pool. An unreachable server is SRG_STACK_STORE_UNREACHABLE naming `where` (never
 * the password) and what was being migrated.
 */
export async function connectForMigration(db: pg.Pool | string, where: string, what: string, hint: string): Promise<{ client: pg.ClientBase; done: () => Promise<void> }> {
  try {
    if (typeof db === 'string') {
      const c = new pg.Client({ connectionString: db, connectionTimeoutMillis: 10_000 });
      await c.connect();
      return { client: c, done: () => c.end() };
    }
    const c = await db.connect();
    return { client: c, done: async () => c.release() };
  } catch (err) {
    throw new SurgeError('SRG_STACK_STORE_UNREACHABLE', `cannot connect to PostgreSQL at ${where} to migrate ${what}: ${(err as Error).message}`, { hint, cause: err });
  }
}

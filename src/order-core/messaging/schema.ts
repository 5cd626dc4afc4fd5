import type pg from 'pg';
import { SurgeError } from '../../errors.js';
import { applyMigrations, connectForMigration, type MigrateResult } from '../storage/postgres/schema.js';
import { withoutPassword } from '../../util/url.js';

/*
 * The work queue's dispatch records (the transactional outbox of the RabbitMQ work queue), kept in
 * the order store's PostgreSQL database but versioned on their own:
 *
 * - Their versions live in `messaging_migrations`, not in the store's `schema_migrations`: the
 *   store's migrate() takes max(version) of its table as the database's version and refuses a
 *   database "newer than this surgectl" (SRG_STACK_STORE_VERSION), so a row 100 there would stop
 *   every store from opening. A table of our own also lets a database that never used RabbitMQ
 *   stay without these objects.
 * - The record is written by a statement-level AFTER INSERT trigger on `orders`, so it commits in
 *   the very statement that inserts the orders (the store's accept is one group-commit statement,
 *   not a transaction with room for a second call): there is no accepted order without its record,
 *   and no store code had to change. The trigger reads the inserted rows as a transition table,
 *   one INSERT per group commit, not one per order.
 */

/** One version of the messaging objects: statements applied in one transaction. */
export interface MessagingMigration {
  version: number;
  name: string;
  sql: string[];
}

/** Append only: a released version's SQL never changes. */
export const MESSAGING_MIGRATIONS: readonly MessagingMigration[] = [
  {
    version: 1,
    name: 'work_outbox: one dispatch record per accepted order, written by a trigger in the accept statement',
    sql: [
      `CREATE TABLE work_outbox (
        -- publish order: oldest first (order ids sort by time only roughly)
        seq bigint GENERATED ALWAYS AS IDENTITY,
        order_id text PRIMARY KEY,
        created_at bigint NOT NULL,
        -- epoch ms of the broker's confirm; NULL while the record waits for the relay
        sent_at bigint
      )`,
      // the relay's scan: only unsent rows are indexed, so a long history of sent rows costs nothing
      `CREATE INDEX work_outbox_unsent ON work_outbox (seq) WHERE sent_at IS NULL`,
      `CREATE FUNCTION work_outbox_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO work_outbox (order_id, created_at) SELECT n.id, n.created_at FROM new_orders n
          ON CONFLICT (order_id) DO NOTHING;
        RETURN NULL;
      END $$`,
      `CREATE TRIGGER work_outbox_enqueue AFTER INSERT ON orders REFERENCING NEW TABLE AS new_orders
        FOR EACH STATEMENT EXECUTE FUNCTION work_outbox_enqueue()`,
    ],
  },
];

/** The messaging schema version this code reads and writes. */
export const MESSAGING_LATEST_VERSION = MESSAGING_MIGRATIONS[MESSAGING_MIGRATIONS.length - 1]?.version ?? 0;

const BOOTSTRAP_SQL = `CREATE TABLE IF NOT EXISTS messaging_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Serialises migrateMessaging() across processes ("srmq" in ASCII; the store's lock is "surg"). */
const MIGRATE_LOCK_KEY = 0x73726d71;

/**
 * Adds a dispatch record for each order id, for callers that create work outside an order insert
 * (the trigger covers accepts) or that prefer writing it themselves inside their own transaction:
 * `$1` the order ids (text[]), `$2` the time, epoch ms. An id already recorded is left as it is.
 */
export const WORK_OUTBOX_INSERT_SQL = `INSERT INTO work_outbox (order_id, created_at)
  SELECT id, $2 FROM unnest($1::text[]) AS i(id) ON CONFLICT (order_id) DO NOTHING`;

/**
 * Runs WORK_OUTBOX_INSERT_SQL on `client` (a pool, or a client inside the caller's transaction, so
 * the records commit or roll back with it); returns how many records were new.
 */
export async function enqueueWork(client: pg.ClientBase | pg.Pool, orderIds: readonly string[], now: number): Promise<number> {
  if (orderIds.length === 0) return 0;
  const r = await client.query(WORK_OUTBOX_INSERT_SQL, [orderIds, now]);
  return r.rowCount ?? 0;
}

/**
 * Brings the messaging objects to the latest version: each pending version in its own transaction,
 * recorded in messaging_migrations, under an advisory lock; a re-run applies nothing. Needs the
 * order store's schema (the trigger hangs on `orders`): run after the store's migrate(), which
 * PostgresOrderStore.open() does.
 * @throws SurgeError SRG_STACK_STORE_UNREACHABLE when PostgreSQL cannot be reached;
 * SRG_STACK_STORE_VERSION when the store's schema is missing, the database is at a messaging
 * version newer than this code, or a migration fails.
 */
export async function migrateMessaging(db: pg.Pool | string, opts: { dryRun?: boolean } = {}): Promise<MigrateResult> {
  const where = typeof db === 'string' ? withoutPassword(db, 'PostgreSQL') : 'the order store database';
  const { client, done } = await connectForMigration(db, where, 'the work queue outbox', 'check that PostgreSQL is running and that the URL names the order store database');
  return applyMigrations(client, done, {
    table: 'messaging_migrations',
    bootstrapSql: BOOTSTRAP_SQL,
    lockKey: MIGRATE_LOCK_KEY,
    latest: MESSAGING_LATEST_VERSION,
    dryRun: opts.dryRun === true,
    migrations: MESSAGING_MIGRATIONS.map((m) => ({ version: m.version, name: m.name, statements: () => m.sql })),
    async check(c) {
      const hasOrders = (await c.query<{ t: string | null }>("SELECT to_regclass('orders')::text AS t")).rows[0]?.t != null;
      if (!hasOrders) {
        throw new SurgeError('SRG_STACK_STORE_VERSION', `the order store database ${where} has no orders table, so the work queue outbox cannot be added to it`, {
          hint: 'migrate the order store first (surgectl stack migrate --store <url>), then start the stack with the RabbitMQ queue',
        });
      }
    },
    newer: (current) => `the work queue outbox in ${where} is at version ${current}, newer than the ${MESSAGING_LATEST_VERSION} this surgectl knows`,
    failed: (m, err) => `work queue outbox migration ${m.version} (${m.name}) of ${where} failed: ${err}`,
    failHint: 'the version was rolled back whole; check that the user may create tables, functions and triggers in that database, then start again',
  });
}

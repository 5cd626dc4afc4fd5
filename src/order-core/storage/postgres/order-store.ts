import { createHash } from 'node:crypto';
import pg from 'pg';
import { SurgeError } from '../../../errors.js';
import type { CatalogEntry } from '../../catalog.js';
import { canonicalJson, newOrderId } from '../../domain/idempotency.js';
import { aggregateItems, oversoldUnits } from '../../domain/inventory.js';
import { GiveUp } from '../../domain/outcomes.js';
import { AWAITING_PAYMENT, assertTransition, CANCELLABLE, IllegalTransitionError, sourcesOf } from '../../domain/state-machine.js';
import { ORDER_STATUSES, TERMINAL_STATUSES, type InventoryItem, type OrderItem, type OrderStatus, type OrderView, type StatusChange } from '../../domain/types.js';
import { EXACT_POSITIONS, NOTIFY_SKIPPED_BY_FLAG, isWaiting, orderViewOf, type AcceptOutcome, type AcceptRequest, type OrderReads, type OrderRecord, type OrderStoreOptions, type SettleWork, type StoreStats, type WorkLease, type WorkStore } from '../ports.js';
// One cap for both stores' exact queue positions (it belongs with the ports; it still lives there).
import { StoreUnavailable } from '../../domain/outcomes.js';

export { StoreUnavailable };
import { DEFAULT_PARTITIONS, LATEST_VERSION, migrate, type MigrateResult } from './schema.js';
import { withoutPassword } from '../../../util/url.js';
import { PRIMARY_POSITION_SQL, ReadReplica, type ReadReplicaStatus } from './read-replica.js';

export interface PostgresOrderStoreOptions extends OrderStoreOptions {
  /** postgres://user[:password]@host:port/database of a database the user may create tables in. */
  url: string;
  /** Connections in the pool (every process has its own). Default 10. */
  poolSize?: number;
  /** Longest a statement may run on the server (statement_timeout), ms. Default 5 000. */
  statementTimeoutMs?: number;
  /** Longest wait for a new connection, ms. Default 5 000. */
  connectTimeoutMs?: number;
  /** How often the queueDepth()/isHealthy() cache is refreshed in the background, ms. Default 250. */
  refreshMs?: number;
  /** A refresh still unanswered after this long makes isHealthy() false, ms. Default 2 000. */
  unhealthyAfterMs?: number;
  /** Hash partitions of `orders`, used only when this open creates the schema. Default 8. */
  partitions?: number;
  /** Most accepts in one group commit (one statement). Default 1 000. */
  maxGroup?: number;
  /**
   * A streaming replica of `url` for order status reads (getOrder): used while its replay lag is
   * at most `maxLagMs`, else the primary answers. Default: none (every read on the primary).
   */
  readReplica?: { url: string; maxLagMs: number } | undefined;
}


/** SQLSTATE classes and socket errors that mean "the server is not there", not "the statement was wrong". */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  }
  const msg = (err as Error | null)?.message ?? '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(msg);
}

/** query_canceled (statement_timeout), lock_not_available (lock_timeout): the server is too slow or stuck, not the statement wrong. */
function isTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '57014' || code === '55P03';
}

/** deadlock_detected, serialization_failure: the transaction was rolled back whole and may simply run again. */
function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/** A bad value in one request (data exception, integrity violation): retried alone so it fails alone. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** A guarded write found the order no longer held by this lease: the job must stop quietly. */
function lostLease(orderId: string): GiveUp {
  return new GiveUp(`lease on order ${orderId} was lost`);
}


/** The order row in OrderRecord's shape (the table is aliased `o` in every statement). */
const COLS = `o.seq, o.id, o.customer_id, o.items, o.payment_token, o.amount_cents, o.status, o.reason, o.history::text AS history,
  o.created_at, o.updated_at, o.next_attempt_at, o.lease_owner, o.lease_until, o.attempts, o.pay_attempts, o.charge_id,
  o.reserved_until, o.notified, o.idem_key, o.request_hash, o.client_id, o.trace_parent`;

/** Statuses as a text[] parameter, from the domain's sets so the state machine, not SQL, says which qualify. */
const AWAITING = [...AWAITING_PAYMENT];

/**
 * Due jobs, oldest first, locked with SKIP LOCKED so that any number of processes lease
 * concurrently without waiting on each other or taking the same row; each gets one token of $3.
 */
const LEASE_SQL = `WITH due AS MATERIALIZED (
    SELECT o.id, o.lease_owner, o.next_attempt_at AS due_at, o.seq FROM orders o
    WHERE o.next_attempt_at IS NOT NULL AND o.next_attempt_at <= $1
    ORDER BY o.next_attempt_at, o.seq LIMIT $2 FOR UPDATE SKIP LOCKED
  ), numbered AS (
    SELECT id, lease_owner, due_at, seq, row_number() OVER (ORDER BY due_at, seq) AS rn FROM due
  )
  UPDATE orders o SET lease_owner = ($3::text[])[n.rn], lease_until = $4, next_attempt_at = $4, attempts = o.attempts + 1
  FROM numbered n WHERE o.id = n.id
  RETURNING ${COLS}, n.lease_owner AS prev_owner, n.rn`;

/**
 * LEASE_SQL for the work queue's deliveries: only the orders of $5, each when it is due, or
 * parked after a failed delivery (no due time, no lease, not final: see QueueDispatch), whatever
 * its place in the queue.
 */
const LEASE_ONLY_SQL = `WITH due AS MATERIALIZED (
    SELECT o.id, o.lease_owner, o.next_attempt_at AS due_at, o.seq FROM orders o
    WHERE o.id = ANY($5::text[])
      AND ((o.next_attempt_at IS NOT NULL AND o.next_attempt_at <= $1) OR (o.next_attempt_at IS NULL AND o.lease_owner IS NULL AND o.status <> ALL($6::text[])))
    ORDER BY o.seq LIMIT $2 FOR UPDATE SKIP LOCKED
  ), numbered AS (
    SELECT id, lease_owner, due_at, seq, row_number() OVER (ORDER BY seq) AS rn FROM due
  )
  UPDATE orders o SET lease_owner = ($3::text[])[n.rn], lease_until = $4, next_attempt_at = $4, attempts = o.attempts + 1
  FROM numbered n WHERE o.id = n.id
  RETURNING ${COLS}, n.lease_owner AS prev_owner, n.rn`;

const FINAL_STATUSES = [...TERMINAL_STATUSES];

/** Moves the order's held units to `released` and gives them back to the shelf. */
const RELEASE_SQL = `WITH r AS (
    UPDATE reservations SET state = 'released' WHERE order_id = ANY($1::text[]) AND state = 'held' RETURNING sku, qty
  ), s AS (SELECT sku, sum(qty) AS qty FROM r GROUP BY sku)
  UPDATE products p SET reserved = p.reserved - s.qty FROM s WHERE p.sku = s.sku`;

/** The confirm's stock move: the order's held units become sold. */
const SELL_HELD_SQL = `WITH r AS (
    UPDATE reservations SET state = 'sold' WHERE order_id = $1 AND state = 'held' RETURNING sku, qty
  )
  UPDATE products p SET reserved = p.reserved - r.qty, sold = p.sold + r.qty FROM r WHERE p.sku = r.sku`;

/** Stock and units sold per sku, from the sold reservations (not the products counters the same code maintains). */
const SOLD_AUDIT_SQL = `SELECT p.stock, COALESCE(a.qty, 0) AS sold FROM products p
  LEFT JOIN (SELECT sku, sum(qty) AS qty FROM reservations WHERE state = 'sold' GROUP BY sku) a ON a.sku = p.sku`;

/** How long a best-seller ranking serves recommendations, ms (as in SQLite). */
const BEST_SELLERS_TTL_MS = 1_000;

/** Int8 (bigint, count(*), sum(int)) as a JS number: epoch ms and counts stay far below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text'))) as pg.CustomTypesConfig['getTypeParser'],
};

interface PendingAccept {
  req: AcceptRequest;
  resolve: (o: AcceptOutcome) => void;
  reject: (e: unknown) => void;
}

type Row = OrderRecord & { payload?: unknown; points?: number | null };

/** One statement on one side (the primary's pool or the read replica's). */
type Reader = <R extends pg.QueryResultRow>(name: string | undefined, text: string, values: unknown[]) => Promise<pg.QueryResult<R>>;

/**
 * The order store on PostgreSQL, for a stack that runs on more than one machine: the same
 * semantics as the SQLite store (sqlite/order-store.ts), method by method, behind the async ports.
 * Orders double as the job queue, leased with FOR UPDATE SKIP LOCKED; every worker write is
 * guarded by the lease token and the expected status. Locks are always taken order row first, then
 * product rows in sku order, so transactions never wait on each other in a cycle (a deadlock the
 * server reports anyway is retried). Accepts are group-committed: those of one event-loop turn go
 * in one statement. queueDepth() and isHealthy() answer from a cache refreshed in the background.
 */
export class PostgresOrderStore implements OrderReads, WorkStore {
  private readonly pool: pg.Pool;
  /** Skus known to exist (never removed, so only a miss needs asking the database again). */
  private knownSkus = new Set<string>();
  private closed = false;
  /** Set when the pool is ended (close() first lets the statements in flight finish). */
  private ended = false;
  private healthy = true;
  private depth = 0;
  private refreshStartedAt: number | undefined;
  private refresher: NodeJS.Timeout | undefined;
  private pending: PendingAccept[] = [];
  /** Accepts sent in a group statement that has not answered yet (counted in queueDepth()). */
  private sentAccepts = 0;
  private flushScheduled = false;
  private readonly inflight = new Set<Promise<void>>();
  private bestSellersCache: { at: number; skus: string[] } | undefined;
  private readonly where: string;
  private migrated: MigrateResult = { applied: [], current: 0, sql: [] };
  /** The database is a standby (in recovery): the store is not ready until a refresh sees it promoted. */
  private standby = false;
  /** Where getOrder reads when a read replica is configured (see read-replica.ts). */
  private readonly replica: ReadReplica | undefined;

  private constructor(private readonly opts: PostgresOrderStoreOptions) {
    this.where = withoutPassword(opts.url, 'PostgreSQL');
    const statementTimeout = opts.statementTimeoutMs ?? 5_000;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      statement_timeout: statementTimeout,
      // a lock wait is a statement too; bounded so a stuck holder cannot stall every worker
      lock_timeout: statementTimeout,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'surgectl-order-store',
      types: TYPES,
    });
    // An idle connection the server dropped: the pool discards it and opens another on demand.
    this.pool.on('error', (err) => this.noteUnavailable(err));
    // A checked-out connection the server drops between two statements errors on the client itself:
    // the statement in flight (or the next one) fails and is handled; the event must not go unheard.
    this.pool.on('connect', (client) => client.on('error', (err) => this.noteUnavailable(err)));
    if (opts.readReplica !== undefined) {
      const unanswered = opts.unhealthyAfterMs ?? 2_000;
      this.replica = new ReadReplica({
        url: opts.readReplica.url,
        maxLagMs: opts.readReplica.maxLagMs,
        logger: opts.logger,
        primaryPosition: async () => (await this.q<{ lsn: string; system: string }>('primary_position', PRIMARY_POSITION_SQL)).rows[0]!,
        // finer than the bound, so that a replica steadily a little behind a busy primary still reads within it
        checkEveryMs: Math.max(50, Math.min(opts.refreshMs ?? 250, Math.floor(opts.readReplica.maxLagMs / 4))),
        unansweredAfterMs: unanswered,
        // a status read slower than that is better asked of the primary
        statementTimeoutMs: Math.min(statementTimeout, unanswered),
        poolSize: Math.max(2, Math.ceil((opts.poolSize ?? 10) / 2)),
        types: TYPES,
      });
    }
  }

  /**
   * Connects, migrates (creating the schema with `partitions` on a fresh database; a database that
   * is behind is brought up to date, and the log says which versions were applied), loads the
   * known skus and the queue depth, and starts the background refresh.
   * @throws SurgeError SRG_STACK_STORE_UNREACHABLE when PostgreSQL cannot be reached (or refuses the
   * login or the database); SRG_STACK_STORE_VERSION when its schema is newer than this code or cannot
   * be migrated.
   */
  static async open(opts: PostgresOrderStoreOptions): Promise<PostgresOrderStore> {
    const store = new PostgresOrderStore(opts);
    try {
      // reach the server first, so that a failure names it (and not the migration)
      const recovery = await store.pool.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      store.standby = recovery.rows[0]?.r === true;
      store.migrated = store.standby ? await store.standbySchema() : await migrate(store.pool, { partitions: opts.partitions ?? DEFAULT_PARTITIONS, location: store.where });
      if (store.standby) {
        opts.logger.warn({ database: store.where }, `PostgreSQL ${store.where} is a standby (in recovery): the order store takes no orders and runs no jobs until it is promoted`);
      }
      if (store.migrated.applied.length > 0) {
        opts.logger.info(
          { applied: store.migrated.applied, schemaVersion: store.migrated.current, database: store.where },
          `migrated the order store database to schema version ${store.migrated.current} (applied ${store.migrated.applied.join(', ')})`,
        );
      }
      await store.loadSkus();
      store.depth = await store.dueCount(opts.now());
    } catch (err) {
      await store.pool.end().catch(() => undefined);
      await store.replica?.close().catch(() => undefined);
      if (err instanceof SurgeError) throw err;
      const code = (err as { code?: unknown } | null)?.code;
      // wrong password, unknown role or database: the server answered, but not for us
      const refused = typeof code === 'string' && (code.startsWith('28') || code === '3D000');
      if (isConnectionError(err) || isTimeout(err) || refused) {
        throw new SurgeError('SRG_STACK_STORE_UNREACHABLE', `cannot open the order store on PostgreSQL ${store.where}: ${(err as Error).message}`, {
          hint: 'check that PostgreSQL is running there and that the URL names an existing database the user may log in to and create tables in',
          cause: err,
        });
      }
      throw new SurgeError('SRG_STACK_STORE_VERSION', `cannot prepare the order store schema on PostgreSQL ${store.where}: ${(err as Error).message}`, {
        hint: 'check that the user may create tables in that database (surgectl stack migrate --store <url> --dry-run prints the SQL)',
        cause: err,
      });
    }
    const every = opts.refreshMs ?? 250;
    store.refresher = setInterval(() => store.refresh(), every);
    store.refresher.unref();
    // the replica is not needed to start: reads stay on the primary until its first good check
    store.replica?.start();
    return store;
  }

  /**
   * The schema of a standby, which cannot be migrated (it replays its primary): its version must be
   * this code's, else the primary is the one to migrate (or this surgectl is too old for it).
   */
  private async standbySchema(): Promise<MigrateResult> {
    const r = await this.pool.query<{ v: number | null }>("SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN NULL ELSE (SELECT max(version) FROM schema_migrations) END AS v");
    const current = r.rows[0]?.v ?? null;
    if (current !== LATEST_VERSION) {
      throw new SurgeError(
        'SRG_STACK_STORE_VERSION',
        current === null
          ? `PostgreSQL ${this.where} is a standby without the order store schema, and a standby cannot be migrated`
          : `PostgreSQL ${this.where} is a standby at order store schema version ${current}; this surgectl needs ${LATEST_VERSION}, and a standby cannot be migrated`,
        { hint: current !== null && current > LATEST_VERSION ? 'use the surgectl that migrated its primary' : 'run surgectl stack migrate against its primary; the standby replays the change' },
      );
    }
    return { applied: [], current, sql: [] };
  }

  /** True while the database is a standby (in recovery): no orders, no jobs; checked again until it is promoted. */
  get isStandby(): boolean {
    return this.standby;
  }

  /** What open() found and did: the versions it applied (empty when the database was current) and the version now. */
  get migration(): Readonly<MigrateResult> {
    return this.migrated;
  }

  /** Where order status reads go now and the read replica's last measured lag; undefined without a read replica. */
  get readReplica(): ReadReplicaStatus | undefined {
    return this.replica?.status();
  }

  /** The URL it was opened on as it may be shown: postgres://user@host:port/db, no password. */
  get location(): string {
    return this.where;
  }

  // ---------------------------------------------------------------- plumbing

  /**
   * Notices a promotion (the store takes orders from then on) and a demotion (the old primary of a
   * failover, rebuilt as a replica: no orders, no jobs).
   */
  private async checkRecovery(): Promise<void> {
    const r = await this.pool.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    const inRecovery = r.rows[0]?.r === true;
    if (inRecovery === this.standby) return;
    this.standby = inRecovery;
    if (inRecovery) this.opts.logger.warn({ database: this.where }, `PostgreSQL ${this.where} is a standby now: the order store takes no orders and runs no jobs until it is promoted`);
    else this.opts.logger.warn({ database: this.where }, `PostgreSQL ${this.where} was promoted: the order store takes orders`);
  }

  private noteUnavailable(err: unknown): void {
    if (this.healthy) this.opts.logger.error({ err }, `PostgreSQL ${this.where} is unreachable; the order store answers not ready until it is back`);
    this.healthy = false;
  }

  private noteAvailable(): void {
    if (!this.healthy && !this.closed) this.opts.logger.warn(`PostgreSQL ${this.where} answers again; the order store is ready`);
    this.healthy = true;
  }

  /** Turns a connection failure into StoreUnavailable (and notes it); anything else is passed on. */
  private mapError(err: unknown): unknown {
    if (err instanceof GiveUp || err instanceof IllegalTransitionError || err instanceof StoreUnavailable) return err;
    if (this.closed && !(err instanceof SurgeError)) return new Error('order store is closed', { cause: err });
    if (isConnectionError(err)) {
      this.noteUnavailable(err);
      return new StoreUnavailable(`the order store is unavailable: PostgreSQL ${this.where} did not answer (${(err as Error).message})`, err);
    }
    // a standby, or a primary fenced for a failover (default_transaction_read_only): not now
    if ((err as { code?: unknown } | null)?.code === '25006') return new StoreUnavailable(`the order store is read-only now: PostgreSQL ${this.where} takes no writes (a standby, or fenced for a failover)`, err);
    // one slow statement does not make the store unhealthy; the refresh notices a stuck server
    if (isTimeout(err)) return new StoreUnavailable(`the order store is unavailable: PostgreSQL ${this.where} did not finish in time (${(err as Error).message})`, err);
    return err;
  }

  private assertOpen(): void {
    if (this.ended) throw new Error('order store is closed');
  }

  /** One statement on any pooled connection (autocommit). `name` prepares it once per connection. */
  private async q<R extends pg.QueryResultRow>(name: string | undefined, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    try {
      const r = await this.pool.query<R>(name === undefined ? { text, values } : { name, text, values });
      this.noteAvailable();
      return r;
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /**
   * Runs `fn` in one READ COMMITTED transaction on one connection; a deadlock or serialization
   * failure (rolled back whole by the server) is run again, up to 3 times.
   */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    for (let attempt = 1; ; attempt++) {
      let c: pg.PoolClient;
      try {
        c = await this.pool.connect();
      } catch (err) {
        throw this.mapError(err);
      }
      try {
        await c.query('BEGIN');
        const v = await fn(c);
        await c.query('COMMIT');
        c.release();
        this.noteAvailable();
        return v;
      } catch (err) {
        const broken = isConnectionError(err);
        if (!broken) await c.query('ROLLBACK').catch(() => undefined);
        c.release(broken ? (err as Error) : undefined);
        if (isRetryable(err) && attempt < 3) continue;
        throw this.mapError(err);
      }
    }
  }

  /** Locks product rows in sku order: every transaction takes them in the same order, so none waits in a cycle. */
  private async lockSkus(c: pg.PoolClient, skus: string[]): Promise<void> {
    if (skus.length < 2) return; // one row: its UPDATE takes the only lock
    await c.query({ name: 'lock_skus', text: 'SELECT 1 FROM products WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE', values: [skus] });
  }

  private async loadSkus(): Promise<void> {
    const r = await this.q<{ sku: string }>(undefined, 'SELECT sku FROM products');
    this.knownSkus = new Set(r.rows.map((p) => p.sku));
  }

  private async dueCount(now: number): Promise<number> {
    const r = await this.q<{ n: number }>('due_count', 'SELECT count(*) AS n FROM orders o WHERE o.next_attempt_at IS NOT NULL AND o.next_attempt_at <= $1', [now]);
    return r.rows[0]?.n ?? 0;
  }

  /** The background refresh of the cached depth and health; a refresh left hanging counts as "down". */
  private refresh(): void {
    if (this.closed) return;
    if (this.refreshStartedAt !== undefined) {
      if (Date.now() - this.refreshStartedAt > (this.opts.unhealthyAfterMs ?? 2_000)) this.noteUnavailable(new Error('PostgreSQL did not answer the health query in time'));
      return;
    }
    this.refreshStartedAt = Date.now();
    const p = this.checkRecovery()
      .then(() => this.dueCount(this.opts.now()))
      .then(
        (n) => {
          this.depth = n;
        },
        (err: unknown) => {
          if (!this.closed) this.noteUnavailable(err);
        },
      );
    const tracked = p.finally(() => {
      this.refreshStartedAt = undefined;
      this.inflight.delete(tracked);
    });
    this.inflight.add(tracked);
  }

  // ---------------------------------------------------------------- intake

  /**
   * Stores a new order, or answers a replay of its Idempotency-Key. Accepts of one event-loop
   * turn are group-committed in ONE statement (idempotency keys and orders inserted together, the
   * keys with ON CONFLICT DO NOTHING); each promise resolves only after that statement committed.
   */
  accept(req: AcceptRequest): Promise<AcceptOutcome> {
    return new Promise<AcceptOutcome>((resolve, reject) => {
      if (this.closed) {
        reject(new Error('order store is closed'));
        return;
      }
      // The API validates bodies; this guard keeps a malformed order from becoming a job that fails forever.
      if (req.order.items.length === 0 || req.order.items.some((i) => typeof i.sku !== 'string' || !Number.isInteger(i.qty) || i.qty <= 0)) {
        reject(new RangeError('an order needs at least one item, each with a sku and a whole qty > 0'));
        return;
      }
      this.pending.push({ req, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate: every accept of this event-loop turn joins the same group
        setImmediate(() => {
          this.flushScheduled = false;
          const max = this.opts.maxGroup ?? 1_000;
          while (this.pending.length > 0) {
            const group = this.pending.splice(0, max);
            const p = this.commitGroup(group).finally(() => this.inflight.delete(p));
            this.inflight.add(p);
          }
        });
      }
    });
  }

  /**
   * Orders waiting for a worker: the cached count plus accepts not yet committed, so that
   * concurrent orders checked against maxBacklog see each other before any is committed.
   */
  queueDepth(): number {
    return this.depth + this.sentAccepts + this.pending.length;
  }

  private async commitGroup(group: PendingAccept[]): Promise<void> {
    // positions of this group's orders start after the queue and the groups sent before it
    const base = this.depth + this.sentAccepts;
    this.sentAccepts += group.length;
    let sent = true;
    const done = () => {
      if (sent) this.sentAccepts -= group.length;
      sent = false;
    };
    try {
      const outcomes = await this.acceptGroup(
        group.map((p) => p.req),
        base,
        done,
      );
      group.forEach((p, i) => {
        const o = outcomes[i];
        if (o instanceof Error) p.reject(o);
        else if (o !== undefined) p.resolve(o);
        else p.reject(new Error('accept produced no outcome (bug)'));
      });
    } catch (err) {
      done();
      if (group.length > 1 && isDataError(err)) {
        // one bad value fails the whole statement: each request again alone, so it fails alone
        await Promise.all(group.map((p) => this.commitGroup([p])));
        return;
      }
      const e = this.mapError(err);
      for (const p of group) p.reject(e);
    }
  }

  /** `committed` is called once the insert has committed (before replays are looked up). */
  private async acceptGroup(reqs: AcceptRequest[], groupDepth: number, committed: () => void): Promise<(AcceptOutcome | Error)[]> {
    const now = this.opts.now();
    const unknownOf = (req: AcceptRequest) => [...new Set(req.order.items.map((i) => i.sku))].filter((sku) => !this.knownSkus.has(sku));
    // another process may have seeded skus since this one looked: ask for the misses only
    const misses = [...new Set(reqs.flatMap(unknownOf))];
    if (misses.length > 0) {
      const found = await this.q<{ sku: string }>('known_skus', 'SELECT sku FROM products WHERE sku = ANY($1::text[])', [misses]);
      for (const r of found.rows) this.knownSkus.add(r.sku);
    }
    const outcomes: (AcceptOutcome | Error | undefined)[] = reqs.map(() => undefined);
    const unknown = new Map<number, string[]>();
    const insertIdx: number[] = [];
    const replayIdx: number[] = [];
    const firstOfKey = new Set<string>();
    reqs.forEach((req, i) => {
      const u = unknownOf(req);
      if (u.length > 0) {
        unknown.set(i, u);
        replayIdx.push(i);
      } else if (firstOfKey.has(req.idempotencyKey)) replayIdx.push(i); // the same key twice in one group: the later one replays the first
      else {
        firstOfKey.add(req.idempotencyKey);
        insertIdx.push(i);
      }
    });
    const iso = new Date(now).toISOString();
    const history: StatusChange[] = [{ status: 'accepted', at: iso }];
    const created = new Map<number, { id: string; items: OrderItem[] }>();
    if (insertIdx.length > 0) {
      const cols = { id: [] as string[], key: [] as string[], hash: [] as string[], customer: [] as string[], items: [] as string[], token: [] as (string | null)[], client: [] as (string | null)[], trace: [] as (string | null)[] };
      const itemsOf = new Map<string, OrderItem[]>();
      for (const i of insertIdx) {
        const req = reqs[i]!;
        const id = newOrderId(now);
        const items = req.order.items.map((it) => ({ sku: it.sku, qty: it.qty }));
        itemsOf.set(id, items);
        cols.id.push(id);
        cols.key.push(req.idempotencyKey);
        cols.hash.push(req.requestHash);
        cols.customer.push(req.order.customerId);
        cols.items.push(JSON.stringify(items));
        cols.token.push(req.order.paymentToken ?? null);
        cols.client.push(req.clientId ?? null);
        cols.trace.push(req.traceParent ?? null);
      }
      const r = await this.q<{ id: string }>(
        'accept_group',
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
             AS i(id, key, hash, customer_id, items, payment_token, client_id, trace_parent)
         ), keys AS (
           INSERT INTO idempotency_keys (key, order_id, request_hash, created_at)
           SELECT key, id, hash, $9 FROM input ON CONFLICT (key) DO NOTHING RETURNING order_id
         )
         INSERT INTO orders (id, idem_key, request_hash, customer_id, items, payment_token, client_id, amount_cents,
           status, history, created_at, updated_at, next_attempt_at, trace_parent)
         SELECT i.id, i.key, i.hash, i.customer_id, i.items, i.payment_token, i.client_id,
           -- priced by the database, so every process charges the current seed's prices
           (SELECT COALESCE(sum(p.price_cents::bigint * x.qty), 0) FROM jsonb_to_recordset(i.items::jsonb) AS x(sku text, qty int) JOIN products p ON p.sku = x.sku),
           'accepted', $10::jsonb, $9, $9, $9, i.trace_parent
         FROM input i JOIN keys k ON k.order_id = i.id
         RETURNING id`,
        [cols.id, cols.key, cols.hash, cols.customer, cols.items, cols.token, cols.client, cols.trace, now, JSON.stringify(history)],
      );
      const ids = new Set(r.rows.map((x) => x.id));
      insertIdx.forEach((i, n) => {
        const id = cols.id[n]!;
        if (ids.has(id)) created.set(i, { id, items: itemsOf.get(id)! });
        else replayIdx.push(i); // the key was taken before (or by another process meanwhile)
      });
    }
    // Positions follow insertion order within the group, after the queue as it stood.
    let n = 0;
    for (const [i, c] of [...created.entries()].sort((a, b) => a[0] - b[0])) {
      n++;
      const req = reqs[i]!;
      const position = groupDepth + n;
      const order: OrderView = { orderId: c.id, customerId: req.order.customerId, items: c.items, status: 'accepted', history: [{ ...history[0]! }], createdAt: iso, updatedAt: iso, queuePosition: position };
      order.estimatedWaitMs = this.estimateWait(position) ?? null;
      outcomes[i] = { kind: 'created', order };
    }
    committed();
    if (created.size > 0) {
      this.depth += created.size;
      this.opts.onAccepted?.(created.size);
      this.replica?.noteWrites([...created.values()].map((c) => c.id));
    }
    if (replayIdx.length > 0) {
      try {
        await this.answerReplays(reqs, replayIdx, unknown, outcomes, now);
      } catch (err) {
        // the new orders are committed and answered; only the replays fail (a retry finds them)
        const e = this.mapError(err) as Error;
        for (const i of replayIdx) outcomes[i] = e;
      }
    }
    return outcomes.map((o) => o ?? new Error('accept produced no outcome (bug)'));
  }

  /** Answers accepts whose key was taken (or whose skus are unknown) with the stored order, a conflict, or unknown_sku. */
  private async answerReplays(reqs: AcceptRequest[], replayIdx: number[], unknown: Map<number, string[]>, outcomes: (AcceptOutcome | Error | undefined)[], now: number): Promise<void> {
    const keys = [...new Set(replayIdx.map((i) => reqs[i]!.idempotencyKey))];
    const r = await this.q<Row & { key: string; key_hash: string }>(
      'replay',
      `SELECT k.key, k.request_hash AS key_hash, ${COLS}, ob.payload, l.points
       FROM idempotency_keys k JOIN orders o ON o.id = k.order_id
       LEFT JOIN outbox ob ON ob.order_id = o.id LEFT JOIN loyalty_ledger l ON l.order_id = o.id
       WHERE k.key = ANY($1::text[])`,
      [keys],
    );
    const byKey = new Map(r.rows.map((row) => [row.key, row]));
    for (const i of replayIdx) {
      const req = reqs[i]!;
      const row = byKey.get(req.idempotencyKey);
      // a replay of a key is answered with its order even if a sku has left the catalog since
      if (row === undefined) outcomes[i] = unknown.has(i) ? { kind: 'unknown_sku', skus: unknown.get(i)! } : new Error(`idempotency key ${req.idempotencyKey} conflicted but no order holds it`);
      else outcomes[i] = row.key_hash === req.requestHash ? { kind: 'existing', order: await this.toView(row, now) } : { kind: 'conflict', orderId: row.id };
    }
  }

  private estimateWait(position: number): number | undefined {
    const tp = this.opts.throughputPerSec();
    return tp > 0 ? Math.round((position / tp) * 1000) : undefined;
  }

  /**
   * With a read replica that is usable, the replica answers, except for orders this process wrote
   * within the lag bound; an order it does not know (accepted a moment ago by any intake process,
   * not yet replayed) or a read that fails there is asked of the primary, so a client always finds
   * the order it was just told was accepted.
   */
  async getOrder(orderId: string): Promise<OrderView | undefined> {
    const replica = this.replica;
    if (replica?.serves(orderId)) {
      try {
        const found = await this.readOrder(orderId, (name, text, values) => replica.query(name, text, values));
        if (found !== undefined) return found;
      } catch {
        // the replica took itself out of the reads and logged it; the primary answers
      }
    }
    return this.readOrder(orderId, (name, text, values) => this.q(name, text, values));
  }

  /** getOrder's statements, on the primary or the replica (the queue position is read on the same side as the row). */
  private async readOrder(orderId: string, read: Reader): Promise<OrderView | undefined> {
    this.assertOpen();
    const r = await read<Row>(
      'get_order',
      `SELECT ${COLS}, ob.payload, l.points FROM orders o
       LEFT JOIN outbox ob ON ob.order_id = o.id LEFT JOIN loyalty_ledger l ON l.order_id = o.id WHERE o.id = $1`,
      [orderId],
    );
    const row = r.rows[0];
    return row === undefined ? undefined : this.toView(row, this.opts.now(), read);
  }

  private async toView(row: Row, now: number, read: Reader = (name, text, values) => this.q(name, text, values)): Promise<OrderView> {
    // What the flags decided at confirm time, read with the row.
    const confirmed = row.status === 'confirmed' ? { payload: (row.payload as Record<string, unknown> | null | undefined) ?? undefined, points: row.points ?? undefined } : undefined;
    const position = isWaiting(row, now) ? await this.queuePositionOf(row, read) : undefined;
    return orderViewOf(row, confirmed, position === undefined ? undefined : { position, estimatedWaitMs: this.estimateWait(position) ?? null });
  }


  /**
   * 1-based rank of a waiting order: counted exactly among the first EXACT_POSITIONS (one index
   * range scan, capped), estimated from sequence numbers beyond that, as the SQLite store does.
   */
  private async queuePositionOf(row: OrderRecord, read: Reader = (name, text, values) => this.q(name, text, values)): Promise<number> {
    const r = await read<{ ahead: number; head: number | null }>(
      'queue_position',
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM orders o WHERE o.next_attempt_at IS NOT NULL
                 AND (o.next_attempt_at < $1 OR (o.next_attempt_at = $1 AND o.seq < $2)) LIMIT $3) a) AS ahead,
              (SELECT o.seq FROM orders o WHERE o.next_attempt_at IS NOT NULL ORDER BY o.next_attempt_at, o.seq LIMIT 1) AS head`,
      [row.next_attempt_at, row.seq, EXACT_POSITIONS],
    );
    const ahead = r.rows[0]?.ahead ?? 0;
    if (ahead < EXACT_POSITIONS) return ahead + 1;
    const head = r.rows[0]?.head;
    // Far back: orders leave the queue mostly in arrival order; sequence numbers come from one
    // sequence, so the distance from the head is close, bounded by the queue's length.
    const bySeq = head == null ? EXACT_POSITIONS + 1 : row.seq - head + 1;
    return Math.max(EXACT_POSITIONS + 1, Math.min(bySeq, Math.max(this.depth, EXACT_POSITIONS + 1)));
  }

  async listInventory(): Promise<InventoryItem[]> {
    const r = await this.q<{ sku: string; stock: number; reserved: number; sold: number }>('inventory', 'SELECT sku, stock, reserved, sold FROM products ORDER BY sku');
    return r.rows.map((l) => ({ sku: l.sku, available: l.stock - l.reserved - l.sold, reserved: l.reserved, sold: l.sold }));
  }

  /**
   * Exact figures for /metrics and /admin/status. Unlike SQLite, counts by status are a GROUP BY
   * over the orders (O(orders), parallel across partitions) rather than trigger-kept counters: a
   * counter row per status would be one hot row every transition of every process updates.
   * Oversold units come from the sold reservations, not from the products counters that the same
   * code paths maintain and so could be wrong together.
   */
  async stats(): Promise<StoreStats> {
    const now = this.opts.now();
    const byStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
    const [counts, oldest, due, sold] = await Promise.all([
      this.q<{ status: OrderStatus; n: number }>('status_counts', 'SELECT o.status, count(*) AS n FROM orders o GROUP BY o.status'),
      this.q<{ created_at: number }>(
        'oldest_waiting',
        'SELECT o.created_at FROM orders o WHERE o.next_attempt_at IS NOT NULL AND o.next_attempt_at <= $1 ORDER BY o.next_attempt_at, o.seq LIMIT 1',
        [now],
      ),
      this.dueCount(now),
      this.oversold(),
    ]);
    for (const r of counts.rows) byStatus[r.status] = r.n;
    this.depth = due;
    const first = oldest.rows[0];
    return { queueDepth: due, oldestWaitingMs: first === undefined ? 0 : Math.max(0, now - first.created_at), byStatus, oversold: sold };
  }

  /** Units sold beyond stock, from the sold reservations (as stats().oversold), without the other figures: for the sweep's gauge. */
  async oversold(): Promise<number> {
    // one statement text for the prepared name on every connection (stats() asks it too)
    const sold = await this.q<{ stock: number; sold: number }>('sold_audit', SOLD_AUDIT_SQL);
    return oversoldUnits(sold.rows);
  }

  /**
   * Cancels an order that has not been paid; releases its reservation. False when it can no
   * longer be cancelled: final, or a charge may have been sent (only the gateway knows whether
   * money moved). Takes the order's row lock first, so it and a worker's step run one after the
   * other; the worker's next guarded write then finds the lease gone.
   */
  async cancel(orderId: string, reason: string): Promise<boolean> {
    const now = this.opts.now();
    const cancelled = await this.tx(async (c) => {
      const row = (await c.query<OrderRecord>({ name: 'lock_order', text: `SELECT ${COLS} FROM orders o WHERE o.id = $1 FOR UPDATE`, values: [orderId] })).rows[0];
      if (row === undefined || !CANCELLABLE.has(row.status) || row.pay_attempts > 0) return false;
      assertTransition(row.status, 'cancelled');
      await c.query({
        name: 'cancel_order',
        text: `UPDATE orders o SET status = 'cancelled', reason = $2, updated_at = $3, history = o.history || $4::jsonb,
                 next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL, reserved_until = NULL WHERE o.id = $1`,
        values: [orderId, reason, now, JSON.stringify([{ status: 'cancelled', at: new Date(now).toISOString(), reason }])],
      });
      await this.release(c, [orderId], skusOf(row));
      return true;
    });
    // Cancelled or not, its caller reads it next (the API answers with the order, or why not): from the primary.
    this.replica?.noteWrites([orderId]);
    if (cancelled) this.opts.onCancelled?.(orderId, reason);
    return cancelled;
  }

  private async release(c: pg.PoolClient, orderIds: string[], skus: string[]): Promise<void> {
    await this.lockSkus(c, skus);
    await c.query({ name: 'release', text: RELEASE_SQL, values: [orderIds] });
  }

  /** True while PostgreSQL answers (the background refresh and the store's own statements say so). */
  isHealthy(): boolean {
    return !this.closed && this.healthy && !this.standby;
  }

  /** Stops the refresh, rejects accepts not yet sent, waits for statements in flight, ends the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.refresher);
    for (const p of this.pending.splice(0)) p.reject(new Error('order store is closed'));
    await Promise.allSettled([...this.inflight]);
    this.ended = true;
    await this.replica?.close();
    await this.pool.end();
  }

  // ---------------------------------------------------------------- seed and flags

  /**
   * Puts stock on the shelf, as the SQLite store's seed(): a fresh store (no products) gets
   * `entries` or, when none are given, `fallback`; an existing one is restocked only when
   * `entries` differ from the seed applied last (each listed sku is set so that exactly `stock`
   * units are available again). Serialised across processes by a transaction-level advisory lock.
   */
  async seed(entries: CatalogEntry[] | undefined, fallback: () => CatalogEntry[]): Promise<{ mode: 'fresh' | 'restock' | 'kept'; skus: number }> {
    if (this.standby) {
      // its stock is its primary's, replayed
      if (entries !== undefined) this.opts.logger.warn({ database: this.where }, 'a standby keeps its primary\'s stock: the seed is not applied');
      return { mode: 'kept', skus: this.knownSkus.size };
    }
    const hash = entries === undefined ? undefined : createHash('sha256').update(canonicalJson(entries)).digest('hex');
    const result = await this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtext('surgectl.seed'))");
      const count = (await c.query<{ n: number }>('SELECT count(*) AS n FROM products')).rows[0]?.n ?? 0;
      const lastHash = (await c.query<{ value: string }>("SELECT value FROM meta WHERE key = 'seed_hash'")).rows[0]?.value;
      if (count > 0 && (hash === undefined || hash === lastHash)) return { mode: 'kept' as const, skus: count };
      const list = entries ?? fallback();
      await c.query(
        `INSERT INTO products (sku, name, price_cents, stock)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[])
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, price_cents = excluded.price_cents,
           stock = excluded.stock + products.reserved + products.sold`,
        [list.map((e) => e.sku), list.map((e) => e.name), list.map((e) => e.priceCents), list.map((e) => e.stock)],
      );
      if (hash !== undefined) await c.query("INSERT INTO meta (key, value) VALUES ('seed_hash', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [hash]);
      return { mode: count === 0 ? ('fresh' as const) : ('restock' as const), skus: list.length };
    });
    await this.loadSkus();
    this.bestSellersCache = undefined;
    return result;
  }

  async flagOverrides(): Promise<Map<string, boolean>> {
    const r = await this.q<{ name: string; enabled: boolean }>(undefined, 'SELECT name, enabled FROM flag_overrides');
    return new Map(r.rows.map((f) => [f.name, f.enabled]));
  }

  /** Sets a flag override for every process on this database, or removes it (undefined). */
  async setFlagOverride(name: string, enabled: boolean | undefined): Promise<void> {
    if (enabled === undefined) await this.q(undefined, 'DELETE FROM flag_overrides WHERE name = $1', [name]);
    else
      await this.q(
        undefined,
        'INSERT INTO flag_overrides (name, enabled, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at',
        [name, enabled, this.opts.now()],
      );
  }

  // ---------------------------------------------------------------- the queue

  /**
   * Leases up to `tokens.length` due jobs, oldest first, one token each, in one statement
   * (FOR UPDATE SKIP LOCKED: concurrent leases in any number of processes never take the same
   * job). A job whose previous lease ran out without an ack comes back with `redelivered: true`.
   * With `reserve`, each new order's reserve step runs right after, in its own transaction (one
   * transaction for the batch would hold every product row it touched until the last order).
   * With `only` (the work queue's deliveries), just those orders are leased: see LEASE_ONLY_SQL.
   */
  async leaseBatch(tokens: string[], leaseMs: number, opts: { reserve?: boolean; startPayment?: boolean; only?: readonly string[] } = {}): Promise<WorkLease[]> {
    if (tokens.length === 0 || this.standby) return [];
    const now = this.opts.now();
    const until = now + leaseMs;
    const r =
      opts.only === undefined
        ? await this.q<Row & { prev_owner: string | null; rn: number }>('lease', LEASE_SQL, [now, tokens.length, tokens, until])
        : await this.q<Row & { prev_owner: string | null; rn: number }>('lease_only', LEASE_ONLY_SQL, [now, tokens.length, tokens, until, opts.only, FINAL_STATUSES]);
    const rows = r.rows.sort((a, b) => a.rn - b.rn);
    // leased jobs are no longer waiting (an estimate until the next refresh)
    this.depth = Math.max(0, this.depth - rows.length);
    const jobs = rows.map((row) => {
      const job: WorkLease = { orderId: row.id, token: row.lease_owner as string, redelivered: row.prev_owner !== null };
      if (row.trace_parent !== null) job.traceParent = row.trace_parent;
      return job;
    });
    if (opts.reserve !== true) return jobs;
    await Promise.all(
      jobs.map(async (job, i) => {
        const row = stripRow(rows[i]!);
        if (row.status !== 'accepted') {
          job.row = row;
          return;
        }
        const started = performance.now();
        try {
          const { row: after, ...res } = await this.reserveTx(job.orderId, job.token, opts.startPayment === true);
          if (res.status !== 'sold_out') job.row = after;
          job.reserved = { ...res, ms: performance.now() - started };
        } catch (err) {
          // the worker runs the step again and reports the failure
          this.opts.logger.warn({ orderId: job.orderId, err }, 'reserve during lease failed');
        }
      }),
    );
    return jobs;
  }

  /** Extends a lease we still hold; false when it was lost (expired and taken, or the order was cancelled). */
  async renewLease(orderId: string, token: string, leaseMs: number): Promise<boolean> {
    const until = this.opts.now() + leaseMs;
    const r = await this.q('renew', 'UPDATE orders o SET lease_until = $1, next_attempt_at = $1 WHERE o.id = $2 AND o.lease_owner = $3', [until, orderId, token]);
    return r.rowCount === 1;
  }

  /** Finishes a job: the order needs more work at `nextAttemptAt`, or none (null). */
  async ack(orderId: string, token: string, nextAttemptAt: number | null): Promise<boolean> {
    const r = await this.q('ack', 'UPDATE orders o SET lease_owner = NULL, lease_until = NULL, next_attempt_at = $1 WHERE o.id = $2 AND o.lease_owner = $3', [nextAttemptAt, orderId, token]);
    return r.rowCount === 1;
  }

  async ownedRow(orderId: string, token: string): Promise<OrderRecord | undefined> {
    const r = await this.q<OrderRecord>('owned_row', `SELECT ${COLS} FROM orders o WHERE o.id = $1 AND o.lease_owner = $2`, [orderId, token]);
    return r.rows[0];
  }

  /**
   * Unlike SQLite (whose directory lock proves that every older lease belongs to a dead process),
   * other live processes share this database: their leases are left alone. An expired lease is
   * due again by itself (next_attempt_at equals lease_until), so nothing needs moving; returns how
   * many expired leases are waiting to be taken again.
   */
  async reclaimLeases(): Promise<number> {
    const r = await this.q<{ n: number }>(
      'expired_leases',
      'SELECT count(*) AS n FROM orders o WHERE o.lease_owner IS NOT NULL AND o.lease_until <= $1 AND o.next_attempt_at IS NOT NULL',
      [this.opts.now()],
    );
    return r.rows[0]?.n ?? 0;
  }

  // ---------------------------------------------------------------- steps (each one transaction, guarded by the lease)

  /**
   * Reserves every item of an accepted order, all or nothing, or ends it as sold_out (and acks the
   * job) naming the first sku short of stock. With `startPayment` the same commit records the
   * coming charge attempt (see markPayAttempt).
   */
  async reserve(orderId: string, token: string, startPayment = false): Promise<{ status: 'reserved' | 'sold_out'; reason?: string; payStarted?: boolean }> {
    const { row: _row, ...r } = await this.reserveTx(orderId, token, startPayment);
    return r;
  }

  /**
   * The stock moves by a conditional UPDATE (`stock - reserved - sold >= qty`): the row lock it
   * takes and PostgreSQL's re-check of the condition against the newest row version make it safe
   * under any number of processes, so stock is never reserved twice.
   */
  private reserveTx(orderId: string, token: string, startPayment: boolean): Promise<{ status: 'reserved' | 'sold_out'; reason?: string; payStarted?: boolean; row: OrderRecord }> {
    const now = this.opts.now();
    return this.tx(async (c) => {
      const row = (await c.query<OrderRecord>({ name: 'lock_owned', text: `SELECT ${COLS} FROM orders o WHERE o.id = $1 AND o.lease_owner = $2 FOR UPDATE`, values: [orderId, token] })).rows[0];
      if (row === undefined) throw lostLease(orderId);
      if (row.status !== 'accepted') return { status: row.status === 'sold_out' ? 'sold_out' : 'reserved', payStarted: row.pay_attempts > 0, row } as const;
      const need = aggregateItems(JSON.parse(row.items) as OrderItem[]);
      const skus = [...need.keys()];
      const qtys = [...need.values()];
      const multi = skus.length > 1;
      if (multi) {
        await c.query('SAVEPOINT reserve');
        await this.lockSkus(c, skus);
      }
      const took = await c.query<{ sku: string }>({
        name: 'reserve_stock',
        text: `UPDATE products p SET reserved = p.reserved + n.qty FROM unnest($1::text[], $2::int[]) AS n(sku, qty)
               WHERE p.sku = n.sku AND p.stock - p.reserved - p.sold >= n.qty RETURNING p.sku`,
        values: [skus, qtys],
      });
      const at = new Date(now).toISOString();
      if (took.rowCount !== skus.length) {
        // all or nothing: undo the skus that had enough, name the first (in item order) that had not
        if (multi && (took.rowCount ?? 0) > 0) await c.query('ROLLBACK TO SAVEPOINT reserve');
        const got = new Set(took.rows.map((t) => t.sku));
        const sku = skus.find((s) => !got.has(s)) as string;
        const level = (await c.query<{ free: number }>({ name: 'free_units', text: 'SELECT stock - reserved - sold AS free FROM products WHERE sku = $1', values: [sku] })).rows[0];
        const reason = `sku ${sku} sold out (wanted ${need.get(sku)}, available ${Math.max(0, level?.free ?? 0)})`;
        assertTransition(row.status, 'sold_out');
        // sold_out and the ack in one write
        const r = await c.query<OrderRecord>({
          name: 'sold_out',
          text: `UPDATE orders o SET status = 'sold_out', reason = $3, updated_at = $4, history = o.history || $5::jsonb,
                   lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL
                 WHERE o.id = $1 AND o.status = 'accepted' AND o.lease_owner = $2 RETURNING ${COLS}`,
          values: [orderId, token, reason, now, JSON.stringify([{ status: 'sold_out', at, reason }])],
        });
        if (r.rowCount !== 1) throw lostLease(orderId);
        return { status: 'sold_out', reason, row: r.rows[0]! } as const;
      }
      assertTransition(row.status, 'reserved');
      const r = await c.query<OrderRecord>({
        name: 'reserve_order',
        text: `WITH held AS (
                 INSERT INTO reservations (order_id, sku, qty, state) SELECT $1, sku, qty, 'held' FROM unnest($3::text[], $4::int[]) AS n(sku, qty)
               )
               UPDATE orders o SET status = 'reserved', reason = NULL, updated_at = $5, history = o.history || $6::jsonb,
                 reserved_until = $7, pay_attempts = o.pay_attempts + $8
               WHERE o.id = $1 AND o.status = 'accepted' AND o.lease_owner = $2 RETURNING ${COLS}`,
        values: [orderId, token, skus, qtys, now, JSON.stringify([{ status: 'reserved', at }]), now + this.opts.reservationTtlMs, startPayment ? 1 : 0],
      });
      if (r.rowCount !== 1) throw lostLease(orderId);
      return { status: 'reserved', payStarted: startPayment, row: r.rows[0]! } as const;
    });
  }

  /**
   * Records, durably and before the request leaves, that a charge is about to be sent, so a
   * reservation with a possibly-charged payment is never expired or cancelled. False when the
   * order is no longer ours or no longer payable.
   */
  async markPayAttempt(orderId: string, token: string): Promise<boolean> {
    const r = await this.q('mark_pay', 'UPDATE orders o SET pay_attempts = o.pay_attempts + 1 WHERE o.id = $1 AND o.lease_owner = $2 AND o.status = ANY($3::text[])', [orderId, token, AWAITING]);
    return r.rowCount === 1;
  }

  /**
   * paid -> confirmed -> notified in one transaction (the outbox pattern: the notification is
   * written with the confirm or not at all), then the job is acked. Works from paid too, for a
   * job redelivered after a crash. The guarded write of the order row comes first, so the row
   * lock is taken before any product row. Returns whether an outbox row was written.
   */
  async settle(orderId: string, token: string, chargeId: string | undefined, features: SettleWork, known?: OrderRecord): Promise<{ notified: boolean; notifyMs: number }> {
    const now = this.opts.now();
    const row = known !== undefined && known.id === orderId && known.lease_owner === token ? known : await this.ownedRow(orderId, token);
    if (row === undefined) throw lostLease(orderId);
    const at = new Date(now).toISOString();
    const moves: StatusChange[] = [];
    let status = row.status;
    const move = (to: OrderStatus) => {
      assertTransition(status, to);
      moves.push({ status: to, at });
      status = to;
    };
    const pays = AWAITING_PAYMENT.has(status);
    if (pays) move('paid');
    const sells = status === 'paid';
    if (sells) {
      move('confirmed');
      if (!features.notifications) moves[moves.length - 1]!.reason = NOTIFY_SKIPPED_BY_FLAG;
    }
    return this.tx(async (c) => {
      const changed =
        moves.length === 0
          ? await c.query({ name: 'settle_ack', text: 'UPDATE orders o SET notified = 1, lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL WHERE o.id = $1 AND o.lease_owner = $2', values: [orderId, token] })
          : await c.query({
              name: 'settle_order',
              text: `UPDATE orders o SET status = $3, reason = NULL, updated_at = $4, history = o.history || $5::jsonb,
                       charge_id = CASE WHEN $6 THEN $7 ELSE o.charge_id END,
                       reserved_until = CASE WHEN $6 THEN NULL ELSE o.reserved_until END,
                       notified = 1, lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL
                     WHERE o.id = $1 AND o.lease_owner = $2 AND o.status = $8`,
              values: [orderId, token, status, now, JSON.stringify(moves), pays, chargeId ?? '', row.status],
            });
      if (changed.rowCount !== 1) throw lostLease(orderId);
      if (sells) {
        await this.lockSkus(c, skusOf(row));
        await c.query({ name: 'sell_held', text: SELL_HELD_SQL, values: [orderId] });
      }
      const started = performance.now();
      const notified = await this.writeNotification(c, row, features, now);
      return { notified, notifyMs: performance.now() - started };
    });
  }

  /** Writes the loyalty credit and the notification (each once) as `features` say. */
  private async writeNotification(c: pg.PoolClient, row: OrderRecord, features: SettleWork, now: number): Promise<boolean> {
    if (features.loyaltyPoints) {
      // one point per whole currency unit; keyed by order so a re-run credits once
      await c.query({
        name: 'loyalty',
        text: 'INSERT INTO loyalty_ledger (order_id, customer_id, points, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING',
        values: [row.id, row.customer_id, Math.floor(row.amount_cents / 100), now],
      });
    }
    if (!features.notifications) return false;
    let recommendations: string[] | undefined;
    if (features.recommendations) {
      const bought = new Set((JSON.parse(row.items) as OrderItem[]).map((i) => i.sku));
      recommendations = (await this.bestSellers(c, now)).filter((sku) => !bought.has(sku)).slice(0, 3);
    }
    const payload = { orderId: row.id, customerId: row.customer_id, amountCents: row.amount_cents, ...(recommendations !== undefined ? { recommendations } : {}) };
    const r = await c.query({
      name: 'outbox',
      text: 'INSERT INTO outbox (order_id, kind, payload, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING',
      values: [row.id, 'order_confirmed', JSON.stringify(payload), now],
    });
    return r.rowCount === 1;
  }

  /** The 8 best-selling skus still in stock, ranked again at most every BEST_SELLERS_TTL_MS (as in SQLite). */
  private async bestSellers(c: pg.PoolClient, now: number): Promise<string[]> {
    const cached = this.bestSellersCache;
    if (cached !== undefined && now - cached.at >= 0 && now - cached.at < BEST_SELLERS_TTL_MS) return cached.skus;
    const skus = (await c.query<{ sku: string }>({ name: 'best_sellers', text: 'SELECT sku FROM products WHERE stock - reserved - sold > 0 ORDER BY sold DESC, sku LIMIT 8' })).rows.map((r) => r.sku);
    this.bestSellersCache = { at: now, skus };
    return skus;
  }

  /** The gateway is unavailable: wait in payment_pending until `retryAt` (the job is acked). */
  async deferPayment(orderId: string, token: string, retryAt: number, reason: string): Promise<void> {
    const now = this.opts.now();
    // One history entry per outage, not one per retry: a long outage would bloat the order.
    const r = await this.q(
      'defer_payment',
      `UPDATE orders o SET status = 'payment_pending', reason = $3, updated_at = CASE WHEN o.status = 'payment_pending' THEN o.updated_at ELSE $4 END,
         history = CASE WHEN o.status = 'payment_pending' THEN o.history ELSE o.history || $5::jsonb END,
         lease_owner = NULL, lease_until = NULL, next_attempt_at = $6
       WHERE o.id = $1 AND o.lease_owner = $2 AND o.status = ANY($7::text[])`,
      [orderId, token, reason, now, JSON.stringify([{ status: 'payment_pending', at: new Date(now).toISOString(), reason }]), retryAt, sourcesOf('payment_pending')],
    );
    if (r.rowCount !== 1) await this.whyNot(orderId, token, 'payment_pending');
  }

  /** Declined: final payment_failed, stock back on the shelf, job done. */
  failPayment(orderId: string, token: string, reason: string): Promise<void> {
    return this.endWithRelease(orderId, token, 'payment_failed', reason);
  }

  /** A reservation ran out before any charge was sent: cancelled, stock released, job done. */
  expire(orderId: string, token: string): Promise<void> {
    return this.endWithRelease(orderId, token, 'cancelled', 'reservation_expired');
  }

  private async endWithRelease(orderId: string, token: string, to: OrderStatus, reason: string): Promise<void> {
    const now = this.opts.now();
    await this.tx(async (c) => {
      const r = await c.query<{ items: string }>({
        name: `end_${to}`,
        text: `UPDATE orders o SET status = $3, reason = $4, updated_at = $5, history = o.history || $6::jsonb,
                 lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, reserved_until = NULL
               WHERE o.id = $1 AND o.lease_owner = $2 AND o.status = ANY($7::text[]) RETURNING o.items`,
        values: [orderId, token, to, reason, now, JSON.stringify([{ status: to, at: new Date(now).toISOString(), reason }]), sourcesOf(to)],
      });
      if (r.rowCount !== 1) await this.whyNot(orderId, token, to, c);
      await this.release(c, [orderId], skusOf(r.rows[0]!));
    });
  }

  /** A guarded write changed nothing: GiveUp when the lease is gone, else the illegal move itself (a bug). */
  private async whyNot(orderId: string, token: string, to: OrderStatus, c?: pg.PoolClient): Promise<never> {
    const sql = 'SELECT o.status, o.lease_owner FROM orders o WHERE o.id = $1';
    const row = (c !== undefined ? await c.query<{ status: OrderStatus; lease_owner: string | null }>(sql, [orderId]) : await this.q<{ status: OrderStatus; lease_owner: string | null }>(undefined, sql, [orderId])).rows[0];
    if (row === undefined || row.lease_owner !== token) throw lostLease(orderId);
    throw new IllegalTransitionError(row.status, to);
  }

  /**
   * Cancels orders whose reservation ran out before any charge was sent and that no live worker
   * holds (in any process: a live lease, or a row another transaction has locked, is skipped);
   * returns their ids. Orders with a charge attempt are left to the pipeline.
   */
  async expireReservations(limit = 500): Promise<string[]> {
    const now = this.opts.now();
    return this.tx(async (c) => {
      const due = await c.query<{ id: string; items: string }>({
        name: 'expired_reservations',
        text: `SELECT o.id, o.items FROM orders o WHERE o.reserved_until IS NOT NULL AND o.reserved_until <= $1 AND o.pay_attempts = 0
                 AND o.status = ANY($2::text[]) AND (o.lease_owner IS NULL OR o.lease_until <= $1)
               ORDER BY o.reserved_until LIMIT $3 FOR UPDATE SKIP LOCKED`,
        values: [now, AWAITING, limit],
      });
      if (due.rows.length === 0) return [];
      const ids = due.rows.map((r) => r.id);
      await c.query({
        name: 'expire_orders',
        text: `UPDATE orders o SET status = 'cancelled', reason = 'reservation_expired', updated_at = $2, history = o.history || $3::jsonb,
                 lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, reserved_until = NULL
               WHERE o.id = ANY($1::text[])`,
        values: [ids, now, JSON.stringify([{ status: 'cancelled', at: new Date(now).toISOString(), reason: 'reservation_expired' }])],
      });
      await this.release(c, ids, [...new Set(due.rows.flatMap((r) => skusOf(r)))]);
      return ids;
    });
  }
}

/** The distinct skus of an order row, for locking their product rows in order. */
function skusOf(row: { items: string }): string[] {
  return [...new Set((JSON.parse(row.items) as OrderItem[]).map((i) => i.sku))];
}

/** The lease statement's row without its bookkeeping columns. */
function stripRow(row: Row & { prev_owner?: unknown; rn?: unknown }): OrderRecord {
  const { prev_owner: _p, rn: _r, payload: _pl, points: _pt, ...rest } = row;
  return rest;
}

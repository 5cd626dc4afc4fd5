import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, type fdatasync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SurgeError } from '../../../errors.js';
import type { CatalogEntry } from '../../catalog.js';
import { canonicalJson, newOrderId } from '../../domain/idempotency.js';
import { aggregateItems, decideReservation, oversoldUnits, type StockLevel } from '../../domain/inventory.js';
import { GiveUp } from '../../domain/outcomes.js';
import { AWAITING_PAYMENT, assertTransition, CANCELLABLE } from '../../domain/state-machine.js';
import { ORDER_STATUSES, type InventoryItem, type OrderItem, type OrderStatus, type OrderView, type StatusChange } from '../../domain/types.js';
import { EXACT_POSITIONS, NOTIFY_SKIPPED_BY_FLAG, isWaiting, orderViewOf, type AcceptOutcome, type AcceptRequest, type OrderReads, type OrderRecord, type OrderStoreOptions, type SettleWork, type StoreStats, type WorkLease, type WorkStore } from '../ports.js';

export { EXACT_POSITIONS, NOTIFY_SKIPPED_BY_FLAG };
import { migrate } from './schema.js';
import { WalSync } from './wal-sync.js';

export const ORDERS_DB_FILE = 'orders.db';


/** A row of the orders table as the pipeline sees it; the job the pipeline leases; the flag-switched work of the confirm (the ports' types). */
export type OrderRow = OrderRecord;
export type LeasedJob = WorkLease;
export type SettleFeatures = SettleWork;

export interface SqliteOrderStoreOptions extends OrderStoreOptions {
  /** Directory of orders.db (created if missing). */
  dir: string;
  /** The WAL's fdatasync; tests pass a failing one to check the fail-stop. Default node:fs. */
  datasync?: typeof fdatasync;
  /**
   * Runs inside every group transaction before its writes; tests throw a SqliteError such as
   * SQLITE_FULL or SQLITE_IOERR from it to stand in for a full or failing disk. Default: none.
   */
  beforeGroupCommit?: () => void;
  /**
   * Called with the seconds each fdatasync of the WAL took. Every acknowledged order waits for
   * one (a group commit shares it): the disk's share of intake latency.
   */
  onSynced?: (seconds: number) => void;
}

/** SQLite could not write to its files (disk full, I/O error): not the request's fault, nor a bug. */
function isDiskError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR'));
}

interface PendingOp {
  run: () => unknown;
  /** Resolve only once the commit is on disk (see WalSync); else as soon as it is committed. */
  durable: boolean;
  /**
   * Runs without a savepoint of its own: an op whose only write is its last statement (an
   * accept) cannot leave half its work behind, as SQLite undoes a failed statement by itself,
   * and a savepoint per order was a visible share of the intake's commit.
   */
  bare: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}


/** How long a best-seller ranking serves recommendations, ms. */
const BEST_SELLERS_TTL_MS = 1_000;

/**
 * An SQL list of statuses for `status IN (...)`, taken from the domain's sets so that the state
 * machine, not the SQL, says which statuses qualify. Statuses are fixed identifiers, so inlining
 * them is safe, and each statement stays one constant string, prepared once per connection.
 */
function statusList(statuses: Iterable<OrderStatus>): string {
  return [...statuses].map((s) => `'${s}'`).join(', ');
}

/** A charge may be started only while the order awaits payment (and is still ours). */
const MARK_PAY_ATTEMPT_SQL = `UPDATE orders SET pay_attempts = pay_attempts + 1 WHERE id = ? AND lease_owner = ? AND status IN (${statusList(AWAITING_PAYMENT)})`;

/** Reservations that ran out with no charge sent, of orders no live worker holds. */
const EXPIRED_RESERVATIONS_SQL = `SELECT * FROM orders WHERE reserved_until IS NOT NULL AND reserved_until <= ? AND pay_attempts = 0
  AND status IN (${statusList(AWAITING_PAYMENT)}) AND (lease_owner IS NULL OR lease_until <= ?) LIMIT ?`;

/** An order in the intake journal, as memory keeps it (the row holds the rest). */
interface JournalEntry {
  seq: number;
  id: string;
  key: string;
  hash: string;
  createdAt: number;
}

/** A row of the intake journal (schema version 6). */
interface IntakeRow {
  seq: number;
  id: string;
  idem_key: string;
  request_hash: string;
  customer_id: string;
  items: string;
  payment_token: string | null;
  client_id: string | null;
  amount_cents: number;
  created_at: number;
  trace_parent: string | null;
}

const INSERT_INTAKE_SQL = `INSERT INTO intake (id, idem_key, request_hash, customer_id, items, payment_token, client_id, amount_cents, created_at, trace_parent)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** The wide row of a journaled order: leased (lease_owner set) or waiting, reserved by its lease or still accepted. */
const MATERIALIZE_SQL = `INSERT INTO orders (id, idem_key, request_hash, customer_id, items, payment_token, client_id, amount_cents,
    status, reason, history, created_at, updated_at, next_attempt_at, lease_owner, lease_until, attempts, pay_attempts, reserved_until, trace_parent)
  VALUES (@id, @idem_key, @request_hash, @customer_id, @items, @payment_token, @client_id, @amount_cents,
    @status, @reason, @history, @created_at, @updated_at, @next_attempt_at, @lease_owner, @lease_until, @attempts, @pay_attempts, @reserved_until, @trace_parent)`;

/** What the reserve step did to an order, as WorkLease.reserved reports it (without its duration). */
type ReserveOutcome = { status: 'reserved' | 'sold_out'; reason?: string; payStarted?: boolean };

/** The history a journaled order has: accepted at its creation. */
function acceptedHistory(createdAt: number): string {
  return JSON.stringify([{ status: 'accepted', at: new Date(createdAt).toISOString() }] satisfies StatusChange[]);
}


/**
 * The embedded order store: orders (which double as the job queue), inventory, reservations,
 * outbox and flag overrides in one SQLite file, WAL mode. A durable write is on disk before
 * anyone is told about it: the WAL is fdatasync'ed off the event loop after each group commit
 * (see WalSync) — the guarantee of synchronous=FULL without stalling intake for every fsync.
 */
export class SqliteOrderStore implements OrderReads, WorkStore {
  private db: Database.Database | undefined;
  private wal: WalSync | undefined;
  private flushScheduled = false;
  private prices = new Map<string, number>();
  private closed = false;
  /**
   * Set when an fdatasync of the WAL failed or a reopen did not succeed: the store then refuses
   * every write until restart() reopens it. After a failed fsync Linux may have dropped the dirty
   * pages it could not write and reports the error once, so a later fsync that "succeeds" proves
   * nothing about earlier commits; acknowledging anything after that could acknowledge orders
   * that are not on disk (PostgreSQL's "fsyncgate" lesson). Reopening re-reads the file, and
   * SQLite's recovery stops at the last intact commit.
   */
  private failure: Error | undefined;
  /**
   * Set while group commits fail because SQLite cannot write (SQLITE_FULL, SQLITE_IOERR): such a
   * transaction is rolled back whole, so nothing was acknowledged and the file stays consistent;
   * the store is unhealthy (/readyz 503) until a later group commit succeeds. isHealthy() queues
   * a small probe write now and then so that recovery is noticed even when no orders arrive.
   */
  private diskFault: Error | undefined;
  private lastProbeAt = 0;
  private readonly file: string;
  /**
   * The intake journal's orders by idempotency key and by order id, in journal (arrival) order:
   * the journal table has no index but its rowid, so these answer a replay, a 409 and a status
   * read. Rebuilt from the table at every open, so idempotency holds across restarts.
   */
  private journal = new Map<string, JournalEntry>();
  private journalById = new Map<string, JournalEntry>();
  /**
   * Undo of the in-memory changes (journal maps) made by the ops of the running group commit:
   * an op rolled back to its savepoint, or a group rolled back whole, takes its changes back too.
   */
  private undo: (() => void)[] = [];

  constructor(private readonly opts: SqliteOrderStoreOptions) {
    try {
      mkdirSync(opts.dir, { recursive: true });
    } catch (err) {
      throw new SurgeError('SRG_STACK_DATA_DIR', `cannot create data directory ${opts.dir}: ${(err as Error).message}`);
    }
    this.file = join(opts.dir, ORDERS_DB_FILE);
    this.open();
  }

  /** (Re)opens the database file; the restart-store fault closes and calls this again. */
  open(): void {
    let db: Database.Database;
    try {
      db = new Database(this.file);
      // Statements are prepared once per connection: compiling SQL on every step cost more than the steps.
      const cache = new Map<string, Database.Statement>();
      const prepare = db.prepare.bind(db);
      db.prepare = ((sql: string) => {
        let stmt = cache.get(sql);
        if (stmt === undefined) {
          stmt = prepare(sql);
          cache.set(sql, stmt);
        }
        return stmt;
      }) as typeof db.prepare;
      db.pragma('journal_mode = WAL');
      // NORMAL + an explicit fdatasync of the WAL before acknowledging (WalSync) = FULL's durability
      // without blocking the event loop on every commit.
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      migrate(db);
      this.loadJournal(db);
      const walFile = `${this.file}-wal`;
      if (!existsSync(walFile)) db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
      this.wal = new WalSync(walFile, this.opts.datasync);
      this.wal.onSynced = this.opts.onSynced;
      this.wal.onSettled = () => {
        if (!this.deferredUntilSync) return;
        this.deferredUntilSync = false;
        this.flush(true);
      };
    } catch (err) {
      throw new SurgeError('SRG_STACK_DATA_DIR', `cannot open the order store ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    this.db = db;
    this.closed = false;
    this.failure = undefined;
    this.diskFault = undefined;
    this.loadPrices();
    if (this.ops.length > 0) this.scheduleFlush();
  }

  private loadJournal(db: Database.Database): void {
    this.journal = new Map();
    this.journalById = new Map();
    const rows = db.prepare<[], { seq: number; id: string; idem_key: string; request_hash: string; created_at: number }>('SELECT seq, id, idem_key, request_hash, created_at FROM intake ORDER BY seq').iterate();
    for (const r of rows) this.remember({ seq: r.seq, id: r.id, key: r.idem_key, hash: r.request_hash, createdAt: r.created_at });
  }

  private remember(e: JournalEntry): void {
    this.journal.set(e.key, e);
    this.journalById.set(e.id, e);
  }

  private forget(e: JournalEntry): void {
    this.journal.delete(e.key);
    this.journalById.delete(e.id);
  }

  /** Puts forgotten entries back (a rolled-back move), keeping the maps in journal order. */
  private restore(entries: JournalEntry[]): void {
    const all = [...this.journal.values(), ...entries].sort((a, b) => a.seq - b.seq);
    this.journal = new Map();
    this.journalById = new Map();
    for (const e of all) this.remember(e);
  }

  /** Orders in the intake journal (accepted, not yet taken by the pipeline). */
  journalSize(): number {
    return this.journal.size;
  }

  private get conn(): Database.Database {
    if (this.db === undefined) throw new Error('order store is closed');
    return this.db;
  }

  private loadPrices(): void {
    this.prices = new Map(this.conn.prepare<[], { sku: string; price_cents: number }>('SELECT sku, price_cents FROM products').all().map((r) => [r.sku, r.price_cents]));
  }

  /**
   * Puts stock on the shelf. A fresh store (no products) gets `entries` or, when none are given,
   * `fallback`. An existing store is only restocked when `entries` differ from the seed applied
   * last (so restarting with the same config never puts sold units back): each listed sku is
   * created or set so that exactly `stock` units are available again (units reserved or sold stay
   * as they are); unlisted skus are left alone.
   */
  seed(entries: CatalogEntry[] | undefined, fallback: () => CatalogEntry[]): { mode: 'fresh' | 'restock' | 'kept'; skus: number } {
    const db = this.conn;
    const count = (db.prepare('SELECT COUNT(*) AS n FROM products').get() as { n: number }).n;
    const hash = entries === undefined ? undefined : createHash('sha256').update(canonicalJson(entries)).digest('hex');
    const lastHash = (db.prepare("SELECT value FROM meta WHERE key = 'seed_hash'").get() as { value: string } | undefined)?.value;
    if (count > 0 && (hash === undefined || hash === lastHash)) return { mode: 'kept', skus: count };
    const list = entries ?? fallback();
    const upsert = db.prepare(
      `INSERT INTO products (sku, name, price_cents, stock) VALUES (@sku, @name, @priceCents, @stock)
       ON CONFLICT(sku) DO UPDATE SET name = excluded.name, price_cents = excluded.price_cents,
         stock = excluded.stock + products.reserved + products.sold`,
    );
    db.transaction(() => {
      for (const e of list) upsert.run(e);
      if (hash !== undefined) db.prepare("INSERT INTO meta (key, value) VALUES ('seed_hash', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(hash);
    })();
    this.syncNow();
    this.loadPrices();
    return { mode: count === 0 ? 'fresh' : 'restock', skus: list.length };
  }

  // ---------------------------------------------------------------- group commit

  /**
   * Runs `op` inside the next group transaction and resolves after that transaction committed.
   * Every write of this event-loop turn (accepts from the API, step writes from workers, leases)
   * shares one transaction and so one fsync; each op runs in its own savepoint, so one that
   * throws is rolled back alone and rejects only its own promise.
   */
  /** `accept`: the op is an order's accept, counted in queueDepth() from now on. */
  write<T>(op: () => T, durable = true, accept = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closed) {
        reject(new Error('order store is closed'));
        return;
      }
      if (this.failure !== undefined) {
        reject(this.failure);
        return;
      }
      this.ops.push({ run: op, durable, bare: accept, resolve: resolve as (v: unknown) => void, reject });
      if (accept) this.queuedAccepts++;
      this.scheduleFlush();
    });
  }

  /**
   * Accepts queued for the next group commit. queueDepth() counts them, so that concurrent
   * orders checked against maxBacklog in the same turn see each other before any is committed.
   */
  private queuedAccepts = 0;

  /** Takes the whole queue of pending ops (for a commit, or to reject them). */
  private takeOps(): PendingOp[] {
    this.queuedAccepts = 0;
    return this.ops.splice(0, this.ops.length);
  }

  private readonly ops: PendingOp[] = [];
  private groupCreated = 0;

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate: every write of this event-loop turn joins the same transaction
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Accepts are waiting for the running fdatasync to end before they are committed (see flush). */
  private deferredUntilSync = false;

  private flush(force = false): void {
    if (this.db === undefined || this.ops.length === 0) return;
    // Accepts that arrive while an fdatasync runs cannot be acknowledged before the next one,
    // which starts only when that one ends: committed then, together, they cost one transaction
    // (and one rewrite of the journal's last page in the WAL) instead of one per event-loop turn.
    if (!force && this.wal?.busy === true && this.ops.every((op) => op.bare)) {
      this.deferredUntilSync = true;
      return;
    }
    this.deferredUntilSync = false;
    const batch = this.takeOps();
    const db = this.db;
    const savepoint = db.transaction((fn: () => unknown) => fn());
    this.groupCreated = 0;
    this.undo = [];
    let results: ({ ok: true; value: unknown } | { ok: false; error: unknown })[];
    try {
      const before = this.opts.beforeGroupCommit;
      results = db
        .transaction(() => {
          if (before !== undefined) before();
          return batch.map((op) => {
            const mark = this.undo.length;
            try {
              return { ok: true as const, value: op.bare ? op.run() : savepoint(op.run) };
            } catch (error) {
              this.undoTo(mark);
              return { ok: false as const, error };
            }
          });
        })
        .immediate();
    } catch (err) {
      this.undoTo(0);
      // A full or failing disk is logged once per outage (and when it ends), not once per commit.
      if (isDiskError(err)) this.noteDiskFault(err);
      else this.opts.logger.error({ err, batch: batch.length }, 'group commit failed');
      for (const op of batch) op.reject(err);
      return;
    }
    if (this.diskFault !== undefined) {
      const diskFailure = results.find((r) => !r.ok && isDiskError(r.error));
      if (diskFailure === undefined) {
        this.opts.logger.warn({ after: this.diskFault.message }, 'the order store writes again; /readyz answers ready');
        this.diskFault = undefined;
      }
    }
    const settle = (op: PendingOp, i: number) => {
      const r = results[i];
      if (r?.ok) op.resolve(r.value);
      else op.reject(r?.error);
    };
    // Worker steps are redelivered and idempotent, so they go on once committed; acknowledgements
    // to clients wait until the group is on disk.
    const durable: number[] = [];
    batch.forEach((op, i) => (op.durable ? durable.push(i) : settle(op, i)));
    this.undo = [];
    const created = this.groupCreated;
    if (durable.length === 0) {
      if (created > 0) this.opts.onAccepted?.(created);
      return;
    }
    const wal = this.wal;
    if (wal === undefined) {
      for (const i of durable) batch[i]!.reject(new Error('order store is closed'));
      return;
    }
    wal.sync().then(
      () => {
        for (const i of durable) settle(batch[i]!, i);
        if (created > 0) this.opts.onAccepted?.(created);
      },
      (err: unknown) => {
        // Committed but not known to be on disk: not acknowledged. A client retrying with the
        // same Idempotency-Key gets the stored order, so nothing is duplicated either way.
        this.fail(err);
        this.opts.logger.error({ err, batch: durable.length }, 'WAL fdatasync failed; the order store refuses writes until it is reopened (restart the stack)');
        for (const i of durable) batch[i]!.reject(err);
      },
    );
  }

  /** Takes back the in-memory changes of the running group made after `mark`, newest first. */
  private undoTo(mark: number): void {
    for (let i = this.undo.length - 1; i >= mark; i--) this.undo[i]!();
    this.undo.length = mark;
  }

  // ---------------------------------------------------------------- intake

  accept(req: AcceptRequest): Promise<AcceptOutcome> {
    return this.write(() => this.acceptOne(req, this.opts.now()), true, true);
  }

  private acceptOne(req: AcceptRequest, now: number): AcceptOutcome {
    const db = this.conn;
    // A key seen before: in the journal (memory) or, once the pipeline took its order, on the
    // orders table's unique index. A new key (nearly every request) costs a map miss and one probe.
    const replay = (): AcceptOutcome | undefined => {
      const journaled = this.journal.get(req.idempotencyKey);
      if (journaled !== undefined) {
        if (journaled.hash !== req.requestHash) return { kind: 'conflict', orderId: journaled.id };
        const row = this.journalRow(journaled);
        return row === undefined ? undefined : { kind: 'existing', order: this.toView(row, now) };
      }
      const existing = db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE idem_key = ?').get(req.idempotencyKey);
      if (existing === undefined) return undefined;
      return existing.request_hash === req.requestHash ? { kind: 'existing', order: this.toView(existing, now) } : { kind: 'conflict', orderId: existing.id };
    };
    // The API validates bodies; this guard keeps a malformed order from becoming a job that fails forever.
    const items = req.order.items;
    if (items.length === 0 || items.some((i) => typeof i.sku !== 'string' || !Number.isInteger(i.qty) || i.qty <= 0)) {
      throw new RangeError('an order needs at least one item, each with a sku and a whole qty > 0');
    }
    let amount = 0;
    let unknown: string[] | undefined;
    for (const i of items) {
      const price = this.prices.get(i.sku);
      if (price !== undefined) amount += price * i.qty;
      else if (unknown === undefined) unknown = [i.sku];
      else if (!unknown.includes(i.sku)) unknown.push(i.sku);
    }
    // a replay of a key is answered with its order even if a sku has left the catalog since
    if (unknown !== undefined) return replay() ?? { kind: 'unknown_sku', skus: unknown };
    const seen = replay();
    if (seen !== undefined) return seen;
    const id = newOrderId(now);
    const stored: OrderItem[] = items.map((i) => ({ sku: i.sku, qty: i.qty }));
    // Served after every due order of the orders table, then in journal order: this one is last.
    // Worked out before the insert, which must stay this op's last step (it has no savepoint).
    const position = this.queueDepthEstimate(now) + this.journal.size + 1;
    const seq = Number(
      db
        .prepare(INSERT_INTAKE_SQL)
        .run(id, req.idempotencyKey, req.requestHash, req.order.customerId, JSON.stringify(stored), req.order.paymentToken ?? null, req.clientId ?? null, amount, now, req.traceParent ?? null)
        .lastInsertRowid,
    );
    const entry: JournalEntry = { seq, id, key: req.idempotencyKey, hash: req.requestHash, createdAt: now };
    this.remember(entry);
    this.undo.push(() => this.forget(entry));
    this.groupCreated += 1;
    const iso = new Date(now).toISOString();
    const order: OrderView = {
      orderId: id,
      customerId: req.order.customerId,
      items: stored,
      status: 'accepted',
      history: [{ status: 'accepted', at: iso }],
      createdAt: iso,
      updatedAt: iso,
      queuePosition: position,
    };
    order.estimatedWaitMs = this.estimateWait(position) ?? null;
    return { kind: 'created', order };
  }

  /** A journaled order as an orders-table row would show it (accepted, waiting since it came). */
  private journalRow(e: JournalEntry): OrderRow | undefined {
    const r = this.conn.prepare<[number], IntakeRow>('SELECT * FROM intake WHERE seq = ?').get(e.seq);
    if (r === undefined) return undefined;
    return {
      ...r,
      seq: r.seq,
      status: 'accepted',
      reason: null,
      history: acceptedHistory(r.created_at),
      updated_at: r.created_at,
      next_attempt_at: r.created_at,
      lease_owner: null,
      lease_until: null,
      attempts: 0,
      pay_attempts: 0,
      charge_id: null,
      reserved_until: null,
      notified: 0,
    };
  }

  /**
   * Moves journaled orders (the journal's oldest first, or one given entry) into the orders table:
   * leased to `tokens[i]` when tokens are given, else waiting as accepted. Runs inside a write.
   */
  private materialize(
    entries: JournalEntry[],
    lease?: { tokens: string[]; until: number },
    /** Runs before each row is written and may change it (the lease's reserve step). */
    shape?: (row: OrderRow) => void,
  ): OrderRow[] {
    if (entries.length === 0) return [];
    const db = this.conn;
    const insert = db.prepare(MATERIALIZE_SQL);
    // The lease takes the journal's head, a run of consecutive rows: one range read and one range
    // delete for all of them (a cancel takes one order, anywhere).
    const first = entries[0]!.seq;
    const last = entries[entries.length - 1]!.seq;
    const range = db.prepare<[number, number], IntakeRow>('SELECT * FROM intake WHERE seq BETWEEN ? AND ? ORDER BY seq').all(first, last);
    const bySeq = range.length === entries.length ? undefined : new Map(range.map((r) => [r.seq, r]));
    const rows: OrderRow[] = [];
    entries.forEach((e, i) => {
      const r = bySeq === undefined ? range[i] : bySeq.get(e.seq);
      if (r === undefined || r.seq !== e.seq) throw new Error(`order ${e.id} is in the intake journal's index but not in its table`);
      const row: OrderRow = {
        ...r,
        status: 'accepted',
        reason: null,
        history: acceptedHistory(r.created_at),
        updated_at: r.created_at,
        next_attempt_at: lease !== undefined ? lease.until : r.created_at,
        lease_owner: lease?.tokens[i] ?? null,
        lease_until: lease !== undefined ? lease.until : null,
        attempts: lease !== undefined ? 1 : 0,
        pay_attempts: 0,
        charge_id: null,
        reserved_until: null,
        notified: 0,
      };
      shape?.(row);
      row.seq = Number(insert.run(row).lastInsertRowid);
      this.forget(e);
      rows.push(row);
    });
    this.undo.push(() => this.restore(entries));
    if (bySeq === undefined) db.prepare('DELETE FROM intake WHERE seq BETWEEN ? AND ?').run(first, last);
    else for (const e of entries) db.prepare('DELETE FROM intake WHERE seq = ?').run(e.seq);
    return rows;
  }

  private estimateWait(position: number): number | undefined {
    const tp = this.opts.throughputPerSec();
    return tp > 0 ? Math.round((position / tp) * 1000) : undefined;
  }

  private depthCache: { at: number; depth: number; nextCountAt: number } | undefined;

  /**
   * Orders waiting for a worker, as an estimate cheap enough for every request (the load shedder,
   * queuePosition): a COUNT over the due index is O(backlog), so it is redone only every
   * 100 ms and never more than 1 % of the time (100x its own duration apart); in between, orders
   * created are added and jobs leased taken off. Workers take jobs meanwhile, so a position is an
   * estimate to a client anyway; /metrics reports the exact count.
   */
  /** Orders waiting for a worker: the committed estimate plus accepts queued for the next commit. */
  queueDepth(): number {
    return this.queueDepthEstimate(this.opts.now()) + this.journal.size + this.queuedAccepts;
  }

  /** Due orders of the orders table (estimate, see queueDepth); the journal is counted apart, exactly. */
  private queueDepthEstimate(now: number): number {
    const c = this.depthCache;
    if (c === undefined || now >= c.nextCountAt || now < c.at) {
      const started = performance.now();
      const depth = this.dueCount(now);
      const tookMs = performance.now() - started;
      this.depthCache = { at: now, depth, nextCountAt: now + Math.max(100, Math.ceil(tookMs * 100)) };
      return depth;
    }
    return c.depth;
  }

  private dueCount(now: number): number {
    return (this.conn.prepare('SELECT COUNT(*) AS n FROM orders WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?').get(now) as { n: number }).n;
  }

  /** The order as GET /v1/orders/:id shows it; async for the port (one primary-key read, answered at once). */
  async getOrder(orderId: string): Promise<OrderView | undefined> {
    return this.orderView(orderId);
  }

  /** getOrder() for callers inside this store and SQLite-only tests: no promise. */
  orderView(orderId: string): OrderView | undefined {
    const row = this.getRow(orderId);
    return row === undefined ? undefined : this.toView(row, this.opts.now());
  }

  getRow(orderId: string): OrderRow | undefined {
    const row = this.conn.prepare<[string], OrderRow>('SELECT * FROM orders WHERE id = ?').get(orderId);
    if (row !== undefined) return row;
    const journaled = this.journalById.get(orderId);
    return journaled === undefined ? undefined : this.journalRow(journaled);
  }

  private toView(row: OrderRow, now: number): OrderView {
    // What the flags decided at confirm time (two primary-key reads, for confirmed orders only).
    const confirmed =
      row.status === 'confirmed'
        ? { payload: this.outboxPayload(row.id), points: this.conn.prepare<[string], { points: number }>('SELECT points FROM loyalty_ledger WHERE order_id = ?').get(row.id)?.points }
        : undefined;
    const position = isWaiting(row, now) ? this.queuePositionOf(row, now) : undefined;
    return orderViewOf(row, confirmed, position === undefined ? undefined : { position, estimatedWaitMs: this.estimateWait(position) ?? null });
  }


  /**
   * 1-based rank of a waiting order in the queue: counted exactly among the first
   * EXACT_POSITIONS, estimated from the order's sequence number beyond that. Customers poll
   * their order's status during a surge; an exact COUNT is O(position), 5.6 ms for an order at
   * the back of a 50k queue, on every poll.
   */
  private queuePositionOf(row: OrderRow, now: number): number {
    // A journaled order comes after every due order of the orders table, then in journal order.
    const journaled = this.journalById.get(row.id);
    if (journaled !== undefined) {
      const head = this.journal.values().next().value as JournalEntry;
      let rank = 1;
      if (journaled.seq - head.seq < EXACT_POSITIONS) {
        for (const e of this.journal.values()) {
          if (e.seq >= journaled.seq) break;
          rank++;
        }
      } else rank = journaled.seq - head.seq + 1;
      return this.queueDepthEstimate(now) + Math.min(rank, this.journal.size);
    }
    const ahead = (
      this.conn
        .prepare(
          `SELECT COUNT(*) AS n FROM (SELECT 1 FROM orders WHERE next_attempt_at IS NOT NULL
             AND (next_attempt_at < @at OR (next_attempt_at = @at AND seq < @seq)) LIMIT @cap)`,
        )
        .get({ at: row.next_attempt_at, seq: row.seq, cap: EXACT_POSITIONS }) as { n: number }
    ).n;
    if (ahead < EXACT_POSITIONS) return ahead + 1;
    // Far back: orders leave the queue mostly in arrival order, so the distance in sequence
    // numbers from the head is close, bounded by the queue's length.
    const head = this.conn
      .prepare<[], { seq: number }>('SELECT seq FROM orders WHERE next_attempt_at IS NOT NULL ORDER BY next_attempt_at, seq LIMIT 1')
      .get();
    const bySeq = head === undefined ? EXACT_POSITIONS + 1 : row.seq - head.seq + 1;
    const depth = this.queueDepthEstimate(now);
    return Math.max(EXACT_POSITIONS + 1, Math.min(bySeq, depth));
  }

  async listInventory(): Promise<InventoryItem[]> {
    return this.inventoryNow();
  }

  /** listInventory() without the promise (SQLite-only callers). */
  inventoryNow(): InventoryItem[] {
    return this.conn
      .prepare<[], StockLevel>('SELECT sku, stock, reserved, sold FROM products ORDER BY sku')
      .all()
      .map((l) => ({ sku: l.sku, available: l.stock - l.reserved - l.sold, reserved: l.reserved, sold: l.sold }));
  }

  /**
   * Exact figures for /metrics and /admin/status. Counts by status and sold units come from
   * trigger-kept counters (O(statuses + skus)); the due count is O(backlog), which the load
   * shedder bounds (maxBacklog).
   */
  async stats(): Promise<StoreStats> {
    return this.statsNow();
  }

  /** stats() without the promise (SQLite-only callers). */
  statsNow(): StoreStats {
    const now = this.opts.now();
    const db = this.conn;
    const byStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
    for (const r of db.prepare<[], { status: OrderStatus; n: number }>('SELECT status, n FROM order_status_counts').all()) byStatus[r.status] = r.n;
    byStatus.accepted += this.journal.size;
    const oldest = db
      .prepare<[number], { created_at: number }>('SELECT created_at FROM orders WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT 1')
      .get(now);
    const head = this.journal.values().next().value as JournalEntry | undefined;
    const oldestAt = Math.min(oldest?.created_at ?? Infinity, head?.createdAt ?? Infinity);
    const due = this.dueCount(now);
    if (this.depthCache !== undefined) this.depthCache = { ...this.depthCache, at: now, depth: due };
    return { queueDepth: due + this.journal.size, oldestWaitingMs: oldestAt === Infinity ? 0 : Math.max(0, now - oldestAt), byStatus, oversold: this.oversold() };
  }

  /**
   * Units sold beyond stock, from the sold reservations (summed per sku by triggers on the
   * reservations table), not from the products counters, which the same code paths maintain
   * and so could be wrong together.
   */
  oversold(): number {
    const rows = this.conn
      .prepare<[], { stock: number; sold: number }>('SELECT p.stock AS stock, COALESCE(a.qty, 0) AS sold FROM products p LEFT JOIN sold_audit a ON a.sku = p.sku')
      .all();
    return oversoldUnits(rows);
  }

  /**
   * Cancels an order that has not been paid; releases its reservation. The transaction and its
   * fsync run before the promise is made (a synchronous write, as before): callers see it done.
   */
  async cancel(orderId: string, reason: string): Promise<boolean> {
    return this.cancelNow(orderId, reason);
  }

  /** cancel() without the promise: for SQLite-only callers that must cancel inside a turn of the event loop. */
  cancelNow(orderId: string, reason: string): boolean {
    this.assertWritable();
    const now = this.opts.now();
    const mark = this.undo.length;
    let cancelled: boolean;
    try {
      cancelled = this.cancelTx(orderId, reason, now);
    } catch (err) {
      this.undoTo(mark);
      throw err;
    }
    this.undo.length = mark;
    // The API answers right after this returns: the cancel must be on disk first (rare, so blocking is fine).
    if (cancelled) {
      this.syncNow();
      this.opts.onCancelled?.(orderId, reason);
    }
    return cancelled;
  }

  private cancelTx(orderId: string, reason: string, now: number): boolean {
    return this.conn.transaction((): boolean => {
      // A journaled order gets its orders row first, so the cancel is recorded like any other.
      const journaled = this.journalById.get(orderId);
      if (journaled !== undefined) this.materialize([journaled]);
      const row = this.getRow(orderId);
      // Once a charge may have been sent, only the gateway knows whether money moved: refuse.
      if (row === undefined || !CANCELLABLE.has(row.status) || row.pay_attempts > 0) return false;
      this.releaseReservations(orderId);
      this.setStatus(row, 'cancelled', now, reason);
      this.conn.prepare('UPDATE orders SET next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL, reserved_until = NULL WHERE id = ?').run(orderId);
      return true;
    }).immediate();
  }

  /**
   * How the connection keeps orders durable, as SQLite reports it: WAL journal with
   * synchronous=NORMAL, made as safe as FULL by the fdatasync of the WAL before any answer.
   */
  durabilitySettings(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' } {
    const levels = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
    const sync = this.conn.pragma('synchronous', { simple: true }) as number;
    return { journalMode: String(this.conn.pragma('journal_mode', { simple: true })), synchronous: levels[sync] ?? 'OFF' };
  }

  isHealthy(): boolean {
    if (this.failure !== undefined || this.db === undefined || !this.db.open) return false;
    if (this.diskFault !== undefined) {
      this.probeWrite();
      return false;
    }
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  /** Commits waiting writes, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.db !== undefined) {
      this.flush(true);
      this.db.close();
      this.db = undefined;
    }
    this.wal?.close();
    this.wal = undefined;
    for (const op of this.takeOps()) op.reject(new Error('order store is closed'));
  }

  private noteDiskFault(err: unknown): void {
    if (this.diskFault === undefined) this.opts.logger.error({ err }, 'the order store cannot write (disk full or I/O error); /readyz answers 503 until a write succeeds');
    this.diskFault = err as Error;
  }

  /** A tiny write, at most once a second while writes fail, to notice when the disk takes them again. */
  private probeWrite(): void {
    const now = Date.now();
    if (now - this.lastProbeAt < 1_000) return;
    this.lastProbeAt = now;
    this.write(() => this.conn.prepare("INSERT INTO meta (key, value) VALUES ('write_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(now)), false).catch(
      () => undefined, // still failing: noted by the group commit
    );
  }

  /** Fail-stop: refuse every write from now on, and those already queued, until a reopen. */
  private fail(cause: unknown): void {
    this.failure ??= new Error(`the order store stopped taking writes after a failed write to disk (${(cause as Error).message}); it must be reopened (restart the stack)`, { cause });
    for (const op of this.takeOps()) op.reject(this.failure);
  }

  /** The synchronous writes (cancel, flag overrides) refuse as well once the store failed. */
  private assertWritable(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** fdatasync for the synchronous writes: a failure stops the store like a failed group sync. */
  private syncNow(): void {
    try {
      this.wal?.syncNow();
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  /**
   * Closes and reopens the database (the restart-store fault, and the way back after a failed
   * fdatasync). Writes queued meanwhile are committed after the reopen. Returns the time the
   * store was unavailable, ms. When the reopen fails, the queued writes are rejected and the
   * store refuses writes until a later restart() succeeds.
   */
  restart(): number {
    if (this.closed) throw new Error('order store is closed');
    const started = performance.now();
    if (this.failure === undefined) this.flush(true);
    this.db?.close();
    this.db = undefined;
    this.wal?.close();
    this.wal = undefined;
    try {
      this.open();
    } catch (err) {
      this.failure = undefined;
      this.fail(err);
      throw err;
    }
    return performance.now() - started;
  }

  // ---------------------------------------------------------------- queue

  /**
   * Leases up to `tokens.length` due jobs, oldest first, one token each, in one transaction.
   * A job whose previous lease ran out without an ack comes back with `redelivered: true`.
   */
  private leaseBatchTx(tokens: string[], leaseMs: number, reserve?: { startPayment: boolean }): LeasedJob[] {
    if (tokens.length === 0) return [];
    const now = this.opts.now();
    const until = now + leaseMs;
    const db = this.conn;
    const due = db.prepare<[number, number], { seq: number; id: string; lease_owner: string | null; trace_parent: string | null }>(
      'SELECT seq, id, lease_owner, trace_parent FROM orders WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?',
    );
    const take = db.prepare('UPDATE orders SET lease_owner = ?, lease_until = ?, next_attempt_at = ?, attempts = attempts + 1 WHERE seq = ?');
    return db
      .transaction((): LeasedJob[] => {
        // Orders the orders table holds due (redeliveries, deferred payments, orders journaled by
        // an older version) first: they came before anything in the journal.
        const rows = due.all(now, tokens.length);
        // leased jobs are no longer waiting (an estimate: a rolled-back lease is recounted soon)
        if (this.depthCache !== undefined) this.depthCache.depth = Math.max(0, this.depthCache.depth - rows.length);
        const jobs = rows.map((r, i) => {
          const token = tokens[i] as string;
          take.run(token, until, until, r.seq);
          const job: LeasedJob = { orderId: r.id, token, redelivered: r.lease_owner !== null };
          // only orders accepted with tracing on have one
          if (r.trace_parent !== null) job.traceParent = r.trace_parent;
          return job;
        });
        // Then the journal, oldest first: each order gets its wide row, leased, in this commit.
        const free = tokens.length - jobs.length;
        if (free > 0 && this.journal.size > 0) {
          const entries: JournalEntry[] = [];
          for (const e of this.journal.values()) {
            if (entries.length >= free) break;
            entries.push(e);
          }
          const outcomes = new Map<string, ReserveOutcome & { ms: number }>();
          const leaseTokens = tokens.slice(jobs.length);
          // With `reserve`, each order is written reserved (or sold out) at once: one write of its
          // row instead of an insert and then the reserve step's update.
          const shape =
            reserve === undefined
              ? undefined
              : (row: OrderRow) => {
                  const started = performance.now();
                  const r = this.reserveNew(row, now, reserve.startPayment);
                  if (r !== undefined) outcomes.set(row.id, { ...r, ms: performance.now() - started });
                };
          const leased = this.materialize(entries, { tokens: leaseTokens, until }, shape);
          leased.forEach((row, i) => {
            const job: LeasedJob = { orderId: row.id, token: leaseTokens[i] as string, redelivered: false, row };
            if (row.trace_parent !== null) job.traceParent = row.trace_parent;
            const r = outcomes.get(row.id);
            if (r !== undefined) {
              job.reserved = r;
              // a sold-out job is done: nothing for the worker to read
              if (r.status === 'sold_out') delete job.row;
            }
            jobs.push(job);
          });
        }
        return jobs;
      })
      .immediate();
  }

  /** Extends a lease we still hold; false when it was lost (expired and taken, or the order was cancelled). */
  private renewLeaseTx(orderId: string, token: string, leaseMs: number): boolean {
    const until = this.opts.now() + leaseMs;
    return this.conn.prepare('UPDATE orders SET lease_until = ?, next_attempt_at = ? WHERE id = ? AND lease_owner = ?').run(until, until, orderId, token).changes === 1;
  }

  /**
   * Leases left by a previous process are dead (we hold the directory lock): make them due now
   * instead of waiting for their expiry. They keep their owner so the next lease counts as a redelivery.
   */
  reclaimLeases(): Promise<number> {
    const now = this.opts.now();
    return Promise.resolve(this.conn.prepare('UPDATE orders SET next_attempt_at = ?, lease_until = ? WHERE lease_owner IS NOT NULL AND next_attempt_at IS NOT NULL').run(now, now).changes);
  }

  /** Finishes a job: the order needs more work at `nextAttemptAt`, or none (null). */
  private ackTx(orderId: string, token: string, nextAttemptAt: number | null): boolean {
    return this.conn.prepare('UPDATE orders SET lease_owner = NULL, lease_until = NULL, next_attempt_at = ? WHERE id = ? AND lease_owner = ?').run(nextAttemptAt, orderId, token).changes === 1;
  }

  /** Loads the order of a job if `token` still owns it. */
  /** The order row if this lease still holds it (the worker's read). */
  ownedRow(orderId: string, token: string): Promise<OrderRow | undefined> {
    return Promise.resolve(this.rowOwned(orderId, token));
  }

  private rowOwned(orderId: string, token: string): OrderRow | undefined {
    return this.conn.prepare<[string, string], OrderRow>('SELECT * FROM orders WHERE id = ? AND lease_owner = ?').get(orderId, token);
  }

  // ---------------------------------------------------------------- steps (each one transaction, guarded by the lease)

  private setStatus(row: OrderRow, to: OrderStatus, now: number, reason?: string, token?: string): void {
    assertTransition(row.status, to);
    const entry: StatusChange = { status: to, at: new Date(now).toISOString(), ...(reason !== undefined ? { reason } : {}) };
    const res = this.conn
      .prepare(
        `UPDATE orders SET status = @to, reason = @reason, updated_at = @now,
           history = json_insert(history, '$[#]', json(@entry))
         WHERE id = @id AND status = @from ${token !== undefined ? 'AND lease_owner = @token' : ''}`,
      )
      .run({ to, reason: reason ?? null, now, entry: JSON.stringify(entry), id: row.id, from: row.status, ...(token !== undefined ? { token } : {}) });
    if (res.changes !== 1) throw lostLease(row.id);
  }

  private releaseReservations(orderId: string): void {
    const held = this.conn.prepare<[string], { sku: string; qty: number }>("SELECT sku, qty FROM reservations WHERE order_id = ? AND state = 'held'").all(orderId);
    const dec = this.conn.prepare('UPDATE products SET reserved = reserved - ? WHERE sku = ?');
    for (const h of held) dec.run(h.qty, h.sku);
    this.conn.prepare("UPDATE reservations SET state = 'released' WHERE order_id = ? AND state = 'held'").run(orderId);
  }

  /**
   * Reserves every item of an accepted order, all or nothing, or ends it as sold_out naming the
   * first sku short of stock. Runs as one IMMEDIATE transaction: nothing can interleave between
   * the availability check and the update, so stock can never be reserved twice.
   */
  /**
   * The reserve step for an order the lease is moving out of the journal, before its row is
   * written: stock is held (all or nothing) and `row` becomes reserved, or sold_out and done. In
   * a savepoint of its own: if holding the stock fails, the order is written accepted and
   * untouched, and the worker runs the step itself. Undefined then.
   */
  private reserveNew(row: OrderRow, now: number, startPayment: boolean): ReserveOutcome | undefined {
    const db = this.conn;
    try {
      return db.transaction((): ReserveOutcome => {
        const need = aggregateItems(JSON.parse(row.items) as OrderItem[]);
        const level = db.prepare<[string], StockLevel>('SELECT sku, stock, reserved, sold FROM products WHERE sku = ?');
        const decision = decideReservation(need, (sku) => level.get(sku));
        const at = new Date(now).toISOString();
        const history = JSON.parse(row.history) as StatusChange[];
        if (!decision.ok) {
          const reason = `sku ${decision.sku} sold out (wanted ${decision.wanted}, available ${decision.available})`;
          assertTransition(row.status, 'sold_out');
          Object.assign(row, {
            status: 'sold_out',
            reason,
            updated_at: now,
            history: JSON.stringify([...history, { status: 'sold_out', at, reason }]),
            // final: the job is done (acked) in the same write
            next_attempt_at: null,
            lease_owner: null,
            lease_until: null,
          } satisfies Partial<OrderRow>);
          return { status: 'sold_out', reason };
        }
        const inc = db.prepare('UPDATE products SET reserved = reserved + ? WHERE sku = ?');
        const hold = db.prepare("INSERT INTO reservations (order_id, sku, qty, state) VALUES (?, ?, ?, 'held')");
        for (const [sku, qty] of need) {
          inc.run(qty, sku);
          hold.run(row.id, sku, qty);
        }
        assertTransition(row.status, 'reserved');
        Object.assign(row, {
          status: 'reserved',
          updated_at: now,
          history: JSON.stringify([...history, { status: 'reserved', at }]),
          reserved_until: now + this.opts.reservationTtlMs,
          pay_attempts: startPayment ? 1 : 0,
        } satisfies Partial<OrderRow>);
        return { status: 'reserved', payStarted: startPayment };
      })();
    } catch (err) {
      this.opts.logger.warn({ orderId: row.id, err }, 'reserve during lease failed');
      return undefined;
    }
  }

  private reserveTx(
    orderId: string,
    token: string,
    startPayment: boolean,
    known?: OrderRow,
  ): { status: 'reserved' | 'sold_out'; reason?: string; payStarted?: boolean; row: OrderRow } {
    const now = this.opts.now();
    return this.conn
      .transaction(() => {
        const row = known ?? this.rowOwned(orderId, token);
        if (row === undefined) throw lostLease(orderId);
        if (row.status !== 'accepted') return { status: row.status === 'sold_out' ? 'sold_out' : 'reserved', payStarted: row.pay_attempts > 0, row } as const;
        const need = aggregateItems(JSON.parse(row.items) as OrderItem[]);
        const level = this.conn.prepare<[string], StockLevel>('SELECT sku, stock, reserved, sold FROM products WHERE sku = ?');
        const decision = decideReservation(need, (sku) => level.get(sku));
        if (!decision.ok) {
          const reason = `sku ${decision.sku} sold out (wanted ${decision.wanted}, available ${decision.available})`;
          this.setStatus(row, 'sold_out', now, reason, token);
          return { status: 'sold_out', reason, row } as const;
        }
        const inc = this.conn.prepare('UPDATE products SET reserved = reserved + ? WHERE sku = ?');
        const hold = this.conn.prepare("INSERT INTO reservations (order_id, sku, qty, state) VALUES (?, ?, ?, 'held')");
        for (const [sku, qty] of need) {
          inc.run(qty, sku);
          hold.run(orderId, sku, qty);
        }
        // status, history, reservation expiry and the charge mark in one write of the order row
        assertTransition(row.status, 'reserved');
        const entry: StatusChange = { status: 'reserved', at: new Date(now).toISOString() };
        const history = JSON.stringify([...(JSON.parse(row.history) as StatusChange[]), entry]);
        const reservedUntil = now + this.opts.reservationTtlMs;
        const changed = this.conn
          .prepare(
            `UPDATE orders SET status = 'reserved', reason = NULL, updated_at = @now, history = @history,
               reserved_until = @reservedUntil, pay_attempts = pay_attempts + @pay
             WHERE id = @id AND status = 'accepted' AND lease_owner = @token`,
          )
          .run({ now, history, reservedUntil, pay: startPayment ? 1 : 0, id: orderId, token }).changes;
        if (changed !== 1) throw lostLease(orderId);
        const after: OrderRow = {
          ...row,
          status: 'reserved',
          reason: null,
          updated_at: now,
          history,
          reserved_until: reservedUntil,
          pay_attempts: row.pay_attempts + (startPayment ? 1 : 0),
        };
        return { status: 'reserved', payStarted: startPayment, row: after } as const;
      })
      .immediate();
  }

  /**
   * Records that a charge is about to be sent (durably, before the request leaves), so a
   * reservation with a possibly-charged payment is never expired or cancelled.
   * Returns false when the order is no longer ours or no longer payable.
   */
  private markPayAttemptTx(orderId: string, token: string): boolean {
    return this.conn.prepare(MARK_PAY_ATTEMPT_SQL).run(orderId, token).changes === 1;
  }

  /** The gateway is unavailable: wait in payment_pending until `retryAt` (the job is acked). */
  private deferPaymentTx(orderId: string, token: string, retryAt: number, reason: string): void {
    const now = this.opts.now();
    this.conn
      .transaction(() => {
        const row = this.mustOwn(orderId, token);
        // One history entry per outage, not one per retry: a long outage would bloat the order.
        if (row.status !== 'payment_pending') this.setStatus(row, 'payment_pending', now, reason, token);
        this.conn.prepare('UPDATE orders SET lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, reason = ? WHERE id = ?').run(retryAt, reason, orderId);
      })
      .immediate();
  }

  /** Declined: final payment_failed, stock back on the shelf, job done. */
  private failPaymentTx(orderId: string, token: string, reason: string): void {
    this.endWithRelease(orderId, token, 'payment_failed', reason);
  }

  /** A reservation ran out before any charge was sent: cancelled, stock released, job done. */
  private expireTx(orderId: string, token: string): void {
    this.endWithRelease(orderId, token, 'cancelled', 'reservation_expired');
  }

  private endWithRelease(orderId: string, token: string, to: OrderStatus, reason: string): void {
    const now = this.opts.now();
    this.conn
      .transaction(() => {
        const row = this.mustOwn(orderId, token);
        this.releaseReservations(orderId);
        this.setStatus(row, to, now, reason, token);
        this.conn.prepare('UPDATE orders SET lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, reserved_until = NULL WHERE id = ?').run(orderId);
      })
      .immediate();
  }

  /** The confirm's stock move: the order's held units become sold. Runs inside settle(). */
  private sellHeld(orderId: string): void {
    this.conn
      .prepare(
        `UPDATE products SET reserved = products.reserved - r.qty, sold = products.sold + r.qty
         FROM reservations r WHERE r.order_id = ? AND r.state = 'held' AND r.sku = products.sku`,
      )
      .run(orderId);
    this.conn.prepare("UPDATE reservations SET state = 'sold' WHERE order_id = ? AND state = 'held'").run(orderId);
  }

  /** Writes the loyalty credit and the notification (each once) as `features` say. Runs inside settle(). */
  private writeNotification(row: OrderRow, features: SettleFeatures, now: number): boolean {
    const orderId = row.id;
    let written = false;
    if (features.loyaltyPoints) {
      // one point per whole currency unit; keyed by order so a re-run credits once
      this.conn
        .prepare('INSERT OR IGNORE INTO loyalty_ledger (order_id, customer_id, points, created_at) VALUES (?, ?, ?, ?)')
        .run(orderId, row.customer_id, Math.floor(row.amount_cents / 100), now);
    }
    if (features.notifications) {
      let recommendations: string[] | undefined;
      if (features.recommendations) {
        const bought = new Set((JSON.parse(row.items) as OrderItem[]).map((i) => i.sku));
        recommendations = this.bestSellers(now)
          .filter((sku) => !bought.has(sku))
          .slice(0, 3);
      }
      const payload = { orderId, customerId: row.customer_id, amountCents: row.amount_cents, ...(recommendations !== undefined ? { recommendations } : {}) };
      written = this.conn.prepare('INSERT OR IGNORE INTO outbox (order_id, kind, payload, created_at) VALUES (?, ?, ?, ?)').run(orderId, 'order_confirmed', JSON.stringify(payload), now).changes === 1;
    }
    return written;
  }

  /**
   * The 8 best-selling skus still in stock, for recommendations. Ranked again at most every
   * BEST_SELLERS_TTL_MS: a full scan and sort of the catalog per confirmed order was a tenth of
   * the confirm step, and a ranking a second old recommends as well.
   */
  private bestSellers(now: number): string[] {
    const cached = this.bestSellersCache;
    if (cached !== undefined && now - cached.at >= 0 && now - cached.at < BEST_SELLERS_TTL_MS) return cached.skus;
    const skus = this.conn
      .prepare<[], { sku: string }>('SELECT sku FROM products WHERE stock - reserved - sold > 0 ORDER BY sold DESC, sku LIMIT 8')
      .all()
      .map((r) => r.sku);
    this.bestSellersCache = { at: now, skus };
    return skus;
  }

  private bestSellersCache: { at: number; skus: string[] } | undefined;

  private mustOwn(orderId: string, token: string): OrderRow {
    const row = this.rowOwned(orderId, token);
    if (row === undefined) throw lostLease(orderId);
    return row;
  }

  /**
   * Cancels orders whose reservation ran out before any charge was sent and that no live worker
   * holds. Orders with a charge attempt are left to the pipeline: only the gateway knows whether
   * money moved, and it answers the same idempotency key the same way, so they are retried.
   */
  private expireReservationsTx(limit = 500): string[] {
    const now = this.opts.now();
    return this.conn
      .transaction((): string[] => {
        const rows = this.conn.prepare<[number, number, number], OrderRow>(EXPIRED_RESERVATIONS_SQL).all(now, now, limit);
        for (const row of rows) {
          this.releaseReservations(row.id);
          this.setStatus(row, 'cancelled', now, 'reservation_expired');
          this.conn.prepare('UPDATE orders SET lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, reserved_until = NULL WHERE id = ?').run(row.id);
        }
        return rows.map((r) => r.id);
      })
      .immediate();
  }

  /** The notification payload written for an order, if any. */
  outboxPayload(orderId: string): Record<string, unknown> | undefined {
    const r = this.conn.prepare<[string], { payload: string }>('SELECT payload FROM outbox WHERE order_id = ?').get(orderId);
    return r === undefined ? undefined : (JSON.parse(r.payload) as Record<string, unknown>);
  }

  /** Loyalty points credited to a customer. */
  loyaltyPoints(customerId: string): number {
    return (this.conn.prepare<[string], { n: number | null }>('SELECT SUM(points) AS n FROM loyalty_ledger WHERE customer_id = ?').get(customerId)?.n ?? 0);
  }

  /** Count of outbox rows (notifications written). */
  outboxCount(): number {
    return (this.conn.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  }

  // ---------------------------------------------------------------- async API of the queue and steps (group-committed)

  /**
   * Leases up to `tokens.length` due jobs, oldest first, one token each. A job whose previous
   * lease ran out without an ack comes back with `redelivered: true`.
   */
  leaseBatch(tokens: string[], leaseMs: number, opts: { reserve?: boolean; startPayment?: boolean } = {}): Promise<LeasedJob[]> {
    return this.write(() => {
      const jobs = this.leaseBatchTx(tokens, leaseMs, opts.reserve === true ? { startPayment: opts.startPayment === true } : undefined);
      if (opts.reserve !== true) {
        // the row rides along only with a reserve (WorkLease.row), as on every backend
        for (const job of jobs) delete job.row;
        return jobs;
      }
      // Reserving new orders in the lease commit takes one fsync off every order's path.
      for (const job of jobs) {
        // reserved (or found sold out) as the lease moved it out of the journal
        if (job.reserved !== undefined) continue;
        const started = performance.now();
        // a journaled order's row was just written by the lease: no need to read it back
        const row = job.row ?? this.rowOwned(job.orderId, job.token);
        if (row === undefined) continue;
        if (row.status !== 'accepted') {
          job.row = row;
          continue;
        }
        try {
          const { row: after, ...r } = this.reserveTx(job.orderId, job.token, opts.startPayment === true, row);
          if (r.status === 'sold_out') this.ackTx(job.orderId, job.token, null);
          else job.row = after;
          job.reserved = { ...r, ms: performance.now() - started };
        } catch (err) {
          // rolled back to its savepoint; the worker runs the step again and reports the failure
          this.opts.logger.warn({ orderId: job.orderId, err }, 'reserve during lease failed');
        }
      }
      return jobs;
      // durable when it records coming charges: see markPayAttempt
    }, opts.startPayment === true);
  }

  /** Extends a lease we still hold; false when it was lost (expired and taken, or the order was cancelled). */
  renewLease(orderId: string, token: string, leaseMs: number): Promise<boolean> {
    return this.write(() => this.renewLeaseTx(orderId, token, leaseMs), false);
  }

  /** Finishes a job: the order needs more work at `nextAttemptAt`, or none (null). */
  ack(orderId: string, token: string, nextAttemptAt: number | null): Promise<boolean> {
    return this.write(() => this.ackTx(orderId, token, nextAttemptAt), false);
  }

  /**
   * Reserves every item of an accepted order, all or nothing, or ends it as sold_out (and acks
   * the job) naming the first sku short of stock. With `startPayment` the same commit records
   * the coming charge attempt (see markPayAttempt), saving one fsync per order.
   */
  reserve(orderId: string, token: string, startPayment = false): Promise<{ status: 'reserved' | 'sold_out'; reason?: string; payStarted?: boolean }> {
    return this.write(() => {
      const { row: _row, ...r } = this.reserveTx(orderId, token, startPayment);
      if (r.status === 'sold_out') this.ackTx(orderId, token, null);
      return r;
      // durable when it records a coming charge: see markPayAttempt
    }, startPayment);
  }

  /**
   * Records, durably and before the request leaves, that a charge is about to be sent, so a
   * reservation with a possibly-charged payment is never expired or cancelled. False when the
   * order is no longer ours or no longer payable.
   */
  markPayAttempt(orderId: string, token: string): Promise<boolean> {
    return this.write(() => this.markPayAttemptTx(orderId, token));
  }

  /**
   * paid -> confirmed -> notified in one transaction (the outbox pattern: the notification is
   * written with the confirm or not at all), then the job is acked. Works from paid too, for a
   * job redelivered after a crash. Returns whether an outbox row was written.
   */
  settle(
    orderId: string,
    token: string,
    chargeId: string | undefined,
    features: SettleFeatures,
    /** The row as this job last read it (saves a read); the final write checks it is still current. */
    known?: OrderRow,
  ): Promise<{ notified: boolean; notifyMs: number }> {
    return this.write(() => {
      const now = this.opts.now();
      const row = known !== undefined && known.id === orderId && known.lease_owner === token ? known : this.mustOwn(orderId, token);
      // paid, confirmed, notified and acked in ONE write of the order row (was four UPDATEs, each
      // rewriting the row and its index entries, plus a row read and a savepoint per step). The
      // state machine still checks every move; the row cannot change under us inside this commit.
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
      if (status === 'paid') {
        this.sellHeld(orderId);
        move('confirmed');
        if (!features.notifications) moves[moves.length - 1]!.reason = NOTIFY_SKIPPED_BY_FLAG;
      }
      const started = performance.now();
      const notified = this.writeNotification(row, features, now);
      const notifyMs = performance.now() - started;
      const changed =
        moves.length === 0
          ? this.conn.prepare('UPDATE orders SET notified = 1, lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL WHERE id = ? AND lease_owner = ?').run(orderId, token)
          : this.conn
              .prepare(
                `UPDATE orders SET status = @status, reason = NULL, updated_at = @now, history = @history,
                   charge_id = CASE WHEN @pays THEN @chargeId ELSE charge_id END,
                   reserved_until = CASE WHEN @pays THEN NULL ELSE reserved_until END,
                   notified = 1, lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL
                 WHERE id = @id AND status = @from AND lease_owner = @token`,
              )
              .run({
                status,
                now,
                history: JSON.stringify([...(JSON.parse(row.history) as StatusChange[]), ...moves]),
                pays: pays ? 1 : 0,
                chargeId: chargeId ?? '',
                id: orderId,
                from: row.status,
                token,
              });
      if (changed.changes !== 1) throw lostLease(orderId);
      return { notified, notifyMs };
    }, false);
  }

  /** The gateway is unavailable: wait in payment_pending until `retryAt` (the job is acked). */
  deferPayment(orderId: string, token: string, retryAt: number, reason: string): Promise<void> {
    return this.write(() => this.deferPaymentTx(orderId, token, retryAt, reason), false);
  }

  /** Declined: final payment_failed, stock back on the shelf, job done. */
  failPayment(orderId: string, token: string, reason: string): Promise<void> {
    return this.write(() => this.failPaymentTx(orderId, token, reason), false);
  }

  /** A reservation ran out before any charge was sent: cancelled, stock released, job done. */
  expire(orderId: string, token: string): Promise<void> {
    return this.write(() => this.expireTx(orderId, token), false);
  }

  /**
   * Cancels orders whose reservation ran out before any charge was sent and that no live worker
   * holds; returns their ids.
   */
  expireReservations(limit = 500): Promise<string[]> {
    return this.write(() => this.expireReservationsTx(limit), false);
  }

  // ---------------------------------------------------------------- flags

  async flagOverrides(): Promise<Map<string, boolean>> {
    return new Map(this.conn.prepare<[], { name: string; enabled: number }>('SELECT name, enabled FROM flag_overrides').all().map((r) => [r.name, r.enabled === 1]));
  }

  /** Writes (and fsyncs) the override before the promise settles, like cancel(). */
  async setFlagOverride(name: string, enabled: boolean | undefined): Promise<void> {
    this.assertWritable();
    if (enabled === undefined) this.conn.prepare('DELETE FROM flag_overrides WHERE name = ?').run(name);
    else
      this.conn
        .prepare('INSERT INTO flag_overrides (name, enabled, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at')
        .run(name, enabled ? 1 : 0, this.opts.now());
    this.syncNow();
  }
}

/** A guarded write found the order no longer held by this lease: the job must stop quietly. */
function lostLease(orderId: string): GiveUp {
  return new GiveUp(`lease on order ${orderId} was lost`);
}

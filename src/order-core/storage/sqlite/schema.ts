import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order inside one transaction each and recorded in
 * PRAGMA user_version, so opening an existing store any number of times is safe.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    stock INTEGER NOT NULL,
    reserved INTEGER NOT NULL DEFAULT 0,
    sold INTEGER NOT NULL DEFAULT 0,
    -- the last line of defence against overselling: the database refuses it
    CHECK (reserved >= 0 AND sold >= 0 AND reserved + sold <= stock)
  );
  CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    idem_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    items TEXT NOT NULL,
    payment_token TEXT,
    client_id TEXT,
    amount_cents INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    history TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- queue: NULL when the order needs no more work; while leased it equals lease_until, so an
    -- expired lease makes the job due again without a separate sweep
    next_attempt_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    pay_attempts INTEGER NOT NULL DEFAULT 0,
    charge_id TEXT,
    reserved_until INTEGER,
    notified INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS orders_queue ON orders (next_attempt_at, seq) WHERE next_attempt_at IS NOT NULL;
  CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
  CREATE INDEX IF NOT EXISTS orders_reserved_until ON orders (reserved_until) WHERE reserved_until IS NOT NULL;
  CREATE TABLE IF NOT EXISTS reservations (
    order_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL CHECK (qty > 0),
    state TEXT NOT NULL CHECK (state IN ('held', 'sold', 'released')),
    PRIMARY KEY (order_id, sku)
  );
  CREATE INDEX IF NOT EXISTS reservations_sku ON reservations (sku, state);
  CREATE TABLE IF NOT EXISTS outbox (
    order_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS flag_overrides (
    name TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE IF NOT EXISTS loyalty_ledger (
    order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    points INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS loyalty_customer ON loyalty_ledger (customer_id);
  `,
  // Counters kept by triggers in the writing transaction itself, so stats are O(1) however many
  // orders the store holds: a GROUP BY over every order and a SUM over every sold reservation
  // took 34 ms and 21 ms at 100k orders, and intake asked for them every 50 ms. The sold-units
  // audit stays independent of the products counters that the application code maintains.
  `
  CREATE TABLE IF NOT EXISTS order_status_counts (
    status TEXT PRIMARY KEY,
    n INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO order_status_counts (status, n) SELECT status, COUNT(*) FROM orders GROUP BY status;
  CREATE TRIGGER IF NOT EXISTS orders_count_insert AFTER INSERT ON orders BEGIN
    INSERT INTO order_status_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER IF NOT EXISTS orders_count_update AFTER UPDATE OF status ON orders WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE order_status_counts SET n = n - 1 WHERE status = OLD.status;
    INSERT INTO order_status_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER IF NOT EXISTS orders_count_delete AFTER DELETE ON orders BEGIN
    UPDATE order_status_counts SET n = n - 1 WHERE status = OLD.status;
  END;
  -- only GROUP BY status used it; every status change paid for it
  DROP INDEX IF EXISTS orders_status;
  -- only the old sold-units SUM used it; every reservation insert and state change paid for it
  DROP INDEX IF EXISTS reservations_sku;
  -- The expiry sweep only looks for reservations no charge was sent for. Indexing just those keeps
  -- the sweep from walking every payment_pending order during a gateway outage, and an order
  -- reserved with its charge marked at once (the usual case) never enters the index at all.
  DROP INDEX IF EXISTS orders_reserved_until;
  CREATE INDEX orders_reserved_until ON orders (reserved_until) WHERE reserved_until IS NOT NULL AND pay_attempts = 0;

  CREATE TABLE IF NOT EXISTS sold_audit (
    sku TEXT PRIMARY KEY,
    qty INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO sold_audit (sku, qty) SELECT sku, SUM(qty) FROM reservations WHERE state = 'sold' GROUP BY sku;
  CREATE TRIGGER IF NOT EXISTS reservations_audit_insert AFTER INSERT ON reservations WHEN NEW.state = 'sold' BEGIN
    INSERT INTO sold_audit (sku, qty) VALUES (NEW.sku, NEW.qty) ON CONFLICT (sku) DO UPDATE SET qty = qty + excluded.qty;
  END;
  CREATE TRIGGER IF NOT EXISTS reservations_audit_update AFTER UPDATE OF state, qty, sku ON reservations
    WHEN OLD.state = 'sold' OR NEW.state = 'sold' BEGIN
    UPDATE sold_audit SET qty = qty - OLD.qty WHERE OLD.state = 'sold' AND sku = OLD.sku;
    INSERT INTO sold_audit (sku, qty) SELECT NEW.sku, NEW.qty WHERE NEW.state = 'sold'
      ON CONFLICT (sku) DO UPDATE SET qty = qty + excluded.qty;
  END;
  CREATE TRIGGER IF NOT EXISTS reservations_audit_delete AFTER DELETE ON reservations WHEN OLD.state = 'sold' BEGIN
    UPDATE sold_audit SET qty = qty - OLD.qty WHERE sku = OLD.sku;
  END;
  `,
  // The W3C traceparent of the intake request that accepted the order (tracing on), so the worker
  // steps continue that trace however much later, or after a restart, they run. NULL: untraced.
  `
  ALTER TABLE orders ADD COLUMN trace_parent TEXT;
  `,
  // The intake journal (issue 16): an accepted order is one append to this narrow table, the only
  // write in the intake's group commit. It has no secondary index on purpose: the idempotency key
  // and order id of a journaled order are looked up in memory (rebuilt from this table at open),
  // and a unique index on random keys dirtied one B-tree page per order in every commit (42 vs
  // 29 µs of CPU per request and a third of the rate, bench notes in README). The wide orders row,
  // its indexes and counters are written when the pipeline leases the order (or a cancel or
  // restart needs it there); the row leaves the journal in that same transaction.
  `
  CREATE TABLE IF NOT EXISTS intake (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    items TEXT NOT NULL,
    payment_token TEXT,
    client_id TEXT,
    amount_cents INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    trace_parent TEXT
  );
  `,
];

/** Applies the migrations not applied yet, up to `target` (default: all); returns the version reached. */
export function migrate(db: Database.Database, target = MIGRATIONS.length): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < Math.min(target, MIGRATIONS.length); v++) {
    const sql = MIGRATIONS[v] ?? '';
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return Math.max(current, Math.min(target, MIGRATIONS.length));
}


import type { Logger } from 'pino';
import type { InventoryItem, NewOrder, OrderItem, OrderStatus, OrderView, StatusChange } from '../domain/types.js';

/** One order to accept, as the intake API hands it to the store. */
export interface AcceptRequest {
  order: NewOrder;
  /** The Idempotency-Key header. */
  idempotencyKey: string;
  /** A stable hash of the canonical request body; the same key with another hash is a conflict. */
  requestHash: string;
  /** API key or IP the order came from (for logs and fairness), optional. */
  clientId?: string | undefined;
  /** W3C traceparent of the intake span (tracing on), stored so the worker steps continue its trace. */
  traceParent?: string | undefined;
}

export type AcceptOutcome =
  /** Newly committed; durable when the promise resolves. */
  | { kind: 'created'; order: OrderView }
  /** The same key and body were accepted before: the same order, nothing new stored. */
  | { kind: 'existing'; order: OrderView }
  /** The same key was used with a different body. */
  | { kind: 'conflict'; orderId: string }
  /** One or more skus are not in the catalog. */
  | { kind: 'unknown_sku'; skus: string[] };

export interface StoreStats {
  /** Orders waiting for a worker (accepted or payment_pending and due). */
  queueDepth: number;
  /** Age of the oldest waiting order, ms (0 when none). */
  oldestWaitingMs: number;
  /** Orders by current status. */
  byStatus: Record<OrderStatus, number>;
  /** Units sold beyond stock: must stay 0. */
  oversold: number;
}

/*
 * The backend-neutral ports (scale-out: SQLite embedded, PostgreSQL beyond one machine). Every
 * call is async so a networked store can serve it; `queueDepth` and `isHealthy` stay synchronous
 * because they are asked on every request: a networked store answers them from a cached estimate
 * refreshed in the background.
 */

/** A row of the orders table as the pipeline sees it (SQLite's column names; PostgreSQL keeps them). */
export interface OrderRecord {
  seq: number;
  id: string;
  customer_id: string;
  /** JSON of OrderItem[]. */
  items: string;
  payment_token: string | null;
  amount_cents: number;
  status: OrderStatus;
  reason: string | null;
  /** JSON of StatusChange[]. */
  history: string;
  /** Epoch ms. */
  created_at: number;
  updated_at: number;
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  attempts: number;
  pay_attempts: number;
  charge_id: string | null;
  reserved_until: number | null;
  /** 1 once the notify step ran (outbox row written, or skipped by flag). */
  notified: number;
  idem_key: string;
  request_hash: string;
  client_id: string | null;
  trace_parent: string | null;
}

/**
 * The reason on the `confirmed` history entry of an order whose notification was not written
 * because flag order-notifications was off: the notify step's record of the skip, kept in the
 * commit that confirms the order (no extra write) and shown by GET /v1/orders/:id.
 */
export const NOTIFY_SKIPPED_BY_FLAG = 'notification skipped by flag order-notifications';

/** Queue positions up to this are counted exactly; beyond, they are estimated (see queuePositionOf). */
export const EXACT_POSITIONS = 1_000;

/** Optional work done with the confirm, each switched by a feature flag (shed during surges). */
export interface SettleWork {
  /** order-notifications: write the order_confirmed outbox row. */
  notifications: boolean;
  /** recommendations: add up to 3 best-selling in-stock skus to the notification. */
  recommendations: boolean;
  /** loyalty-points: credit one point per whole currency unit to the customer. */
  loyaltyPoints: boolean;
}

/** A job handed to a worker: the order and the lease token that proves ownership. */
export interface WorkLease {
  orderId: string;
  token: string;
  /** True when a previous lease on this job expired without an ack. */
  redelivered: boolean;
  traceParent?: string;
  /** Set when the lease also ran the reserve step; a sold_out job is already acked. */
  reserved?: { status: 'reserved' | 'sold_out'; reason?: string; payStarted?: boolean; ms: number };
  /**
   * The row as the lease commit left it (when the lease also reserved), so the worker's first
   * step and settle() need not read it again. Every write is still guarded by the lease token and
   * the expected status: a stale row makes the write fail, never land on an order that moved on.
   */
  row?: OrderRecord;
}

/**
 * The intake and status side, async: what the HTTP API needs from any backend (SQLite embedded,
 * PostgreSQL beyond one machine). Accepts are group-committed: requests that arrive together share
 * one transaction (and, on SQLite, one fsync), and each promise resolves only after its commit.
 * A networked store rejects with StoreUnavailable (domain/outcomes.ts) while it cannot be reached;
 * the API answers that with 503 + Retry-After.
 */
export interface OrderReads {
  accept(req: AcceptRequest): Promise<AcceptOutcome>;
  getOrder(orderId: string): Promise<OrderView | undefined>;
  listInventory(): Promise<InventoryItem[]>;
  /** Exact figures; may cost O(backlog). */
  stats(): Promise<StoreStats>;
  /** Orders waiting for a worker: a cheap estimate (cached), asked on every request. */
  queueDepth(): number;
  /** Cancels an order that has not been paid; releases its reservation. False when it can no longer be cancelled. */
  cancel(orderId: string, reason: string): Promise<boolean>;
  /** True while the store can take writes (used by /readyz); cached for networked stores. */
  isHealthy(): boolean;
  close(): Promise<void>;
}

/**
 * The worker side: the orders table doubles as the job queue (SQLite, PostgreSQL with
 * FOR UPDATE SKIP LOCKED); every write is guarded by the lease token and the expected status, so
 * a stale worker's write fails (GiveUp) instead of landing on an order that moved on.
 */
export interface WorkStore {
  /** Leases up to tokens.length due jobs; with `reserve` the reserve step runs too (SQLite: in the same commit; PostgreSQL: right after, per order). */
  leaseBatch(tokens: string[], leaseMs: number, opts?: { reserve?: boolean; startPayment?: boolean }): Promise<WorkLease[]>;
  renewLease(orderId: string, token: string, leaseMs: number): Promise<boolean>;
  ack(orderId: string, token: string, nextAttemptAt: number | null): Promise<boolean>;
  /** The order row if this lease still holds it. */
  ownedRow(orderId: string, token: string): Promise<OrderRecord | undefined>;
  reserve(orderId: string, token: string, startPayment?: boolean): Promise<{ status: 'reserved' | 'sold_out'; reason?: string; payStarted?: boolean }>;
  markPayAttempt(orderId: string, token: string): Promise<boolean>;
  settle(orderId: string, token: string, chargeId: string | undefined, features: SettleWork, known?: OrderRecord): Promise<{ notified: boolean; notifyMs: number }>;
  deferPayment(orderId: string, token: string, retryAt: number, reason: string): Promise<void>;
  failPayment(orderId: string, token: string, reason: string): Promise<void>;
  expire(orderId: string, token: string): Promise<void>;
  expireReservations(limit?: number): Promise<string[]>;
  /** At start-up: leases left by processes that are gone become due now (SQLite, which holds the directory lock); PostgreSQL leaves other processes' live leases alone and only counts expired ones. */
  reclaimLeases(): Promise<number>;
}

/** What every order store takes from the engine, whatever the backend. */
export interface OrderStoreOptions {
  logger: Logger;
  /** The clock of every stored time (epoch ms); tests pass a fake one. */
  now: () => number;
  /** How long a reservation holds stock, ms. */
  reservationTtlMs: number;
  /** Completed orders per second, for estimatedWaitMs; 0 when unknown. */
  throughputPerSec: () => number;
  /** Called after each group commit that created orders (wakes idle workers). */
  onAccepted?: (created: number) => void;
  /** Called once per order cancel() cancelled, after its commit (to count and log it in one place). */
  onCancelled?: (orderId: string, reason: string) => void;
}

/** Whether an order is waiting for a worker now (it then has a queue position). */
export function isWaiting(row: Pick<OrderRecord, 'next_attempt_at' | 'status'>, now: number): boolean {
  return row.next_attempt_at !== null && row.next_attempt_at <= now && (row.status === 'accepted' || row.status === 'payment_pending');
}

/**
 * An order as the API shows it, from its row and what the flags decided at confirm time (its
 * outbox payload, undefined when no notification was written; its loyalty points, if any) and,
 * while it waits, its place in the queue. The same for every backend; only the reads differ.
 */
export function orderViewOf(
  row: OrderRecord,
  confirmed: { payload: Record<string, unknown> | undefined; points: number | undefined } | undefined,
  queue: { position: number; estimatedWaitMs: number | null } | undefined,
): OrderView {
  const view: OrderView = {
    orderId: row.id,
    customerId: row.customer_id,
    items: JSON.parse(row.items) as OrderItem[],
    status: row.status,
    history: JSON.parse(row.history) as StatusChange[],
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  if (row.reason !== null) view.reason = row.reason;
  if (row.status === 'confirmed' && confirmed) {
    const { payload, points } = confirmed;
    if (payload !== undefined) {
      const recommendations = payload.recommendations;
      view.notification = Array.isArray(recommendations) ? { status: 'queued', recommendations: recommendations as string[] } : { status: 'queued' };
    } else {
      const entry = view.history.findLast((h) => h.status === 'confirmed');
      view.notification = { status: 'skipped', reason: entry?.reason ?? NOTIFY_SKIPPED_BY_FLAG };
    }
    if (points !== undefined) view.loyaltyPoints = points;
  }
  if (queue) {
    view.queuePosition = queue.position;
    view.estimatedWaitMs = queue.estimatedWaitMs;
  }
  return view;
}

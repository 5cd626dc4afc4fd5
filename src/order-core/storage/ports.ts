import type { InventoryItem, NewOrder, OrderStatus, OrderView } from '../domain/types.js';

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

/**
 * The intake side of the order store: what the HTTP API needs. Implementations: sqlite (embedded,
 * default); PostgreSQL later. Accepts are group-committed: requests that arrive together share
 * one transaction and one fsync, and each promise resolves only after its commit.
 */
export interface OrderStore {
  accept(req: AcceptRequest): Promise<AcceptOutcome>;
  getOrder(orderId: string): OrderView | undefined;
  listInventory(): InventoryItem[];
  /** Exact figures; may cost O(backlog). */
  stats(): StoreStats;
  /** Orders waiting for a worker: an estimate cheap enough to ask on every request (load shedding, queue positions). */
  queueDepth(): number;
  /** Cancels an order that has not been paid; releases its reservation. False when it can no longer be cancelled. */
  cancel(orderId: string, reason: string): boolean;
  /** True while the store can take writes (used by /readyz). */
  isHealthy(): boolean;
  close(): Promise<void>;
}

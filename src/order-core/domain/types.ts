/**
 * The order's life: accepted -> reserved -> paid -> confirmed, with payment_pending while the
 * payment gateway is unavailable, and the terminal failures sold_out, payment_failed, cancelled.
 */
export const ORDER_STATUSES = [
  'accepted',
  'reserved',
  'payment_pending',
  'paid',
  'confirmed',
  'sold_out',
  'payment_failed',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['confirmed', 'sold_out', 'payment_failed', 'cancelled']);

export interface OrderItem {
  sku: string;
  /** Units, a positive integer. */
  qty: number;
}

/** The body of POST /v1/orders after validation. */
export interface NewOrder {
  customerId: string;
  items: OrderItem[];
  paymentToken?: string | undefined;
}

export interface StatusChange {
  status: OrderStatus;
  /** ISO-8601 time of the change. */
  at: string;
  reason?: string | undefined;
}

/** An order as the API shows it. */
export interface OrderView {
  orderId: string;
  customerId: string;
  items: OrderItem[];
  status: OrderStatus;
  /** Why the order ended as it did (sold_out, payment_failed, cancelled). */
  reason?: string | undefined;
  /** Every state the order went through, in order, with its time. */
  history: StatusChange[];
  createdAt: string;
  updatedAt: string;
  /** 1-based position among orders waiting to be processed; only while waiting. */
  queuePosition?: number | undefined;
  /** Expected wait until a worker takes it, ms; only while waiting, null while the pace is unknown. */
  estimatedWaitMs?: number | null | undefined;
  /**
   * Confirmed orders only: the order-confirmed notification, `queued` with the recommendations it
   * carries (none while flag recommendations is off), or `skipped` (flag order-notifications off).
   */
  notification?: { status: 'queued'; recommendations?: string[] } | { status: 'skipped'; reason: string } | undefined;
  /** Confirmed orders only: loyalty points credited for the order; absent when none were (flag loyalty-points off). */
  loyaltyPoints?: number | undefined;
}

export interface InventoryItem {
  sku: string;
  /** Units that can still be reserved. */
  available: number;
  /** Units held by reservations not yet confirmed or released. */
  reserved: number;
  /** Units sold (confirmed orders). */
  sold: number;
}

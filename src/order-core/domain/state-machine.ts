import type { OrderStatus } from './types.js';

/**
 * Legal moves of an order. payment_pending -> payment_pending is legal because every retry that
 * finds the gateway still unavailable records another wait. Everything else is illegal: a worker
 * that tries one has lost a race (the order was cancelled or redelivered) and must stop.
 */
const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  accepted: ['reserved', 'sold_out', 'cancelled'],
  reserved: ['paid', 'payment_pending', 'payment_failed', 'cancelled'],
  payment_pending: ['paid', 'payment_pending', 'payment_failed', 'cancelled'],
  paid: ['confirmed'],
  confirmed: [],
  sold_out: [],
  payment_failed: [],
  cancelled: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Thrown when code asks for a move the state machine forbids: always a bug or a lost race. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly from: OrderStatus,
    readonly to: OrderStatus,
  ) {
    super(`illegal order transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** Statuses from which the customer may still cancel (nothing has been charged yet). */
export const CANCELLABLE: ReadonlySet<OrderStatus> = new Set(['accepted', 'reserved', 'payment_pending']);

/** Statuses a previous transition must have come from to reach `to` (used in guarded UPDATEs). */
export function sourcesOf(to: OrderStatus): OrderStatus[] {
  return (Object.keys(TRANSITIONS) as OrderStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}

/**
 * Statuses in which an order holds its stock and waits for its charge: those it can be paid from.
 * A charge may only be started, and a reservation only run out, in one of these.
 */
export const AWAITING_PAYMENT: ReadonlySet<OrderStatus> = new Set(sourcesOf('paid'));

/**
 * Outcomes that steer a worker, as small error classes (house rule 10). A step, the store or the
 * payment client throws one; the job runner decides what happens to the order from its class
 * alone (a retry later is a returned `{kind: 'deferred'}`, not an error). They live in domain/ so that every layer that throws them (storage, payment-gateway,
 * pipeline) imports downward.
 */

/**
 * Stop working on this job without touching the order: the job no longer owns it (its lease was
 * lost: the order was cancelled or redelivered to someone else, so a guarded write changed
 * nothing, or a charge was called off before it was sent) or the worker is being stopped. The
 * order is left as it is for whoever owns it now, or for the next start.
 */
export class GiveUp extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GiveUp';
  }
}

/** The card was declined (gateway 402): final, the order fails and its stock is released. */
export class PaymentDeclined extends Error {
  constructor(readonly code: string) {
    super(`payment declined: ${code}`);
    this.name = 'PaymentDeclined';
  }
}

/** A failure worth retrying: 5xx, timeout, connection refused/reset. */
export class TransientPaymentError extends Error {
  constructor(
    message: string,
    readonly kind: 'error' | 'timeout',
  ) {
    super(message);
    this.name = 'TransientPaymentError';
  }
}

/**
 * A networked store (PostgreSQL) could not be reached or dropped the connection: not the request's fault, nor a bug.
 * The API answers it with 503; a worker step that meets it is retried after its lease expires.
 */
export class StoreUnavailable extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'StoreUnavailable';
  }
}

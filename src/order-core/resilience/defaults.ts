/**
 * Defaults of the payment circuit breaker, in a module without imports so that planners (the
 * rehearsal's stage timings) can use them without loading opossum.
 */

/** Time the breaker stays open before letting one trial call through, ms. */
export const DEFAULT_BREAKER_RESET_MS = 5_000;

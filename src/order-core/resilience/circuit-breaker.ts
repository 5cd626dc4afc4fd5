import CircuitBreaker from 'opossum';
import { DEFAULT_BREAKER_RESET_MS } from './defaults.js';

/** Where a circuit breaker stands: closed (calls pass), open (calls refused), half_open (one trial call). */
export type BreakerState = 'closed' | 'half_open' | 'open';

/** Settings of the payment circuit breaker. */
export interface BreakerOptions {
  /** Failure share (percent) in the rolling window above which the breaker opens. Default 50. */
  errorThresholdPercentage?: number;
  /** Calls needed in the window before the breaker may open. Default 10. */
  volumeThreshold?: number;
  /** Time the breaker stays open before letting one trial call through, ms. Default 5000. */
  resetTimeoutMs?: number;
  /** Rolling statistics window, ms. Default 10000. */
  rollingCountTimeoutMs?: number;
}

/** Thrown by `fire` while the breaker is open (no call was made). */
export class BreakerOpenError extends Error {
  constructor() {
    super('circuit breaker is open');
    this.name = 'BreakerOpenError';
  }
}

/**
 * What a call's error says about the service behind the breaker: `failure` (it is unwell: counts
 * against it), `healthy` (it answered, e.g. a card decline), or `neutral` (the call never got an
 * answer for reasons of our own: the order was no longer ours, the caller gave up).
 */
export type ErrorVerdict = 'failure' | 'healthy' | 'neutral';

/**
 * A thin wrapper over opossum: one breaker for a family of calls whose function is passed per
 * call (opossum binds one action; we pass a thunk). A `healthy` error counts as a success. A
 * `neutral` one cannot close a half-open breaker: opossum knows only success and failure, so a
 * half-open trial that learnt nothing counts as failed and the breaker waits one more reset
 * period (the safe side); while closed it is left out of the failure count.
 */
export function createCircuitBreaker(opts: BreakerOptions & { classify: (err: unknown) => ErrorVerdict; onStateChange?: (s: BreakerState) => void; now?: () => number }) {
  const resetTimeoutMs = opts.resetTimeoutMs ?? DEFAULT_BREAKER_RESET_MS;
  const now = opts.now ?? Date.now;
  let openedAt = 0;
  const breaker: CircuitBreaker<[() => Promise<unknown>], unknown> = new CircuitBreaker(async (thunk: () => Promise<unknown>) => thunk(), {
    timeout: false, // calls carry their own undici timeout
    errorThresholdPercentage: opts.errorThresholdPercentage ?? 50,
    volumeThreshold: opts.volumeThreshold ?? 10,
    resetTimeout: resetTimeoutMs,
    rollingCountTimeout: opts.rollingCountTimeoutMs ?? 10_000,
    // true = not a failure (opossum then counts a success, which closes a half-open breaker)
    errorFilter: (err: unknown): boolean => {
      const verdict = opts.classify(err);
      return verdict === 'healthy' || (verdict === 'neutral' && !breaker.halfOpen);
    },
  });
  const state = (): BreakerState => (breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed');
  breaker.on('open', () => {
    openedAt = now();
    opts.onStateChange?.('open');
  });
  breaker.on('halfOpen', () => opts.onStateChange?.('half_open'));
  breaker.on('close', () => opts.onStateChange?.('closed'));
  return {
    state,
    /** Epoch ms at which an open breaker lets a trial call through (0 when not open). */
    nextTrialAt: (): number => (breaker.opened ? openedAt + resetTimeoutMs : 0),
    async fire<T>(fn: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(fn)) as T;
      } catch (err) {
        if ((err as { code?: string }).code === 'EOPENBREAKER') throw new BreakerOpenError();
        throw err;
      }
    },
    shutdown(): void {
      breaker.shutdown();
    },
  };
}

export type PaymentBreaker = ReturnType<typeof createCircuitBreaker>;

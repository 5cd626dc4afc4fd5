import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** A per-client limit, keyed by whatever the caller names the client (the API: its address). */
export interface ClientRateLimiter {
  /**
   * Takes `cost` tokens (default 1) for the client; refuses with the wait until enough are back.
   * A refused request takes nothing: it does not push the client's own next try further out.
   */
  consume(clientId: string, cost?: number): Promise<RateLimitDecision>;
  readonly enabled: boolean;
  /** The most tokens one request can take (the window's budget); Infinity when off. */
  readonly capacity: number;
}

/**
 * `perSecond` requests per second per client, or 'off'. Sub-1 rates stretch the window
 * (0.5/s = 1 request per 2 s) so every positive rate is honoured.
 */
export function createClientRateLimiter(perSecond: number | 'off'): ClientRateLimiter {
  if (perSecond === 'off') return { enabled: false, capacity: Infinity, consume: async () => ({ allowed: true }) };
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`rate limit must be a positive number or 'off', got ${perSecond}`);
  const points = perSecond >= 1 ? Math.round(perSecond) : 1;
  const duration = perSecond >= 1 ? 1 : Math.ceil(1 / perSecond);
  const limiter = new RateLimiterMemory({ points, duration });
  return {
    enabled: true,
    capacity: points,
    async consume(clientId, cost = 1) {
      try {
        await limiter.consume(clientId, cost);
        return { allowed: true };
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        // rate-limiter-flexible counts refused points too: give them back
        await limiter.reward(clientId, cost);
        return { allowed: false, retryAfterMs: Math.max(1, e.msBeforeNext) };
      }
    },
  };
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** A per-client limit, keyed by whatever the caller names the client (the API: its address). */
export interface ClientRateLimiter {
  /**
   * Takes `cost` tokens (default 1) for the client; refuses with the wait until enough are back.
   * A refused request takes nothing: it does not push the client's own next try further out.
   * Synchronous: it runs for every order, before the body is read, also under overload.
   */
  take(clientId: string, cost?: number): RateLimitDecision;
  /** take() as a promise (callers that await anyway). */
  consume(clientId: string, cost?: number): Promise<RateLimitDecision>;
  readonly enabled: boolean;
  /** The most tokens one request can take (the window's budget); Infinity when off. */
  readonly capacity: number;
}

const ALLOWED: RateLimitDecision = Object.freeze({ allowed: true });

/**
 * `perSecond` requests per second per client, or 'off': a fixed window per client, opened by its
 * first request, of 1 s (`perSecond` tokens) or, for sub-1 rates, of 1/perSecond s (1 token), so
 * every positive rate is honoured. A plain synchronous map lookup: under overload the limiter is
 * on the hot path of every refused request, where a promise and a library call per request showed
 * up. Windows that ran out are swept at most once per window length, so memory is bounded by
 * the clients seen within about two windows.
 */
export function createClientRateLimiter(perSecond: number | 'off', now: () => number = Date.now): ClientRateLimiter {
  if (perSecond === 'off') return { enabled: false, capacity: Infinity, take: () => ALLOWED, consume: async () => ALLOWED };
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`rate limit must be a positive number or 'off', got ${perSecond}`);
  const points = perSecond >= 1 ? Math.round(perSecond) : 1;
  const windowMs = perSecond >= 1 ? 1_000 : Math.ceil(1 / perSecond) * 1_000;
  const windows = new Map<string, { start: number; used: number }>();
  let sweptAt = 0;
  const take = (clientId: string, cost = 1): RateLimitDecision => {
    const t = now();
    if (t - sweptAt >= windowMs) {
      sweptAt = t;
      for (const [id, w] of windows) if (t - w.start >= windowMs) windows.delete(id);
    }
    let w = windows.get(clientId);
    if (w === undefined || t - w.start >= windowMs) {
      w = { start: t, used: 0 };
      windows.set(clientId, w);
    }
    if (w.used + cost > points) return { allowed: false, retryAfterMs: Math.max(1, w.start + windowMs - t) };
    w.used += cost;
    return ALLOWED;
  };
  return { enabled: true, capacity: points, take, consume: async (clientId, cost) => take(clientId, cost) };
}

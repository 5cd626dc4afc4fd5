/** What the shedder needs to know about the backlog; both calls must be cheap (called per request). */
export interface BacklogProbe {
  /** Orders waiting for a worker. */
  queueDepth(): number;
  /** Orders finished per second lately (0 when unknown). */
  throughputPerSec(): number;
}

export type ShedDecision = { shed: false } | { shed: true; retryAfterSec: number; queueDepth: number };

/**
 * Refuses new orders while the backlog is over `maxBacklog`, so accepted orders keep a bounded
 * wait instead of every order waiting longer. Retry-After is the time the workers need to bring
 * the backlog back under the limit at their current pace, clamped to 1..60 s.
 */
export function createLoadShedder(opts: { maxBacklog: number; probe: BacklogProbe }) {
  return {
    check(incoming = 1): ShedDecision {
      const depth = opts.probe.queueDepth();
      if (depth + incoming <= opts.maxBacklog) return { shed: false };
      const rate = opts.probe.throughputPerSec();
      const excess = depth + incoming - opts.maxBacklog;
      const retryAfterSec = rate > 0 ? Math.min(60, Math.max(1, Math.ceil(excess / rate))) : 5;
      return { shed: true, retryAfterSec, queueDepth: depth };
    },
  };
}

export type LoadShedder = ReturnType<typeof createLoadShedder>;

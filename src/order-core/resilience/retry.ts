/** Exponential backoff with full jitter (AWS architecture blog): spreads retries of many clients. */
export interface BackoffPolicy {
  /** First delay ceiling, ms. */
  baseMs: number;
  /** Largest delay ceiling, ms. */
  capMs: number;
}

/** Delay before retry number `attempt` (0-based): uniform in [0, min(cap, base * 2^attempt)]. */
export function fullJitterDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, `isRetryable(err)` is false, or `maxAttempts` are used up; waits
 * full-jitter backoff between attempts. The last error is rethrown.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: { maxAttempts: number; policy: BackoffPolicy; isRetryable: (err: unknown) => boolean; signal?: AbortSignal; random?: () => number },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= opts.maxAttempts || !opts.isRetryable(err) || opts.signal?.aborted) throw err;
      await abortableDelay(fullJitterDelay(opts.policy, attempt, opts.random), opts.signal);
    }
  }
}

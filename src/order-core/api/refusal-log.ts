import type { FastifyBaseLogger } from 'fastify';

/**
 * Logs orders the store refused (503 ORDER_STORE_UNAVAILABLE) as one line per interval with a
 * count and the last error, instead of a line with a stack per order: on a full disk the log
 * cannot be written either, and per-order lines would pile up in memory.
 */
export interface RefusalLog {
  /** One refused order. Cheap: a counter, and a log line at most once per interval. */
  note(err: unknown, log: FastifyBaseLogger): void;
  /** The store accepted again: logs the refusals not yet reported. Cheap when there are none (the logger is asked for only then). */
  recovered(log: () => FastifyBaseLogger): void;
}

/** @param intervalMs at most one refusal line per this many ms; default 10 000. */
export function createRefusalLog(now: () => number, intervalMs = 10_000): RefusalLog {
  let pending = 0;
  let lastError = '';
  let lastCode: string | undefined;
  let loggedAt = -Infinity;
  const report = (log: FastifyBaseLogger, msg: string) => {
    log.error({ refused: pending, lastError, ...(lastCode === undefined ? {} : { code: lastCode }), intervalMs }, msg);
    pending = 0;
    loggedAt = now();
  };
  return {
    note(err, log) {
      pending++;
      lastError = err instanceof Error ? err.message : String(err);
      const code = (err as { code?: unknown } | null)?.code;
      lastCode = typeof code === 'string' ? code : undefined;
      if (now() - loggedAt >= intervalMs) report(log, 'order store refusing orders (count since the last such line)');
    },
    recovered(log) {
      if (pending === 0) return;
      report(log(), 'order store accepting again (refusals since the last such line)');
      loggedAt = -Infinity;
    },
  };
}

/**
 * `surgectl watch`: what one reading of a running system holds, the port that reads it and the
 * SLO thresholds the view colours against. Rates are per second over the time since the reading
 * before (bundled stack) or over the PromQL rate window (Prometheus); null when not known yet.
 */

/** Stock of one sku and how fast it is being taken. */
export interface StockReading {
  sku: string;
  /** Units left to sell. */
  available: number;
  /** Units reserved or sold per second since the previous reading; null on the first. */
  takenPerSec: number | null;
}

/** One reading of the watched system. */
export interface WatchSample {
  /** When the reading was taken, ms since the epoch. */
  at: number;
  /** Orders durably accepted per second. */
  acceptedPerSec: number | null;
  /** Orders confirmed per second. */
  confirmedPerSec: number | null;
  /** Order submissions (POST /v1/orders and /v1/orders/batch) answered per second, any status. */
  intakePerSec: number | null;
  /** Intake latency quantiles over the interval, ms; null without requests. */
  intakeP50Ms: number | null;
  intakeP99Ms: number | null;
  /** Intake answers per second with a 5xx other than 503 (server errors). */
  errorsPerSec: number | null;
  /** Intake answers per second with 429 (rate limited). */
  rateLimitedPerSec: number | null;
  /** Intake answers per second with 503 (shed, paused, draining, dropped, store unavailable). */
  unavailablePerSec: number | null;
  /** Orders waiting for a worker. */
  queueDepth: number | null;
  /** How long the oldest waiting order has waited, ms. */
  oldestWaitMs: number | null;
  workersBusy: number | null;
  workersSize: number | null;
  breaker: 'closed' | 'half_open' | 'open' | null;
  /** Feature flags in use (the degrade flags), by name. */
  flags: { name: string; enabled: boolean }[];
  /** Stock per sku; null when the source cannot tell (Prometheus has no stock metric). */
  stock: StockReading[] | null;
  /** Counters as read at `at` (for scripts to cross-check the rates); null when the source has none. */
  totals: { accepted: number; confirmed: number } | null;
}

/**
 * Where `surgectl watch` reads from: the bundled stack (/metrics + admin API) or Prometheus.
 * `read` rejects with a SurgeError (unreachable: exit 3; refused: exit 2).
 */
export interface WatchSource {
  /** What is watched, as shown in the title (a URL without credentials). */
  readonly describe: string;
  /** Rates need two readings from the stack, one from Prometheus (its rate window). */
  readonly needsTwoReadings: boolean;
  read(opts?: { signal?: AbortSignal }): Promise<WatchSample>;
}

/**
 * Service-level objectives the screen colours against (surgectl.yaml `watch`): a value past its
 * threshold is red, one past 80% of it yellow. Ratios are shares of intake answers, 0..1.
 */
export interface WatchThresholds {
  /** Intake p50 latency above which it is red, ms. Default 100. */
  intakeP50Ms: number;
  /** Intake p99 latency above which it is red, ms. Default 500. */
  intakeP99Ms: number;
  /** Share of intake answers that are server errors (5xx but 503). Default 0.01. */
  errorRatio: number;
  /** Share of intake answers that are 429. Default 0.05. */
  rateLimitedRatio: number;
  /** Share of intake answers that are 503. Default 0.05. */
  unavailableRatio: number;
  /** Waiting orders. Default 10000. */
  queueDepth: number;
  /** Wait of the oldest waiting order, ms. Default 30000. */
  oldestWaitMs: number;
  /** Share of workers busy. Default 0.9. */
  workersBusyRatio: number;
  /** Units left of a sku below which it is red. Default 10. */
  stockLow: number;
}

export const WATCH_THRESHOLD_DEFAULTS: Readonly<WatchThresholds> = Object.freeze({
  intakeP50Ms: 100,
  intakeP99Ms: 500,
  errorRatio: 0.01,
  rateLimitedRatio: 0.05,
  unavailableRatio: 0.05,
  queueDepth: 10_000,
  oldestWaitMs: 30_000,
  workersBusyRatio: 0.9,
  stockLow: 10,
});

/** Refresh interval and sparkline history defaults, ms. */
export const WATCH_INTERVAL_DEFAULT_MS = 2_000;
export const WATCH_HISTORY_DEFAULT_MS = 300_000;

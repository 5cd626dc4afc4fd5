import type { Logger } from 'pino';
import { defaultCatalog, resolveSeed, type CatalogEntry } from '../catalog.js';
import type { FlagProvider, OrderEngine } from '../engine.js';
import { createLocalFlags, watchFlagValues } from '../flags.js';
import type { UnleashFlagsOptions } from '../flags-unleash.js';
import type { StackMetrics } from '../metrics.js';
import { createPaymentClient } from '../payment-gateway/client.js';
import type { BreakerOptions, BreakerState } from '../resilience/circuit-breaker.js';
import type { BackoffPolicy } from '../resilience/retry.js';
import { acquireDirLock } from '../storage/sqlite/lock.js';
import { SqliteOrderStore } from '../storage/sqlite/order-store.js';
import type { PipelineTracing } from '../tracing.js';
import { createOrderWorker } from './steps.js';
import { WorkerPool } from './worker-pool.js';

/** Options of the order pipeline (store, workers, payments) that createEngine builds. */
export interface PipelineOptions {
  /** Workers running jobs at once; 0 runs none until the pool is resized. */
  workers: number;
  /** Directory of the order store and its lock; a relative one is resolved against the process's cwd. */
  dataDir: string;
  /** A catalog file (relative to `cwd`) or N units per default sku. Default: the default catalog on a fresh store; an existing store keeps its stock. */
  seedInventory?: number | string | undefined;
  /** How long a reservation holds stock before it is released, ms. */
  reservationTtlMs: number;
  /** How long a worker owns a job before another may take it up, ms. */
  leaseMs: number;
  /** Per-call timeout towards the payment gateway, ms. */
  paymentTimeoutMs: number;
  /** How long close() waits for in-flight jobs unless told otherwise, ms. */
  drainTimeoutMs: number;
  /** What error hints call the options, e.g. { dataDir: '--data-dir' }. Default: the option's name. */
  optionLabels?: { dataDir?: string | undefined } | undefined;
  /** Base URL of the payment gateway simulator (or a real gateway speaking its API). */
  paymentUrl: string;
  /** Bearer token the gateway requires on POST /v1/charges (startStack makes one per start and gives it to both). */
  paymentAuthToken: string;
  logger: Logger;
  metrics: StackMetrics;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  /** seedInventory already read by the caller; read here when undefined. */
  seedEntries?: CatalogEntry[] | undefined;
  /** Payment circuit breaker. Defaults: 50 % errors over >= 10 calls in 10 s opens it for 5 s. */
  breaker?: BreakerOptions;
  /** Calls per charge and backoff between them for transient errors. Default 3 calls, 50 ms base, 1 s cap. */
  paymentRetry?: { maxAttempts?: number; policy?: BackoffPolicy };
  /** Wait of a payment_pending order before its next try. Default base 500 ms, cap 30 s (full jitter, at least base). */
  deferPolicy?: BackoffPolicy;
  /** How often expired reservations are looked for, ms. Default 1000. */
  sweepIntervalMs?: number;
  /** Idle dispatcher poll interval, ms. Default 100. */
  pollMs?: number;
  /** Runs inside every group commit of the store (tests throw SQLITE_FULL from it). Default: none. */
  beforeGroupCommit?: () => void;
  /** Process id written to the data-dir lock. Default: this process. */
  pid?: number;
  /** Resolves a relative seedInventory path. Default: the process's working directory. */
  cwd?: string;
  /**
   * Read the flags from Unleash with unleash-client instead of the local store. Default: local
   * flags (overrides kept in the store).
   */
  unleash?: Omit<UnleashFlagsOptions, 'logger' | 'now' | 'onValues'> | undefined;
  /** Spans for the steps of traced orders (see tracing.ts). Default: none. */
  tracing?: PipelineTracing | undefined;
}

/** The engine plus what the stack, the chaos faults and tests need beyond OrderEngine. */
export interface Engine extends OrderEngine {
  readonly store: SqliteOrderStore;
  readonly flags: FlagProvider;
  /** Closes and reopens the SQLite store (chaos fault "restart-store"); queued writes commit after the reopen. */
  restartStore(): Promise<void>;
  /** Orders per second completed over the last 10 s. */
  throughputPerSec(): number;
  /** Leases taken over from a previous process at start. */
  readonly reclaimedAtStart: number;
  /** How the inventory was seeded at start. */
  readonly seeded: { mode: 'fresh' | 'restock' | 'kept'; skus: number };
  /**
   * Simulates a process crash for tests: workers stop mid-job without acks, the database is
   * closed, the directory lock is left behind.
   */
  crash(): Promise<void>;
}

const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * Builds the order engine on the data dir: takes the dir lock, opens (and migrates) the store,
 * seeds inventory, reclaims leases of a dead predecessor, starts the worker pool and the
 * reservation sweeper.
 */
export async function createEngine(opts: PipelineOptions): Promise<Engine> {
  const now = opts.now ?? Date.now;
  const logger = opts.logger;
  const lock = acquireDirLock(opts.dataDir, { pid: opts.pid ?? process.pid, dirLabel: opts.optionLabels?.dataDir ?? 'dataDir' });
  if (lock.tookOverFrom !== undefined) logger.warn({ previousPid: lock.tookOverFrom, dataDir: opts.dataDir }, 'took over a stale data-dir lock');

  let pool: WorkerPool | undefined;
  let store: SqliteOrderStore | undefined;
  let flagsToClose: FlagProvider | undefined;
  try {
    store = new SqliteOrderStore({
      dir: opts.dataDir,
      logger,
      now,
      reservationTtlMs: opts.reservationTtlMs,
      throughputPerSec: () => pool?.expectedRatePerSec() ?? 0,
      ...(opts.beforeGroupCommit !== undefined ? { beforeGroupCommit: opts.beforeGroupCommit } : {}),
      onAccepted: (n) => {
        opts.metrics.ordersAccepted.inc(n);
        pool?.notify();
      },
      // The one place a cancel is counted and logged, whoever asked for it (API, library caller).
      onCancelled: (orderId, reason) => {
        opts.metrics.ordersCompleted.inc({ status: 'cancelled' });
        logger.info({ orderId, reason }, 'order cancelled');
      },
    });
    const seedEntries = opts.seedEntries ?? (opts.seedInventory === undefined ? undefined : resolveSeed(opts.seedInventory, opts.cwd));
    const seeded = store.seed(seedEntries, () => defaultCatalog());
    const reclaimed = await store.reclaimLeases();
    if (reclaimed > 0) logger.warn({ reclaimed }, 'reclaimed jobs leased by a previous process');
    const onValues = watchFlagValues({ source: opts.unleash !== undefined ? 'unleash' : 'local', logger, gauge: opts.metrics.flagEnabled });
    // The SDK is loaded only by a stack that reads Unleash.
    const flags: FlagProvider =
      opts.unleash !== undefined
        ? (await import('../flags-unleash.js')).createUnleashFlags({ ...opts.unleash, logger: logger.child({ component: 'flags' }), now, onValues })
        : createLocalFlags(store, undefined, { now, onValues });
    flagsToClose = flags;

    const payments = createPaymentClient({
      baseUrl: opts.paymentUrl,
      authToken: opts.paymentAuthToken,
      timeoutMs: opts.paymentTimeoutMs,
      now,
      ...(opts.paymentRetry?.maxAttempts !== undefined ? { maxAttempts: opts.paymentRetry.maxAttempts } : {}),
      ...(opts.paymentRetry?.policy !== undefined ? { retryPolicy: opts.paymentRetry.policy } : {}),
      ...(opts.breaker !== undefined ? { breaker: opts.breaker } : {}),
      onAttempt: (outcome) => opts.metrics.paymentAttempts.inc({ outcome }),
      onBreakerChange: (state) => {
        opts.metrics.breakerState.set(BREAKER_GAUGE[state]);
        logger.warn({ breaker: state }, 'payment circuit breaker changed state');
      },
    });
    opts.metrics.breakerState.set(0);

    const s = store;
    pool = new WorkerPool({
      store: s,
      leaseMs: opts.leaseMs,
      logger,
      metrics: opts.metrics,
      now,
      ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
      leaseOptions: () => ({ reserve: true, startPayment: payments.breakerState() === 'closed' }),
      worker: createOrderWorker({ store: s, payments, flags, logger, metrics: opts.metrics, now, deferPolicy: opts.deferPolicy ?? { baseMs: 500, capMs: 30_000 }, tracing: opts.tracing }),
      onResult: (_job, result) => {
        if (result.kind === 'completed') opts.metrics.ordersCompleted.inc({ status: result.status });
      },
    });
    pool.start(opts.workers);
    const p = pool;

    let sweeping = true;
    const sweep = setInterval(() => {
      if (!sweeping || !s.isHealthy()) return;
      s.expireReservations().then(
        (expired) => {
          for (const orderId of expired) logger.info({ orderId, reason: 'reservation_expired' }, 'reservation expired; stock released');
          if (expired.length > 0) opts.metrics.ordersCompleted.inc({ status: 'cancelled' }, expired.length);
          if (s.isHealthy()) opts.metrics.oversold.set(s.oversold());
        },
        (err: unknown) => logger.error({ err }, 'reservation sweep failed'),
      );
    }, opts.sweepIntervalMs ?? 1_000);
    sweep.unref();

    let closed = false;
    const shutdown = async (drainTimeoutMs: number) => {
      if (closed) return;
      closed = true;
      sweeping = false;
      clearInterval(sweep);
      const result = await p.stop(drainTimeoutMs);
      if (!result.drained) logger.warn({ inFlight: result.inFlight }, 'stopped with jobs in flight; they will be redelivered at the next start');
      flags.close?.();
      await payments.close();
      await s.close();
    };

    const engine: Engine = {
      store: s,
      pool: p,
      flags,
      payments: { breakerState: () => payments.breakerState() },
      reclaimedAtStart: reclaimed,
      seeded,
      throughputPerSec: () => p.throughputPerSec(),
      async restartStore() {
        // No drain needed: the restart is synchronous between two event-loop turns, so writes
        // queued by in-flight jobs simply commit on the reopened connection.
        const downtimeMs = s.restart();
        logger.warn({ downtimeMs }, 'order store restarted');
      },
      async close(closeOpts = {}) {
        await shutdown(closeOpts.drainTimeoutMs ?? opts.drainTimeoutMs);
        lock.release();
      },
      async crash() {
        await shutdown(0);
      },
    };
    return engine;
  } catch (err) {
    flagsToClose?.close?.();
    await pool?.stop(0);
    await store?.close();
    lock.release();
    throw err;
  }
}

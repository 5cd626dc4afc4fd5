import type { Logger } from 'pino';
import { defaultCatalog, resolveSeed, type CatalogEntry } from '../catalog.js';
import type { FlagProvider, OrderEngine } from '../engine.js';
import { createLocalFlags, watchFlagValues, type FlagOverrideStore } from '../flags.js';
import type { UnleashFlagsOptions } from '../flags-unleash.js';
import type { StackMetrics } from '../metrics.js';
import { Gauge } from 'prom-client';
import { createPaymentClient } from '../payment-gateway/client.js';
import type { BreakerOptions, BreakerState } from '../resilience/circuit-breaker.js';
import type { BackoffPolicy } from '../resilience/retry.js';
import type { PostgresOrderStore } from '../storage/postgres/order-store.js';
import type { OrderReads, WorkStore } from '../storage/ports.js';
import { acquireDirLock } from '../storage/sqlite/lock.js';
import { SqliteOrderStore } from '../storage/sqlite/order-store.js';
import type { StoreOption } from '../stack-options.js';
import type { PipelineTracing } from '../tracing.js';
import type { QueueDispatch } from '../messaging/queue-dispatch.js';
import { SurgeError } from '../../errors.js';
import { createOrderWorker } from './steps.js';
import { WorkerPool } from './worker-pool.js';

/** Options of the order pipeline (store, workers, payments) that createEngine builds. */
export interface PipelineOptions {
  /** Workers running jobs at once; 0 runs none until the pool is resized. */
  workers: number;
  /**
   * SQLite: the directory of the order store and its lock. PostgreSQL: not used by the engine
   * (the stack keeps its log and the payment simulator's files there). A relative one is resolved
   * against the process's cwd.
   */
  dataDir: string;
  /** Which order store: the embedded SQLite one in `dataDir`, or PostgreSQL. Default { kind: 'sqlite' }. */
  store?: StoreOption | undefined;
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
  /** SQLite only: runs inside every group commit of the store (tests throw SQLITE_FULL from it). Default: none. */
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
  /**
   * amqp://… : the workers take orders from this RabbitMQ work queue, fed by the transactional
   * outbox, instead of polling the store (PostgreSQL store only). Default: none.
   */
  queue?: string | undefined;
}

/** What the engine needs of its store, on any backend: the API's reads, the workers' side, flag overrides. */
export type EngineStore = OrderReads & WorkStore & FlagOverrideStore;

/** The engine plus what the stack, the chaos faults and tests need beyond OrderEngine, on any backend. */
interface EngineBase extends OrderEngine {
  readonly store: EngineStore;
  readonly flags: FlagProvider;
  /** Orders per second completed over the last 10 s. */
  throughputPerSec(): number;
  /** Leases taken over from a previous process at start (PostgreSQL: expired leases counted, none taken from a live process). */
  readonly reclaimedAtStart: number;
  /** How the inventory was seeded at start. */
  readonly seeded: { mode: 'fresh' | 'restock' | 'kept'; skus: number };
}

/** An engine on the embedded SQLite store: one process owns the data dir (its lock) and the file. */
export interface SqliteEngine extends EngineBase {
  readonly backend: 'sqlite';
  readonly store: SqliteOrderStore;
  /** Closes and reopens the SQLite store (chaos fault "restart-store"); queued writes commit after the reopen. */
  restartStore(): Promise<void>;
  /**
   * Simulates a process crash for tests: workers stop mid-job without acks, the database is
   * closed, the directory lock is left behind.
   */
  crash(): Promise<void>;
}

/**
 * An engine on PostgreSQL: any number of processes share the database. The SQLite-only faults
 * do not exist here (`restartStore` and `crash` are absent: the server is restarted by whoever
 * runs it, and a process that dies leaves only leases that expire).
 */
export interface PostgresEngine extends EngineBase {
  readonly backend: 'postgres';
  readonly store: PostgresOrderStore;
  /** The RabbitMQ work queue feeding the workers (queue option), or undefined when they poll the store. */
  readonly queue: QueueDispatch | undefined;
  readonly restartStore?: undefined;
  readonly crash?: undefined;
}

/** The engine createEngine() builds; `backend` tells which store it runs on. */
export type Engine = SqliteEngine | PostgresEngine;

const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * Builds the order engine. SQLite (default): takes the data-dir lock and opens (and migrates) the
 * store in it. PostgreSQL: connects, and migrates a database that is behind (refusing one a newer
 * surgectl migrated). Then seeds inventory, reclaims leases of a dead predecessor, starts the
 * worker pool and the reservation sweeper.
 * @throws SurgeError SRG_STACK_LOCKED / SRG_STACK_DATA_DIR (SQLite), SRG_STACK_STORE_UNREACHABLE /
 * SRG_STACK_STORE_VERSION (PostgreSQL), SRG_STACK_SEED.
 */
export function createEngine(opts: PipelineOptions & { store?: { kind: 'sqlite' } | undefined }): Promise<SqliteEngine>;
export function createEngine(opts: PipelineOptions): Promise<Engine>;
export async function createEngine(opts: PipelineOptions): Promise<Engine> {
  const now = opts.now ?? Date.now;
  const logger = opts.logger;
  const choice = opts.store ?? { kind: 'sqlite' };
  if (opts.queue !== undefined && choice.kind !== 'postgres') {
    throw new SurgeError('SRG_CONFIG_INVALID', 'a RabbitMQ work queue needs a PostgreSQL order store: the outbox that feeds it commits with the orders', {
      hint: 'Add --store postgres://user@host:port/database (or stack.store), or leave --queue out: the SQLite stack takes jobs from its store.',
    });
  }
  // The lock guards the SQLite file; PostgreSQL is shared by design (leases keep workers apart).
  const lock = choice.kind === 'sqlite' ? acquireDirLock(opts.dataDir, { pid: opts.pid ?? process.pid, dirLabel: opts.optionLabels?.dataDir ?? 'dataDir' }) : undefined;
  if (lock?.tookOverFrom !== undefined) logger.warn({ previousPid: lock.tookOverFrom, dataDir: opts.dataDir }, 'took over a stale data-dir lock');

  let pool: WorkerPool | undefined;
  let dispatch: QueueDispatch | undefined;
  let store: EngineStore | undefined;
  let flagsToClose: FlagProvider | undefined;
  try {
    const common = {
      logger,
      now,
      reservationTtlMs: opts.reservationTtlMs,
      throughputPerSec: () => pool?.expectedRatePerSec() ?? 0,
      onAccepted: (n: number) => {
        opts.metrics.ordersAccepted.inc(n);
        if (dispatch !== undefined) dispatch.accepted();
        else pool?.notify();
      },
      // The one place a cancel is counted and logged, whoever asked for it (API, library caller).
      onCancelled: (orderId: string, reason: string) => {
        opts.metrics.ordersCompleted.inc({ status: 'cancelled' });
        logger.info({ orderId, reason }, 'order cancelled');
      },
    };
    let sqlite: SqliteOrderStore | undefined;
    let postgres: PostgresOrderStore | undefined;
    if (choice.kind === 'postgres') {
      // pg is loaded only by a stack that uses it.
      const { PostgresOrderStore } = await import('../storage/postgres/order-store.js');
      postgres = await PostgresOrderStore.open({
        ...common,
        url: choice.url,
        ...(choice.poolSize !== undefined ? { poolSize: choice.poolSize } : {}),
        ...(choice.partitions !== undefined ? { partitions: choice.partitions } : {}),
        ...(choice.readReplica !== undefined ? { readReplica: { url: choice.readReplica, maxLagMs: choice.readReplicaMaxLagMs ?? 1_000 } } : {}),
      });
      store = postgres;
      if (choice.readReplica !== undefined) watchReadReplica(postgres, opts.metrics);
    } else {
      const storeSync = opts.metrics.storeSync;
      sqlite = new SqliteOrderStore({
        dir: opts.dataDir,
        ...common,
        onSynced: (seconds) => storeSync.observe(seconds),
        ...(opts.beforeGroupCommit !== undefined ? { beforeGroupCommit: opts.beforeGroupCommit } : {}),
      });
      store = sqlite;
    }
    const seedEntries = opts.seedEntries ?? (opts.seedInventory === undefined ? undefined : resolveSeed(opts.seedInventory, opts.cwd));
    const seeded = sqlite !== undefined ? sqlite.seed(seedEntries, () => defaultCatalog()) : await postgres!.seed(seedEntries, () => defaultCatalog());
    // Units sold beyond stock, for the gauge the sweep keeps: SQLite answers it synchronously.
    const oversold = sqlite !== undefined ? async () => sqlite.oversold() : () => postgres!.oversold();
    const reclaimed = await store.reclaimLeases();
    if (reclaimed > 0) logger.warn({ reclaimed }, 'reclaimed jobs leased by a previous process');
    const onValues = watchFlagValues({ source: opts.unleash !== undefined ? 'unleash' : 'local', logger, gauge: opts.metrics.flagEnabled });
    // The SDK is loaded only by a stack that reads Unleash.
    const flags: FlagProvider =
      opts.unleash !== undefined
        ? (await import('../flags-unleash.js')).createUnleashFlags({ ...opts.unleash, logger: logger.child({ component: 'flags' }), now, onValues })
        : await createLocalFlags(store, undefined, { now, onValues });
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
    if (opts.queue !== undefined) {
      const { QueueDispatch } = await import('../messaging/queue-dispatch.js');
      dispatch = await QueueDispatch.start({
        amqpUrl: opts.queue,
        databaseUrl: (choice as { url: string }).url,
        store: postgres!,
        logger: logger.child({ component: 'queue' }),
        now,
        workers: opts.workers,
        wake: () => pool?.notify(),
      });
    }
    const worker = createOrderWorker({ store: s, payments, flags, logger, metrics: opts.metrics, now, deferPolicy: opts.deferPolicy ?? { baseMs: 500, capMs: 30_000 }, tracing: opts.tracing });
    pool = new WorkerPool({
      store: s,
      ...(dispatch !== undefined ? { source: dispatch } : {}),
      leaseMs: opts.leaseMs,
      logger,
      metrics: opts.metrics,
      now,
      ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
      leaseOptions: () => ({ reserve: true, startPayment: payments.breakerState() === 'closed' }),
      worker,
      onResult: (_job, result) => {
        if (result.kind === 'completed') opts.metrics.ordersCompleted.inc({ status: result.status });
      },
    });
    pool.start(opts.workers);
    const p = pool;

    let sweeping = true;
    const sweep = setInterval(() => {
      if (!sweeping || !s.isHealthy()) return;
      s.expireReservations()
        .then(async (expired) => {
          for (const orderId of expired) logger.info({ orderId, reason: 'reservation_expired' }, 'reservation expired; stock released');
          if (expired.length > 0) opts.metrics.ordersCompleted.inc({ status: 'cancelled' }, expired.length);
          if (s.isHealthy()) opts.metrics.oversold.set(await oversold());
        })
        .catch((err: unknown) => logger.error({ err }, 'reservation sweep failed'));
    }, opts.sweepIntervalMs ?? 1_000);
    sweep.unref();

    let closed = false;
    const shutdown = async (drainTimeoutMs: number) => {
      if (closed) return;
      closed = true;
      sweeping = false;
      clearInterval(sweep);
      const result = await p.stop(drainTimeoutMs);
      worker.flushLog();
      if (!result.drained) logger.warn({ inFlight: result.inFlight }, 'stopped with jobs in flight; they will be redelivered at the next start');
      await dispatch?.stop();
      flags.close?.();
      await payments.close();
      await s.close();
    };

    const base = {
      pool: p,
      flags,
      payments: { breakerState: () => payments.breakerState() },
      reclaimedAtStart: reclaimed,
      seeded,
      throughputPerSec: () => p.throughputPerSec(),
      async close(closeOpts: { drainTimeoutMs?: number } = {}) {
        await shutdown(closeOpts.drainTimeoutMs ?? opts.drainTimeoutMs);
        lock?.release();
      },
    };
    if (sqlite === undefined) return { ...base, backend: 'postgres', store: postgres!, queue: dispatch };
    const db = sqlite;
    return {
      ...base,
      backend: 'sqlite',
      store: db,
      async restartStore() {
        // No drain needed: the restart is synchronous between two event-loop turns, so writes
        // queued by in-flight jobs simply commit on the reopened connection.
        const downtimeMs = db.restart();
        logger.warn({ downtimeMs }, 'order store restarted');
      },
      async crash() {
        await shutdown(0);
      },
    };
  } catch (err) {
    flagsToClose?.close?.();
    await pool?.stop(0);
    await dispatch?.stop();
    await store?.close();
    lock?.release();
    throw err;
  }
}

/**
 * Where order status reads go (`surgectl_store_read_replica{reads}`: 1 on the side in use) and the
 * read replica's last measured replay lag (`surgectl_store_read_replica_lag_seconds`), read from
 * the store when Prometheus scrapes.
 */
function watchReadReplica(store: PostgresOrderStore, metrics: StackMetrics): void {
  new Gauge({
    name: 'surgectl_store_read_replica',
    help: 'Where order status reads go: 1 for the side in use (replica or primary), 0 for the other',
    labelNames: ['reads'],
    registers: [metrics.registry],
    collect() {
      const reads = store.readReplica?.reads;
      this.set({ reads: 'replica' }, reads === 'replica' ? 1 : 0);
      this.set({ reads: 'primary' }, reads === 'replica' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'surgectl_store_read_replica_lag_seconds',
    help: "The read replica's replay lag at its last check, seconds (-1 while unknown)",
    registers: [metrics.registry],
    collect() {
      const lag = store.readReplica?.lagMs;
      this.set(lag === null || lag === undefined ? -1 : lag / 1000);
    },
  });
}

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type pino from 'pino';
import { SurgeError, isSurgeError } from '../errors.js';
import { buildApi, newIntakeState } from './api/app.js';
import type { IntakeState } from './api/context.js';
import type { HealthThread } from './api/health-thread.js';
import { notReadyBits } from './api/readiness.js';
import { resolveSeed, type CatalogEntry } from './catalog.js';
import type { OrderEngine } from './engine.js';
import { withoutPassword } from '../util/url.js';
import { createStackLogger } from './logger.js';
import { createStackMetrics, type StackMetrics } from './metrics.js';
import type { StackProcessInfo } from './api/admin-contract.js';
import { describeStore, optionLabel, resolveStackOptions, type ResolvedStackOptions, type StackOptionLabels, type StackOptions } from './stack-options.js';

/** startStack's options: the stack's settings (defaults in StackOptions) plus what it runs with. */
export interface StartStackOptions extends StackOptions {
  /** Where JSON logs go. Default: pino on stderr at `logLevel`. */
  logger?: pino.Logger;
  /** Folder a relative dataDir and seed file are resolved against. Default: the process's cwd. */
  cwd?: string;
  /** Collect Node's default process metrics (GC, heap, event loop) too. Default true. */
  defaultMetrics?: boolean;
  /** seedInventory already read (runStackForeground checks it before touching the data dir). */
  seedEntries?: CatalogEntry[] | undefined;
  /** Runs inside every group commit of the store (tests throw SQLITE_FULL from it to fake a full disk). Default: none. */
  beforeGroupCommit?: () => void;
  /**
   * A payment gateway simulator another process runs (the supervisor of a replicated stack, see
   * replicas.ts), with the charge token it accepts; its knobs are reached with `adminToken`.
   * Default: this stack starts its own on a thread.
   */
  externalPayment?: { url: string; chargeToken: string } | undefined;
  /** The processes of a replicated stack as its supervisor last told this one, for GET /admin/status. Default: none. */
  processes?: (() => readonly StackProcessInfo[]) | undefined;
  /** With `cache`: how old a GET /v1/inventory answer may be, ms. Default 1 000 (tests lengthen it to tell a dropped copy from an expired one). */
  inventoryMaxStalenessMs?: number;
}

/** A started order stack. Everything listens on loopback unless `host` says otherwise. */
export interface RunningStack {
  /** Intake + admin API base URL, e.g. http://127.0.0.1:8080 (no trailing slash). */
  readonly url: string;
  /** Payment gateway simulator base URL. */
  readonly paymentUrl: string;
  /** Bearer token for `${url}/admin/*` and the gateway's /admin/config. */
  readonly adminToken: string;
  /** The engine below the API, through its ports: order store, worker pool, payments, flags. */
  readonly engine: OrderEngine;
  /**
   * The order store it runs on: `description` as logs show it (never a password); for
   * PostgreSQL, the schema versions this start applied (empty when the database was current).
   */
  readonly store: { readonly kind: 'sqlite' | 'postgres'; readonly description: string; readonly appliedMigrations: readonly number[] };
  /** The RabbitMQ work queue feeding the workers, as amqp://user@host:port/vhost (no password); undefined when they poll the store. */
  readonly queue: string | undefined;
  /** The stack's own prom-client registry and metrics (also served at `${url}/metrics`). */
  readonly metrics: StackMetrics;
  /** The settings it runs with: defaults applied, dataDir and a seed file path made absolute. */
  readonly options: Readonly<ResolvedStackOptions>;
  /** Intake switches (paused, draining, dropRatio); the admin API flips the same object. */
  readonly intake: Readonly<IntakeState>;
  /** The separate /healthz + /readyz listener (options.healthPort), e.g. http://127.0.0.1:8088; undefined when off. */
  readonly healthUrl: string | undefined;
  /** With `cache`: the Redis URL without its password, and where the rate limit and the inventory copy live now. */
  readonly cache: { readonly where: string; readonly mode: 'redis' | 'local' } | undefined;
  /**
   * Graceful stop: /readyz turns 503 and new orders get 503 ORDER_DRAINING at once; workers
   * finish in-flight jobs (up to drainTimeoutMs, default options.drainTimeoutMs); then the
   * listeners, the store and the gateway close. Accepted but unprocessed orders stay in the
   * store and are processed after the next start on the same dataDir. Safe to call twice.
   */
  stop(opts?: { drainTimeoutMs?: number }): Promise<{ drained: boolean; inFlight: number }>;
}

/**
 * Starts the bundled order stack in this process: payment gateway simulator, engine (SQLite or
 * PostgreSQL store + workers) and the HTTP API. Port 0 picks free ports (tests). On any failure everything
 * already started is closed again before the error is thrown.
 * @throws SurgeError SRG_STACK_PORT_IN_USE when a port is taken; SRG_STACK_DATA_DIR / SRG_STACK_LOCKED / SRG_STACK_SEED from the engine;
 * SRG_STACK_STORE_UNREACHABLE / SRG_STACK_STORE_VERSION when the PostgreSQL store cannot be reached or migrated.
 */
export async function startStack(opts: StartStackOptions): Promise<RunningStack> {
  const given = resolveStackOptions(opts);
  const labels = opts.optionLabels;
  const label = (name: keyof StackOptionLabels) => optionLabel(labels, name);
  const dataDir = isAbsolute(given.dataDir) ? given.dataDir : resolve(opts.cwd ?? '.', given.dataDir);
  const seed = given.seedInventory;
  const options: Readonly<ResolvedStackOptions> = Object.freeze({
    ...given,
    dataDir,
    ...(typeof seed === 'string' && !isAbsolute(seed) ? { seedInventory: resolve(opts.cwd ?? '.', seed) } : {}),
  });
  checkUnleashToken(options, labels);
  checkTimeouts(options, labels);
  // A bad seed is refused before anything is started or written.
  const seedEntries = opts.seedEntries ?? (options.seedInventory === undefined ? undefined : resolveSeed(options.seedInventory, opts.cwd));
  const logger = opts.logger ?? createStackLogger({ level: options.logLevel });
  const adminToken = options.adminToken ?? randomBytes(32).toString('base64url');
  // Only the workers create charges: a secret made per start, known to the gateway and the engine alone.
  const chargeToken = opts.externalPayment?.chargeToken ?? randomBytes(32).toString('base64url');
  const metrics = createStackMetrics({ defaultMetrics: opts.defaultMetrics ?? true, color: options.color });
  // Tells this process apart in GET /admin/flags and in Unleash's list of instances.
  const instanceId = `${hostname()}:${process.pid}:${new Date().toISOString()}`;
  const cleanup: (() => Promise<void>)[] = [];
  // The SDK is loaded only by a stack that traces.
  const tracing = options.tracing === undefined ? undefined : (await import('./tracing.js')).createStackTracing(options.tracing, logger.child({ component: 'tracing' }));
  if (tracing !== undefined) cleanup.push(() => tracing.shutdown());
  const unwind = async () => {
    for (const fn of cleanup.reverse()) await fn().catch((err: unknown) => logger.error({ err }, 'cleanup after a failed start failed'));
  };

  try {
    // The simulator stands in for a remote provider: it runs on its own thread (own event loop),
    // so serving charges does not take the intake's. A replica uses its supervisor's.
    const external = opts.externalPayment;
    const gateway =
      external !== undefined
        ? (await import('./payment-gateway/remote.js')).remotePaymentGateway(external.url, adminToken)
        : await listenOr('payment gateway', options.paymentHost, options.paymentPort, { host: label('paymentHost'), port: label('paymentPort') }, async () =>
            (await import('./payment-gateway/thread.js')).startPaymentGatewayThread({
              host: options.paymentHost,
              port: options.paymentPort,
              dataDir,
              failureRate: options.paymentFailureRate,
              latencyMs: options.paymentLatencyMs,
              adminToken,
              chargeToken,
              logger,
            }),
          );
    cleanup.push(() => gateway.close());

    const { createEngine } = await import('./pipeline/create-engine.js');
    const engine = await createEngine({
      workers: options.workers,
      dataDir,
      store: options.store,
      queue: options.queue,
      seedInventory: options.seedInventory,
      reservationTtlMs: options.reservationTtlMs,
      leaseMs: options.leaseMs,
      paymentTimeoutMs: options.paymentTimeoutMs,
      drainTimeoutMs: options.drainTimeoutMs,
      optionLabels: { dataDir: label('dataDir') },
      seedEntries,
      ...(opts.beforeGroupCommit !== undefined ? { beforeGroupCommit: opts.beforeGroupCommit } : {}),
      paymentUrl: gateway.url,
      paymentAuthToken: chargeToken,
      tracing: tracing?.pipeline,
      logger: logger.child({ component: 'engine' }),
      metrics,
      cwd: opts.cwd ?? '.',
      unleash:
        options.unleashUrl === undefined
          ? undefined
          : {
              url: options.unleashUrl,
              clientToken: options.unleashClientToken ?? '',
              environment: options.unleashEnvironment,
              refreshIntervalMs: options.unleashRefreshIntervalMs,
              instanceId,
            },
    });
    cleanup.push(() => engine.close());

    // Redis (ioredis) is loaded only by a stack with a cache; a Redis that is down does not fail the start.
    const cache =
      options.cache === undefined
        ? undefined
        : await (await import('./storage/redis-stack-cache.js')).openStackCache({
            url: options.cache,
            color: options.color,
            rateLimit: options.rateLimit,
            store: engine.store,
            storeIdentity: `${hostname()} ${describeStore(options.store, dataDir)}`,
            registry: metrics.registry,
            logger: logger.child({ component: 'cache' }),
            ...(opts.inventoryMaxStalenessMs === undefined ? {} : { inventoryMaxStalenessMs: opts.inventoryMaxStalenessMs }),
          });
    if (cache !== undefined) {
      cleanup.push(() => cache.close());
      // This start restocked (or created) the store: every replica's inventory copy is wrong now.
      if (engine.seeded.mode !== 'kept') await cache.inventory.invalidate();
    }

    const state = newIntakeState();
    const readinessBits = () => {
      let healthy: boolean;
      try {
        healthy = engine.store.isHealthy();
      } catch {
        healthy = false;
      }
      return notReadyBits(state, healthy);
    };
    const app = await buildApi({
      engine,
      metrics,
      logger: logger.child({ component: 'api' }),
      adminToken,
      rateLimit: options.rateLimit,
      maxBacklog: options.maxBacklog,
      limits: {
        headersTimeoutMs: options.headersTimeoutMs,
        requestTimeoutMs: options.requestTimeoutMs,
        keepAliveTimeoutMs: options.keepAliveTimeoutMs,
        maxConnections: options.maxConnections,
        maxConnectionsPerIp: options.maxConnectionsPerIp,
      },
      state,
      drainTimeoutMs: options.drainTimeoutMs,
      // SQLite only: a PostgreSQL server is restarted where it runs, not by a stack process.
      ...(engine.backend === 'sqlite' ? { restartStore: () => engine.restartStore() } : {}),
      storeKind: describeStore(options.store, dataDir),
      instanceId,
      tracing: tracing?.intake,
      color: options.color,
      ...(cache === undefined ? {} : { limiter: cache.limiter, inventory: cache.inventory, cacheMode: () => cache.mode }),
      ...(opts.processes !== undefined ? { processes: opts.processes } : {}),
      payment: {
        get: () => gateway.getConfig(),
        set: (c) => gateway.setConfig(c),
        reset: () => gateway.setConfig({ failureRate: options.paymentFailureRate, latencyMs: options.paymentLatencyMs }),
      },
    });
    cleanup.push(() => app.close());
    // Health first: a probe may come as soon as the API port answers.
    let health: HealthThread | undefined;
    let publishing: NodeJS.Timeout | undefined;
    if (options.healthPort !== 'off') {
      const healthPort = options.healthPort;
      const { startHealthThread } = await import('./api/health-thread.js');
      const started = await listenOr('health listener', options.host, healthPort, { host: label('host'), port: label('healthPort') }, () =>
        startHealthThread({ host: options.host, port: healthPort, color: options.color, logger }),
      );
      health = started;
      cleanup.push(() => started.close());
      started.publish(readinessBits());
      // The health thread answers from what this loop last published: a few times a second is
      // what a probe needs, and a stale answer under a saturated loop is still the truth of a
      // moment ago. stop() publishes at once.
      publishing = setInterval(() => started.publish(readinessBits()), HEALTH_PUBLISH_INTERVAL_MS);
      publishing.unref();
      cleanup.push(async () => clearInterval(publishing));
    }
    await listenOr('order API', options.host, options.port, { host: label('host'), port: label('port') }, () => app.listen({ host: options.host, port: options.port }));
    const url = baseUrl(app.server.address() as AddressInfo);
    const healthUrl = health?.url;
    // The Unleash URL but never its token: logs are shared more widely than secrets may be.
    logger.info(
      {
        url,
        paymentUrl: gateway.url,
        // where probes are answered: the health listener, else the API itself
        healthUrl: healthUrl ?? url,
        color: options.color ?? null,
        workers: options.workers,
        dataDir,
        // the URL without its password: logs are shared more widely than secrets may be
        store: describeStore(options.store, dataDir),
        queue: options.queue === undefined ? 'store' : withoutPassword(options.queue, 'AMQP'),
        flags: options.unleashUrl === undefined ? 'local' : `unleash ${options.unleashUrl}`,
        // the URL without its password; 'local' when Redis did not answer at start
        ...(cache === undefined ? {} : { cache: cache.where, cacheMode: cache.mode }),
      },
      options.color === undefined ? 'order stack started' : `order stack started (${options.color})`,
    );

    let stopping: Promise<{ drained: boolean; inFlight: number }> | undefined;
    return {
      url,
      paymentUrl: gateway.url,
      adminToken,
      engine,
      store: { kind: engine.backend, description: describeStore(options.store, dataDir), appliedMigrations: engine.backend === 'postgres' ? engine.store.migration.applied : [] },
      queue: engine.backend === 'postgres' ? engine.queue?.broker : undefined,
      metrics,
      options,
      intake: state,
      healthUrl,
      cache,
      stop(stopOpts = {}) {
        stopping ??= (async () => {
          state.draining = true;
          health?.publish(readinessBits());
          logger.info('stopping: draining the worker pool');
          const result = await engine.pool.drain(stopOpts.drainTimeoutMs ?? options.drainTimeoutMs);
          if (!result.drained) logger.warn({ inFlight: result.inFlight }, 'drain timed out; unfinished jobs resume on the next start');
          await app.close();
          clearInterval(publishing);
          await health?.close();
          // drained above, within the caller's limit: close must not wait a second time
          await engine.close({ drainTimeoutMs: 0 });
          await cache?.close();
          await gateway.close();
          // Bounded: a collector that is down costs the stop at most tracing.flushTimeoutMs.
          await tracing?.shutdown();
          logger.info({ drained: result.drained }, 'order stack stopped');
          // Bounded: a log on a full disk drops its lines (counted) instead of holding the stop.
          await flushLog(logger, 2_000);
          return result;
        })();
        return stopping;
      },
    };
  } catch (err) {
    await unwind();
    throw diskFullError(err, dataDir, label('dataDir')) ?? err;
  }
}

/** How often the main loop publishes readiness to the health thread, ms. */
const HEALTH_PUBLISH_INTERVAL_MS = 200;

/** Errors (or their causes) that mean the disk has no room. */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

function isNoRoom(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NO_ROOM.has(code)) return true;
  }
  return false;
}

/** SRG_STACK_DISK_FULL for an error that means the disk has no room; undefined for any other. */
function diskFullError(err: unknown, where: string, dataDirLabel: string): SurgeError | undefined {
  if (!isNoRoom(err) || (isSurgeError(err) && err.code === 'SRG_STACK_DISK_FULL')) return undefined;
  return new SurgeError('SRG_STACK_DISK_FULL', `the disk of ${where} is full: ${(err as Error).message ?? String(err)}`, {
    hint: `Free space on that disk (old logs, other files) and start again, or pick another ${dataDirLabel}.`,
    cause: err,
  });
}

/** Bytes the data directory must have room for at start: a probe write, so a full disk fails fast with its own error. */
const START_HEADROOM_BYTES = 64 * 1024;

/** Writes, fsyncs and removes a probe file: a disk without room fails here, before SQLite and the log. */
function checkDiskRoom(dir: string, dataDirLabel: string): void {
  const probe = resolve(dir, `.surgectl-space-probe-${process.pid}`);
  let fd: number | undefined;
  try {
    fd = openSync(probe, 'w');
    writeSync(fd, Buffer.alloc(START_HEADROOM_BYTES));
    fsyncSync(fd);
  } catch (err) {
    const full = diskFullError(err, dir, dataDirLabel);
    if (full) throw new SurgeError('SRG_STACK_DISK_FULL', `the disk of the data directory ${dir} is full: not even ${START_HEADROOM_BYTES / 1024} KiB can be written`, { hint: full.hint, cause: err });
    throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
    rmSync(probe, { force: true });
  }
}

/** logger.flush() that waits for the write, `timeoutMs` at most. */
async function flushLog(logger: pino.Logger, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise<void>((done) => logger.flush(() => done())),
    new Promise<void>((done) => {
      timer = setTimeout(done, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Runs a listen step and turns "address in use" into the user error the CLI explains, naming the
 * options as the caller labels them.
 */
async function listenOr<T>(what: string, host: string, port: number, label: { host: string; port: string }, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    // The simulator reports a taken port as this error itself (it also runs on its own, where no
    // option names apply): rebuilt here so that the hint names the caller's option.
    const code = isSurgeError(err) ? (err.code === 'SRG_STACK_PORT_IN_USE' ? 'EADDRINUSE' : undefined) : (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new SurgeError('SRG_STACK_PORT_IN_USE', `The ${what} cannot listen on ${host}:${port}: the port is already in use`, {
        hint: `Stop whatever holds the port (e.g. another 'surgectl stack up'), or pick another with ${label.port} (0 picks a free one).`,
        cause: err,
      });
    }
    if (isSurgeError(err)) throw err;
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new SurgeError('SRG_STACK_PORT_IN_USE', `The ${what} cannot listen on ${host}:${port}: ${(err as Error).message}`, {
        hint: `Use an address of this machine with ${label.host} and a port above 1023 with ${label.port}.`,
        cause: err,
      });
    }
    throw err;
  }
}

function baseUrl(addr: AddressInfo): string {
  const wildcard = addr.address === '0.0.0.0' || addr.address === '::';
  const host = wildcard ? '127.0.0.1' : addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

/** What `surgectl stack up` prints once the stack answers. */
export interface StackStartedInfo {
  url: string;
  intakeUrl: string;
  adminUrl: string;
  metricsUrl: string;
  paymentUrl: string;
  /**
   * The admin token when the stack generated it; a token the user gave (environment, config) is
   * never printed: then `<from SURGECTL_STACK_ADMIN_TOKEN>` (the adminToken option's label).
   */
  adminToken: string;
  workers: number;
  dataDir: string;
  /**
   * The order store: "SQLite <dataDir>" or "PostgreSQL postgres://user@host:port/db" (never the
   * password). Always set by runStackForeground.
   */
  store?: string;
  /** The JSON log file, or null for stderr. */
  logFile: string | null;
  /** The separate /healthz + /readyz listener (--health-port), or null when health is on `url` only. Always set by runStackForeground. */
  healthUrl?: string | null;
  /** The side of a blue-green pair (--color), or null. Always set by runStackForeground. */
  color?: 'blue' | 'green' | null;
  /** The processes of a replicated stack (--intake-replicas, --worker-processes) as started; absent for one process. */
  processes?: { name: string; pid: number | null }[];
}

/** Options of runStackForeground: the stack's settings plus where logs go and how to report. */
export interface StackForegroundOptions extends StackOptions {
  /** Folder relative paths (dataDir, seed file, log file) are resolved against. */
  cwd: string;
  /** The JSON log file; '-' = stderr. Default <dataDir>/stack.log. */
  logFile?: string | undefined;
  /** Aborted on SIGINT/SIGTERM: the stack then stops gracefully. */
  signal: AbortSignal;
  reporter: { notify(message: string, level?: 'info' | 'warn' | 'success' | 'progress' | 'debug'): void };
  /** Called once the stack answers, with where it listens. */
  onStarted(info: StackStartedInfo): void | Promise<void>;
}

/**
 * `surgectl stack up`: starts the stack, reports where it listens, runs until `signal` aborts
 * (SIGINT/SIGTERM), then stops gracefully. Logs go to `logFile` ('-' = stderr; default
 * <dataDir>/stack.log) so the console stays readable.
 */
export async function runStackForeground(opts: StackForegroundOptions): Promise<{ drained: boolean; inFlight: number }> {
  const given = resolveStackOptions(opts);
  const labels = opts.optionLabels;
  const dataDir = isAbsolute(given.dataDir) ? given.dataDir : resolve(opts.cwd, given.dataDir);
  const logFile = opts.logFile === '-' ? null : opts.logFile === undefined ? resolve(dataDir, 'stack.log') : resolve(opts.cwd, opts.logFile);
  // Everything that can be checked is checked before the first file is written: the seed, then
  // the data directory, then the log file (whose stream would otherwise fail later, unhandled).
  const seed = given.seedInventory;
  const seedEntries = seed === undefined ? undefined : resolveSeed(seed, opts.cwd);
  checkUnleashToken(given, labels);
  checkTimeouts(given, labels);
  prepareDataDir(dataDir, optionLabel(labels, 'dataDir'));
  checkDiskRoom(dataDir, optionLabel(labels, 'dataDir'));
  if (logFile !== null) checkLogFile(logFile, opts.logFile !== undefined, labels);
  const logger = createStackLogger({ level: given.logLevel, ...(logFile ? { destination: logFile } : {}) });
  if (given.intakeReplicas > 1 || given.workerProcesses > 0) return runReplicatedForeground(opts, given, { dataDir, logFile, logger, seedEntries, labels });
  const stack = await startStack({ ...given, dataDir, optionLabels: labels, logger, cwd: opts.cwd, seedEntries });
  return serveUntilSignalled(opts, stack, 'stopping: new orders get 503, in-flight orders finish (Ctrl+C again to exit at once)', async () => {
    const exposed = exposureWarning(given, labels);
    if (exposed !== undefined) opts.reporter.notify(exposed, 'warn');
    if (stack.store.kind === 'postgres') {
      const applied = stack.store.appliedMigrations;
      opts.reporter.notify(
        applied.length > 0
          ? `order store: ${stack.store.description}; it was not up to date: applied schema migration${applied.length === 1 ? '' : 's'} ${applied.join(', ')}`
          : `order store: ${stack.store.description} (shared by every stack started on it)`,
      );
    }
    if (stack.cache !== undefined) {
      if (stack.cache.mode === 'redis') opts.reporter.notify(`cache: ${stack.cache.where} (rate limit shared by every stack on it, inventory copy)`);
      else opts.reporter.notify(`cache: Redis at ${stack.cache.where} does not answer: the rate limit is per process and GET /v1/inventory reads the store until it does (see the log)`, 'warn');
    }
    return {
      ...listening(stack.url, stack.paymentUrl),
      adminToken: given.adminToken === undefined ? stack.adminToken : `<from ${optionLabel(labels, 'adminToken')}>`,
      workers: stack.options.workers,
      dataDir,
      store: stack.store.description,
      logFile,
      healthUrl: stack.healthUrl ?? null,
      color: stack.options.color ?? null,
    };
  });
}

/** Where a started stack listens, as `stack up` prints it. */
function listening(url: string, paymentUrl: string): Pick<StackStartedInfo, 'url' | 'intakeUrl' | 'adminUrl' | 'metricsUrl' | 'paymentUrl'> {
  return { url, intakeUrl: `${url}/v1/orders`, adminUrl: `${url}/admin`, metricsUrl: `${url}/metrics`, paymentUrl };
}

/**
 * The foreground life of a started stack (one process or a supervisor): report it (`describe`
 * notifies and returns what onStarted prints), run until `signal` aborts, then stop it — and stop
 * it as well when the report fails, so the listeners are never left open behind an error.
 */
async function serveUntilSignalled<R>(opts: StackForegroundOptions, stack: { stop(): Promise<R> }, stopping: string, describe: () => Promise<StackStartedInfo>): Promise<R> {
  let stopped = false;
  try {
    await opts.onStarted(await describe());
    await new Promise<void>((done) => {
      if (opts.signal.aborted) return done();
      opts.signal.addEventListener('abort', () => done(), { once: true });
    });
    opts.reporter.notify(stopping);
    const result = await stack.stop();
    stopped = true;
    return result;
  } finally {
    if (!stopped) await stack.stop();
  }
}

/** runStackForeground for a stack of several processes (replicas.ts): the same report, one supervisor. */
async function runReplicatedForeground(
  opts: StackForegroundOptions,
  given: ResolvedStackOptions,
  at: { dataDir: string; logFile: string | null; logger: pino.Logger; seedEntries: CatalogEntry[] | undefined; labels: StackOptionLabels | undefined },
): Promise<{ drained: boolean; inFlight: number }> {
  const { checkReplicaOptions, startReplicatedStack } = await import('./replicas.js');
  checkReplicaOptions(given, given.intakeReplicas, given.workerProcesses, at.labels);
  const adminToken = given.adminToken ?? randomBytes(32).toString('base64url');
  const options: ResolvedStackOptions = { ...given, dataDir: at.dataDir, adminToken };
  const stack = await startReplicatedStack({
    options,
    intakeReplicas: given.intakeReplicas,
    workerProcesses: given.workerProcesses,
    adminToken,
    logFile: at.logFile,
    cwd: opts.cwd,
    logger: at.logger,
    seedEntries: at.seedEntries,
    labels: at.labels,
  });
  try {
    return await serveUntilSignalled(opts, { stop: () => stack.stop() }, 'stopping: every process drains its in-flight orders, then exits', async () => {
      const exposed = exposureWarning(given, at.labels);
      if (exposed !== undefined) opts.reporter.notify(exposed, 'warn');
      opts.reporter.notify(`order store: ${describeStore(given.store, at.dataDir)}; ${given.intakeReplicas} intake replica(s) on one port, ${given.workerProcesses} worker process(es) of ${given.workers} workers`);
      return {
        ...listening(stack.url, stack.paymentUrl),
        adminToken: given.adminToken === undefined ? adminToken : `<from ${optionLabel(at.labels, 'adminToken')}>`,
        workers: given.workerProcesses > 0 ? given.workers * given.workerProcesses : given.workers * given.intakeReplicas,
        dataDir: at.dataDir,
        store: describeStore(given.store, at.dataDir),
        logFile: at.logFile,
        healthUrl: null,
        color: given.color ?? null,
        processes: stack.processes().map((p) => ({ name: p.name, pid: p.pid })),
      };
    });
  } finally {
    await flushLog(at.logger, 2_000);
  }
}

/** Whether an interface to listen on is this machine's loopback only (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/**
 * The warning `stack up` prints when a listener is bound beyond loopback, naming what others can
 * then reach; undefined when everything is on loopback.
 */
export function exposureWarning(options: Pick<ResolvedStackOptions, 'host' | 'port' | 'paymentHost' | 'paymentPort'>, labels?: StackOptionLabels): string | undefined {
  const parts: string[] = [];
  if (!isLoopbackHost(options.host)) {
    parts.push(
      `${optionLabel(labels, 'host')} ${options.host}: the intake API (orders, inventory), the admin API (guarded by the admin token only, over plain HTTP) and /metrics are reachable from other machines on port ${options.port}`,
    );
  }
  if (!isLoopbackHost(options.paymentHost)) {
    parts.push(`${optionLabel(labels, 'paymentHost')} ${options.paymentHost}: the payment gateway simulator (its charge list, and charges for anyone holding the stack's charge token) is reachable from other machines on port ${options.paymentPort}`);
  }
  if (parts.length === 0) return undefined;
  return `listening beyond loopback — ${parts.join('; ')}. There is no TLS: put a TLS-terminating proxy and a firewall in front, or use 127.0.0.1.`;
}

/** Flags from Unleash need a client token: without one Unleash would refuse every fetch, silently leaving the defaults in force. */
function checkUnleashToken(options: Pick<StackOptions, 'unleashUrl' | 'unleashClientToken'>, labels: StackOptionLabels | undefined): void {
  if (options.unleashUrl === undefined || (options.unleashClientToken ?? '') !== '') return;
  const url = optionLabel(labels, 'unleashUrl');
  throw new SurgeError('SRG_CONFIG_INVALID', `${url} is set but there is no Unleash client token`, {
    hint: `Set ${optionLabel(labels, 'unleashClientToken')} to a client (backend) API token of that Unleash, or leave ${url} out to use the local flags.`,
  });
}

/** The whole request cannot be due before its headers are: such a headers timeout would never apply. */
function checkTimeouts(options: Pick<ResolvedStackOptions, 'headersTimeoutMs' | 'requestTimeoutMs'>, labels: StackOptionLabels | undefined): void {
  if (options.headersTimeoutMs <= options.requestTimeoutMs) return;
  throw new SurgeError('SRG_CONFIG_INVALID', `${optionLabel(labels, 'headersTimeoutMs')} (${options.headersTimeoutMs} ms) is longer than ${optionLabel(labels, 'requestTimeoutMs')} (${options.requestTimeoutMs} ms)`, {
    hint: `The whole request includes its headers: make ${optionLabel(labels, 'requestTimeoutMs')} at least as long.`,
  });
}

/** Creates the data directory, or says in one line why it cannot be one. */
function prepareDataDir(dir: string, dataDirLabel: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way (expected a directory)' : ((err as Error).message ?? String(code));
    throw new SurgeError('SRG_STACK_DATA_DIR', `cannot use ${dir} as the data directory: ${why}`, { hint: `Pick another with ${dataDirLabel}.`, cause: err });
  }
}

/**
 * Opens the log file for appending once, so a directory or an unwritable path is a clear error
 * before start. A path the user gave is their mistake (a usage error naming the option); the
 * default one under the data dir is the data dir's problem.
 */
function checkLogFile(path: string, given: boolean, labels: StackOptionLabels | undefined): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, 'a'));
  } catch (err) {
    const full = diskFullError(err, path, optionLabel(labels, 'dataDir'));
    if (full) throw full;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' ? 'it is a directory (expected a file path)' : code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way of its directory' : ((err as Error).message ?? String(code));
    const logFile = optionLabel(labels, 'logFile');
    throw given
      ? new SurgeError('SRG_CLI_USAGE', `${logFile} ${path}: ${why}`, { hint: "Pass a file path you can write to, or '-' for stderr.", cause: err })
      : new SurgeError('SRG_STACK_DATA_DIR', `cannot write the stack log ${path}: ${why}`, {
          hint: `Pick another ${optionLabel(labels, 'dataDir')}, or ${logFile} <path> ('-' for stderr).`,
          cause: err,
        });
  }
}

import type { StackConfig } from '../config/schema.js';
import type { StackOptionLabels, StackOptions, StoreOption } from '../order-core/stack-options.js';

/**
 * How a surgectl user sets each stack option: the `stack up` flag (surgectl.yaml and
 * SURGECTL_STACK_* set the same keys, and the flag wins over both). Error hints of the core name these.
 */
export const STACK_FLAG_LABELS: Readonly<Required<StackOptionLabels>> = Object.freeze({
  host: '--host',
  paymentHost: '--payment-host',
  port: '--port',
  paymentPort: '--payment-port',
  adminToken: 'SURGECTL_STACK_ADMIN_TOKEN',
  workers: '--workers',
  intakeReplicas: '--intake-replicas',
  workerProcesses: '--worker-processes',
  dataDir: '--data-dir',
  store: '--store',
  queue: '--queue',
  cache: '--cache',
  seedInventory: '--seed-inventory',
  rateLimit: '--rate-limit',
  maxBacklog: '--max-backlog',
  headersTimeoutMs: '--headers-timeout',
  requestTimeoutMs: '--request-timeout',
  keepAliveTimeoutMs: '--keep-alive-timeout',
  maxConnections: '--max-connections',
  maxConnectionsPerIp: '--max-connections-per-ip',
  healthPort: '--health-port',
  color: '--color',
  paymentFailureRate: '--payment-failure-rate',
  paymentLatencyMs: '--payment-latency-ms',
  reservationTtlMs: 'stack.reservationTtlMs',
  leaseMs: 'stack.leaseMs',
  drainTimeoutMs: 'stack.drainTimeoutMs',
  paymentTimeoutMs: 'stack.paymentTimeoutMs',
  logLevel: '--log-level',
  logFile: '--log-file',
  unleashUrl: '--unleash-url',
  unleashClientToken: 'UNLEASH_CLIENT_TOKEN',
  unleashEnvironment: 'stack.unleashEnvironment',
  unleashRefreshIntervalMs: '--unleash-refresh',
  tracing: 'OTEL_TRACES_EXPORTER',
});

/**
 * The `stack` section of the configuration (validated, defaults applied, flags layered in) as
 * the order core's options, with the flag names its error hints use.
 */
export function stackOptionsFromConfig(config: StackConfig): StackOptions {
  return {
    host: config.host,
    paymentHost: config.paymentHost,
    port: config.port,
    paymentPort: config.paymentPort,
    adminToken: config.adminToken,
    workers: config.workers,
    intakeReplicas: config.intakeReplicas,
    workerProcesses: config.workerProcesses,
    dataDir: config.dataDir,
    store: storeFromConfig(config),
    queue: config.queue,
    cache: config.cache,
    seedInventory: config.seedInventory,
    rateLimit: config.rateLimit,
    maxBacklog: config.maxBacklog,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    healthPort: config.healthPort,
    color: config.color,
    paymentFailureRate: config.paymentFailureRate,
    paymentLatencyMs: config.paymentLatencyMs,
    reservationTtlMs: config.reservationTtlMs,
    leaseMs: config.leaseMs,
    drainTimeoutMs: config.drainTimeoutMs,
    paymentTimeoutMs: config.paymentTimeoutMs,
    logLevel: config.logLevel,
    unleashUrl: config.unleashUrl,
    unleashEnvironment: config.unleashEnvironment,
    unleashRefreshIntervalMs: config.unleashRefreshIntervalMs,
    optionLabels: STACK_FLAG_LABELS,
  };
}

/** `stack.store` ('sqlite' or a postgres:// URL, already validated) and `stack.storePool` as the core's store option. */
export function storeFromConfig(config: Pick<StackConfig, 'store' | 'storePool' | 'readReplica' | 'readReplicaMaxLagMs'>): StoreOption {
  return config.store === 'sqlite'
    ? { kind: 'sqlite' }
    : {
        kind: 'postgres',
        url: config.store,
        poolSize: config.storePool,
        ...(config.readReplica !== undefined ? { readReplica: config.readReplica } : {}),
        readReplicaMaxLagMs: config.readReplicaMaxLagMs,
      };
}

import { SurgeError } from '../errors.js';
import type { LogLevel } from './logger.js';
import type { TracingOptions } from './tracing.js';
import { withoutPassword } from '../util/url.js';

/**
 * Which order store the stack runs on. SQLite (the default) is embedded: one process, its file in
 * `dataDir`. PostgreSQL is shared: any number of stack processes on one database take orders and
 * work the same queue (see docs/order-stack.md, "Beyond one machine: PostgreSQL").
 */
export type StoreOption =
  | { kind: 'sqlite' }
  | {
      kind: 'postgres';
      /** postgres://user[:password]@host:port/database; the password is never logged or shown. */
      url: string;
      /** Connections this process keeps open to the database. Default 10. */
      poolSize?: number | undefined;
      /** Hash partitions of the orders table, used only when the start creates the schema. Default 8. */
      partitions?: number | undefined;
      /**
       * postgres://… of a streaming replica of `url`: order status reads (GET /v1/orders/:id) go
       * there while its replay lag is within readReplicaMaxLagMs, else to the primary. Default: none.
       */
      readReplica?: string | undefined;
      /** Replay lag above which reads go back to the primary, ms. Default 1 000. */
      readReplicaMaxLagMs?: number | undefined;
    };

/**
 * How the bundled order stack runs: the order core's own settings. surgectl maps the `stack`
 * section of surgectl.yaml and the `stack up` flags onto them; the core never reads config. Every
 * field is optional, with the default given beside it, so `{}` is a working stack.
 */
export interface StackOptions {
  /** Interface the intake/admin API listens on. Default '127.0.0.1'. */
  host?: string;
  /**
   * Interface the payment gateway simulator listens on. Default '127.0.0.1': only the stack's own
   * workers charge, so it stays on loopback whatever `host` is unless this says otherwise.
   */
  paymentHost?: string;
  /** Intake + admin API port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Payment gateway simulator port; 0 picks a free one. Default 8089. */
  paymentPort?: number;
  /** Bearer token of the admin APIs. Default: 32 random bytes, base64url, made at each start. */
  adminToken?: string | undefined;
  /** Pipeline workers (reserve -> pay -> confirm -> notify) running at once, per worker process. Default 64. */
  workers?: number;
  /**
   * Intake processes sharing the API port (`stack up` only: a supervisor runs them, see
   * replicas.ts; PostgreSQL store only). Default 1: the stack is one process.
   */
  intakeReplicas?: number;
  /** Processes running `workers` workers each, apart from the intake (as intakeReplicas). Default 0: the intake runs the workers. */
  workerProcesses?: number;
  /** Where the order store (SQLite), the payment ledger and the log live; a relative one is resolved against the caller's cwd. Default '.surgectl/data'. */
  dataDir?: string;
  /**
   * The order store: embedded SQLite in dataDir, or a PostgreSQL database. Also accepted as
   * surgectl.yaml spells it: 'sqlite' or a postgres:// URL (then with the default pool size).
   * Default { kind: 'sqlite' }.
   */
  store?: StoreOption | string;
  /**
   * amqp://user[:password]@host:port/vhost of RabbitMQ: accepted orders reach the workers through
   * a durable quorum queue fed by a transactional outbox (PostgreSQL store only). Default: none,
   * the workers take jobs from the store itself.
   */
  queue?: string | undefined;
  /**
   * redis://… : rate-limit buckets shared by every intake process and a read-through cache of
   * GET /v1/inventory (never the source of truth). Default: none (per-process limits, no cache).
   */
  cache?: string | undefined;
  /**
   * A YAML/JSON/CSV catalog file (relative to the cwd), or N units of stock for each sku of the
   * default catalog. Default: the default catalog on a fresh store; an existing store keeps its stock.
   */
  seedInventory?: number | string | undefined;
  /** Requests per second per client address (x-api-key is not a client: nothing authenticates it), or 'off'. Default 'off'. */
  rateLimit?: number | 'off';
  /** Orders waiting in the queue above which new orders are shed with 503 + Retry-After. Default 20 000. */
  maxBacklog?: number;
  /** Longest time to receive a request's headers (slowloris), ms; then 408 and close. Default 10 000. */
  headersTimeoutMs?: number;
  /** Longest time to receive a whole request, headers and body, ms; then 408 and close. At least headersTimeoutMs. Default 30 000. */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open between requests, ms. Default 5 000. */
  keepAliveTimeoutMs?: number;
  /** Open connections to the API in total; more get 503 + Retry-After and are closed. Default 10 000. */
  maxConnections?: number;
  /** Open connections to the API per client address; more get 503 + Retry-After and are closed. Default 5 000. */
  maxConnectionsPerIp?: number;
  /**
   * Port of a second listener that serves only GET /healthz and /readyz, on its own thread (own
   * event loop), outside the API's connection limits, on `host`: probes are answered even while
   * the API's loop is saturated. 0 picks a free port; 'off' serves health on `port` only.
   * Health stays on `port` as well either way. Default 'off'.
   */
  healthPort?: number | 'off';
  /**
   * Which side of a blue-green pair on one machine this stack is. Shown in /healthz, /readyz,
   * GET /admin/status, the `x-surgectl-color` header, `surgectl_stack_info` and the start log
   * line; it also picks the defaults of `port`, `paymentPort` and `dataDir` (COLOR_DEFAULTS)
   * so blue and green run side by side. Default: none (no color, the plain defaults).
   */
  color?: StackColor | undefined;
  /** Share of payment calls the simulator fails with 503, 0..1. Default 0. */
  paymentFailureRate?: number;
  /** Latency added to each simulated payment call, ms. Default 5. */
  paymentLatencyMs?: number;
  /** How long a reservation holds stock before it is released, ms. Default 900 000 (15 min). */
  reservationTtlMs?: number;
  /** How long a worker owns a job before another may take it up, ms. Default 30 000. */
  leaseMs?: number;
  /** Longest time a graceful stop waits for in-flight work, ms. Default 30 000. */
  drainTimeoutMs?: number;
  /** Per-call timeout towards the payment gateway, ms. Default 2 000. */
  paymentTimeoutMs?: number;
  /** Level of the logger the stack makes when the caller passes none. Default 'info'. */
  logLevel?: LogLevel;
  /**
   * Base URL of an Unleash server (e.g. http://127.0.0.1:4242) to read the feature flags from with
   * unleash-client; needs unleashClientToken. Default: none, the stack's local flags.
   */
  unleashUrl?: string | undefined;
  /** Unleash client (backend) API token; a secret, so it is never logged or shown. Default: none. */
  unleashClientToken?: string | undefined;
  /** Unleash environment whose flag values the stack follows. Default 'development'. */
  unleashEnvironment?: string;
  /** How often the flags are fetched from Unleash again, ms. Default 15 000. */
  unleashRefreshIntervalMs?: number;
  /**
   * OpenTelemetry tracing: one trace per order across intake, the worker steps and the payment
   * call, exported over OTLP/HTTP or to the console. Default: off (no SDK is loaded).
   */
  tracing?: TracingOptions | undefined;
  /**
   * How the caller's user sets each option, for error hints such as "pick another with
   * --payment-port". Default: the option's own name ("pick another with paymentPort").
   */
  optionLabels?: StackOptionLabels | undefined;
}

/** The names of the stack's settings. */
export type StackOptionName = Exclude<keyof StackOptions, 'optionLabels'>;

/** Labels by option name; `logFile` is the log destination of runStackForeground. */
export type StackOptionLabels = Partial<Record<StackOptionName | 'logFile', string>>;

type Optional = 'adminToken' | 'seedInventory' | 'unleashUrl' | 'unleashClientToken' | 'tracing' | 'color' | 'queue' | 'cache';

/** StackOptions with every default applied (labels left out; dataDir as given; the store as a StoreOption). */
export type ResolvedStackOptions = Required<Omit<StackOptions, Optional | 'optionLabels' | 'store'>> & { store: StoreOption } & Pick<StackOptions, Optional>;

/** The defaults of StackOptions (surgectl.yaml's defaults are the same; a test keeps them so). */
export const STACK_DEFAULTS: Readonly<Omit<ResolvedStackOptions, Optional>> = Object.freeze({
  host: '127.0.0.1',
  paymentHost: '127.0.0.1',
  port: 8080,
  paymentPort: 8089,
  workers: 64,
  intakeReplicas: 1,
  workerProcesses: 0,
  dataDir: '.surgectl/data',
  store: Object.freeze({ kind: 'sqlite' as const }),
  rateLimit: 'off',
  maxBacklog: 20_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 10_000,
  maxConnectionsPerIp: 5_000,
  healthPort: 'off',
  paymentFailureRate: 0,
  paymentLatencyMs: 5,
  reservationTtlMs: 15 * 60_000,
  leaseMs: 30_000,
  drainTimeoutMs: 30_000,
  paymentTimeoutMs: 2_000,
  logLevel: 'info',
  unleashEnvironment: 'development',
  unleashRefreshIntervalMs: 15_000,
});

/** The two sides of a blue-green pair. */
export const STACK_COLORS = ['blue', 'green'] as const;
export type StackColor = (typeof STACK_COLORS)[number];

/**
 * The defaults a color brings, so that blue and green run side by side on one machine (HAProxy on
 * :8000 in front of blue on :8080 and green on :8081), each with its own SQLite store. Options
 * given explicitly always win over these.
 */
export const COLOR_DEFAULTS: Readonly<Record<StackColor, Readonly<Pick<ResolvedStackOptions, 'port' | 'paymentPort' | 'dataDir'>>>> = Object.freeze({
  blue: Object.freeze({ port: 8080, paymentPort: 8089, dataDir: '.surgectl/data-blue' }),
  green: Object.freeze({ port: 8081, paymentPort: 8090, dataDir: '.surgectl/data-green' }),
});

/** Every option name once; the type makes adding an option without listing it here an error. */
const OPTION_NAMES = Object.keys({
  host: true,
  paymentHost: true,
  port: true,
  paymentPort: true,
  adminToken: true,
  workers: true,
  intakeReplicas: true,
  workerProcesses: true,
  dataDir: true,
  store: true,
  queue: true,
  cache: true,
  seedInventory: true,
  rateLimit: true,
  maxBacklog: true,
  headersTimeoutMs: true,
  requestTimeoutMs: true,
  keepAliveTimeoutMs: true,
  maxConnections: true,
  maxConnectionsPerIp: true,
  healthPort: true,
  color: true,
  paymentFailureRate: true,
  paymentLatencyMs: true,
  reservationTtlMs: true,
  leaseMs: true,
  drainTimeoutMs: true,
  paymentTimeoutMs: true,
  logLevel: true,
  unleashUrl: true,
  unleashClientToken: true,
  unleashEnvironment: true,
  unleashRefreshIntervalMs: true,
  tracing: true,
} satisfies Record<StackOptionName, true>) as StackOptionName[];

/**
 * Applies the defaults (a color's own port, payment port and data dir first, see COLOR_DEFAULTS);
 * an option given as undefined takes its default too. Only the stack's settings are kept, so
 * options that also carry other fields (StartStackOptions) can be passed.
 */
export function resolveStackOptions(opts: StackOptions): ResolvedStackOptions {
  const resolved: Record<string, unknown> = { ...STACK_DEFAULTS, ...(opts.color === undefined ? {} : COLOR_DEFAULTS[opts.color]) };
  for (const name of OPTION_NAMES) if (opts[name] !== undefined) resolved[name] = opts[name];
  if (typeof opts.store === 'string') resolved.store = parseStoreOption(opts.store, optionLabel(opts.optionLabels, 'store'));
  return resolved as ResolvedStackOptions;
}

/**
 * 'sqlite' or a postgres:// URL (surgectl.yaml's `stack.store`) as a StoreOption.
 * @throws SurgeError SRG_CONFIG_INVALID for anything else (the value is not echoed: a URL may hold a password).
 */
export function parseStoreOption(spec: string, label = 'store'): StoreOption {
  if (spec === 'sqlite') return { kind: 'sqlite' };
  let url: URL | undefined;
  try {
    url = new URL(spec);
  } catch {
    url = undefined;
  }
  if (url !== undefined && (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' && url.pathname.length > 1) return { kind: 'postgres', url: spec };
  throw new SurgeError('SRG_CONFIG_INVALID', `${label} must be 'sqlite' or a postgres://user@host:port/database URL`, {
    hint: 'e.g. postgres://app@127.0.0.1:5432/orders (the password from PGPASSWORD, or in the URL: it is never shown)',
  });
}

/** What an error hint calls an option: the caller's label, else the option's name. */
export function optionLabel(labels: StackOptionLabels | undefined, name: StackOptionName | 'logFile'): string {
  return labels?.[name] ?? name;
}


/** The order store in one line for logs and messages: "SQLite <dataDir>" or "PostgreSQL postgres://user@host:port/db". */
export function describeStore(store: StoreOption, dataDir: string): string {
  return store.kind === 'postgres' ? `PostgreSQL ${withoutPassword(store.url, 'PostgreSQL')}` : `SQLite ${dataDir}`;
}

import { z } from 'zod';
import { COLOR_DEFAULTS, parseStoreOption, STACK_COLORS, STACK_DEFAULTS as D } from '../order-core/stack-options.js';
import { parseDuration } from '../util/duration.js';
import { ScaleTargetsSchema } from '../scale/plan-file.js';
import { isHttpUrl } from '../util/url.js';
import { WATCH_HISTORY_DEFAULT_MS, WATCH_INTERVAL_DEFAULT_MS, WATCH_THRESHOLD_DEFAULTS } from '../watch/types.js';

const W = { ...WATCH_THRESHOLD_DEFAULTS, intervalMs: WATCH_INTERVAL_DEFAULT_MS, historyMs: WATCH_HISTORY_DEFAULT_MS };

/** `store`: 'sqlite', or a PostgreSQL URL with a host and a database (the core's own rule). */
function isStoreSpec(v: string): boolean {
  try {
    parseStoreOption(v);
    return true;
  } catch {
    return false;
  }
}

/** `rateLimit`: requests per second per client address, or 'off'. */
const rateLimit = z.union([z.literal('off'), z.number().positive()]);

/**
 * The bundled order stack (`surgectl stack up`). Units are in the key names or comments; the
 * defaults are the order core's own (STACK_DEFAULTS), so the two cannot drift apart.
 */
export const StackConfigSchema = z
  .object({
    /** Interface the intake and admin API listen on. */
    host: z.string().min(1).default(D.host),
    /** Interface the payment gateway simulator listens on (loopback unless told otherwise). */
    paymentHost: z.string().min(1).default(D.paymentHost),
    /** Intake + admin API port; 0 picks a free port. */
    port: z.number().int().min(0).max(65535).default(D.port),
    /** Payment gateway simulator port; 0 picks a free port. */
    paymentPort: z.number().int().min(0).max(65535).default(D.paymentPort),
    /** Bearer token for the admin APIs; generated and printed at start when absent. */
    adminToken: z.string().min(16).optional(),
    /** Pipeline workers (reserve -> pay -> confirm -> notify) running at once. Workers are async tasks
     * waiting mostly on the payment gateway, so many are cheap; 64 keeps up with intake on 2 cores. */
    workers: z.number().int().min(0).max(512).default(D.workers),
    /** Intake processes sharing the API port (a PostgreSQL store only). */
    intakeReplicas: z.number().int().min(1).max(64).default(D.intakeReplicas),
    /** Processes running `workers` workers each, apart from the intake (a PostgreSQL store only). */
    workerProcesses: z.number().int().min(0).max(64).default(D.workerProcesses),
    /** Where the SQLite store and the gateway ledger live. */
    dataDir: z.string().min(1).default(D.dataDir),
    /**
     * The order store: 'sqlite' (embedded, in dataDir) or a postgres://user[:password]@host:port/database
     * URL that several stack processes may share. The password is a secret: never printed or logged.
     */
    store: z
      .string()
      .refine(isStoreSpec, "expected 'sqlite' or a postgres://user@host:port/database URL")
      .describe("'sqlite' or a postgres://user@host:port/database URL")
      .default('sqlite'),
    /** Connections each stack process keeps open to PostgreSQL (used with a postgres:// store). */
    storePool: z.number().int().min(1).max(1_000).default(10),
    /** A streaming replica of the PostgreSQL store for order status reads (postgres://…); the password is a secret. */
    readReplica: z.string().refine((v) => /^postgres(ql)?:\/\/[^/]/.test(v), 'expected a PostgreSQL URL such as postgres://app@10.0.0.6:5432/orders').optional(),
    /** Replay lag of readReplica above which status reads go back to the primary, ms. */
    readReplicaMaxLagMs: z.number().int().min(0).max(3_600_000).default(1_000),
    /** RabbitMQ (amqp://user@host:port/vhost) carrying accepted orders to the workers; needs a PostgreSQL store. */
    queue: z.string().refine((v) => /^amqps?:\/\/[^/]/.test(v), 'expected an AMQP URL such as amqp://app@10.0.0.7:5672/orders').optional(),
    /** Redis (redis://…) for rate-limit buckets shared by every intake process and the inventory cache. */
    cache: z.string().refine((v) => /^rediss?:\/\/[^/]/.test(v), 'expected a Redis URL such as redis://10.0.0.8:6379/0').optional(),
    /** A YAML/JSON/CSV catalog file, or N units of stock for each sku of the default catalog. */
    seedInventory: z.union([z.number().int().min(0), z.string().min(1).describe('a YAML/JSON/CSV file path')]).optional(),
    rateLimit: rateLimit.default(D.rateLimit),
    /** Orders waiting in the queue above which new orders are shed with 503 + Retry-After. */
    maxBacklog: z.number().int().min(1).default(D.maxBacklog),
    /** Longest time to receive a request's headers, ms (slow clients get 408 and are closed). */
    headersTimeoutMs: z.number().int().min(100).max(3_600_000).default(D.headersTimeoutMs),
    /** Longest time to receive a whole request (headers and body), ms; at least headersTimeoutMs. */
    requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(D.requestTimeoutMs),
    /** How long an idle keep-alive connection stays open between requests, ms. */
    keepAliveTimeoutMs: z.number().int().min(100).max(3_600_000).default(D.keepAliveTimeoutMs),
    /** Open API connections in total; more get 503 + Retry-After and are closed. */
    maxConnections: z.number().int().min(1).default(D.maxConnections),
    /** Open API connections per client address; more get 503 + Retry-After and are closed. */
    maxConnectionsPerIp: z.number().int().min(1).default(D.maxConnectionsPerIp),
    /** Port of the separate /healthz + /readyz listener (own thread, outside the connection limits); 0 = any free; 'off' = health on `port` only. */
    healthPort: z.union([z.literal('off'), z.number().int().min(0).max(65535)]).default(D.healthPort),
    /** blue or green: a side of a blue-green pair on one machine; absent = no color. Picks the defaults of port, paymentPort and dataDir (see stackColorDefaults). */
    color: z.enum(STACK_COLORS).optional(),
    /** Share of payment calls the simulator fails with 503, 0..1. */
    paymentFailureRate: z.number().min(0).max(1).default(D.paymentFailureRate),
    /** Added latency of each simulated payment call, ms. */
    paymentLatencyMs: z.number().int().min(0).max(600_000).default(D.paymentLatencyMs),
    /** How long a reservation holds stock before it is released, ms. */
    reservationTtlMs: z.number().int().min(1_000).default(D.reservationTtlMs),
    /** How long a worker owns a job before another may take it up, ms. */
    leaseMs: z.number().int().min(100).default(D.leaseMs),
    /** Longest time a graceful stop waits for in-flight work, ms. */
    drainTimeoutMs: z.number().int().min(0).default(D.drainTimeoutMs),
    /** Per-call timeout towards the payment gateway, ms. */
    paymentTimeoutMs: z.number().int().min(10).default(D.paymentTimeoutMs),
    /** pino log level. */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(D.logLevel),
    /** Unleash base URL to read the flags from (client token from env UNLEASH_CLIENT_TOKEN); absent = local flags. */
    unleashUrl: z.string().refine(isHttpUrl, 'expected an http(s) URL such as http://127.0.0.1:4242').optional(),
    /** Unleash environment whose flag values the stack follows. */
    unleashEnvironment: z.string().min(1).default(D.unleashEnvironment),
    /** How often the stack fetches its flags from Unleash again, ms. */
    unleashRefreshIntervalMs: z.number().int().min(100).default(D.unleashRefreshIntervalMs),
  })
  .strict();

export type StackConfig = z.infer<typeof StackConfigSchema>;

/**
 * With `stack.color` set, a port, payment port and data dir that no layer gave take the color's
 * defaults (green: 8081, 8090, .surgectl/data-green) instead of the plain ones, so blue and green
 * run side by side; any value given in the file, the environment or a flag still wins. Works on
 * the merged layers before validation (a bad color is left for the schema to report); returns a
 * copy.
 */
export function stackColorDefaults(merged: Record<string, unknown>): Record<string, unknown> {
  const stack = merged.stack;
  if (stack === null || typeof stack !== 'object' || Array.isArray(stack)) return merged;
  const color = (stack as { color?: unknown }).color;
  if (color !== 'blue' && color !== 'green') return merged;
  const given = stack as Record<string, unknown>;
  const filled: Record<string, unknown> = { ...given };
  for (const [key, value] of Object.entries(COLOR_DEFAULTS[color])) if (given[key] === undefined) filled[key] = value;
  return { ...merged, stack: filled };
}

/** A duration in the one grammar (src/util/duration.ts): 30s, 5m, 1h30m, 7d, 2w; kept as text, as the user wrote it. */
const duration = z
  .string()
  .refine((v) => (parseDuration(v) ?? 0) > 0, 'expected a duration such as 5m, 7d or 1h30m')
  .describe('a duration such as 5m, 7d or 1h30m');

/** `surgectl forecast` defaults (flags win). Durations are strings with units. */
export const ForecastConfigSchema = z
  .object({
    /** How far ahead to forecast. */
    horizon: duration.default('7d'),
    /** Grid step; Prometheus queries use 5m when unset, files their median gap. */
    step: duration.optional(),
    /** History read from Prometheus. */
    lookback: duration.default('28d'),
    /** `auto` (backtest selection) or a model name to force. */
    model: z.string().min(1).default('auto'),
    /** Prometheus base URL used when --prometheus is not given. */
    prometheus: z.string().url().optional(),
    /** Range query used with it, e.g. sum(rate(surgectl_orders_accepted_total[5m])). */
    query: z.string().min(1).optional(),
    /** What file values count: per-second, per-minute, per-hour, per-day or per-step. Unset: per-second, with a warning when they look like counts. */
    unit: z.enum(['per-second', 'per-minute', 'per-hour', 'per-day', 'per-step']).optional(),
    /** Holiday calendars by country code (`us,de` or a list): effects learned from history, applied when the backtest agrees. Unset: none. */
    holidays: z.union([z.string(), z.array(z.string().min(1))]).optional(),
  })
  .strict();

export type ForecastConfig = z.infer<typeof ForecastConfigSchema>;

/** `surgectl flags`: where the flags live and the named sets `flags degrade` switches off. */
export const FlagsConfigSchema = z
  .object({
    /** `local`: the bundled stack's own flags through its admin API; `unleash`: an Unleash server's Admin API. */
    provider: z.enum(['local', 'unleash']).default('local'),
    /** Unleash base URL (provider unleash), e.g. http://127.0.0.1:4242. */
    unleashUrl: z.string().refine(isHttpUrl, 'expected an http(s) URL such as http://127.0.0.1:4242').optional(),
    /** Unleash project of the flags. */
    project: z.string().min(1).default('default'),
    /** Unleash environment switched when --env is not given. */
    environment: z.string().min(1).default('development'),
    /** A file holding the Unleash admin token (first line), used when env UNLEASH_ADMIN_TOKEN is not set. */
    credentialsFile: z.string().min(1).optional(),
    /** Named sets of non-critical flags, switched off together by `flags degrade --set <name>`. */
    sets: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)).default({ peak: ['recommendations', 'loyalty-points', 'order-notifications'] }),
  })
  .strict();

export type FlagsConfig = z.infer<typeof FlagsConfigSchema>;

/** `surgectl watch`: refresh, sparkline history and the SLOs the screen colours against (red past, yellow past 80%). */
export const WatchConfigSchema = z
  .object({
    /** Time between readings, ms (`--interval`, a duration). */
    intervalMs: z.number().int().min(100).max(3_600_000).default(W.intervalMs),
    /** History the sparklines show, ms. */
    historyMs: z.number().int().min(1_000).default(W.historyMs),
    /** Intake p50 latency objective, ms. */
    intakeP50Ms: z.number().positive().default(W.intakeP50Ms),
    /** Intake p99 latency objective, ms. */
    intakeP99Ms: z.number().positive().default(W.intakeP99Ms),
    /** Share of intake answers that may be server errors (5xx but 503), 0..1. */
    errorRatio: z.number().min(0).max(1).default(W.errorRatio),
    /** Share of intake answers that may be 429, 0..1. */
    rateLimitedRatio: z.number().min(0).max(1).default(W.rateLimitedRatio),
    /** Share of intake answers that may be 503, 0..1. */
    unavailableRatio: z.number().min(0).max(1).default(W.unavailableRatio),
    /** Waiting orders objective. */
    queueDepth: z.number().int().min(1).default(W.queueDepth),
    /** Wait of the oldest waiting order objective, ms. */
    oldestWaitMs: z.number().positive().default(W.oldestWaitMs),
    /** Share of workers busy objective, 0..1. */
    workersBusyRatio: z.number().min(0).max(1).default(W.workersBusyRatio),
    /** Units left of a sku at or below which it shows red. */
    stockLow: z.number().int().min(0).default(W.stockLow),
  })
  .strict();

export type WatchConfig = z.infer<typeof WatchConfigSchema>;

/** `surgectl scale`: which live objects each service of a ScalePlan maps to, when the plan does not say. */
export const ScaleConfigSchema = z
  .object({
    /**
     * Service name -> its targets, e.g. `worker: [{kind: Deployment, name: worker, namespace: shop}]`.
     * In the environment (SURGECTL_SCALE_TARGETS), the same as JSON.
     */
    targets: z.preprocess((v) => (typeof v === 'string' ? jsonOrText(v) : v), ScaleTargetsSchema).default({}),
  })
  .strict();

export type ScaleConfig = z.infer<typeof ScaleConfigSchema>;

/** A JSON document, or the text itself (validation then names the variable). */
function jsonOrText(v: string): unknown {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/** A comma-separated list in the environment; a YAML list in the file. */
const urlList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((u) => u.trim()).filter(Boolean) : v),
  z.array(z.string().refine(isHttpUrl, 'expected an http(s) URL')),
);

/** `surgectl preflight`: what to check. A check whose system is not configured here is skipped, never passed. */
export const PreflightConfigSchema = z
  .object({
    /** Directory of load-test results (`surgectl loadtest --out`); its newest *.json is checked. */
    loadTestResults: z.string().min(1).optional(),
    /** How old the newest load-test result may be. */
    maxResultAge: duration.default('7d'),
    /** Name of the `flags.sets` entry that `flags degrade` will switch off; its flags must exist. */
    degradeSet: z.string().min(1).optional(),
    /** Static asset URLs that must answer with a cacheable Cache-Control (max-age/s-maxage > 0). */
    cacheableUrls: urlList.default([]),
    /** API URLs that must NOT be cacheable (no-store, private, no-cache or no max-age). */
    uncacheableUrls: urlList.default([]),
    /** Prometheus base URL whose loaded rules must include deploy/prometheus's groups and alerts. */
    prometheusUrl: z.string().refine(isHttpUrl, 'expected an http(s) URL such as http://127.0.0.1:9090').optional(),
  })
  .strict();

export type PreflightConfig = z.infer<typeof PreflightConfigSchema>;

/** One region of an active-passive pair (`surgectl region status`, failover). */
export const RegionConfigSchema = z
  .object({
    /** The region's PostgreSQL (postgres://user@host:port/db; a password is never shown). */
    store: z.string().refine((v) => /^postgres(ql)?:\/\/[^/]/.test(v), 'expected a PostgreSQL URL such as postgres://app@10.0.0.5:5432/orders'),
    /** The region's order intake (its /readyz tells whether it takes orders). */
    intakeUrl: z.string().refine(isHttpUrl, 'expected an http(s) URL such as http://10.0.0.5:8080').optional(),
    /** The region's server in the HAProxy backend that failover moves traffic in; default the region's name. */
    server: z.string().min(1).optional(),
    /**
     * A command (a shell line) that turns this region's PostgreSQL into a streaming replica of the
     * primary named by PRIMARY_HOST, PRIMARY_PORT and PRIMARY_URL in its environment (pg_rewind,
     * else pg_basebackup), returning once it streams. `surgectl failback` runs it where surgectl runs.
     */
    rebuild: z.string().min(1).optional(),
    /**
     * A command (a shell line) that kills this region's PostgreSQL postmaster with SIGKILL (a crash:
     * no shutdown checkpoint) and returns once its processes are gone. Only the chaos variant of the
     * drill runs it (`surgectl drill failover --kill-primary`), where surgectl runs.
     */
    kill: z.string().min(1).optional(),
  })
  .strict();

/** Region name -> region, e.g. `a: {store: postgres://…, intakeUrl: http://…}`. File only (no environment layering). */
export const RegionsConfigSchema = z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a region name is lower-case letters, digits and dashes'), RegionConfigSchema);

export type RegionConfig = z.infer<typeof RegionConfigSchema>;

/**
 * surgectl.yaml. Every section is optional; unknown keys are errors (a typo must not be ignored).
 * Sections are added here as features land; each documents its units.
 */
export const ConfigSchema = z
  .object({
    stack: StackConfigSchema.default(StackConfigSchema.parse({})),
    forecast: ForecastConfigSchema.default(ForecastConfigSchema.parse({})),
    scale: ScaleConfigSchema.default(ScaleConfigSchema.parse({})),
    flags: FlagsConfigSchema.default(FlagsConfigSchema.parse({})),
    watch: WatchConfigSchema.default(WatchConfigSchema.parse({})),
    preflight: PreflightConfigSchema.default(PreflightConfigSchema.parse({})),
    regions: RegionsConfigSchema.default({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

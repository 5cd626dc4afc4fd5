import type { FastifyBodyParser } from 'fastify';
import type pino from 'pino';
import type { InventoryItem } from '../domain/types.js';
import type { OrderEngine } from '../engine.js';
import type { StackMetrics } from '../metrics.js';
import type { LoadShedder } from '../resilience/load-shed.js';
import type { ClientRateLimiter } from '../resilience/rate-limit.js';
import type { SharedClientRateLimiter } from '../resilience/redis-rate-limit.js';
import type { StackColor } from '../stack-options.js';
import type { IntakeTracing } from '../tracing.js';
import type { ConnectionHold } from './intake-guard.js';
import type { RefusalLog } from './refusal-log.js';
import type { BodyValidator } from './raw-order.js';
import type { StackProcessInfo } from './admin-contract.js';

/** Intake switches the admin API and a graceful stop flip at run time. */
export interface IntakeState {
  /** POST /admin/intake/pause: new orders get 503 ORDER_PAUSED. */
  paused: boolean;
  /** Set by stop() or POST /admin/drain: new orders get 503 ORDER_DRAINING, /readyz 503. */
  draining: boolean;
  /** Share (0..1) of order submissions refused with 503 ORDER_FAULT_DROPPED (chaos fault). */
  dropRatio: number;
}

export interface PaymentSettings {
  /** Share of gateway calls failed with 503, 0..1. */
  failureRate: number;
  /** Added latency per gateway call, ms. */
  latencyMs: number;
}

/** The payment gateway's fault knobs as the admin API forwards them. */
export interface PaymentFaultControl {
  get(): PaymentSettings | Promise<PaymentSettings>;
  set(change: Partial<PaymentSettings>): PaymentSettings | Promise<PaymentSettings>;
  /** Back to the configured values. */
  reset(): PaymentSettings | Promise<PaymentSettings>;
}

/** Bounds on slow and greedy clients (see docs/order-stack.md, "Operating under failure"). */
export interface HttpLimits {
  /** Longest time to receive a request's headers, ms; then 408 and close. */
  headersTimeoutMs: number;
  /** Longest time to receive a whole request (headers and body), ms; then 408 and close. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests, ms. */
  keepAliveTimeoutMs: number;
  /** Open connections in total; the next ones get 503 + Retry-After and are closed. */
  maxConnections: number;
  /** Open connections per client address; the next ones get 503 + Retry-After and are closed. */
  maxConnectionsPerIp: number;
}

/** Everything the API plugins need; built by stack.ts (or a test). */
export interface ApiDeps {
  engine: OrderEngine;
  metrics: StackMetrics;
  logger: pino.Logger;
  /** Bearer token of /admin/*. */
  adminToken: string;
  /** Per-client requests per second, or 'off'. */
  rateLimit: number | 'off';
  /** Waiting orders above which new orders are shed. */
  maxBacklog: number;
  /** Mutable; shared with whoever stops the stack. A fresh one is made when absent. */
  state?: IntakeState;
  payment?: PaymentFaultControl;
  /** Closes and reopens the store (chaos: store restart; SQLite only). Absent: POST /admin/faults/restart-store answers 409 ORDER_FAULT_UNSUPPORTED. */
  restartStore?: () => Promise<{ downtimeMs: number } | void>;
  /** Which order store the engine runs on, for messages (e.g. 'PostgreSQL postgres://app@db:5432/orders'). Default: none. */
  storeKind?: string;
  /** POST /admin/drain: stop taking orders and let the workers finish. Default: pool.drain(drainTimeoutMs). */
  drain?: () => Promise<unknown>;
  /** Used by the default drain; ms. Default 30 000. */
  drainTimeoutMs?: number;
  /** At most one log line per this many ms about orders the store refused; default 10 000. */
  refusalLogIntervalMs?: number;
  /** For the drop-requests fault; default Math.random. */
  random?: () => number;
  /** ms since epoch; default Date.now. */
  now?: () => number;
  /** Timeouts and connection caps of the listener. Default: fastify's and Node's (no caps). */
  limits?: HttpLimits;
  /** This stack process in GET /admin/flags (`instance`). Default `<hostname>:<pid>:<time the API was built>`. */
  instanceId?: string;
  /** Tracing on: a root span per order submission, its traceparent stored with the order. Default: none. */
  tracing?: IntakeTracing | undefined;
  /** The side of a blue-green pair: in /healthz, /readyz, /admin/status and the x-surgectl-color header of every answer. Default: none. */
  color?: StackColor | undefined;
  /**
   * The per-client rate limit shared by every intake replica through Redis (a stack with a cache),
   * built for `rateLimit`. Default: a per-process one built here from `rateLimit`.
   */
  limiter?: ClientRateLimiter | SharedClientRateLimiter | undefined;
  /** GET /v1/inventory reads this (a bounded-staleness copy) instead of the store. Default: the store. */
  inventory?: InventoryReads | undefined;
  /** Where the rate limit and the inventory copy live right now, for GET /admin/status. Default: always 'off'. */
  cacheMode?: (() => CacheMode) | undefined;
  /** The processes of a replicated stack, as its supervisor last reported them (GET /admin/status). Default: none. */
  processes?: (() => readonly StackProcessInfo[]) | undefined;
}

/** GET /v1/inventory's source when it is not the store itself: a cache of it that can be told stock changed. */
export interface InventoryReads {
  listInventory(): Promise<InventoryItem[]>;
  /** After a write that changed stock: the next read goes to the store, for every replica. Never rejects. */
  invalidate(): Promise<void>;
}

/** 'redis': shared by every replica through Redis; 'local': per process (Redis unreachable or slow); 'off': the stack has no cache. */
export type CacheMode = 'redis' | 'local' | 'off';

/** What the plugins share at run time (decorated onto the fastify instance as `surge`). */
export interface ApiRuntime {
  deps: ApiDeps;
  state: IntakeState;
  /** The per-client rate limit: per process, or shared through Redis (knownRefusal, an exact consume()). */
  limiter: ClientRateLimiter | SharedClientRateLimiter;
  shedder: LoadShedder;
  /** Orders the store refused, logged once per interval with a count. */
  refusals: RefusalLog;
  /** Connections held after an overload refusal (backpressure; see ConnectionHold). */
  holds: ConnectionHold;
  /** POST /v1/orders's body parser and compiled schema (the route's own), set once the API is ready; the raw intake uses them. */
  orderBody?: { parseJson: FastifyBodyParser<string>; validate: BodyValidator };
  now(): number;
}

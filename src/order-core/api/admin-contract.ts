/**
 * The wire documents of the stack's admin API (docs/order-api.md), types only. The server
 * (admin.ts) declares its answers with them and the one client (adapters/stack-admin) reads them,
 * so a change to the API is a type error on both sides instead of a silent drift. Written out in
 * plain JSON terms, without the engine's types, because a client may meet a newer server.
 */

/** The payment gateway simulator's fault settings (GET/PUT /admin/faults/payment). */
export interface PaymentFaults {
  /** Share of payment calls failed with 503, 0..1. */
  failureRate: number;
  /** Latency added to each payment call, ms. */
  latencyMs: number;
}

/** GET /admin/status, and the answer of DELETE /admin/faults. */
export interface StackStatus {
  intake: { paused: boolean; draining: boolean };
  /** `size` workers configured, `busy` running a job; `paused` when the queue consumer is paused (a fault). */
  workers: { size: number; busy: number; paused: boolean };
  /** Orders waiting for a worker, and how long the oldest has waited, ms. */
  queue: { depth: number; oldestWaitingMs: number };
  /** Orders per order status (accepted, reserved, …, confirmed); the stack sends every status, zero included. */
  orders: { byStatus: Record<string, number> };
  /** Units sold beyond stock; must stay 0. */
  oversold: number;
  /** The payment circuit breaker. */
  breaker: 'closed' | 'half_open' | 'open';
  /** null when the stack runs without the bundled payment gateway (never for `surgectl stack up`). */
  payment: PaymentFaults | null;
  faults: { dropRatio: number };
  /** The side of a blue-green pair this stack is (`stack up --color`); null when it has none. */
  color: 'blue' | 'green' | null;
  /**
   * Where the per-client rate limit and the GET /v1/inventory copy live (`stack up --cache`):
   * 'redis', shared by every replica; 'local', per process while Redis is unreachable or slow;
   * 'off', no cache. Absent from stacks older than the cache.
   */
  cache?: 'redis' | 'local' | 'off';
  /**
   * The processes of a replicated stack (`stack up --intake-replicas N --worker-processes M`), as
   * its supervisor last reported them; absent for a stack that is one process. The other fields
   * are those of the intake replica that answered (its workers, intake switches) and of the
   * shared store (queue, orders, oversold).
   */
  processes?: StackProcessInfo[];
}

/** One process of a replicated stack. */
export interface StackProcessInfo {
  /** 'intake' takes orders on the shared port; 'worker' runs pipeline workers. */
  role: 'intake' | 'worker';
  /** intake-1, worker-3, …: stable across restarts. */
  name: string;
  /** The OS process id now; null while it is being restarted. */
  pid: number | null;
  state: 'starting' | 'running' | 'restarting';
  /** Times the supervisor started it again after it died. */
  restarts: number;
  /** When the current process started (ISO 8601). */
  since: string;
}

/** One of the stack's feature flags (GET /admin/flags, PUT and DELETE /admin/flags/:name). */
export interface StackFlag {
  name: string;
  /** The value the stack uses now: local, the override when there is one, else the default; Unleash, its value. */
  enabled: boolean;
  /** True while an override set through the admin API is in force (always false when the source is Unleash). */
  overridden: boolean;
  description: string;
}

/** GET /admin/flags: the values in use, where they come from and how fresh they are. */
export interface StackFlagList {
  flags: StackFlag[];
  /** 'local': the stack's own defaults and overrides; 'unleash': read from Unleash with unleash-client. */
  source: 'local' | 'unleash';
  /**
   * ISO-8601 time the values in use were last fetched: local, the start or the last change;
   * Unleash, the last successful fetch (null until one succeeded: the defaults are in use).
   */
  refreshedAt: string | null;
  /** A stable id of this stack process (`<hostname>:<pid>:<start time>`), to tell instances apart. */
  instance: string;
}

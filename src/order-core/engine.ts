import type { BreakerState } from './resilience/circuit-breaker.js';
import type { OrderReads } from './storage/ports.js';

/** The worker pool as the admin API and the chaos drills see it. */
export interface WorkerPoolControl {
  /** Workers configured to run. */
  size(): number;
  /** Grows or shrinks the pool at run time; shrinking lets busy workers finish their job first. */
  setSize(n: number): void;
  /** Workers running a job right now. */
  busy(): number;
  /** Stops taking new jobs (in-flight jobs finish); `resume()` undoes it. The chaos action "pause the queue consumer". */
  pause(): void;
  resume(): void;
  isPaused(): boolean;
  /**
   * Simulates a crashed worker: one busy worker (or an idle one) dies without acknowledging its
   * job; its lease expires and another worker takes the job up. Returns the job's order id, if any.
   */
  killWorker(): { killed: boolean; orderId?: string };
  /** Confirmed (terminal) orders per second over the last few seconds, for ETAs. */
  throughputPerSec(): number;
  /** Waits until in-flight jobs finish or the timeout passes; takes no new jobs afterwards. */
  drain(timeoutMs: number): Promise<{ drained: boolean; inFlight: number }>;
}

/** Where the stack's flag values come from: its own store, or an Unleash server through unleash-client. */
export type FlagSource = 'local' | 'unleash';

/**
 * The stack's feature flags: local ones (a default per flag, overridable at run time through the
 * admin API) or Unleash's (read with unleash-client, switched in Unleash).
 */
export interface FlagProvider {
  /** The value in use; an in-memory read, since it runs for every order. */
  isEnabled(name: string): boolean;
  list(): { name: string; enabled: boolean; overridden: boolean; description: string }[];
  /**
   * Local source only: overrides the flag; resolves once the override is stored (and in use).
   * Rejects with SRG_STACK_UNKNOWN_FLAG for a flag it does not know; the Unleash source rejects
   * with SRG_STACK_FLAG_READONLY.
   */
  set(name: string, enabled: boolean): Promise<void>;
  /** Removes the override; the flag returns to its default. Local source only, like set(). */
  clear(name: string): Promise<void>;
  readonly source: FlagSource;
  /**
   * When the values in use were last fetched, epoch ms: local, the start or the last change;
   * Unleash, the last successful fetch (undefined until the first one: defaults are in use).
   */
  refreshedAt(): number | undefined;
  /** Stops background refreshing (Unleash); a no-op for local flags. */
  close?(): void;
}

/** The payment side as the admin API sees it. */
export interface PaymentControl {
  breakerState(): BreakerState;
}

/**
 * The running order engine below the HTTP API: store, worker pool, payments, flags.
 * Built by createEngine() in pipeline/; the API plugins in api/ take it as a dependency.
 */
export interface OrderEngine {
  readonly store: OrderReads;
  readonly pool: WorkerPoolControl;
  readonly payments: PaymentControl;
  readonly flags: FlagProvider;
  /**
   * Stops workers (after a drain of at most `drainTimeoutMs`, default the configured one) and
   * closes the store. Pass 0 when the caller drained already: jobs still running are then
   * abandoned without ack and redelivered at the next start.
   */
  close(opts?: { drainTimeoutMs?: number }): Promise<void>;
}

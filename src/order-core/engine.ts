import type { BreakerState } from './resilience/circuit-breaker.js';
import type { OrderStore } from './storage/ports.js';

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

/** Local feature flags: a default per flag, overridable at run time through the admin API. */
export interface FlagProvider {
  isEnabled(name: string): boolean;
  list(): { name: string; enabled: boolean; overridden: boolean; description: string }[];
  set(name: string, enabled: boolean): void;
  /** Removes the override; the flag returns to its default. */
  clear(name: string): void;
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
  readonly store: OrderStore;
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

import type { PaymentFaults, StackFlag, StackFlagList, StackStatus } from '../../order-core/api/admin-contract.js';
import type { InventoryItem } from '../../order-core/domain/types.js';

// The documents are the server's contract (order-core/api/admin-contract.ts); re-exported so
// users of the port name one module.
export type { InventoryItem, PaymentFaults, StackFlag, StackFlagList, StackStatus };

/** Options of a single call. */
export interface CallOptions {
  /**
   * Aborts the call (Ctrl+C): it then rejects with SRG_CLI_INTERRUPTED, not as an unreachable
   * stack. The per-call timeout applies either way.
   */
  signal?: AbortSignal;
}

/**
 * The admin API of the bundled order stack (docs/order-api.md): the one client for `stack status`,
 * the chaos drills, rehearsals and the local flags. Every method rejects with a SurgeError:
 * SRG_STACK_UNREACHABLE when the stack does not answer, SRG_STACK_ADMIN when it answers with an
 * error (401 carries a hint about the token), SRG_STACK_UNKNOWN_FLAG for a flag it does not know,
 * SRG_CLI_INTERRUPTED when the caller's signal aborted the call.
 */
export interface StackAdminPort {
  /** Base URL of the intake + admin listener, without a trailing slash, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  status(opts?: CallOptions): Promise<StackStatus>;
  /** The stack's Prometheus exposition text from GET /metrics. */
  metricsText(): Promise<string>;
  /** Stock per sku (GET /v1/inventory, no token needed). */
  inventory(opts?: CallOptions): Promise<InventoryItem[]>;
  setWorkers(count: number): Promise<{ size: number }>;
  killWorker(): Promise<{ killed: boolean; orderId?: string }>;
  pauseConsumer(): Promise<{ paused: boolean }>;
  /** New orders get 503 ORDER_INTAKE_PAUSED with Retry-After until resumeIntake (a failover's first step). */
  pauseIntake(): Promise<{ paused: boolean }>;
  resumeIntake(): Promise<{ paused: boolean }>;
  resumeConsumer(): Promise<{ paused: boolean }>;
  /** Share (0..1) of intake requests answered with 503 ORDER_FAULT_DROPPED. */
  setDropRatio(ratio: number): Promise<{ dropRatio: number }>;
  paymentFaults(): Promise<PaymentFaults>;
  setPaymentFaults(faults: Partial<PaymentFaults>): Promise<PaymentFaults>;
  restartStore(): Promise<{ restarted: boolean; downtimeMs: number }>;
  /** Drop ratio 0, consumer resumed, payment back to its configured values. */
  clearFaults(): Promise<StackStatus>;
  /** Every flag the stack knows, with its current value (GET /admin/flags). */
  flags(): Promise<StackFlag[]>;
  /** The whole GET /admin/flags answer: the values in use, their source, when they were fetched and which instance answered (`flags verify`). */
  flagList(opts?: CallOptions): Promise<StackFlagList>;
  /** Overrides a flag until cleared; the override survives a restart (PUT /admin/flags/:name). */
  setFlag(name: string, enabled: boolean): Promise<StackFlag>;
  /** Drops the override: the flag is back at its default (DELETE /admin/flags/:name). */
  clearFlag(name: string): Promise<StackFlag>;
}

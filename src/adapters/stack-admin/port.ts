/**
 * The admin API of the bundled order stack (docs/order-api.md), narrowed to the calls the chaos
 * drills and probes use. Every method rejects with a SurgeError: SRG_STACK_UNREACHABLE when the
 * stack does not answer, SRG_STACK_ADMIN when it answers with an error.
 */
export interface StackAdminPort {
  /** Base URL of the intake + admin listener, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  status(): Promise<StackStatus>;
  /** The stack's Prometheus exposition text from GET /metrics. */
  metricsText(): Promise<string>;
  setWorkers(count: number): Promise<{ size: number }>;
  killWorker(): Promise<{ killed: boolean; orderId?: string }>;
  pauseConsumer(): Promise<{ paused: boolean }>;
  resumeConsumer(): Promise<{ paused: boolean }>;
  /** Share (0..1) of intake requests answered with 503 ORDER_FAULT_DROPPED. */
  setDropRatio(ratio: number): Promise<{ dropRatio: number }>;
  paymentFaults(): Promise<PaymentFaults>;
  setPaymentFaults(faults: Partial<PaymentFaults>): Promise<PaymentFaults>;
  restartStore(): Promise<{ restarted: boolean; downtimeMs: number }>;
  /** Drop ratio 0, consumer resumed, payment back to its configured values. */
  clearFaults(): Promise<StackStatus>;
}

/** The payment gateway simulator's fault settings. */
export interface PaymentFaults {
  /** Share of payment calls failed with 503, 0..1. */
  failureRate: number;
  /** Latency added to each payment call, ms. */
  latencyMs: number;
}

/** GET /admin/status. */
export interface StackStatus {
  intake: { paused: boolean; draining: boolean };
  workers: { size: number; busy: number; paused: boolean };
  queue: { depth: number; oldestWaitingMs: number };
  orders: { byStatus: Record<string, number> };
  /** Units sold beyond stock; must stay 0. */
  oversold: number;
  breaker: 'closed' | 'half_open' | 'open';
  payment: PaymentFaults;
  faults: { dropRatio: number };
}

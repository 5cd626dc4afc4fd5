import { Agent, request } from 'undici';
import { GiveUp, PaymentDeclined, TransientPaymentError } from '../domain/outcomes.js';
import { BreakerOpenError, createCircuitBreaker, type BreakerOptions, type BreakerState } from '../resilience/circuit-breaker.js';
import { retry, type BackoffPolicy } from '../resilience/retry.js';
import type { CallTracer, TracedCall } from '../tracing.js';

export interface PaymentClientOptions {
  /** Base URL of the gateway, e.g. http://127.0.0.1:8089. */
  baseUrl: string;
  /** Per-call timeout, ms. */
  timeoutMs: number;
  /** Bearer token the gateway requires on POST /v1/charges. */
  authToken: string;
  /** Calls per charge (first try + retries) for transient errors. Default 3. */
  maxAttempts?: number;
  /** Backoff between those calls. Default base 50 ms, cap 1000 ms. */
  retryPolicy?: BackoffPolicy;
  breaker?: BreakerOptions;
  /** Called with each call's outcome (ok, declined, error, timeout, breaker_open). */
  onAttempt?: (outcome: 'ok' | 'declined' | 'error' | 'timeout' | 'breaker_open') => void;
  onBreakerChange?: (state: BreakerState) => void;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
}

export interface ChargeRequest {
  orderId: string;
  amountCents: number;
  token?: string | undefined;
  /** Sent as Idempotency-Key; the engine uses the order id, so an order is charged at most once. */
  idempotencyKey: string;
  /** Tracing on: runs each HTTP call in a client span and sends its traceparent. Default: untraced. */
  traceCall?: CallTracer | undefined;
}

export interface Charge {
  chargeId: string;
  orderId: string;
  status: 'succeeded';
}

/**
 * The engine's way to the gateway: undici with a per-call timeout, each call through one opossum
 * breaker, transient failures (5xx, timeout, connection errors) retried with full-jitter backoff.
 * Declines are final and do not count against the breaker. While the breaker is open a call
 * fails at once with BreakerOpenError and nothing is sent.
 */
export function createPaymentClient(opts: PaymentClientOptions) {
  // One connection per in-flight charge up to 128: queueing inside undici would eat the per-call timeout.
  // Connecting is bounded by the same per-call timeout (undici's own default is 10 s).
  const dispatcher = new Agent({ connections: 128, keepAliveTimeout: 10_000, connect: { timeout: opts.timeoutMs } });
  const breaker = createCircuitBreaker({
    ...opts.breaker,
    // A decline or another 4xx is an answer: the gateway is up. Errors of our own (the order is
    // no longer ours, the job was aborted, the pre-send write failed) say nothing about it.
    classify: (err) => (err instanceof TransientPaymentError ? 'failure' : err instanceof PaymentDeclined || err instanceof GatewayRejectedError ? 'healthy' : 'neutral'),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.onBreakerChange ? { onStateChange: opts.onBreakerChange } : {}),
  });
  const policy = opts.retryPolicy ?? { baseMs: 50, capMs: 1_000 };

  const chargesUrl = new URL('/v1/charges', opts.baseUrl);
  const authorization = `Bearer ${opts.authToken}`;
  const timedOut = () => new TransientPaymentError(`payment gateway did not answer within ${opts.timeoutMs} ms`, 'timeout');

  async function callOnce(req: ChargeRequest, signal: AbortSignal, traced?: TracedCall): Promise<Charge> {
    // undici's own header and body timeouts, not AbortSignal.timeout + AbortSignal.any per call:
    // those two showed up in the pipeline's profile at every charge.
    let res;
    try {
      res = await request(chargesUrl, {
        method: 'POST',
        dispatcher,
        signal,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
        headers:
          traced === undefined
            ? { 'content-type': 'application/json', 'idempotency-key': req.idempotencyKey, authorization }
            : { 'content-type': 'application/json', 'idempotency-key': req.idempotencyKey, authorization, traceparent: traced.traceparent },
        body: JSON.stringify({ orderId: req.orderId, amountCents: req.amountCents, ...(req.token !== undefined ? { token: req.token } : {}) }),
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (isTimeout(err)) throw timedOut();
      throw new TransientPaymentError(`payment gateway unreachable: ${(err as Error).message}`, 'error');
    }
    if (traced !== undefined) traced.status(res.statusCode);
    let body: unknown;
    try {
      body = await res.body.json();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (isTimeout(err)) throw timedOut();
      throw new TransientPaymentError(`payment gateway sent an unreadable answer (${res.statusCode}): ${(err as Error).message}`, 'error');
    }
    if (res.statusCode === 200 || res.statusCode === 201) return body as Charge;
    if (res.statusCode === 402) throw new PaymentDeclined(String((body as { code?: unknown }).code ?? 'declined'));
    if (res.statusCode >= 500 || res.statusCode === 429) throw new TransientPaymentError(`payment gateway answered ${res.statusCode}`, 'error');
    // 4xx other than 402: our request is wrong, retrying will not help; treat as a bug surfaced loudly
    throw new GatewayRejectedError(`payment gateway rejected the charge (${res.statusCode}): ${JSON.stringify(body)}`);
  }

  return {
    breakerState: (): BreakerState => breaker.state(),
    /** Epoch ms at which an open breaker lets a trial call through (0 when not open). */
    breakerNextTrialAt: (): number => breaker.nextTrialAt(),
    /**
     * Charges once per idempotency key. `beforeSend` runs right before each call leaves (after the
     * breaker let it through); returning false calls the charge off (the order is no longer ours):
     * nothing is sent and the call fails with GiveUp.
     * @throws PaymentDeclined | TransientPaymentError | BreakerOpenError | GiveUp | the signal's reason
     */
    async charge(req: ChargeRequest, signal: AbortSignal, beforeSend: () => Promise<boolean>): Promise<Charge> {
      return retry(
        () =>
          breaker
            .fire(async () => {
              if (!(await beforeSend())) throw new GiveUp('order cancelled or lease lost before the charge was sent');
              return req.traceCall === undefined ? callOnce(req, signal) : req.traceCall(chargesUrl, (traced) => callOnce(req, signal, traced));
            })
            .then(
              (charge) => {
                opts.onAttempt?.('ok');
                return charge;
              },
              (err: unknown) => {
                // Called off or aborted by us: nothing reached the gateway, so there is no attempt to count.
                if (err instanceof GiveUp || signal.aborted) throw err;
                opts.onAttempt?.(
                  err instanceof PaymentDeclined ? 'declined' : err instanceof BreakerOpenError ? 'breaker_open' : err instanceof TransientPaymentError ? err.kind : 'error',
                );
                throw err;
              },
            ),
        { maxAttempts: opts.maxAttempts ?? 3, policy, isRetryable: (e) => e instanceof TransientPaymentError, signal },
      );
    },
    async close(): Promise<void> {
      breaker.shutdown();
      await dispatcher.close();
    },
  };
}

/** The gateway answered 4xx (other than a decline): our request is wrong; retrying will not help. */
export class GatewayRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayRejectedError';
  }
}

export type PaymentClient = ReturnType<typeof createPaymentClient>;

function isTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

import type { Logger } from 'pino';
import { GiveUp, PaymentDeclined, TransientPaymentError } from '../domain/outcomes.js';
import type { OrderStatus } from '../domain/types.js';
import type { FlagProvider } from '../engine.js';
import { batchedLine } from '../logger.js';
import { cachedObserver, type StackMetrics } from '../metrics.js';
import type { PaymentClient } from '../payment-gateway/client.js';
import { BreakerOpenError } from '../resilience/circuit-breaker.js';
import { fullJitterDelay, type BackoffPolicy } from '../resilience/retry.js';
import { NOTIFY_SKIPPED_BY_FLAG, type OrderRecord as OrderRow, type WorkLease as LeasedJob, type WorkStore } from '../storage/ports.js';
import type { JobTrace, PipelineTracing, StepSpan } from '../tracing.js';

/** What a finished job did to its order. */
export type JobResult =
  /** The order reached a final status in this job. */
  | { kind: 'completed'; status: OrderStatus }
  /** The order waits (payment_pending) until `retryAt`, epoch ms. */
  | { kind: 'deferred'; retryAt: number }
  /** Nothing left to do (already final, e.g. a redelivered job whose work was done). */
  | { kind: 'noop' };

/** A pipeline worker: one job, cancellable. */
export type Worker = (job: LeasedJob, signal: AbortSignal) => Promise<JobResult>;

/** The order pipeline's worker, with a way to write its shared "orders confirmed" line at close. */
export type OrderWorker = Worker & { flushLog(): void };

export interface PipelineDeps {
  store: WorkStore;
  payments: PaymentClient;
  flags: FlagProvider;
  logger: Logger;
  metrics: StackMetrics;
  now: () => number;
  /** Wait between payment attempts while the gateway is unavailable. */
  deferPolicy: BackoffPolicy;
  /** Spans for each step of a traced order (tracing on). Default: none. */
  tracing?: PipelineTracing | undefined;
}

/**
 * reserve -> pay -> confirm -> notify for one leased order. Each step is one guarded transaction
 * and idempotent, so a job may be run again from any point after a crash: the order's status says
 * where to resume. Every write checks the lease token; when it no longer matches, the store (or
 * the payment client, for a charge called off) throws GiveUp and the job stops without touching
 * the order.
 */
export function createOrderWorker(deps: PipelineDeps): OrderWorker {
  const { store, payments, flags, metrics, now, tracing } = deps;

  // Untraced confirms share one log line (batchedLine): `orderIds` and, at the same index, each
  // one's `chargeIds` (null: paid before) and `notifications`. A pino line (and a child logger)
  // per order was ~5 % of the pipeline's CPU.
  const confirmedLog = batchedLine(deps.logger, 'orders confirmed', 'confirmed', ['orderIds', 'chargeIds', 'notifications']);

  const observe = cachedObserver(metrics.stepDuration, ['step', 'outcome']);
  const observeStep = (step: string, outcome: string, seconds: number) => observe([step, outcome], seconds);

  const timed = async <T>(
    step: 'reserve' | 'pay' | 'confirm',
    fn: (span: StepSpan | undefined) => T | Promise<T>,
    outcomeOf: (v: T) => string = () => 'ok',
    trace?: JobTrace,
  ): Promise<T> => {
    const started = performance.now();
    const span = trace === undefined ? undefined : trace.step(step);
    try {
      const v = await fn(span);
      const outcome = outcomeOf(v);
      observeStep(step, outcome, (performance.now() - started) / 1000);
      if (span !== undefined) span.end(outcome);
      return v;
    } catch (err) {
      const outcome = err instanceof PaymentDeclined ? 'declined' : err instanceof BreakerOpenError ? 'breaker_open' : err instanceof TransientPaymentError ? 'unavailable' : 'error';
      observeStep(step, outcome, (performance.now() - started) / 1000);
      if (span !== undefined) span.fail(err, outcome);
      throw err;
    }
  };

  /** paid -> confirmed -> notify in one commit; metrics per step from inside it. */
  const settle = async (job: LeasedJob, chargeId: string | undefined, log: () => Logger, row: OrderRow, trace: JobTrace | undefined): Promise<JobResult> => {
    const enabled = flags.isEnabled('order-notifications');
    const features = { notifications: enabled, recommendations: flags.isEnabled('recommendations'), loyaltyPoints: flags.isEnabled('loyalty-points') };
    const r = await timed('confirm', () => store.settle(job.orderId, job.token, chargeId, features, row), undefined, trace);
    // notify shares the confirm commit (outbox pattern); its own share is the outbox write
    observeStep('notify', enabled ? 'ok' : 'skipped', r.notifyMs / 1000);
    if (trace !== undefined) trace.record('notify', r.notifyMs, enabled ? 'ok' : 'skipped');
    // One line for payment, confirmation and notification: they are one commit, and three lines
    // per order were a visible share of the pipeline's CPU.
    const notification = r.notified ? 'queued' : enabled ? 'already_sent' : NOTIFY_SKIPPED_BY_FLAG;
    if (trace !== undefined) log().info({ ...(chargeId !== undefined ? { chargeId } : {}), notification }, 'order confirmed');
    else confirmedLog.add(job.orderId, chargeId ?? null, notification);
    return { kind: 'completed', status: 'confirmed' };
  };

  const run: Worker = async (job, signal) => {
    // Orders accepted with tracing on carry their intake span's traceparent: the steps join that trace.
    const trace = tracing === undefined ? undefined : tracing.job(job.orderId, job.traceParent);
    // made on first use: most jobs log only their confirm, which goes in the shared line
    let child: Logger | undefined;
    const logger = (): Logger => (child ??= deps.logger.child(trace === undefined ? { orderId: job.orderId } : { orderId: job.orderId, trace_id: trace.traceId }));
    const check = () => {
      if (signal.aborted) throw new GiveUp(`worker stopped: ${String((signal.reason as Error | undefined)?.message ?? signal.reason)}`);
    };
    if (job.redelivered) logger().warn('job redelivered after an expired lease');
    // Whether the durable "a charge may be sent" mark is already set for this order.
    let payMarked = false;
    if (job.reserved !== undefined) {
      // the dispatcher ran the reserve step in the lease commit
      observeStep('reserve', job.reserved.status, job.reserved.ms / 1000);
      if (trace !== undefined) trace.record('reserve', job.reserved.ms, job.reserved.status);
      if (job.reserved.status === 'sold_out') {
        logger().info({ reason: job.reserved.reason }, 'order sold out');
        return { kind: 'completed', status: 'sold_out' };
      }
      payMarked = job.reserved.payStarted === true;
    }
    // the lease commit's copy of the row serves the first step; later steps read it again
    let known = job.row;
    for (let step = 0; step < 16; step++) {
      check();
      const row = known ?? (await store.ownedRow(job.orderId, job.token));
      known = undefined;
      if (row === undefined) throw new GiveUp('lease lost');
      switch (row.status) {
        case 'accepted': {
          // Breaker closed: the charge follows at once, so mark it in the reserve commit. Otherwise
          // leave the order unmarked so its reservation can still expire while the gateway is down.
          const r = await timed('reserve', () => store.reserve(job.orderId, job.token, payments.breakerState() === 'closed'), (v) => v.status, trace);
          payMarked = r.payStarted === true;
          if (r.status === 'sold_out') {
            logger().info({ reason: r.reason }, 'order sold out');
            return { kind: 'completed', status: 'sold_out' };
          }
          logger().debug('stock reserved');
          continue;
        }
        case 'reserved':
        case 'payment_pending': {
          if (row.reserved_until !== null && row.reserved_until <= now() && row.pay_attempts === 0) {
            await store.expire(job.orderId, job.token);
            logger().info('reservation expired before payment; stock released');
            return { kind: 'completed', status: 'cancelled' };
          }
          try {
            const charge = await timed(
              'pay',
              (span) =>
                payments.charge(
                  { orderId: row.id, amountCents: row.amount_cents, token: row.payment_token ?? undefined, idempotencyKey: row.id, traceCall: span === undefined ? undefined : span.traceCall },
                  signal,
                  async () => {
                    if (payMarked || row.pay_attempts > 0) return true;
                    payMarked = await store.markPayAttempt(job.orderId, job.token);
                    return payMarked;
                  },
                ),
              undefined,
              trace,
            );
            check();
            return await settle(job, charge.chargeId, logger, row, trace);
          } catch (err) {
            check();
            if (err instanceof PaymentDeclined) {
              await store.failPayment(job.orderId, job.token, `payment declined: ${err.code}`);
              logger().info({ code: err.code }, 'payment declined; stock released');
              return { kind: 'completed', status: 'payment_failed' };
            }
            if (err instanceof BreakerOpenError || err instanceof TransientPaymentError) {
              let retryAt = now() + Math.max(deps.deferPolicy.baseMs, fullJitterDelay(deps.deferPolicy, row.attempts));
              // Trying again before the breaker lets a trial call through only churns the queue;
              // spread the retries over one base interval after that moment instead.
              const trialAt = payments.breakerNextTrialAt();
              if (err instanceof BreakerOpenError && trialAt > 0) retryAt = Math.max(retryAt, trialAt + Math.floor(Math.random() * deps.deferPolicy.baseMs));
              const reason = err instanceof BreakerOpenError ? 'payment gateway unavailable (circuit breaker open)' : `payment gateway unavailable: ${err.message}`;
              await store.deferPayment(job.orderId, job.token, retryAt, reason);
              logger().info({ retryAt: new Date(retryAt).toISOString(), reason }, 'payment deferred');
              return { kind: 'deferred', retryAt };
            }
            throw err;
          }
        }
        case 'paid':
          return await settle(job, undefined, logger, row, trace);
        case 'confirmed': {
          // confirmed but not notified only happens for orders confirmed by an older version
          if (row.notified === 0) return await settle(job, undefined, logger, row, trace);
          await store.ack(job.orderId, job.token, null);
          return { kind: 'noop' };
        }
        default:
          await store.ack(job.orderId, job.token, null);
          return { kind: 'noop' };
      }
    }
    throw new Error(`order ${job.orderId} did not settle after 16 steps`);
  };
  return Object.assign(run, { flushLog: () => confirmedLog.flush() });
}

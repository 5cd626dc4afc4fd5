import type { Logger } from 'pino';
import { SurgeError } from '../../errors.js';
import { withoutPassword } from '../../util/url.js';
import type { JobEnd, JobSource } from '../pipeline/worker-pool.js';
import type { WorkLease } from '../storage/ports.js';
import { OutboxRelay, type OutboxRelayReport } from './outbox-relay.js';
import { migrateMessaging } from './schema.js';
import { assertTopology, connectBroker, resolveTopology, WorkQueueConsumer, type WorkDelivery, type WorkOutcome, type WorkQueueConsumerStats, type WorkQueueTopology } from './work-queue.js';

/*
 * The worker pool fed by RabbitMQ (`stack up --queue amqp://…`): accepted orders reach the
 * workers as messages of the work queue instead of by polling the store.
 *
 * PostgreSQL stays the system of record; a message only says "look at this order". So:
 * - The pool leases exactly the orders it was handed (leaseBatch `only`), each only if it is due
 *   (or parked, below): a message for an order that is final, in another worker's hands, or waiting
 *   for a later payment retry is acked and does nothing. Redeliveries and duplicate publishes are
 *   therefore harmless: nothing reserves or charges twice, the lease and the status guard it.
 * - Every due time is carried by the queue once: the outbox relay publishes an order again when it
 *   became due after its last publish (a payment retry, a lease whose worker died), see
 *   OutboxRelay.redispatchDue.
 * - A job whose worker throws is parked (lease released, no due time) and its message is returned
 *   to the queue: the broker counts the delivery (x-delivery-count) and, past maxDeliveries, moves
 *   the message to the dead-letter queue, where the parked order waits for `stack dlq redrive`.
 *   A parked order is never due, so nothing else picks it up behind the DLQ's back.
 */

/** What QueueDispatch needs of the store: the PostgreSQL store's lease of given orders, and ack (to park). */
export interface QueueLeaseStore {
  leaseBatch(tokens: string[], leaseMs: number, opts: { reserve?: boolean; startPayment?: boolean; only?: readonly string[] }): Promise<WorkLease[]>;
  ack(orderId: string, token: string, nextAttemptAt: number | null): Promise<boolean>;
}

export interface QueueDispatchOptions extends WorkQueueTopology {
  /** amqp://user:password@host:port/vhost */
  amqpUrl: string;
  /** postgres://… of the order store (the outbox lives there). */
  databaseUrl: string;
  store: QueueLeaseStore;
  logger: Logger;
  now: () => number;
  /** Workers of the pool at start: the consumer holds up to twice as many messages (at least 16). */
  workers: number;
  /** Wakes the pool's dispatcher (a delivery is waiting). */
  wake: () => void;
  /** Longest wait for RabbitMQ at start, ms; an unreachable broker is not fatal. Default 2 000. */
  connectTimeoutMs?: number;
}

interface Pending {
  orderId: string;
  answer: (outcome: WorkOutcome) => void;
}

/** The RabbitMQ side of a stack: outbox relay, consumer, and the job source of its worker pool. */
export class QueueDispatch implements JobSource {
  private readonly waiting: Pending[] = [];
  private readonly inHand = new Map<string, Pending>();
  private consumer: WorkQueueConsumer | undefined;
  private relay: OutboxRelay | undefined;
  private stopped = false;
  /** The consumers' abort signals already listened to. */
  private readonly hooked = new WeakSet<AbortSignal>();
  readonly broker: string;

  private constructor(private readonly opts: QueueDispatchOptions) {
    this.broker = withoutPassword(opts.amqpUrl, 'AMQP');
  }

  /**
   * Migrates the outbox (work_outbox and its trigger) in the order store's database, checks the
   * queues once (a queue declared with other arguments is refused: SRG_STACK_QUEUE_MISMATCH), then
   * starts the relay and the consumer. A broker that does not answer is not fatal: orders wait in
   * the outbox and flow once it is back (logged).
   */
  static async start(opts: QueueDispatchOptions): Promise<QueueDispatch> {
    const d = new QueueDispatch(opts);
    const applied = await migrateMessaging(opts.databaseUrl);
    if (applied.applied.length > 0) opts.logger.info({ applied: applied.applied }, `created the work outbox in the order store database (messaging schema ${applied.current})`);
    const topology = resolveTopology(opts);
    try {
      const conn = await connectBroker(opts.amqpUrl, opts.connectTimeoutMs ?? 2_000);
      try {
        await assertTopology(conn, topology);
      } finally {
        await conn.close().catch(() => undefined);
      }
    } catch (err) {
      if (err instanceof SurgeError) throw err;
      opts.logger.error({ err, broker: d.broker }, `RabbitMQ ${d.broker} does not answer; the stack takes orders anyway and they wait in the outbox until it does`);
    }
    d.relay = new OutboxRelay({ ...topology, amqpUrl: opts.amqpUrl, databaseUrl: opts.databaseUrl, logger: opts.logger.child({ component: 'outbox-relay' }), now: opts.now });
    d.relay.start();
    // a process without workers (an intake replica) takes no messages: it would only hold them
    if (opts.workers > 0) d.consume(opts.workers);
    return d;
  }

  private consume(workers: number): void {
    this.consumer = WorkQueueConsumer.start({
      ...resolveTopology(this.opts),
      url: this.opts.amqpUrl,
      prefetch: prefetchFor(workers),
      logger: this.opts.logger.child({ component: 'work-queue' }),
      handler: (delivery, signal) => this.deliver(delivery, signal),
    });
  }

  /** Orders were just accepted: the relay publishes them now rather than at its next poll. */
  accepted(): void {
    this.relay?.notify();
  }

  private deliver(delivery: WorkDelivery, signal: AbortSignal): Promise<WorkOutcome> {
    return new Promise<WorkOutcome>((resolve) => {
      if (signal.aborted) return resolve('retry');
      // one listener per consumer, not per message: the consumer is stopping, and the messages
      // not yet taken go back to the queue
      if (!this.hooked.has(signal)) {
        this.hooked.add(signal);
        signal.addEventListener('abort', () => {
          for (const p of this.waiting.splice(0)) p.answer('retry');
        }, { once: true });
      }
      this.waiting.push({ orderId: delivery.orderId, answer: resolve });
      this.opts.wake();
    });
  }

  async take(tokens: string[], leaseMs: number, opts: { reserve?: boolean; startPayment?: boolean }): Promise<WorkLease[]> {
    const n = Math.min(tokens.length, this.waiting.length);
    if (n === 0) return [];
    const batch = this.waiting.splice(0, n);
    let jobs: WorkLease[];
    try {
      jobs = await this.opts.store.leaseBatch(tokens.slice(0, n), leaseMs, { ...opts, only: batch.map((p) => p.orderId) });
    } catch (err) {
      // the store is away: keep the messages in hand (a redelivery would only count an attempt)
      this.waiting.unshift(...batch);
      throw err;
    }
    for (const job of jobs) {
      const i = batch.findIndex((p) => p.orderId === job.orderId);
      if (i < 0) continue;
      this.inHand.set(job.token, batch[i]!);
      batch.splice(i, 1);
    }
    // final, in another worker's hands, or not due yet: nothing to do for these messages
    for (const p of batch) p.answer('done');
    return jobs;
  }

  finished(job: WorkLease, end: JobEnd): void {
    const pending = this.inHand.get(job.token);
    if (pending === undefined) return;
    this.inHand.delete(job.token);
    if (end !== 'failed') {
      // done: final or due later (the relay publishes it again then); abandoned: the lease runs
      // out and the relay publishes it again, or another worker already holds it
      pending.answer('done');
      return;
    }
    // park it and let the broker count the failed delivery
    this.opts.store.ack(job.orderId, job.token, null).then(
      (parked) => pending.answer(parked ? 'retry' : 'done'),
      () => pending.answer('done'), // the store is away: the lease runs out and the relay publishes it again
    );
  }

  resized(workers: number): void {
    if (this.consumer !== undefined) this.consumer.setPrefetch(prefetchFor(workers));
    else if (workers > 0 && !this.stopped) this.consume(workers);
  }

  /** The consumer's counters and the relay's outbox figures. */
  async report(): Promise<{ consumer: WorkQueueConsumerStats; outbox: OutboxRelayReport | undefined }> {
    const outbox = await this.relay?.report().catch(() => undefined);
    return { consumer: this.consumer?.stats() ?? { done: 0, retried: 0, gaveUp: 0, connected: false }, outbox };
  }

  /** Stops consuming (messages in hand return to the queue) and the relay. Call after the pool stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.inHand.values()) p.answer('retry');
    this.inHand.clear();
    await this.consumer?.stop(0);
    for (const p of this.waiting.splice(0)) p.answer('retry');
    await this.relay?.stop();
  }
}

function prefetchFor(workers: number): number {
  return Math.max(16, workers * 2);
}

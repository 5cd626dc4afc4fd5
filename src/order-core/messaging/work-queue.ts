import amqp from 'amqplib';
import type { Logger } from 'pino';
import { SurgeError } from '../../errors.js';
import { abortableDelay, fullJitterDelay, type BackoffPolicy } from '../resilience/retry.js';
import { withoutPassword } from '../../util/url.js';

/*
 * The RabbitMQ work queue: one durable quorum queue of order ids, fed by the outbox relay
 * (outbox-relay.ts), consumed with manual acks and a prefetch, and a dead-letter queue for orders
 * that failed too often (dlq.ts reads and redrives it).
 *
 * Delivery is at-least-once: the relay may publish an id again (a confirm lost with the
 * connection), and the broker redelivers whatever was not acked when a consumer went away. The
 * handler must therefore be idempotent: keyed by order id, guarded by the order's status or lease.
 *
 * Attempts are counted by the broker, not by the consumer: a quorum queue counts every return of a
 * message (a nack with requeue, and on RabbitMQ 3.x a consumer that died holding it) in
 * `x-delivery-count`, and dead-letters it once the count passes `x-delivery-limit`. So an order
 * that crashes its consumer every time also ends in the DLQ, which a counter in the consumer
 * could not see.
 */

/** The queues and the attempt limit; every process of one stack must use the same values. */
export interface WorkQueueTopology {
  /** The work queue. Default 'surgectl.orders'. */
  queue?: string;
  /** Where orders go after `maxDeliveries` failed deliveries or a give-up. Default '<queue>.dlq'. */
  deadLetterQueue?: string;
  /**
   * Deliveries of one message before it is dead-lettered (the broker's x-delivery-limit is this
   * minus one). Fixed when the queue is first declared: a process declaring another value is
   * refused (see assertTopology). Default 5.
   */
  maxDeliveries?: number;
}

export const DEFAULT_WORK_QUEUE = 'surgectl.orders';
export const DEFAULT_MAX_DELIVERIES = 5;

/** The topology with defaults applied. */
export function resolveTopology(t: WorkQueueTopology = {}): Required<WorkQueueTopology> {
  const queue = t.queue ?? DEFAULT_WORK_QUEUE;
  const maxDeliveries = t.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) throw new RangeError(`maxDeliveries must be a whole number >= 1, got ${maxDeliveries}`);
  return { queue, deadLetterQueue: t.deadLetterQueue ?? `${queue}.dlq`, maxDeliveries };
}

/** The arguments of the work queue as declared (exported for tests and for `stack dlq` output). */
export function workQueueArguments(t: Required<WorkQueueTopology>): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': t.maxDeliveries - 1,
    // the default exchange routes by queue name: no exchange to declare or lose
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': t.deadLetterQueue,
    // at-least-once dead-lettering: the message leaves the work queue only after the DLQ has
    // confirmed it (at-most-once, the default, can drop it); requires reject-publish overflow
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
  };
}

/**
 * Declares the dead-letter queue and the work queue (idempotent; every relay, consumer and dlq
 * command does it on connecting, so none depends on another having started first). The DLQ is a
 * quorum queue too, without a delivery limit: reading it (dlq.ts) returns messages, which counts.
 * @throws SurgeError SRG_STACK_QUEUE_MISMATCH when a queue exists with other arguments (another
 * maxDeliveries, or a classic queue of that name); the broker closes the channel.
 */
export async function assertTopology(conn: amqp.ChannelModel, t: Required<WorkQueueTopology>): Promise<void> {
  // a channel of its own: a refused declaration closes the channel it was sent on
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  try {
    await ch.assertQueue(t.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.assertQueue(t.queue, { durable: true, arguments: workQueueArguments(t) });
  } catch (err) {
    if ((err as { code?: unknown }).code === 406) {
      throw new SurgeError('SRG_STACK_QUEUE_MISMATCH', `RabbitMQ refused to declare the work queues ${t.queue} and ${t.deadLetterQueue}: ${(err as Error).message}`, {
        hint: `a queue of that name exists with other arguments (it was declared with another maxDeliveries, or is not a quorum queue): use the value it was created with (x-delivery-limit + 1), or drain and delete it first`,
        cause: err,
      });
    }
    throw err;
  } finally {
    await ch.close().catch(() => undefined);
  }
}


/** A 10 s heartbeat unless the URL sets one: a broker that vanishes without a FIN is noticed in ~20 s, not at the next write. */
function withHeartbeat(url: string): string {
  try {
    const u = new URL(url);
    if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', '10');
    return u.toString();
  } catch {
    return url; // amqplib reports the bad URL itself
  }
}

/**
 * Opens a connection, bounded by `timeoutMs` (amqplib's socket timeout covers the TCP connect;
 * the handshake of a broker that accepts but never answers is bounded here too).
 */
export async function connectBroker(url: string, timeoutMs = 5_000): Promise<amqp.ChannelModel> {
  let timer: NodeJS.Timeout | undefined;
  const connecting = amqp.connect(withHeartbeat(url), { timeout: timeoutMs, clientProperties: { connection_name: 'surgectl' } });
  try {
    return await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from RabbitMQ within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    // a connection that completes after the deadline is closed, not leaked
    connecting.then((c) => c.close().catch(() => undefined)).catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The message the relay publishes and the DLQ keeps: JSON, with the order id as message id too. */
export interface WorkMessage {
  orderId: string;
}

export function encodeWorkMessage(orderId: string): Buffer {
  return Buffer.from(JSON.stringify({ orderId } satisfies WorkMessage));
}

/** The order id of a message, or undefined when it is not a work message (it is dead-lettered). */
export function decodeWorkMessage(content: Buffer): string | undefined {
  try {
    const v = JSON.parse(content.toString('utf8')) as unknown;
    const id = (v as { orderId?: unknown } | null)?.orderId;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Publish options of a work message: persistent, JSON, routed back to us if no queue takes it. */
export function workPublishOptions(orderId: string, headers?: Record<string, unknown>): amqp.Options.Publish {
  return { persistent: true, mandatory: true, contentType: 'application/json', messageId: orderId, ...(headers !== undefined ? { headers } : {}) };
}

/** What the handler decided about one delivery. */
export type WorkOutcome =
  /** The work is done (or was done before): the message is acked. */
  | 'done'
  /** Failed for now: the message goes back to the queue, until the delivery limit sends it to the DLQ. */
  | 'retry'
  /** Will never succeed: straight to the DLQ. */
  | 'give-up';

/** One delivery as the handler sees it. */
export interface WorkDelivery {
  orderId: string;
  /** Earlier deliveries of this message (the broker's x-delivery-count; 0 on the first). */
  deliveryCount: number;
  /** True when the broker delivered this message before (to any consumer). */
  redelivered: boolean;
}

/**
 * Does the work of one order; must be idempotent (a redelivered id must not reserve or charge
 * twice). Aborted when the consumer stops; a throw counts as 'retry'.
 */
export type WorkHandler = (delivery: WorkDelivery, signal: AbortSignal) => Promise<WorkOutcome>;

export interface WorkQueueConsumerOptions extends WorkQueueTopology {
  /** amqp://user:password@host:port/vhost */
  url: string;
  handler: WorkHandler;
  logger: Logger;
  /** Unacked messages the broker hands this consumer at once (its concurrency). Default 16. */
  prefetch?: number;
  /** Wait between reconnect attempts while the broker is away: full jitter. Default 200 ms doubling to 5 s. */
  reconnect?: BackoffPolicy;
  /** Longest wait for a connection, ms. Default 5 000. */
  connectTimeoutMs?: number;
}

/** Counters since start. */
export interface WorkQueueConsumerStats {
  /** Deliveries acked ('done'). */
  done: number;
  /** Deliveries returned to the queue ('retry', or the handler threw). */
  retried: number;
  /** Deliveries sent to the DLQ by the handler ('give-up', or not a work message). */
  gaveUp: number;
  /** True while a consumer is registered on the broker. */
  connected: boolean;
}

/**
 * Consumes the work queue with manual acks and a prefetch, reconnecting with backoff while the
 * broker is away (logged once per outage). Messages in hand when the connection drops are
 * redelivered by the broker; the handler's idempotency makes that safe.
 */
export class WorkQueueConsumer {
  private readonly topology: Required<WorkQueueTopology>;
  /** Aborted when stop() begins: no reconnecting, no new messages. */
  private readonly stopping = new AbortController();
  /** Aborted once the drain is over: the handlers' signal. */
  private readonly abort = new AbortController();
  private conn: amqp.ChannelModel | undefined;
  private consumer: { ch: amqp.Channel; tag: string } | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly inflight = new Set<Promise<void>>();
  private readonly counters: WorkQueueConsumerStats = { done: 0, retried: 0, gaveUp: 0, connected: false };
  private readonly where: string;
  private prefetch: number;

  private constructor(private readonly opts: WorkQueueConsumerOptions) {
    this.topology = resolveTopology(opts);
    this.prefetch = opts.prefetch ?? 16;
    this.where = withoutPassword(opts.url, 'AMQP');
  }

  /** Starts consuming in the background; connection failures are retried, never thrown. */
  static start(opts: WorkQueueConsumerOptions): WorkQueueConsumer {
    const c = new WorkQueueConsumer(opts);
    c.loop = c.run();
    return c;
  }

  stats(): WorkQueueConsumerStats {
    return { ...this.counters };
  }

  /** Changes how many unacked messages the broker hands this consumer at once (now, and after reconnects). */
  setPrefetch(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`prefetch must be a whole number >= 1, got ${n}`);
    this.prefetch = n;
    this.consumer?.ch.prefetch(n).catch(() => undefined);
  }

  private async run(): Promise<void> {
    const policy = this.opts.reconnect ?? { baseMs: 200, capMs: 5_000 };
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      try {
        const { closed } = await this.consume();
        if (failures > 0) this.opts.logger.warn({ broker: this.where }, `RabbitMQ ${this.where} answers again; consuming ${this.topology.queue}`);
        failures = 0;
        await closed;
        if (!this.stopping.signal.aborted) {
          // the outage starts here; the reconnect attempts that fail during it log nothing more
          this.opts.logger.error({ broker: this.where }, `lost the connection to RabbitMQ ${this.where}; reconnecting (unacked orders are redelivered)`);
          failures = 1;
        }
      } catch (err) {
        if (err instanceof SurgeError) {
          // a refused declaration will not fix itself by retrying fast; say so every time
          this.opts.logger.error({ err }, err.message);
        } else if (failures === 0 && !this.stopping.signal.aborted) {
          this.opts.logger.error({ err, broker: this.where }, `RabbitMQ ${this.where} is unreachable; the work queue waits for it (orders stay in the outbox)`);
        }
        failures++;
      } finally {
        this.counters.connected = false;
        this.consumer = undefined;
        const c = this.conn;
        this.conn = undefined;
        await c?.close().catch(() => undefined);
      }
      if (failures > 0) await abortableDelay(Math.max(policy.baseMs / 2, fullJitterDelay(policy, failures - 1)), this.stopping.signal).catch(() => undefined);
    }
  }

  /** Connects and registers the consumer; `closed` settles when the connection is gone (wrapped: an async function would adopt it). */
  private async consume(): Promise<{ closed: Promise<void> }> {
    const conn = await connectBroker(this.opts.url, this.opts.connectTimeoutMs);
    this.conn = conn;
    const gone = new Promise<void>((resolve) => {
      conn.on('close', () => resolve());
      // 'error' precedes 'close'; without a listener it would be thrown
      conn.on('error', () => undefined);
    });
    await assertTopology(conn, this.topology);
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.prefetch(this.prefetch);
    const { consumerTag } = await ch.consume(this.topology.queue, (msg) => {
      if (msg === null) {
        // cancelled by the broker (the queue was deleted): reconnect, which declares it again
        void conn.close().catch(() => undefined);
        return;
      }
      const p = this.handle(ch, msg).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    });
    this.consumer = { ch, tag: consumerTag };
    this.counters.connected = true;
    if (this.stopping.signal.aborted) await conn.close().catch(() => undefined);
    return { closed: gone };
  }

  private async handle(ch: amqp.Channel, msg: amqp.ConsumeMessage): Promise<void> {
    const orderId = decodeWorkMessage(msg.content);
    const settle = (f: () => void) => {
      try {
        f();
      } catch {
        // the channel closed under us: the broker redelivers the message (at-least-once)
      }
    };
    if (orderId === undefined) {
      this.opts.logger.error({ messageId: msg.properties.messageId as unknown }, 'a message on the work queue is not a work message; dead-lettered');
      this.counters.gaveUp++;
      settle(() => ch.reject(msg, false));
      return;
    }
    const count = Number(msg.properties.headers?.['x-delivery-count'] ?? 0);
    const delivery: WorkDelivery = { orderId, deliveryCount: Number.isFinite(count) ? count : 0, redelivered: msg.fields.redelivered };
    let outcome: WorkOutcome;
    try {
      outcome = await this.opts.handler(delivery, this.abort.signal);
    } catch (err) {
      this.opts.logger.warn({ err, orderId, deliveryCount: delivery.deliveryCount }, 'work handler failed; the order goes back to the queue');
      outcome = 'retry';
    }
    if (outcome === 'done') {
      this.counters.done++;
      settle(() => ch.ack(msg));
    } else if (outcome === 'retry') {
      this.counters.retried++;
      if (delivery.deliveryCount + 1 >= this.topology.maxDeliveries) this.opts.logger.warn({ orderId, deliveries: delivery.deliveryCount + 1 }, 'order failed its last delivery; it goes to the dead-letter queue');
      settle(() => ch.nack(msg, false, true));
    } else {
      this.counters.gaveUp++;
      this.opts.logger.warn({ orderId }, 'work handler gave up on the order; it goes to the dead-letter queue');
      settle(() => ch.reject(msg, false));
    }
  }

  /**
   * Stops taking messages, lets handlers in flight finish for up to `drainMs` (their signal is
   * aborted after that, and those still running 1 s later are abandoned), then closes the
   * connection; unacked messages return to the queue.
   */
  async stop(drainMs = 5_000): Promise<void> {
    this.stopping.abort();
    const consumer = this.consumer;
    if (consumer !== undefined) await consumer.ch.cancel(consumer.tag).catch(() => undefined);
    const pending = [...this.inflight];
    let timer: NodeJS.Timeout | undefined;
    if (pending.length > 0) {
      await Promise.race([Promise.allSettled(pending), new Promise((r) => (timer = setTimeout(r, drainMs)))]);
      clearTimeout(timer);
    }
    this.abort.abort(new Error('work queue consumer stopped'));
    await this.conn?.close().catch(() => undefined);
    await this.loop;
    // a handler that ignores its signal is abandoned, not awaited: its message is back in the
    // queue already (the connection is closed), and its late ack goes nowhere
    const left = [...this.inflight];
    if (left.length > 0) {
      await Promise.race([Promise.allSettled(left), new Promise((r) => (timer = setTimeout(r, 1_000)))]);
      clearTimeout(timer);
      if (this.inflight.size > 0) this.opts.logger.warn({ handlers: this.inflight.size }, 'work handlers still running after stop ignored their abort signal; abandoned');
    }
  }
}

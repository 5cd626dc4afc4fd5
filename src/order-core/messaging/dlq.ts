import type amqp from 'amqplib';
import { SurgeError } from '../../errors.js';
import { assertTopology, connectBroker, decodeWorkMessage, encodeWorkMessage, resolveTopology, workPublishOptions, type WorkQueueTopology } from './work-queue.js';
import { withoutPassword } from '../../util/url.js';

/*
 * The dead-letter queue of the work queue, for `surgectl stack dlq list | show <id> | redrive`.
 *
 * AMQP 0-9-1 has no "browse": list and show take the messages with basic.get without acking them
 * and then close the channel, which hands every one back to the DLQ unchanged (the quorum queue
 * counts the return in x-delivery-count; the DLQ has no delivery limit, so nothing is lost by
 * looking). Messages another client holds unacked at that moment are not seen.
 *
 * Redrive publishes a NEW message with the order id to the work queue on a confirm channel and
 * acks the dead letter only after the broker confirmed it: a crash in between leaves the order in
 * both queues (at-least-once, like the relay), never in neither. The new message starts with a
 * fresh delivery count, so the order gets maxDeliveries attempts again.
 */

export interface DeadLetterQueueOptions extends WorkQueueTopology {
  /** amqp://user:password@host:port/vhost */
  url: string;
  /** Longest wait for a connection, and for the confirms of one redrive, ms. Default 5 000. */
  timeoutMs?: number;
}

/** One dead-lettered order as `stack dlq list` shows it. */
export interface DeadLetter {
  orderId: string;
  /**
   * Why it was dead-lettered, from the broker's x-death: 'delivery_limit' (it failed
   * maxDeliveries times), 'rejected' (the handler gave up on it), 'expired', 'maxlen'.
   */
  reason: string;
  /** The queue it died in. */
  queue: string;
  /** When it was dead-lettered (ISO 8601), when the broker said. */
  deadAt?: string;
  /** Times it was dead-lettered (more than 1 after a redrive that failed again). */
  deaths: number;
  /** Times it was redriven before (our header). */
  redrives: number;
}

/** The full record for `stack dlq show`: the list entry plus the message's headers as stored. */
export interface DeadLetterDetail extends DeadLetter {
  messageId?: string;
  headers: Record<string, unknown>;
  body: string;
}

/** What `stack dlq list` returns. */
export interface DeadLetterList {
  /** Messages ready in the DLQ when it was read. */
  total: number;
  /** Up to `limit` of them, oldest first. */
  letters: DeadLetter[];
}

/** The redrive counter header carried by a redriven message and kept through its next death. */
const REDRIVES_HEADER = 'x-surgectl-redrives';

interface XDeathEntry {
  reason?: unknown;
  queue?: unknown;
  count?: unknown;
  time?: { value?: unknown } | unknown;
}

function describeLetter(msg: amqp.GetMessage): DeadLetterDetail | undefined {
  const orderId = decodeWorkMessage(msg.content) ?? (typeof msg.properties.messageId === 'string' ? (msg.properties.messageId as string) : undefined);
  if (orderId === undefined) return undefined;
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const deaths = Array.isArray(headers['x-death']) ? (headers['x-death'] as XDeathEntry[]) : [];
  const last = deaths[0];
  const seconds = (last?.time as { value?: unknown } | undefined)?.value;
  const letter: DeadLetterDetail = {
    orderId,
    reason: String(last?.reason ?? headers['x-first-death-reason'] ?? 'unknown'),
    queue: String(last?.queue ?? headers['x-first-death-queue'] ?? 'unknown'),
    deaths: deaths.reduce((n, d) => n + (typeof d.count === 'number' ? d.count : 1), 0),
    redrives: typeof headers[REDRIVES_HEADER] === 'number' ? (headers[REDRIVES_HEADER] as number) : 0,
    headers,
    body: msg.content.toString('utf8'),
  };
  // x-death times are AMQP timestamps: whole seconds
  if (typeof seconds === 'number') letter.deadAt = new Date(seconds * 1000).toISOString();
  if (typeof msg.properties.messageId === 'string') letter.messageId = msg.properties.messageId as string;
  return letter;
}

/** Opens a connection with the queues declared, runs `fn`, closes it (returning every unacked message). */
async function withBroker<T>(opts: DeadLetterQueueOptions, fn: (conn: amqp.ChannelModel, t: ReturnType<typeof resolveTopology>) => Promise<T>): Promise<T> {
  const t = resolveTopology(opts);
  const where = withoutPassword(opts.url, 'AMQP');
  let conn: amqp.ChannelModel;
  try {
    conn = await connectBroker(opts.url, opts.timeoutMs ?? 5_000);
  } catch (err) {
    throw new SurgeError('SRG_STACK_QUEUE_UNREACHABLE', `cannot reach RabbitMQ at ${where} to read the dead-letter queue ${t.deadLetterQueue}: ${(err as Error).message}`, {
      hint: 'check that RabbitMQ is running there and that the URL (user, password, vhost) is the one the stack uses (--queue amqp://…)',
      cause: err,
    });
  }
  conn.on('error', () => undefined);
  try {
    await assertTopology(conn, t);
    return await fn(conn, t);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Takes (without acking) the ready messages of the DLQ, at most `max`; the caller's channel close returns them. */
async function takeAll(ch: amqp.Channel, queue: string, max: number): Promise<{ total: number; messages: amqp.GetMessage[] }> {
  const { messageCount } = await ch.checkQueue(queue);
  const messages: amqp.GetMessage[] = [];
  // bounded by the count at the start: messages dead-lettered meanwhile wait for the next look
  while (messages.length < Math.min(max, messageCount)) {
    const m = await ch.get(queue, { noAck: false });
    if (m === false) break;
    messages.push(m);
  }
  return { total: messageCount, messages };
}

/** Lists the dead-lettered orders, oldest first, leaving them in place. `limit` default 100. */
export async function listDeadLetters(opts: DeadLetterQueueOptions, limit = 100): Promise<DeadLetterList> {
  return withBroker(opts, async (conn, t) => {
    const ch = await conn.createChannel();
    try {
      const { total, messages } = await takeAll(ch, t.deadLetterQueue, limit);
      const letters = messages.flatMap((m) => {
        const d = describeLetter(m);
        if (d === undefined) return [];
        const { messageId: _m, headers: _h, body: _b, ...letter } = d;
        return [letter];
      });
      return { total, letters };
    } finally {
      await ch.close().catch(() => undefined);
    }
  });
}

/**
 * One dead-lettered order with its headers, left in place.
 * @throws SurgeError SRG_STACK_DLQ_NOT_FOUND when no dead letter carries that order id.
 */
export async function showDeadLetter(opts: DeadLetterQueueOptions, orderId: string): Promise<DeadLetterDetail> {
  return withBroker(opts, async (conn, t) => {
    const ch = await conn.createChannel();
    try {
      const { messages } = await takeAll(ch, t.deadLetterQueue, Number.MAX_SAFE_INTEGER);
      for (const m of messages) {
        const d = describeLetter(m);
        if (d?.orderId === orderId) return d;
      }
      throw notFound(orderId, t.deadLetterQueue);
    } finally {
      await ch.close().catch(() => undefined);
    }
  });
}

function notFound(orderId: string, queue: string): SurgeError {
  return new SurgeError('SRG_STACK_DLQ_NOT_FOUND', `order ${orderId} is not in the dead-letter queue ${queue}`, {
    hint: 'surgectl stack dlq list shows the orders in it (an order being redriven or read by another client at this moment is not listed)',
  });
}

/**
 * Moves dead-lettered orders back to the work queue: the one with `orderId`, or every one
 * ('all'). Each is published on a confirm channel and its dead letter acked only once confirmed.
 * Returns the order ids moved, in DLQ order.
 * @throws SurgeError SRG_STACK_DLQ_NOT_FOUND when `orderId` is not in the DLQ; SRG_STACK_QUEUE_UNREACHABLE when
 * the broker cannot be reached or did not confirm (what was confirmed before stays moved).
 */
export async function redriveDeadLetters(opts: DeadLetterQueueOptions, which: { orderId: string } | 'all'): Promise<{ redriven: string[] }> {
  return withBroker(opts, async (conn, t) => {
    const ch = await conn.createChannel();
    const pub = await conn.createConfirmChannel();
    const returned = new Set<string>();
    pub.on('return', (msg: amqp.Message) => {
      if (typeof msg.properties.messageId === 'string') returned.add(msg.properties.messageId as string);
    });
    try {
      const { messages } = await takeAll(ch, t.deadLetterQueue, Number.MAX_SAFE_INTEGER);
      const redriven: string[] = [];
      for (const m of messages) {
        const d = describeLetter(m);
        // not a work message (listed by its message id): left for someone to look at
        if (d === undefined || decodeWorkMessage(m.content) === undefined) continue;
        if (which !== 'all' && d.orderId !== which.orderId) continue;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no confirm within ${opts.timeoutMs ?? 5_000} ms`)), opts.timeoutMs ?? 5_000);
          pub.sendToQueue(t.queue, encodeWorkMessage(d.orderId), workPublishOptions(d.orderId, { [REDRIVES_HEADER]: d.redrives + 1 }), (err) => {
            clearTimeout(timer);
            if (err != null) reject(err instanceof Error ? err : new Error(String(err)));
            else if (returned.delete(d.orderId)) reject(new Error(`no queue ${t.queue} took it`));
            else resolve();
          });
        }).catch((err: unknown) => {
          throw new SurgeError('SRG_STACK_QUEUE_UNREACHABLE', `RabbitMQ did not take order ${d.orderId} back onto ${t.queue}: ${(err as Error).message}; it stays in ${t.deadLetterQueue}`, {
            hint: `${redriven.length} order(s) were moved before this one; run the redrive again`,
            cause: err,
          });
        });
        ch.ack(m);
        redriven.push(d.orderId);
        if (which !== 'all') break;
      }
      if (which !== 'all' && redriven.length === 0) throw notFound(which.orderId, t.deadLetterQueue);
      return { redriven };
    } finally {
      // acks are sent before the close; the messages not acked go back to the DLQ
      await pub.close().catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  });
}

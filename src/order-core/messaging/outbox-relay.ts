import { once } from 'node:events';
import type amqp from 'amqplib';
import pg from 'pg';
import type { Logger } from 'pino';
import { SurgeError } from '../../errors.js';
import { abortableDelay, fullJitterDelay, type BackoffPolicy } from '../resilience/retry.js';
import { assertTopology, connectBroker, encodeWorkMessage, resolveTopology, workPublishOptions, type WorkQueueTopology } from './work-queue.js';
import { withoutPassword } from '../../util/url.js';

/*
 * The relay of the transactional outbox: work_outbox rows (committed with their orders, see
 * schema.ts) are published to the work queue and marked sent only after the broker confirmed them.
 *
 * One batch is one PostgreSQL transaction: the unsent rows are locked FOR UPDATE SKIP LOCKED, so
 * any number of relays share the backlog without waiting on each other and never hold the same
 * row; each row is published on a confirm channel, and the rows the broker confirmed are marked
 * sent in the same transaction that locked them. Another relay cannot take a row until that
 * transaction ends, and when it ends the row is either sent (and no longer selected) or unlocked
 * unsent: so relays never publish one row concurrently, and a row is never marked sent unconfirmed.
 *
 * The guarantee is at-least-once: a row whose confirm was lost (the connection dropped after the
 * broker stored the message) or whose mark failed to commit (PostgreSQL went away after the
 * confirm) stays unsent and is published again. The consumer is idempotent for that reason.
 */

export interface OutboxRelayOptions extends WorkQueueTopology {
  /** amqp://user:password@host:port/vhost of the broker. */
  amqpUrl: string;
  /** postgres://… of the order store database (work_outbox migrated, see migrateMessaging). */
  databaseUrl: string;
  logger: Logger;
  /** The clock of sent_at (epoch ms). */
  now: () => number;
  /** Rows per batch (one transaction, published together). Default 200. */
  batchSize?: number;
  /** Longest sleep of an idle relay between looks at the outbox, ms; notify() wakes it sooner. Default 100. */
  pollMs?: number;
  /** Longest wait for the broker's confirms of one batch, ms; then the connection is dropped and the rows stay unsent. Default 10 000. */
  confirmTimeoutMs?: number;
  /** Wait between attempts while the broker or the database is away: full jitter. Default 200 ms doubling to 5 s. */
  reconnect?: BackoffPolicy;
  /** Longest wait for a connection to the broker, ms. Default 5 000. */
  connectTimeoutMs?: number;
  /** How often due orders whose message was used up are put back in the outbox (see redispatchDue), ms. Default 1 000. */
  redispatchMs?: number;
}

/** What the relay has done, and what waits. */
export interface OutboxRelayReport {
  /** Rows this relay published and marked sent since it was created. */
  published: number;
  /** Rows of work_outbox not yet sent (by any relay), counted now. */
  pending: number;
}

/** The broker cannot take the batch now (down, connection lost, a publish refused or unconfirmed): retry later. */
export class BrokerUnavailable extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'BrokerUnavailable';
  }
}

/** The connection to PostgreSQL failed (not a statement's fault): retry later. */
function isDatabaseDown(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P') || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable/i.test((err as Error | null)?.message ?? '');
}

const LOCK_BATCH_SQL = 'SELECT order_id FROM work_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED';
/**
 * Publishes again the orders that are due now but whose last publish came before they became due:
 * a payment retry whose time has come, or an order whose worker died holding its lease (a lease
 * moves the due time to its end). An order still waiting in the queue was published after it
 * became due and is left alone; an order in hand has a due time in the future.
 */
const REDISPATCH_SQL = `UPDATE work_outbox w SET sent_at = NULL FROM orders o
  WHERE o.id = w.order_id AND o.next_attempt_at IS NOT NULL AND o.next_attempt_at <= $1
    AND w.sent_at IS NOT NULL AND w.sent_at < o.next_attempt_at`;

const MARK_SENT_SQL = 'UPDATE work_outbox SET sent_at = $2 WHERE order_id = ANY($1::text[]) AND sent_at IS NULL';

/**
 * Publishes work_outbox to the RabbitMQ work queue: start() runs the loop in the background,
 * publishBatch() is one step of it (for tests and one-shot drains).
 */
export class OutboxRelay {
  private readonly topology: ReturnType<typeof resolveTopology>;
  private readonly pool: pg.Pool;
  private readonly stopping = new AbortController();
  private conn: amqp.ChannelModel | undefined;
  private channel: amqp.ConfirmChannel | undefined;
  /** Message ids the broker returned as unroutable (mandatory publish, no queue bound). */
  private readonly returned = new Set<string>();
  private published = 0;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly broker: string;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.topology = resolveTopology(opts);
    this.broker = withoutPassword(opts.amqpUrl, 'AMQP');
    const confirmTimeout = opts.confirmTimeoutMs ?? 10_000;
    this.pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: 2,
      connectionTimeoutMillis: 5_000,
      statement_timeout: 5_000,
      lock_timeout: 5_000,
      // a relay stuck between its lock and its commit must not hold the rows forever: the server
      // ends the transaction (the rows stay unsent) well after any confirm could still arrive
      idle_in_transaction_session_timeout: confirmTimeout * 3,
      application_name: 'surgectl-outbox-relay',
    });
    this.pool.on('error', () => undefined);
    // A checked-out connection the server drops between two statements errors on the client itself:
    // the statement in flight (or the next one) fails and is handled; the event must not go unheard.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** Runs the relay in the background until stop(). */
  start(): void {
    this.loop ??= this.run();
  }

  /** Wakes an idle relay now (orders were just accepted). */
  notify(): void {
    this.wake?.();
  }

  /**
   * Puts back in the outbox every order that is due again after its message was used (a payment
   * retry whose time came, a lease whose worker died): the queue carries each due time once.
   * Returns how many.
   */
  async redispatchDue(): Promise<number> {
    const r = await this.pool.query(REDISPATCH_SQL, [this.opts.now()]);
    return r.rowCount ?? 0;
  }

  /** Rows published by this relay, and rows unsent now. */
  async report(): Promise<OutboxRelayReport> {
    const r = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM work_outbox WHERE sent_at IS NULL');
    return { published: this.published, pending: Number(r.rows[0]?.n ?? 0) };
  }

  /**
   * Publishes one batch: locks up to batchSize unsent rows, publishes them, marks the confirmed
   * ones sent, commits. Returns how many were marked sent.
   * @throws BrokerUnavailable when the broker cannot be reached or did not confirm every row (the
   * confirmed ones are marked sent first); a PostgreSQL error as pg throws it.
   */
  async publishBatch(): Promise<number> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      const ids = (await c.query<{ order_id: string }>(LOCK_BATCH_SQL, [this.opts.batchSize ?? 200])).rows.map((r) => r.order_id);
      if (ids.length === 0) {
        await c.query('COMMIT');
        return 0;
      }
      const { confirmed, failure } = await this.publish(ids);
      if (confirmed.length > 0) await c.query(MARK_SENT_SQL, [confirmed, this.opts.now()]);
      await c.query('COMMIT');
      this.published += confirmed.length;
      if (failure !== undefined) {
        // start the next attempt on a fresh connection, which declares the queues again (a
        // deleted queue returns every publish until it is back)
        await this.dropConnection();
        throw failure;
      }
      return confirmed.length;
    } catch (err) {
      if (isDatabaseDown(err)) broken = err as Error;
      else await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release(broken);
    }
  }

  /** Publishes each id and waits for every confirm (bounded); says which the broker confirmed. */
  private async publish(ids: string[]): Promise<{ confirmed: string[]; failure?: BrokerUnavailable }> {
    let ch: amqp.ConfirmChannel;
    try {
      ch = await this.confirmChannel();
    } catch (err) {
      if (err instanceof SurgeError) throw err;
      return { confirmed: [], failure: new BrokerUnavailable(`cannot connect to RabbitMQ ${this.broker}: ${(err as Error).message}`, err) };
    }
    const confirms: Promise<string>[] = [];
    for (const id of ids) {
      this.returned.delete(id);
      let accepted = true;
      confirms.push(
        new Promise<string>((resolve, reject) => {
          try {
            accepted = ch.sendToQueue(this.topology.queue, encodeWorkMessage(id), workPublishOptions(id), (err) => {
              // a basic.return comes before the confirm of the same message: it was confirmed but not queued
              if (err != null) reject(new BrokerUnavailable(`RabbitMQ did not accept order ${id}: ${String((err as Error).message ?? err)}`, err));
              else if (this.returned.delete(id)) reject(new BrokerUnavailable(`RabbitMQ found no queue ${this.topology.queue} for order ${id}`));
              else resolve(id);
            });
          } catch (err) {
            reject(new BrokerUnavailable(`publishing order ${id} failed: ${(err as Error).message}`, err));
          }
        }),
      );
      // the channel's buffer is full: let the socket catch up before writing more
      if (!accepted) await Promise.race([once(ch, 'drain'), once(ch, 'close')]);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.opts.confirmTimeoutMs ?? 10_000;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const all = Promise.allSettled(confirms);
    const settled = await Promise.race([all, deadline]);
    clearTimeout(timer);
    if (settled === 'timeout') {
      // the broker holds the answers back (e.g. a resource alarm): drop the connection so every
      // pending confirm fails; none of these rows is marked, all are published again later
      await this.dropConnection();
      await all;
      return { confirmed: [], failure: new BrokerUnavailable(`RabbitMQ ${this.broker} did not confirm ${ids.length} publishes within ${timeoutMs} ms`) };
    }
    const confirmed: string[] = [];
    let failure: BrokerUnavailable | undefined;
    for (const s of settled) {
      if (s.status === 'fulfilled') confirmed.push(s.value);
      else failure ??= s.reason instanceof BrokerUnavailable ? s.reason : new BrokerUnavailable(String(s.reason), s.reason);
    }
    return failure === undefined ? { confirmed } : { confirmed, failure };
  }

  /** The confirm channel, connecting (and declaring the queues) when there is none. */
  private async confirmChannel(): Promise<amqp.ConfirmChannel> {
    if (this.channel !== undefined) return this.channel;
    const conn = await connectBroker(this.opts.amqpUrl, this.opts.connectTimeoutMs);
    const forget = () => {
      if (this.conn === conn) {
        this.conn = undefined;
        this.channel = undefined;
      }
    };
    conn.on('error', () => undefined);
    conn.on('close', forget);
    try {
      await assertTopology(conn, this.topology);
      const ch = await conn.createConfirmChannel();
      ch.on('error', () => undefined);
      ch.on('close', forget);
      ch.on('return', (msg: amqp.Message) => {
        const id = msg.properties.messageId as unknown;
        if (typeof id === 'string') this.returned.add(id);
      });
      this.conn = conn;
      this.channel = ch;
      return ch;
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw err;
    }
  }

  private async dropConnection(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    this.channel = undefined;
    await conn?.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const policy = this.opts.reconnect ?? { baseMs: 200, capMs: 5_000 };
    const batchSize = this.opts.batchSize ?? 200;
    let outage: 'broker' | 'database' | undefined;
    let failures = 0;
    const { logger } = this.opts;
    const redispatchMs = this.opts.redispatchMs ?? 1_000;
    let redispatchedAt = 0;
    while (!this.stopping.signal.aborted) {
      let n: number;
      try {
        if (Date.now() - redispatchedAt >= redispatchMs) {
          redispatchedAt = Date.now();
          const again = await this.redispatchDue();
          if (again > 0) logger.debug({ orders: again }, 'orders due again put back in the outbox');
        }
        n = await this.publishBatch();
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        const kind = err instanceof BrokerUnavailable || err instanceof SurgeError ? 'broker' : isDatabaseDown(err) ? 'database' : undefined;
        if (err instanceof SurgeError) logger.error({ err }, err.message);
        else if (kind !== outage) {
          // once per outage: the next line is the "answers again" one
          const pending = await this.report().then((r) => r.pending, () => undefined);
          if (kind === 'broker') logger.error({ err, broker: this.broker, pending }, `RabbitMQ ${this.broker} is unreachable; orders wait in the outbox (${pending ?? 'unknown'} unsent) and are published when it is back`);
          else if (kind === 'database') logger.error({ err, database: withoutPassword(this.opts.databaseUrl, 'PostgreSQL') }, `PostgreSQL ${withoutPassword(this.opts.databaseUrl, 'PostgreSQL')} is unreachable; the outbox relay waits for it`);
          else logger.error({ err }, 'the outbox relay failed a batch (a bug?); trying again');
        }
        outage = kind;
        failures++;
        await abortableDelay(Math.max(policy.baseMs / 2, fullJitterDelay(policy, failures - 1)), this.stopping.signal).catch(() => undefined);
        continue;
      }
      if (outage !== undefined) logger.warn({ broker: this.broker }, `the outbox relay publishes again (${outage === 'broker' ? `RabbitMQ ${this.broker}` : 'PostgreSQL'} is back); sending the backlog`);
      outage = undefined;
      failures = 0;
      if (n < batchSize) await this.idle(this.opts.pollMs ?? 100);
    }
  }

  private async idle(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopping.signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
      this.stopping.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Stops the loop after its current batch, closes the broker connection and the pool. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.dropConnection();
    await this.pool.end().catch(() => undefined);
  }
}

import pg from 'pg';
import type { Logger } from 'pino';
import { withoutPassword } from '../../../util/url.js';

/** Where order status reads go now, and why: for logs, a gauge and `stack status`. */
export interface ReadReplicaStatus {
  /** 'replica' while the replica is usable; 'primary' otherwise (and before the first check). */
  reads: 'replica' | 'primary';
  /**
   * The replica's replay lag at the last check, ms: how far behind the primary's flushed WAL its
   * replayed position was, in time, at the resolution of one check (an upper bound). 0 when it had
   * replayed the primary's position of that check, which is always the case for an idle primary.
   * null when unknown (unreachable, promoted, or not yet measured).
   */
  lagMs: number | null;
  /** Why reads go to the primary; '' while they go to the replica. */
  reason: string;
  /** The replica as it may be shown: postgres://user@host:port/db, no password. */
  replica: string;
  /** How many times reads moved from one side to the other since open. */
  switches: number;
}

export interface ReadReplicaOptions {
  /** postgres://… of a streaming (physical) replica of the store's primary, same database. */
  url: string;
  /** Replay lag above which reads go to the primary, ms. */
  maxLagMs: number;
  logger: Logger;
  /** The primary's flushed WAL end and system identifier, asked on the store's own pool. */
  primaryPosition: () => Promise<{ lsn: string; system: string }>;
  /** How often the lag is measured, ms. */
  checkEveryMs: number;
  /** A check or a connection attempt still unanswered after this long counts as "unreachable", ms. */
  unansweredAfterMs: number;
  /** statement_timeout of reads on the replica, ms (a slow replica's read goes to the primary instead). */
  statementTimeoutMs: number;
  /** Connections to the replica. */
  poolSize: number;
  /** The store's type parsers (int8 as number), so rows read on either side look the same. */
  types: pg.CustomTypesConfig;
}

/** SQL the store sends to its primary for each check: the position every committed write has reached. */
export const PRIMARY_POSITION_SQL = 'SELECT pg_current_wal_flush_lsn()::text AS lsn, (SELECT system_identifier FROM pg_control_system())::text AS system';

/**
 * On the replica: whether it is still a standby, which cluster it belongs to, and the newest of
 * the primary positions in $1 (oldest first, so positions ascend) that it has replayed, as a
 * 1-based index; the comparison is the server's (pg_lsn), not ours.
 */
const REPLICA_CHECK_SQL = `SELECT pg_is_in_recovery() AS standby,
  (SELECT system_identifier FROM pg_control_system())::text AS system,
  (SELECT max(s.n) FROM unnest($1::pg_lsn[]) WITH ORDINALITY AS s(lsn, n) WHERE s.lsn <= pg_last_wal_replay_lsn())::int AS replayed`;

/** Good checks in a row before reads go back to a replica that had been left: no flapping at the bound. */
const BACK_AFTER_CHECKS = 3;
/** Primary positions kept (older ones are thinned out, which only makes the lag read higher). */
const MAX_SAMPLES = 256;
/** Orders written by this process that are remembered for read-your-writes (beyond that, the not-found fallback still holds). */
const MAX_RECENT_WRITES = 100_000;

/**
 * The read side of the PostgreSQL store's read replica: a small pool to the replica, the lag
 * measured in the background, and the decision where status reads go.
 *
 * Lag is measured by positions, not by replay timestamps: every check the primary's flushed WAL
 * end is sampled with the local time, and the replica says which of the recent samples it has
 * replayed. Having replayed the sample taken at time t, it holds every write committed before t,
 * so its lag is at most (newest sample time - t). An idle primary's position does not move, the
 * replica has replayed it, and the lag is 0 (a replay timestamp would age and read as lag); a
 * replica cut off from its primary falls behind the positions and reads as lagging (its own
 * receive and replay positions would agree and read as 0); no clocks of two machines are compared.
 */
export class ReadReplica {
  readonly pool: pg.Pool;
  readonly where: string;
  private readonly logger: Logger;
  private state: 'replica' | 'primary' | undefined;
  private goodChecks = 0;
  private lagMs: number | null = null;
  private reason = 'not checked yet';
  private switches = 0;
  /** Primary positions, oldest first; equal consecutive positions keep the newest time only. */
  private samples: { lsn: string; at: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private checkStartedAt: number | undefined;
  private checking: Promise<void> | undefined;
  private closed = false;
  /** Order ids this process wrote, with the (monotonic) time until which they are read on the primary. */
  private readonly recent = new Map<string, number>();

  constructor(private readonly opts: ReadReplicaOptions) {
    this.logger = opts.logger;
    this.where = withoutPassword(opts.url, 'PostgreSQL read replica');
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize,
      statement_timeout: opts.statementTimeoutMs,
      connectionTimeoutMillis: opts.unansweredAfterMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'surgectl-order-reads',
      types: opts.types,
    });
    // An idle connection the replica dropped: the pool opens another on demand; the checks say whether it is usable.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** Starts the background checks (the first at once); reads go to the primary until one finds the replica usable. */
  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.checkEveryMs);
    this.timer.unref();
  }

  status(): ReadReplicaStatus {
    return { reads: this.state ?? 'primary', lagMs: this.lagMs, reason: this.state === 'replica' ? '' : this.reason, replica: this.where, switches: this.switches };
  }

  /** Whether a status read of `orderId` should go to the replica: it is usable, and this process did not write the order lately. */
  serves(orderId: string): boolean {
    if (this.state !== 'replica') return false;
    const until = this.recent.get(orderId);
    return until === undefined || until <= performance.now();
  }

  /**
   * Remembers orders this process just created or changed, so that their status is read on the
   * primary for as long as the replica may lag behind the write: the bound, plus the checks' own
   * resolution (the lag may grow for up to two checks before one sees it).
   */
  noteWrites(orderIds: Iterable<string>): void {
    const now = performance.now();
    const until = now + this.opts.maxLagMs + 2 * this.opts.checkEveryMs;
    for (const id of orderIds) {
      this.recent.delete(id); // re-inserted at the end: the map stays in expiry order
      this.recent.set(id, until);
    }
    for (const [id, t] of this.recent) {
      if (t > now && this.recent.size <= MAX_RECENT_WRITES) break;
      this.recent.delete(id);
    }
  }

  /** One statement on the replica. A failure (the replica went away, a recovery conflict, a timeout) takes reads off it until the checks find it usable again. */
  async query<R extends pg.QueryResultRow>(name: string | undefined, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(name === undefined ? { text, values } : { name, text, values });
    } catch (err) {
      this.decide(false, null, `a read on the replica failed: ${(err as Error).message}`);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.checking?.catch(() => undefined);
    await this.pool.end();
  }

  private tick(): void {
    if (this.closed) return;
    if (this.checking !== undefined) {
      // a check left hanging: the replica (or the primary) does not answer; no reads wait on it meanwhile
      if (this.checkStartedAt !== undefined && performance.now() - this.checkStartedAt > this.opts.unansweredAfterMs) {
        this.decide(false, null, `the lag check did not finish within ${this.opts.unansweredAfterMs} ms (the replica or the primary does not answer)`);
      }
      return;
    }
    this.checkStartedAt = performance.now();
    this.checking = this.check().finally(() => {
      this.checking = undefined;
      this.checkStartedAt = undefined;
    });
  }

  private async check(): Promise<void> {
    let primary: { lsn: string; system: string };
    try {
      primary = await this.opts.primaryPosition();
    } catch (err) {
      this.decide(false, null, `the replica's lag cannot be measured: the primary did not answer (${(err as Error).message})`);
      return;
    }
    const at = performance.now();
    this.remember(primary.lsn, at);
    let row: { standby: boolean; system: string; replayed: number | null } | undefined;
    try {
      row = (await this.pool.query<{ standby: boolean; system: string; replayed: number | null }>({ name: 'replica_check', text: REPLICA_CHECK_SQL, values: [this.samples.map((s) => s.lsn)] })).rows[0];
    } catch (err) {
      if (!this.closed) this.decide(false, null, `the replica is unreachable (${(err as Error).message})`);
      return;
    }
    if (this.closed || row === undefined) return;
    if (!row.standby) {
      this.decide(false, null, 'the replica is not in recovery (promoted?): it no longer follows the primary');
      return;
    }
    if (row.system !== primary.system) {
      this.decide(false, null, `the replica belongs to another cluster (system identifier ${row.system}, the primary's is ${primary.system})`);
      return;
    }
    const newest = this.samples[this.samples.length - 1]!;
    if (row.replayed === null || row.replayed < 1) {
      // It has not replayed even the oldest position kept: at least that far behind (or just started).
      const atLeast = Math.round(newest.at - this.samples[0]!.at);
      this.decide(false, null, atLeast >= this.opts.maxLagMs ? `replay lag above ${this.opts.maxLagMs} ms (at least ${atLeast} ms)` : 'replay lag not known yet');
      return;
    }
    const lag = Math.round(newest.at - this.samples[row.replayed - 1]!.at);
    this.decide(lag <= this.opts.maxLagMs, lag, `replay lag ${lag} ms above ${this.opts.maxLagMs} ms`);
  }

  /** Adds the primary's position at `at`, drops positions too old to matter, thins the rest to MAX_SAMPLES. */
  private remember(lsn: string, at: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last?.lsn === lsn) last.at = at;
    else this.samples.push({ lsn, at });
    // Positions older than the bound (and two checks) only tell "above the bound"; the oldest one left says that.
    const keepFrom = at - this.opts.maxLagMs - 2 * this.opts.checkEveryMs;
    while (this.samples.length > 2 && this.samples[1]!.at < keepFrom) this.samples.shift();
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(1, 1);
  }

  /** Applies one finding; logs one line each time reads change sides. */
  private decide(usable: boolean, lagMs: number | null, reason: string): void {
    if (this.closed) return;
    this.lagMs = lagMs;
    if (!usable) {
      this.goodChecks = 0;
      this.reason = reason;
      if (this.state !== 'primary') {
        if (this.state !== undefined) this.switches++;
        this.state = 'primary';
        this.logger.warn({ replica: this.where, lagMs, maxLagMs: this.opts.maxLagMs, reason }, `order status reads go to the primary, not the read replica ${this.where}: ${reason}`);
      }
      return;
    }
    this.goodChecks++;
    if (this.state === 'replica') return;
    if (this.state === 'primary' && this.goodChecks < BACK_AFTER_CHECKS) return;
    if (this.state !== undefined) this.switches++;
    this.state = 'replica';
    this.reason = '';
    this.logger.info({ replica: this.where, lagMs, maxLagMs: this.opts.maxLagMs }, `order status reads go to the read replica ${this.where} (replay lag ${lagMs} ms, at most ${this.opts.maxLagMs} ms)`);
  }
}

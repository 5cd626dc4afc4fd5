import type { QueryConfig, QueryResultRow } from 'pg';
import { SurgeError } from '../../errors.js';
import { withoutCredentials } from '../../util/url.js';
import type { FenceResult, PromoteOutcome, ReplicaStatus, ReplicationPort, ReplicationStatus, ReplayWait, UpstreamStatus } from './port.js';

export interface PostgresReplicationOptions {
  /** postgres://user[:password]@host:port/database of the server (any database; `postgres` is usual). */
  url: string;
  /** Longest wait for a connection, ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Longest wait for one statement's answer (pg_promote's own wait is added to it), ms. Default 10000. */
  statementTimeoutMs?: number;
  /** Interval of waitForReplay's and fence's polls, ms. Default 50. */
  pollMs?: number;
}

// ── LSNs ──────────────────────────────────────────────────────────────────────────────────────

const LSN_RE = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/**
 * A PostgreSQL LSN (`16/B374D848`: the high and low 32 bits in hex) as a byte position.
 * @throws SurgeError SRG_CLI_USAGE when `lsn` is not one.
 */
export function parseLsn(lsn: string): bigint {
  const m = LSN_RE.exec(lsn.trim());
  if (!m) throw new SurgeError('SRG_CLI_USAGE', `Not a PostgreSQL LSN: '${lsn}'`, { hint: 'An LSN is two hex numbers separated by a slash, as pg_current_wal_lsn() shows it, e.g. 0/3000060.' });
  return (BigInt(`0x${m[1] as string}`) << 32n) + BigInt(`0x${m[2] as string}`);
}

/** The byte position back in PostgreSQL's text form (upper-case hex, as the server prints it). */
export function formatLsn(pos: bigint): string {
  return `${(pos >> 32n).toString(16).toUpperCase()}/${(pos & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * Bytes of WAL from `b` to `a`: `pg_wal_lsn_diff(a, b)`, positive when `a` is ahead.
 * lsnDiff('0/3000060', '0/3000000') === 96.
 * @throws SurgeError SRG_CLI_USAGE when either is not an LSN.
 */
export function lsnDiff(a: string, b: string): number {
  return Number(parseLsn(a) - parseLsn(b));
}

// ── errors ────────────────────────────────────────────────────────────────────────────────────

const UNREACHABLE_SOCKET = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'];

/**
 * "The server is not there (or not taking connections)", as opposed to "it refused the
 * statement": socket errors, connection_exception (08), admin/crash shutdown and
 * cannot_connect_now (57P01-57P03: starting, stopping, recovering), and pg's own timeouts.
 */
function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code) || UNREACHABLE_SOCKET.includes(code))) return true;
  return /Connection terminated|connection timeout|timeout expired|Query read timeout|Client has encountered a connection error/i.test((err as Error | null)?.message ?? '');
}

/** The server did not answer `what`. */
export function replicationUnreachable(url: string, what: string, reason: string, cause?: unknown): SurgeError {
  return new SurgeError('SRG_STACK_STORE_UNREACHABLE', `PostgreSQL at ${withoutCredentials(url)} did not answer ${what} (${reason})`, {
    hint: 'Check that the server runs and listens on that host and port (listen_addresses, port), and that pg_hba.conf lets this host in.',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** What a refusal needs, by SQLSTATE. */
function refusalHint(code: string | undefined, statement: string): string {
  if (code === '42501') {
    if (/pg_promote/.test(statement)) return 'Connect as a superuser, or GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO <user>.';
    if (/ALTER SYSTEM/.test(statement)) return 'Connect as a superuser, or (PostgreSQL 15+) GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO <user>.';
    if (/pg_terminate_backend/.test(statement)) return 'Connect as a superuser, or GRANT pg_signal_backend TO <user>.';
    return 'Connect as a superuser (or a role with pg_monitor for the status views).';
  }
  if (code === '28P01' || code === '28000') return 'Check the user and password in the URL, and pg_hba.conf on the server.';
  if (code === '3D000') return 'Name a database that exists in the URL (postgres is always there).';
  return 'Run the statement by hand with psql to see the server log around it.';
}

/** The server refused `statement` (or a call does not fit its role). */
export function replicationRefusal(url: string, statement: string, message: string, code?: string, cause?: unknown): SurgeError {
  return new SurgeError('SRG_PG_REFUSED', `PostgreSQL at ${withoutCredentials(url)} refused \`${statement}\`: ${message}${code ? ` (SQLSTATE ${code})` : ''}`, {
    hint: refusalHint(code, statement),
    ...(cause === undefined ? {} : { cause }),
  });
}

function mapError(url: string, statement: string, err: unknown): SurgeError {
  if (err instanceof SurgeError) return err;
  const e = err as { code?: string; message?: string };
  if (isUnreachable(err)) return replicationUnreachable(url, `\`${statement}\``, e.code && !/^\d/.test(e.code) ? `${e.code}: ${e.message ?? ''}` : (e.message ?? String(err)), err);
  return replicationRefusal(url, statement, e.message ?? String(err), typeof e.code === 'string' ? e.code : undefined, err);
}

// ── SQL ───────────────────────────────────────────────────────────────────────────────────────

/** The statements, in one place: errors quote them, and the fake records the same texts. */
export const REPLICATION_SQL = {
  role: 'SELECT pg_is_in_recovery() AS standby',
  readOnly: "SELECT current_setting('default_transaction_read_only') = 'on' AS ro",
  primaryStatus:
    'SELECT pg_current_wal_lsn()::text AS current, pg_current_wal_flush_lsn()::text AS flush, ' +
    "current_setting('default_transaction_read_only') = 'on' AS ro, " +
    "coalesce((SELECT json_agg(json_build_object('applicationName', application_name, 'clientAddr', host(client_addr), 'state', state, 'syncState', sync_state, " +
    "'sentLsn', sent_lsn::text, 'writeLsn', write_lsn::text, 'flushLsn', flush_lsn::text, 'replayLsn', replay_lsn::text, " +
    "'replayLagSeconds', EXTRACT(epoch FROM replay_lag)::float8) ORDER BY application_name, pid) FROM pg_stat_replication), '[]'::json) AS replicas",
  standbyStatus:
    'SELECT pg_last_wal_receive_lsn()::text AS current, pg_last_wal_replay_lsn()::text AS replay, ' +
    "current_setting('default_transaction_read_only') = 'on' AS ro, " +
    "(SELECT row_to_json(w) FROM (SELECT status, sender_host, sender_port, slot_name, conninfo FROM pg_stat_wal_receiver) w) AS receiver, " +
    "coalesce((SELECT json_agg(json_build_object('applicationName', application_name, 'clientAddr', host(client_addr), 'state', state, 'syncState', sync_state, " +
    "'sentLsn', sent_lsn::text, 'writeLsn', write_lsn::text, 'flushLsn', flush_lsn::text, 'replayLsn', replay_lsn::text, " +
    "'replayLagSeconds', EXTRACT(epoch FROM replay_lag)::float8) ORDER BY application_name, pid) FROM pg_stat_replication), '[]'::json) AS replicas",
  fence: 'ALTER SYSTEM SET default_transaction_read_only = on',
  unfence: 'ALTER SYSTEM RESET default_transaction_read_only',
  unfenceExplicit: 'ALTER SYSTEM SET default_transaction_read_only = off',
  fileSetting: "SELECT setting FROM pg_file_settings WHERE name = 'default_transaction_read_only' AND error IS NULL ORDER BY seqno DESC LIMIT 1",
  reload: 'SELECT pg_reload_conf()',
  terminate: "SELECT pid, pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
  alive: 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])',
  promote: 'SELECT pg_promote(true, $1) AS promoted',
  replay: 'SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replay',
} as const;

interface RawReplica {
  applicationName: string;
  clientAddr: string | null;
  state: string;
  syncState: string;
  sentLsn: string | null;
  writeLsn: string | null;
  flushLsn: string | null;
  replayLsn: string | null;
  replayLagSeconds: number | null;
}

/** A standby's lag behind `current` (the server's own WAL end): from the furthest position it reported. */
export function replicaLagBytes(current: string | undefined, r: Pick<RawReplica, 'sentLsn' | 'writeLsn' | 'flushLsn' | 'replayLsn'>): number {
  if (current === undefined) return 0;
  const at = r.replayLsn ?? r.flushLsn ?? r.writeLsn ?? r.sentLsn ?? '0/0';
  return Math.max(0, lsnDiff(current, at));
}

/** The application_name a walreceiver streams under, from the conninfo it shows. */
function applicationNameOf(conninfo: string | null | undefined): string {
  const pick = (key: string) => new RegExp(`(?:^|\\s)${key}=('(?:[^'\\\\]|\\\\.)*'|\\S+)`).exec(conninfo ?? '')?.[1]?.replace(/^'|'$/g, '');
  return pick('application_name') ?? pick('fallback_application_name') ?? 'walreceiver';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * The real adapter, on `pg` (imported on the first call): one short connection per call (a
 * waitForReplay holds one for its polls), statements from REPLICATION_SQL.
 */
export function createPostgresReplication(opts: PostgresReplicationOptions): ReplicationPort {
  const url = withoutCredentials(opts.url);
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const statementTimeoutMs = opts.statementTimeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 50;

  /** Runs `fn` on a new connection; every failure comes out as a SurgeError naming the statement. */
  async function session<T>(first: string, fn: (q: <R extends QueryResultRow>(sql: string, params?: unknown[], timeoutMs?: number) => Promise<R[]>) => Promise<T>): Promise<T> {
    // Loaded on first use: a dry run or `--help` that builds this port never needs the driver.
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: opts.url, connectionTimeoutMillis: connectTimeoutMs, query_timeout: statementTimeoutMs, application_name: 'surgectl' });
    // An error after connect (the server going away between statements) surfaces on the next query.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      throw mapError(opts.url, first, err);
    }
    const q = async <R extends QueryResultRow>(sql: string, params: unknown[] = [], timeoutMs?: number): Promise<R[]> => {
      try {
        return (await client.query<R>({ text: sql, values: params, ...(timeoutMs ? { query_timeout: timeoutMs } : {}) } as QueryConfig)).rows;
      } catch (err) {
        throw mapError(opts.url, sql, err);
      }
    };
    try {
      return await fn(q);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Polls new sessions until they start with default_transaction_read_only = `want` (reload is asynchronous). */
  async function untilNewSessions(want: boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ro = (await session(REPLICATION_SQL.readOnly, (q) => q<{ ro: boolean }>(REPLICATION_SQL.readOnly)))[0]?.ro === true;
      if (ro === want) return;
      if (Date.now() > deadline) {
        throw replicationRefusal(opts.url, REPLICATION_SQL.reload, `new sessions still start with default_transaction_read_only = ${ro ? 'on' : 'off'} ${timeoutMs} ms after the reload`);
      }
      await sleep(pollMs);
    }
  }

  return {
    url,
    async role() {
      const rows = await session(REPLICATION_SQL.role, (q) => q<{ standby: boolean }>(REPLICATION_SQL.role));
      return rows[0]?.standby ? 'standby' : 'primary';
    },

    async status() {
      return session(REPLICATION_SQL.role, async (q): Promise<ReplicationStatus> => {
        const standby = (await q<{ standby: boolean }>(REPLICATION_SQL.role))[0]?.standby === true;
        if (!standby) {
          const row = (await q<{ current: string; flush: string; ro: boolean; replicas: RawReplica[] }>(REPLICATION_SQL.primaryStatus))[0];
          if (!row) throw replicationRefusal(opts.url, REPLICATION_SQL.primaryStatus, 'no row');
          return { role: 'primary', currentLsn: row.current, flushLsn: row.flush, replicas: row.replicas.map((r) => replica(r, row.current)), readOnly: row.ro };
        }
        const row = (await q<{ current: string | null; replay: string | null; ro: boolean; receiver: { status: string; sender_host: string | null; sender_port: number | null; slot_name: string | null; conninfo: string | null } | null; replicas: RawReplica[] }>(REPLICATION_SQL.standbyStatus))[0];
        if (!row) throw replicationRefusal(opts.url, REPLICATION_SQL.standbyStatus, 'no row');
        const upstream: UpstreamStatus = row.receiver
          ? { status: row.receiver.status, senderHost: row.receiver.sender_host, senderPort: row.receiver.sender_port, applicationName: applicationNameOf(row.receiver.conninfo), slotName: row.receiver.slot_name }
          : { status: 'stopped', senderHost: null, senderPort: null, applicationName: 'walreceiver', slotName: null };
        // Cascading standbys lag behind what this one has received.
        const base = row.current ?? row.replay ?? undefined;
        return {
          role: 'standby',
          ...(row.current ? { currentLsn: row.current } : {}),
          ...(row.replay ? { replayLsn: row.replay } : {}),
          replicas: row.replicas.map((r) => replica(r, base)),
          upstream,
          readOnly: row.ro,
        };
      });
    },

    async fence(o = {}): Promise<FenceResult> {
      const timeoutMs = o.timeoutMs ?? 5_000;
      const wasReadOnly = await session(REPLICATION_SQL.fence, async (q) => {
        const was = (await q<{ ro: boolean }>(REPLICATION_SQL.readOnly))[0]?.ro === true;
        await q(REPLICATION_SQL.fence);
        await q(REPLICATION_SQL.reload);
        return was;
      });
      // Only once new sessions start read-only are the old ones ended: a session opened between
      // the two would otherwise survive the fence with writes allowed.
      await untilNewSessions(true, timeoutMs);
      const terminated = await session(REPLICATION_SQL.terminate, async (q) => {
        const rows = await q<{ pid: number; done: boolean }>(REPLICATION_SQL.terminate);
        const pids = rows.filter((r) => r.done).map((r) => r.pid);
        // pg_terminate_backend only signals: wait until those backends are gone, so nothing they
        // had open can still commit after fence() returns.
        const deadline = Date.now() + timeoutMs;
        while (pids.length > 0) {
          const left = (await q<{ n: number }>(REPLICATION_SQL.alive, [pids]))[0]?.n ?? 0;
          if (left === 0) break;
          if (Date.now() > deadline) throw replicationRefusal(opts.url, REPLICATION_SQL.terminate, `${left} terminated session(s) still running ${timeoutMs} ms later`);
          await sleep(pollMs);
        }
        return pids.length;
      });
      return { wasReadOnly, terminated };
    },

    async unfence(o = {}) {
      await session(REPLICATION_SQL.unfence, async (q) => {
        await q(REPLICATION_SQL.unfence);
        // With the ALTER SYSTEM entry gone, postgresql.conf itself may still say on.
        const file = (await q<{ setting: string }>(REPLICATION_SQL.fileSetting))[0]?.setting;
        if (file !== undefined && /^(on|true|yes|1)$/i.test(file.trim())) await q(REPLICATION_SQL.unfenceExplicit);
        await q(REPLICATION_SQL.reload);
      });
      await untilNewSessions(false, o.timeoutMs ?? 5_000);
    },

    async promote(timeoutMs): Promise<PromoteOutcome> {
      const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
      return session(REPLICATION_SQL.promote, async (q) => {
        if ((await q<{ standby: boolean }>(REPLICATION_SQL.role))[0]?.standby !== true) return 'already-primary';
        try {
          const rows = await q<{ promoted: boolean }>(REPLICATION_SQL.promote, [seconds], seconds * 1000 + statementTimeoutMs);
          return rows[0]?.promoted === true ? 'promoted' : 'timed-out';
        } catch (err) {
          // Someone else promoted it between the two statements.
          if ((err as SurgeError).cause && (err as { cause: { code?: string } }).cause.code === '55000') return 'already-primary';
          throw err;
        }
      });
    },

    async waitForReplay(lsn, timeoutMs, signal): Promise<ReplayWait> {
      const target = parseLsn(lsn);
      const t0 = Date.now();
      return session(REPLICATION_SQL.replay, async (q) => {
        for (;;) {
          const row = (await q<{ standby: boolean; replay: string | null }>(REPLICATION_SQL.replay))[0];
          const replay = row?.replay ?? '0/0';
          const reached = parseLsn(replay) >= target;
          if (reached) return { reached, replayLsn: replay, waitedMs: Date.now() - t0 };
          if (row?.standby !== true) {
            throw replicationRefusal(opts.url, REPLICATION_SQL.replay, `the server is a primary (not in recovery): it replays no WAL, and its last replayed position ${replay} is before ${lsn}`);
          }
          if (signal?.aborted || Date.now() - t0 >= timeoutMs) return { reached: false, replayLsn: replay, waitedMs: Date.now() - t0 };
          await sleep(Math.min(pollMs, Math.max(0, timeoutMs - (Date.now() - t0))), signal);
        }
      });
    },
  };
}

function replica(r: RawReplica, current: string | undefined): ReplicaStatus {
  return {
    applicationName: r.applicationName,
    clientAddr: r.clientAddr,
    state: r.state,
    syncState: r.syncState,
    sentLsn: r.sentLsn,
    writeLsn: r.writeLsn,
    flushLsn: r.flushLsn,
    replayLsn: r.replayLsn,
    lagBytes: replicaLagBytes(current, r),
    replayLagSeconds: r.replayLagSeconds,
  };
}


/** What a PostgreSQL server is in streaming replication: it takes writes, or it replays WAL from one that does. */
export type ReplicationRole = 'primary' | 'standby';

/**
 * One standby streaming from the server, as its `pg_stat_replication` row shows it. LSNs are
 * PostgreSQL's text form (`0/3000060`); a position the standby has not reported yet is null.
 */
export interface ReplicaStatus {
  /** The standby's application_name (its primary_conninfo's, else its cluster_name, else `walreceiver`). */
  applicationName: string;
  /** Its address as the server sees it; null for a unix-socket connection. */
  clientAddr: string | null;
  /** walsender state: `startup`, `catchup`, `streaming`, `backup` or `stopping`. */
  state: string;
  /** `async`, `potential`, `sync` or `quorum` (synchronous_standby_names). */
  syncState: string;
  sentLsn: string | null;
  writeLsn: string | null;
  flushLsn: string | null;
  replayLsn: string | null;
  /**
   * Bytes of WAL the server has written that the standby has not replayed yet
   * (`pg_current_wal_lsn() - replay_lsn`; against the furthest position it did report when
   * replay_lsn is still null), >= 0. 0 means caught up.
   */
  lagBytes: number;
  /**
   * replay_lag in seconds: how long ago the oldest WAL the standby has not replayed was written.
   * null when PostgreSQL has no measurement — right after connecting, or once the standby has
   * caught up and nothing new is written.
   */
  replayLagSeconds: number | null;
}

/** The walreceiver of a standby: where it streams from (`pg_stat_wal_receiver`). */
export interface UpstreamStatus {
  /** `streaming`, `starting`, `waiting`, `restarting`, `stopping`; absent row → `stopped`. */
  status: string;
  /** The primary it connects to, from its primary_conninfo (host and port as written there). */
  senderHost: string | null;
  senderPort: number | null;
  /** The application_name it streams under (see ReplicaStatus.applicationName). */
  applicationName: string;
  /** primary_slot_name, null when it streams without a slot. */
  slotName: string | null;
}

/** What `status()` reads from one server. */
export interface ReplicationStatus {
  role: ReplicationRole;
  /**
   * On a primary, `pg_current_wal_lsn()`: the end of the WAL it has written. On a standby,
   * `pg_last_wal_receive_lsn()`: the end of the WAL it has received and flushed (absent before
   * it received any).
   */
  currentLsn?: string;
  /** On a primary, `pg_current_wal_flush_lsn()`: every acknowledged commit is at or before it. */
  flushLsn?: string;
  /** On a standby, `pg_last_wal_replay_lsn()`: what a read on it sees. Absent on a primary. */
  replayLsn?: string;
  /** Standbys streaming from this server (on a standby: cascading ones, usually none). */
  replicas: ReplicaStatus[];
  /** On a standby, its walreceiver (status `stopped`, no sender, when none runs). Absent on a primary. */
  upstream?: UpstreamStatus;
  /**
   * Whether new sessions start read-only (`default_transaction_read_only`: what `fence()` turns
   * on). A standby refuses writes whatever this says; `role` tells.
   */
  readOnly: boolean;
}

/** What `fence()` did. */
export interface FenceResult {
  /** default_transaction_read_only was already on before (the fence was up): undo leaves it on. */
  wasReadOnly: boolean;
  /** Client sessions terminated (replication connections are never terminated). */
  terminated: number;
}

/** How `promote()` ended. */
export type PromoteOutcome = 'promoted' | 'already-primary' | 'timed-out';

/** How `waitForReplay()` ended. */
export interface ReplayWait {
  /** The standby's replay position reached the LSN asked for. */
  reached: boolean;
  /** Its replay position when the wait ended. */
  replayLsn: string;
  /** How long the wait took, ms. */
  waitedMs: number;
}

/**
 * The replication calls surgectl makes on ONE PostgreSQL server (a primary or a standby), by
 * SQL over its URL (`postgres://user[:password]@host:port/db`; the user needs superuser, or the
 * grants named in the errors). Each call opens its own short connection, so a server that
 * restarts or is promoted between calls is simply met again.
 *
 * Every method rejects with a SurgeError: SRG_STACK_STORE_UNREACHABLE (exit 3) when the server
 * does not answer (refused, unknown host, timeout, shutting down), naming the URL without its
 * password; SRG_PG_REFUSED (exit 2) when it refuses a statement (no permission, wrong role for
 * the call), naming the statement and what it needs.
 */
export interface ReplicationPort {
  /** The server's URL as it may be shown: without user info's password (withoutCredentials). */
  readonly url: string;
  /** `pg_is_in_recovery()`: standby when true. */
  role(): Promise<ReplicationRole>;
  /** Role, WAL positions, streaming standbys with their lag, walreceiver, fence state. */
  status(): Promise<ReplicationStatus>;
  /**
   * Makes the server refuse writes: `ALTER SYSTEM SET default_transaction_read_only = on`,
   * `pg_reload_conf()`, waits (up to `timeoutMs`, default 5000 ms) until a new session starts
   * read-only, then terminates every other client session (`pg_terminate_backend`) so no
   * transaction opened before the fence can still commit. Walsenders are left alone: standbys
   * keep streaming. Idempotent. A session may still `SET transaction_read_only = off` on purpose:
   * this fences applications, not a determined superuser.
   */
  fence(opts?: { timeoutMs?: number }): Promise<FenceResult>;
  /** Takes the fence down: `ALTER SYSTEM RESET default_transaction_read_only` (SET … off when the config file itself says on), reload, and waits until new sessions may write. */
  unfence(opts?: { timeoutMs?: number }): Promise<void>;
  /**
   * `pg_promote(true, ⌈timeoutMs/1000⌉)` on a standby: it leaves recovery and takes writes on a
   * new timeline. `already-primary` when it was not in recovery (a rerun after an interrupted
   * promote); `timed-out` when it was still in recovery after `timeoutMs`.
   */
  promote(timeoutMs: number): Promise<PromoteOutcome>;
  /**
   * Polls `pg_last_wal_replay_lsn()` on a standby (every 50 ms) until it is at or past `lsn`,
   * `timeoutMs` passes or `signal` aborts. A primary (not in recovery) can never replay further:
   * SRG_PG_REFUSED unless it already is at or past `lsn`.
   */
  waitForReplay(lsn: string, timeoutMs: number, signal?: AbortSignal): Promise<ReplayWait>;
}

import type { FenceResult, PromoteOutcome, ReplicaStatus, ReplicationPort, ReplicationStatus, ReplayWait } from './port.js';
import { formatLsn, parseLsn, REPLICATION_SQL, replicationRefusal, replicationUnreachable } from './postgres-replication.js';
import { withoutCredentials } from '../../util/url.js';

/** An open client session on a fake server (what fence() terminates). */
export interface FakeSession {
  readonly alive: boolean;
}

/** What a write on a fake server answers when it is refused: PostgreSQL's own text and SQLSTATE. */
export class FakeWriteRefused extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * A set of fake PostgreSQL servers that replicate to each other, each reached by its URL
 * (`postgres://user@host:port/db`; servers are told apart by host:port, the user decides the
 * rights). Writes advance the WAL of a primary by a fixed number of bytes; standbys receive and
 * replay at once unless held.
 */
export interface FakeReplicationCluster {
  /** The port for the server at `url`, as createPostgresReplication({url}) would be; a URL no server has is unreachable. */
  port(url: string): ReplicationPort;
  /** A primary at `url`; `name` is its cluster_name (the application_name it streams under once rebuilt as a standby). */
  addPrimary(url: string, opts?: { name?: string; superusers?: string[] }): void;
  /** A standby streaming from `primaryUrl` (asynchronous unless `sync`). */
  addStandby(url: string, primaryUrl: string, opts?: { name?: string; sync?: boolean; slot?: string; superusers?: string[] }): void;
  /**
   * A client write (an INSERT of `bytes` bytes of WAL, default 120) on `url`. Rejects with
   * PostgreSQL's answer on a standby or a fenced primary (FakeWriteRefused, SQLSTATE 25006) and
   * with ECONNREFUSED when the server is down; resolves the new end of its WAL.
   */
  write(url: string, bytes?: number): Promise<string>;
  /** Opens a client session on `url` (fence() ends it). */
  openSession(url: string): FakeSession;
  /** A standby stops replaying (it still receives) until released: its lag grows with every write. */
  holdReplay(url: string, held: boolean): void;
  /** The server stops answering (a crash, SIGKILL) or comes back; standbys of a down primary stop streaming. */
  setDown(url: string, down: boolean): void;
  /** The old primary becomes a standby of `newPrimaryUrl` (pg_rewind): its WAL is the new primary's, its fence gone. */
  rewind(oldUrl: string, newPrimaryUrl: string): void;
  /** Every statement run, as `<host:port> <statement>`, in order. */
  readonly calls: string[];
}

interface Server {
  key: string;
  url: string;
  host: string;
  port: number;
  name: string;
  role: 'primary' | 'standby';
  /** Primary: end of WAL written (= flushed). Standby: received and flushed. */
  lsn: bigint;
  replayed: bigint;
  readOnly: boolean;
  upstream?: Server;
  sync: boolean;
  slot: string | null;
  held: boolean;
  down: boolean;
  superusers: Set<string>;
  sessions: Array<{ alive: boolean }>;
  /** When each not yet replayed write happened (ms), for replay_lag. */
  pending: Array<{ lsn: bigint; at: number }>;
}

const START_LSN = parseLsn('0/3000060');

function keyOf(url: string): { key: string; host: string; port: number; user: string } {
  const u = new URL(url);
  const port = Number(u.port || 5432);
  return { key: `${u.hostname}:${port}`, host: u.hostname, port, user: decodeURIComponent(u.username || 'postgres') };
}

/**
 * An in-memory set of replicating PostgreSQL servers with the answers of the real adapter
 * (contract.test.ts runs the same cases against both): the same errors, fence that ends client
 * sessions but not streaming, promote onto writes, rewind back into streaming.
 */
export function createFakeReplicationCluster(opts: { now?: () => number; pollMs?: number } = {}): FakeReplicationCluster {
  const now = opts.now ?? Date.now;
  const pollMs = opts.pollMs ?? 10;
  const servers = new Map<string, Server>();
  const calls: string[] = [];

  function server(url: string): Server {
    const s = servers.get(keyOf(url).key);
    if (!s) throw new Error(`fake PostgreSQL: no server at ${withoutCredentials(url)}`);
    return s;
  }
  function add(url: string, role: Server['role'], o: { name?: string; superusers?: string[]; sync?: boolean; slot?: string }, upstream?: Server): Server {
    const { key, host, port } = keyOf(url);
    const s: Server = {
      key,
      url,
      host,
      port,
      name: o.name ?? `pg_${port}`,
      role,
      lsn: upstream ? upstream.lsn : START_LSN,
      replayed: upstream ? upstream.lsn : START_LSN,
      readOnly: false,
      sync: o.sync ?? false,
      slot: o.slot ?? null,
      held: false,
      down: false,
      superusers: new Set(o.superusers ?? ['postgres']),
      sessions: [],
      pending: [],
      ...(upstream ? { upstream } : {}),
    };
    servers.set(key, s);
    return s;
  }
  const standbysOf = (p: Server) => [...servers.values()].filter((s) => s.role === 'standby' && s.upstream === p && !s.down && !p.down);
  /** Standbys that are not held replay what they received. */
  function settle(): void {
    for (const s of servers.values()) {
      if (s.role !== 'standby' || !s.upstream || s.upstream.down || s.down) continue;
      s.lsn = s.upstream.lsn > s.lsn ? s.upstream.lsn : s.lsn;
      if (!s.held) {
        s.replayed = s.lsn;
        s.pending = [];
      }
    }
  }

  function port(url: string): ReplicationPort {
    const { key, user } = keyOf(url);
    const shown = withoutCredentials(url);
    /** Runs `statement` as the real adapter would: unreachable when down or absent, refused without rights. */
    function on<T>(statement: string, fn: (s: Server) => T, needsSuperuser = false): T {
      calls.push(`${key} ${statement}`);
      const s = servers.get(key);
      if (!s || s.down) throw replicationUnreachable(url, `\`${statement}\``, `ECONNREFUSED: connect ECONNREFUSED ${key}`);
      if (needsSuperuser && !s.superusers.has(user)) {
        const what = statement.startsWith('ALTER SYSTEM') ? 'permission denied to set parameter "default_transaction_read_only"' : 'permission denied for function pg_promote';
        throw replicationRefusal(url, statement, what, '42501');
      }
      settle();
      return fn(s);
    }
    const async = <T>(f: () => T): Promise<T> => {
      try {
        return Promise.resolve(f());
      } catch (err) {
        return Promise.reject(err);
      }
    };

    return {
      url: shown,
      role: () => async(() => on(REPLICATION_SQL.role, (s) => s.role)),
      status: () =>
        async(() =>
          on(REPLICATION_SQL.role, (s): ReplicationStatus => {
            const replicas = standbysOf(s).map((r): ReplicaStatus => {
              const lag = Number(s.lsn - r.replayed);
              const oldest = r.pending[0];
              return {
                applicationName: r.name,
                clientAddr: '127.0.0.1',
                state: 'streaming',
                syncState: r.sync ? 'sync' : 'async',
                sentLsn: formatLsn(r.lsn),
                writeLsn: formatLsn(r.lsn),
                flushLsn: formatLsn(r.lsn),
                replayLsn: formatLsn(r.replayed),
                lagBytes: Math.max(0, lag),
                replayLagSeconds: lag > 0 && oldest ? (now() - oldest.at) / 1000 : null,
              };
            });
            if (s.role === 'primary') return { role: 'primary', currentLsn: formatLsn(s.lsn), flushLsn: formatLsn(s.lsn), replicas, readOnly: s.readOnly };
            const up = s.upstream;
            return {
              role: 'standby',
              currentLsn: formatLsn(s.lsn),
              replayLsn: formatLsn(s.replayed),
              replicas,
              upstream: up && !up.down ? { status: 'streaming', senderHost: up.host, senderPort: up.port, applicationName: s.name, slotName: s.slot } : { status: 'stopped', senderHost: null, senderPort: null, applicationName: 'walreceiver', slotName: null },
              readOnly: s.readOnly,
            };
          }),
        ),
      fence: () =>
        async(() =>
          on(
            REPLICATION_SQL.fence,
            (s): FenceResult => {
              const wasReadOnly = s.readOnly;
              s.readOnly = true;
              let terminated = 0;
              for (const sess of s.sessions) {
                if (sess.alive) terminated++;
                sess.alive = false;
              }
              s.sessions = [];
              return { wasReadOnly, terminated };
            },
            true,
          ),
        ),
      unfence: () => async(() => on(REPLICATION_SQL.unfence, (s) => void (s.readOnly = false), true)),
      promote: () =>
        async(() =>
          on(
            REPLICATION_SQL.promote,
            (s): PromoteOutcome => {
              if (s.role === 'primary') return 'already-primary';
              // Promotion ends recovery at what was replayed, and writes an end-of-recovery record.
              s.role = 'primary';
              delete s.upstream;
              s.lsn = s.replayed + 0x28n;
              s.replayed = s.lsn;
              s.pending = [];
              s.held = false;
              return 'promoted';
            },
            true,
          ),
        ),
      async waitForReplay(lsn, timeoutMs, signal): Promise<ReplayWait> {
        const target = parseLsn(lsn);
        const t0 = now();
        for (;;) {
          const r = on(REPLICATION_SQL.replay, (s) => ({ standby: s.role === 'standby', replay: s.replayed }));
          if (r.replay >= target) return { reached: true, replayLsn: formatLsn(r.replay), waitedMs: now() - t0 };
          if (!r.standby) {
            throw replicationRefusal(url, REPLICATION_SQL.replay, `the server is a primary (not in recovery): it replays no WAL, and its last replayed position ${formatLsn(r.replay)} is before ${lsn}`);
          }
          if (signal?.aborted || now() - t0 >= timeoutMs) return { reached: false, replayLsn: formatLsn(r.replay), waitedMs: now() - t0 };
          await new Promise((res) => setTimeout(res, pollMs));
        }
      },
    };
  }

  return {
    calls,
    port,
    addPrimary(url, o = {}) {
      add(url, 'primary', o);
    },
    addStandby(url, primaryUrl, o = {}) {
      add(url, 'standby', o, server(primaryUrl));
    },
    write(url, bytes = 120) {
      const s = servers.get(keyOf(url).key);
      if (!s || s.down) return Promise.reject(Object.assign(new Error(`connect ECONNREFUSED ${keyOf(url).key}`), { code: 'ECONNREFUSED' }));
      if (s.role === 'standby' || s.readOnly) return Promise.reject(new FakeWriteRefused('cannot execute INSERT in a read-only transaction', '25006'));
      s.lsn += BigInt(bytes);
      for (const r of standbysOf(s)) if (r.held) r.pending.push({ lsn: s.lsn, at: now() });
      settle();
      return Promise.resolve(formatLsn(s.lsn));
    },
    openSession(url) {
      const s = server(url);
      const sess = { alive: true };
      s.sessions.push(sess);
      return sess;
    },
    holdReplay(url, held) {
      const s = server(url);
      s.held = held;
      settle();
    },
    setDown(url, down) {
      const s = server(url);
      s.down = down;
      if (down) for (const sess of s.sessions) sess.alive = false;
      settle();
    },
    rewind(oldUrl, newPrimaryUrl) {
      const old = server(oldUrl);
      const primary = server(newPrimaryUrl);
      old.role = 'standby';
      old.upstream = primary;
      old.lsn = primary.lsn;
      old.replayed = primary.lsn;
      old.pending = [];
      old.readOnly = primary.readOnly;
      old.slot = null;
      old.down = false;
      settle();
    },
  };
}

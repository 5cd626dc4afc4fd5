import type { ReplicationPort, ReplicationStatus } from '../adapters/postgres-replication/port.js';
import { errorText } from '../runbooks/step.js';
import type { RegionConfig } from '../config/schema.js';
import { withoutCredentials } from '../util/url.js';

/** What `surgectl region status` reaches: each region's PostgreSQL and intake. */
export interface RegionStatusPorts {
  replication(url: string): Promise<ReplicationPort>;
  /** GET <intakeUrl>/readyz: the status code, or an error when nothing answered. */
  readyz(intakeUrl: string, signal?: AbortSignal): Promise<number>;
}

/** One region as `region status` shows it. */
export interface RegionRow {
  name: string;
  /** The store URL without credentials. */
  store: string;
  role: 'primary' | 'standby' | 'unreachable';
  /** Why the store could not be read (role unreachable). */
  error?: string;
  /** New sessions start read-only (a fenced primary). */
  readOnly?: boolean;
  /** Primary: its flushed WAL position. Standby: its replayed position. */
  lsn?: string;
  /** Standby: bytes and seconds behind, as its primary's pg_stat_replication reports it (when the primary is one of the regions). */
  lagBytes?: number;
  replayLagSeconds?: number | null;
  /** Primary: the standbys streaming from it. */
  replicas?: ReplicationStatus['replicas'];
  intake: 'ready' | 'not ready' | 'unreachable' | 'not configured';
  /** The region takes orders now: a writable primary whose intake is ready. */
  takesTraffic: boolean;
}

/**
 * Reads every region at once: the role and replication state of its PostgreSQL
 * (pg_stat_replication on the primary, replay position on a standby) and whether its intake is
 * ready. Never throws for a region that does not answer: that region is `unreachable`.
 */
export async function regionStatus(regions: Readonly<Record<string, RegionConfig>>, ports: RegionStatusPorts, signal?: AbortSignal): Promise<RegionRow[]> {
  const read = await Promise.all(
    Object.entries(regions).map(async ([name, r]) => {
      const [status, intake] = await Promise.all([
        ports.replication(r.store).then((p) => p.status()).then(
          (s) => ({ ok: true as const, s }),
          (err: unknown) => ({ ok: false as const, error: errorText(err) }),
        ),
        r.intakeUrl === undefined
          ? Promise.resolve('not configured' as const)
          : ports.readyz(r.intakeUrl, signal).then(
              (code) => (code === 200 ? ('ready' as const) : ('not ready' as const)),
              () => 'unreachable' as const,
            ),
      ]);
      return { name, r, status, intake };
    }),
  );
  const primaries = read.flatMap((x) => (x.status.ok && x.status.s.role === 'primary' ? [x.status.s] : []));
  return read.map(({ name, r, status, intake }): RegionRow => {
    const store = withoutCredentials(r.store);
    if (!status.ok) return { name, store, role: 'unreachable', error: status.error, intake, takesTraffic: false };
    const s = status.s;
    if (s.role === 'primary') {
      return { name, store, role: 'primary', readOnly: s.readOnly, ...(s.flushLsn ? { lsn: s.flushLsn } : {}), replicas: s.replicas, intake, takesTraffic: !s.readOnly && intake === 'ready' };
    }
    // A standby's lag as its primary measures it: the replica whose replay position is its own.
    const seen = primaries.flatMap((p) => p.replicas).find((x) => x.replayLsn !== null && x.replayLsn === s.replayLsn);
    return {
      name,
      store,
      role: 'standby',
      readOnly: true,
      ...(s.replayLsn ? { lsn: s.replayLsn } : {}),
      ...(seen ? { lagBytes: seen.lagBytes, replayLagSeconds: seen.replayLagSeconds } : {}),
      intake,
      takesTraffic: false,
    };
  });
}

import { isIP } from 'node:net';
import { z } from 'zod';
import type { ReplicationPort, ReplicationStatus } from '../adapters/postgres-replication/port.js';
import { lsnDiff } from '../adapters/postgres-replication/postgres-replication.js';
import { withoutCredentials } from '../util/url.js';
import type { StepContext, StepKind } from './kinds.js';
import { duration, ms } from './fields.js';

/**
 * The step kinds of a PostgreSQL region failover (streaming replication): fence the primary,
 * wait until the standby has replayed everything the primary flushed, promote the standby, and
 * check that a standby streams within a lag budget. Same shape as the kinds in kinds.ts; they
 * reach PostgreSQL only through `ports.replication(url)`.
 */

/** What the pg-* kinds need from the composition root, merged into RunbookPorts. */
export interface PostgresRunbookPorts {
  /**
   * The replication port of the PostgreSQL server at `url` (`postgres://user[:password]@host:port/db`),
   * built on first use (a dry run builds none). The user needs superuser, or the grants the port names.
   */
  replication(url: string): Promise<ReplicationPort>;
}

/** How long pg-wait-replay's own wait may last: the step's timeout (its signal) ends it first. */
const UNBOUNDED_MS = 24 * 3_600_000;

const pgUrl = z
  .string()
  .min(1)
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: 'expected a PostgreSQL URL such as postgres://postgres@10.0.0.5:5432/postgres' },
  );
/** A URL as it may be shown (dry runs, journal, messages): without its password. */
const shown = (url: string) => withoutCredentials(url);

function replication(ctx: StepContext, url: string): Promise<ReplicationPort> {
  return ctx.ports.replication(url);
}

/** host and port of a PostgreSQL URL, for the commands a person runs by hand. */
function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 5432) };
}

// ── pg-fence ──────────────────────────────────────────────────────────────────────────────────
const FenceSchema = z.strictObject({
  url: pgUrl,
  /**
   * The standby a later step promotes. The undo unfences only while it is still a standby: the
   * engine goes on undoing earlier steps after a promotion's undo fails, and unfencing the old
   * primary then would leave two primaries taking writes. Default: no such check.
   */
  standby: pgUrl.optional(),
});
type FenceUndo = { wasReadOnly: boolean };
const pgFence: StepKind<z.infer<typeof FenceSchema>> = {
  name: 'pg-fence',
  summary: 'makes a PostgreSQL primary refuse writes (default_transaction_read_only on, reload, client sessions terminated; streaming goes on); undone by unfencing unless it was read-only before',
  schema: FenceSchema,
  mutating: () => true,
  describe: (s) => `fence PostgreSQL ${shown(s.url)}: default_transaction_read_only = on, reload, terminate client sessions${s.standby ? ` (undone only while ${shown(s.standby)} is a standby)` : ''}`,
  async before(s, ctx): Promise<FenceUndo> {
    return { wasReadOnly: (await (await replication(ctx, s.url)).status()).readOnly };
  },
  async run(s, ctx) {
    const pg = await replication(ctx, s.url);
    const r = await pg.fence();
    // The fence is the guarantee the failover stands on: check it from a new session.
    const after = await pg.status();
    if (!after.readOnly) return { passed: false, output: r, message: `${pg.url} still starts sessions read-write after the fence` };
    return { passed: true, output: { ...r, role: after.role, currentLsn: after.currentLsn, flushLsn: after.flushLsn } };
  },
  async undo(s, undo, ctx) {
    if ((undo as FenceUndo | undefined)?.wasReadOnly === true) return;
    if (s.standby !== undefined) {
      const standby = await replication(ctx, s.standby);
      // Unreachable counts as "cannot tell": a standby we cannot see may have been promoted.
      const role = await standby.role().catch((err: unknown) => `unknown (${(err as Error).message})`);
      if (role !== 'standby') throw new Error(`not unfencing ${shown(s.url)}: ${standby.url} is ${role === 'primary' ? 'a primary now (promoted)' : role}, and two primaries must never both take writes`);
    }
    await (await replication(ctx, s.url)).unfence();
  },
  describeUndo: (s, undo) => {
    if ((undo as FenceUndo | undefined)?.wasReadOnly === true) return `nothing: ${shown(s.url)} was already read-only before the fence`;
    const unfence = `psql "${shown(s.url)}" -c "ALTER SYSTEM RESET default_transaction_read_only" -c "SELECT pg_reload_conf()"`;
    return s.standby === undefined ? unfence : `only if ${shown(s.standby)} is still a standby (psql "${shown(s.standby)}" -c "SELECT pg_is_in_recovery()" says t): ${unfence}`;
  },
};

// ── pg-wait-replay (check) ────────────────────────────────────────────────────────────────────
const WaitReplaySchema = z.strictObject({ primary: pgUrl, standby: pgUrl });
const pgWaitReplay: StepKind<z.infer<typeof WaitReplaySchema>> = {
  name: 'pg-wait-replay',
  summary: "waits (within the step's timeout) until a standby has replayed the primary's flushed WAL: nothing acknowledged on the primary is missing on it",
  schema: WaitReplaySchema,
  mutating: () => false,
  describe: (s) => `wait until standby ${shown(s.standby)} has replayed the WAL flushed on ${shown(s.primary)}`,
  async run(s, ctx) {
    const primary = await replication(ctx, s.primary);
    const standby = await replication(ctx, s.standby);
    const p = await primary.status();
    if (p.role !== 'primary') return { passed: false, output: { primaryRole: p.role }, message: `${primary.url} is a standby, not the primary to wait for` };
    // Every acknowledged commit is at or before the flush LSN (fenced: nothing comes after it).
    const target = p.flushLsn ?? (p.currentLsn as string);
    const w = await standby.waitForReplay(target, UNBOUNDED_MS, ctx.signal);
    const output = { primaryFlushLsn: target, standbyReplayLsn: w.replayLsn, lagBytes: Math.max(0, lsnDiff(target, w.replayLsn)), waitedMs: w.waitedMs };
    if (w.reached) return { passed: true, output };
    const up = await standby.status().then(
      (st) => st.upstream?.status ?? st.role,
      () => 'unknown',
    );
    return {
      passed: false,
      output: { ...output, standbyReceiver: up },
      message: `standby ${standby.url} replayed up to ${w.replayLsn}, ${output.lagBytes} bytes short of ${target} flushed on ${primary.url}, when the step's time ran out (its walreceiver: ${up})`,
    };
  },
};

// ── pg-promote ────────────────────────────────────────────────────────────────────────────────
const PromoteSchema = z.strictObject({
  url: pgUrl,
  /** How long pg_promote waits for the end of recovery; default 60s. */
  wait: duration.default('60s'),
});
/** What the server was before the promotion: the way back is rebuilding the old primary from it. */
type PromoteBefore = { role: ReplicationStatus['role']; replayLsn?: string; upstream?: { host: string | null; port: number | null } };
const pgPromote: StepKind<z.infer<typeof PromoteSchema>> = {
  name: 'pg-promote',
  summary: 'promotes a PostgreSQL standby to primary (pg_promote); cannot be undone automatically — the old primary is rebuilt as its replica by hand or by failback',
  schema: PromoteSchema,
  mutating: () => true,
  irreversible: true,
  describe: (s) => `promote PostgreSQL standby ${shown(s.url)} to primary (pg_promote, wait up to ${s.wait})`,
  async before(s, ctx): Promise<PromoteBefore> {
    const st = await (await replication(ctx, s.url)).status();
    return {
      role: st.role,
      ...(st.replayLsn ? { replayLsn: st.replayLsn } : {}),
      ...(st.upstream ? { upstream: { host: st.upstream.senderHost, port: st.upstream.senderPort } } : {}),
    };
  },
  async run(s, ctx) {
    const pg = await replication(ctx, s.url);
    const outcome = await pg.promote(ms(s.wait, 60_000));
    if (outcome === 'timed-out') return { passed: false, output: { outcome }, message: `${pg.url} was still in recovery ${s.wait} after pg_promote; it may yet finish: check pg_is_in_recovery() before anything else` };
    if (outcome === 'already-primary') ctx.reporter.notify(`${pg.url} is already a primary (promoted before): nothing to do`, 'warn');
    const after = await pg.status();
    return { passed: after.role === 'primary', output: { outcome, role: after.role, currentLsn: after.currentLsn, readOnly: after.readOnly }, ...(after.role === 'primary' ? {} : { message: `${pg.url} is still a standby after pg_promote` }) };
  },
  describeUndo: (s, undo) => {
    const { host, port } = hostPort(s.url);
    const b = undo as PromoteBefore | undefined;
    const old = b?.upstream?.host ? `the old primary (${b.upstream.host}:${b.upstream.port ?? 5432})` : 'the old primary';
    return (
      `no automatic undo: ${shown(s.url)} is a primary on a new timeline. Rebuild ${old} as its replica: stop it, then ` +
      `pg_rewind --target-pgdata=<its data directory> --source-server='host=${host} port=${port} user=postgres dbname=postgres' --write-recovery-conf ` +
      `(if pg_rewind fails: pg_basebackup -h ${host} -p ${port} -D <empty data directory> -R -X stream), start it and check it streams (pg-replication-check)`
    );
  },
};

// ── pg-replication-check (check) ──────────────────────────────────────────────────────────────
const CheckSchema = z.strictObject({
  primary: pgUrl,
  replica: pgUrl,
  /** Most WAL bytes the replica may be behind (primary's WAL end − replica's replay position); default no limit. */
  maxLagBytes: z.number().int().min(0).optional(),
  /** Most replay_lag seconds the primary may measure for it; default no limit. */
  maxLagSeconds: z.number().min(0).optional(),
  /** The replica must be a synchronous standby (sync_state sync or quorum); default false. */
  sync: z.boolean().default(false),
  /** Keep checking (every 500 ms) until it passes or this much time went by, e.g. after a rebuild; default one check. */
  within: duration.optional(),
});
const sameHost = (a: string, b: string | null) => b === null || !isIP(a) || !isIP(b) || a === b;
const pgReplicationCheck: StepKind<z.infer<typeof CheckSchema>> = {
  name: 'pg-replication-check',
  summary: 'passes when a PostgreSQL replica streams from the primary within a lag budget (bytes and/or seconds), synchronous if asked',
  schema: CheckSchema,
  mutating: () => false,
  describe: (s) =>
    `${shown(s.replica)} streams from ${shown(s.primary)}${s.sync ? ' synchronously' : ''}${s.maxLagBytes === undefined ? '' : `, lag ≤ ${s.maxLagBytes} bytes`}${s.maxLagSeconds === undefined ? '' : `, replay lag ≤ ${s.maxLagSeconds} s`}${s.within === undefined ? '' : ` (within ${s.within})`}`,
  async run(s, ctx) {
    const deadline = ctx.now() + ms(s.within ?? '0s', 0);
    for (;;) {
      const last = ctx.now() >= deadline || ctx.signal.aborted;
      // a server that does not answer fails the step as unreachable, unless there is time to try again
      const r = await checkReplication(s, ctx).catch((err: unknown) => {
        if (last) throw err;
        return undefined;
      });
      if (r !== undefined && (r.passed || last)) return r;
      await ctx.sleep(500, ctx.signal).catch(() => undefined);
    }
  },
};

/** One look at a replica and its primary for pg-replication-check. */
async function checkReplication(s: z.infer<typeof CheckSchema>, ctx: StepContext): Promise<{ passed: boolean; output?: unknown; message?: string }> {
  {
    const primary = await replication(ctx, s.primary);
    const replica = await replication(ctx, s.replica);
    // The replica first: WAL the primary writes in between counts as lag (an overestimate, never an underestimate).
    const r = await replica.status();
    const p = await primary.status();
    const fail = (message: string, output?: unknown) => ({ passed: false, ...(output === undefined ? {} : { output }), message });
    if (p.role !== 'primary') return fail(`${primary.url} is a standby, not a primary`);
    if (r.role !== 'standby') return fail(`${replica.url} is a primary, not a standby: it replicates from nothing`);
    const up = r.upstream;
    if (!up || up.status !== 'streaming') return fail(`${replica.url} does not stream (its walreceiver is ${up?.status ?? 'absent'})`, { upstream: up });
    const want = hostPort(s.primary);
    if (up.senderPort !== want.port || !sameHost(want.host, up.senderHost)) {
      return fail(`${replica.url} streams from ${up.senderHost ?? '?'}:${up.senderPort ?? '?'}, not from ${primary.url}`, { upstream: up });
    }
    // The primary knows its standbys by application_name only; with several under one name the worst one counts.
    const rows = p.replicas.filter((x) => x.applicationName === up.applicationName);
    if (rows.length === 0) return fail(`${primary.url} shows no walsender for application_name ${up.applicationName} (pg_stat_replication)`, { replicas: p.replicas });
    const lagBytes = Math.max(0, lsnDiff(p.currentLsn as string, r.replayLsn ?? '0/0'));
    const measured = rows.map((x) => x.replayLagSeconds).filter((x): x is number => x !== null);
    const lagSeconds = measured.length > 0 ? Math.max(...measured) : null;
    const output = {
      applicationName: up.applicationName,
      state: rows.map((x) => x.state).join(','),
      syncState: rows.map((x) => x.syncState).join(','),
      primaryLsn: p.currentLsn,
      replicaReplayLsn: r.replayLsn,
      lagBytes,
      replayLagSeconds: lagSeconds,
    };
    const problems: string[] = [];
    if (rows.some((x) => x.state !== 'streaming')) problems.push(`its walsender is in state ${output.state}, not streaming`);
    if (s.sync && !rows.every((x) => x.syncState === 'sync' || x.syncState === 'quorum')) problems.push(`it is ${output.syncState}, not a synchronous standby (synchronous_standby_names)`);
    if (s.maxLagBytes !== undefined && lagBytes > s.maxLagBytes) problems.push(`it is ${lagBytes} bytes behind, more than ${s.maxLagBytes}`);
    if (s.maxLagSeconds !== undefined) {
      // No measurement means caught up and idle — unless bytes are still missing, when it means "not measured yet".
      if (lagSeconds === null && lagBytes > 0) problems.push(`its replay lag is not measured yet while ${lagBytes} bytes are missing`);
      else if (lagSeconds !== null && lagSeconds > s.maxLagSeconds) problems.push(`its replay lag is ${lagSeconds.toFixed(3)} s, more than ${s.maxLagSeconds} s`);
    }
    if (problems.length > 0) return fail(`${replica.url} (application_name ${up.applicationName}) from ${primary.url}: ${problems.join('; ')}`, output);
    return { passed: true, output };
  }
}

/** The PostgreSQL step kinds, by name (to be merged into STEP_KINDS). */
export const POSTGRES_STEP_KINDS: Readonly<Record<string, StepKind<never>>> = Object.fromEntries(
  [pgFence, pgWaitReplay, pgPromote, pgReplicationCheck].map((k) => [k.name, k as unknown as StepKind<never>]),
);

export { pgFence, pgPromote, pgReplicationCheck, pgWaitReplay };

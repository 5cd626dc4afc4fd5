import pg from 'pg';
import type { RegionConfig } from '../config/schema.js';
import { SurgeError } from '../errors.js';
import { startRunbook, type RunbookPlan, type RunbookRunContext } from '../runbooks/run.js';
import type { ParamValue, RunbookJournal, StepRecord } from '../runbooks/types.js';
import { withoutCredentials, withoutPassword } from '../util/url.js';

/*
 * `surgectl failover` and `surgectl failback`: the region runbooks (scenarios/runbooks/
 * region-failover.yaml, region-rebuild.yaml) with the regions of surgectl.yaml as parameters, and
 * what the on-call engineer needs to know afterwards: how long orders were refused (RTO) and
 * whether any acknowledged order is missing (RPO).
 */

/** Where traffic is switched and what the new region runs. */
export interface FailoverTraffic {
  /** Where traffic moves: HAProxy weights (default) or a Kubernetes Service's selector. */
  target?: 'haproxy' | 'kubernetes' | undefined;
  /** HAProxy's runtime API. */
  haproxy: string;
  backend: string;
  /** Kubernetes: the Service clients use and the selector key whose value is the region's `server`. */
  kubernetes?: { namespace: string; service: string; label: string } | undefined;
  /** Where clients send orders (HAProxy's frontend), for the synthetic order. */
  frontUrl: string;
}

export interface FailoverRequest extends FailoverTraffic {
  regions: Readonly<Record<string, RegionConfig>>;
  to: string;
  /** Default: the one other region. */
  from?: string | undefined;
  /** Workers the new region's stack starts. */
  workers: number;
  /** A planned failover refuses to start past this replication lag. */
  maxLagBytes: number;
  /** The old primary is dead: no fence, no wait for replay; acknowledged orders it had not shipped are lost. */
  force: boolean;
  /** How long the standby may take to replay what the fenced primary flushed. */
  replayTimeout?: string | undefined;
  dryRun: boolean;
  journalPath?: string | undefined;
}

/** RPO: acknowledged orders the new primary lacks. */
export interface RpoReport {
  /** 'measured': both stores read; 'unknown': the old primary could not be read (a forced failover). */
  basis: 'measured' | 'unknown';
  /** Orders the old primary has and the new one lacks (created since the lookback), by id. */
  missing: string[];
  /** Orders of the old primary compared. */
  compared: number;
  /** Why it is unknown, or what the estimate is based on. */
  note?: string;
}

export interface FailoverResult {
  plan: RunbookPlan;
  journal?: RunbookJournal;
  journalPath?: string;
  from: string;
  to: string;
  /** From the first refused order (intake paused; forced: the promotion) to the synthetic order accepted through the front, ms. */
  rtoMs?: number;
  rpo?: RpoReport;
}

/** Resolves the pair: `to` must be a region, `from` the other one (or given). */
export function resolvePair(regions: Readonly<Record<string, RegionConfig>>, to: string, from: string | undefined): { from: string; to: string; a: RegionConfig; b: RegionConfig } {
  const names = Object.keys(regions);
  if (names.length === 0) throw new SurgeError('SRG_CLI_USAGE', 'no regions in surgectl.yaml', { hint: 'regions: {a: {store: postgres://…, intakeUrl: http://…}, b: {…}}' });
  const unknown = [to, from].filter((n): n is string => n !== undefined && regions[n] === undefined);
  if (unknown.length > 0) throw new SurgeError('SRG_CLI_USAGE', `unknown region ${unknown.map((n) => `'${n}'`).join(' and ')}; surgectl.yaml has ${names.join(', ')}`);
  const others = names.filter((n) => n !== to);
  const src = from ?? (others.length === 1 ? others[0] : undefined);
  if (src === undefined) throw new SurgeError('SRG_CLI_USAGE', `--from is needed: ${names.length} regions besides ${to} could be the one to leave`, { hint: `e.g. --from ${others[0]}` });
  if (src === to) throw new SurgeError('SRG_CLI_USAGE', `--from and --to are both ${to}`);
  const a = regions[src] as RegionConfig;
  const b = regions[to] as RegionConfig;
  for (const [name, r] of [
    [src, a],
    [to, b],
  ] as const) {
    if (r.intakeUrl === undefined) throw new SurgeError('SRG_CONFIG_INVALID', `region ${name} has no intakeUrl: the failover pauses and opens intake there`, { hint: `regions.${name}.intakeUrl: http://…:8080` });
  }
  return { from: src, to, a, b };
}

/** The region-failover runbook's parameters for a request: the store URLs without their passwords (the runbook's PostgreSQL port finds them in surgectl.yaml's regions). */
export function failoverParams(req: FailoverRequest): { from: string; to: string; params: Record<string, ParamValue> } {
  const { from, to, a, b } = resolvePair(req.regions, req.to, req.from);
  return {
    from,
    to,
    params: {
      from_store: withoutPassword(a.store, 'PostgreSQL'),
      to_store: withoutPassword(b.store, 'PostgreSQL'),
      from_url: a.intakeUrl as string,
      to_url: b.intakeUrl as string,
      front_url: req.frontUrl,
      haproxy: req.haproxy,
      backend: req.backend,
      from_server: a.server ?? from,
      to_server: b.server ?? to,
      workers: req.workers,
      max_lag_bytes: req.maxLagBytes,
      planned: !req.force,
      traffic_haproxy: req.target !== 'kubernetes',
      traffic_kubernetes: req.target === 'kubernetes',
      ...(req.kubernetes !== undefined ? { namespace: req.kubernetes.namespace, service: req.kubernetes.service, label: req.kubernetes.label } : {}),
      ...(req.replayTimeout !== undefined ? { replay_timeout: req.replayTimeout } : {}),
    },
  };
}

/** How far back the RPO check looks for orders of the old primary, before the run started. */
const RPO_LOOKBACK_MS = 15 * 60_000;

/**
 * Runs the failover runbook, then measures RTO from its journal and RPO by comparing the old
 * primary's recent orders with the new primary's.
 */
export async function failover(c: RunbookRunContext, req: FailoverRequest): Promise<FailoverResult> {
  const { from, to, params } = failoverParams(req);
  const startedAt = c.now();
  const r = await startRunbook(c, { nameOrPath: 'region-failover', params, dryRun: req.dryRun, journalPath: req.journalPath });
  const out: FailoverResult = { plan: r.plan, from, to, ...(r.journal ? { journal: r.journal } : {}), ...(r.journalPath ? { journalPath: r.journalPath } : {}) };
  if (!r.journal || r.journal.status !== 'completed') return out;
  const rto = rtoOf(r.journal, req.force);
  if (rto !== undefined) out.rtoMs = rto;
  out.rpo = await measureRpo(req.regions[from]!.store, req.regions[to]!.store, startedAt - RPO_LOOKBACK_MS);
  return out;
}

/** From the first refused order (pause-intake, or the promotion when forced) to the synthetic order's 202, ms. */
export function rtoOf(journal: RunbookJournal, forced: boolean): number | undefined {
  const step = (name: string): StepRecord | undefined => journal.steps.find((s) => s.step === name);
  const first = step(forced ? 'promote' : 'pause-intake');
  const verify = step('verify-order');
  const accepted = (verify?.output as { acceptedMs?: number } | undefined)?.acceptedMs;
  if (first?.startedAt === undefined || verify?.startedAt === undefined || accepted === undefined) return undefined;
  return Date.parse(verify.startedAt) + accepted - Date.parse(first.startedAt);
}

/**
 * Orders the old primary holds (created since `sinceMs`) that the new primary lacks. The old one
 * is read-only after a planned failover and still answers; after a forced one it may not: then
 * the RPO is unknown, and said so.
 */
export async function measureRpo(oldStore: string, newStore: string, sinceMs: number): Promise<RpoReport> {
  let oldIds: string[];
  try {
    oldIds = await orderIdsSince(oldStore, sinceMs);
  } catch (err) {
    return { basis: 'unknown', missing: [], compared: 0, note: `the old primary ${withoutCredentials(oldStore)} could not be read (${(err as Error).message}): orders it acknowledged after its last shipped WAL are lost and cannot be listed here` };
  }
  const present = new Set(await orderIdsIn(newStore, oldIds));
  return { basis: 'measured', missing: oldIds.filter((id) => !present.has(id)), compared: oldIds.length };
}

/**
 * What a forced failover to `standby` is known to lose, in words, from the standby's side (the
 * primary is presumed dead): how far it received and replayed, and how long ago it last replayed
 * a transaction. Whatever the primary acknowledged after that and never shipped is lost.
 */
export async function forcedLossEstimate(standby: string): Promise<string> {
  try {
    const row = await withClient(standby, async (c) =>
      (
        await c.query<{ recovery: boolean; received: string | null; replayed: string | null; since: number | null; receiver: string | null }>(
          `SELECT pg_is_in_recovery() AS recovery, pg_last_wal_receive_lsn()::text AS received, pg_last_wal_replay_lsn()::text AS replayed,
             extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS since, (SELECT status FROM pg_stat_wal_receiver) AS receiver`,
        )
      ).rows[0],
    );
    if (row === undefined || !row.recovery) return `${withoutCredentials(standby)} is not a standby: there is nothing to promote`;
    const since = row.since === null ? 'no transaction replayed yet' : `its last replayed transaction committed ${row.since.toFixed(1)} s ago`;
    return (
      `${withoutCredentials(standby)} received WAL up to ${row.received ?? '?'} and replayed up to ${row.replayed ?? '?'}; ${since}; its walreceiver is ${row.receiver ?? 'stopped'}. ` +
      'Every order the old primary acknowledged after the last WAL it shipped is lost (an estimate: the old primary cannot be asked)'
    );
  } catch (err) {
    return `${withoutCredentials(standby)} could not be read (${(err as Error).message}): the loss cannot be estimated`;
  }
}

/** One short session on a region's PostgreSQL (a few reads): connects, runs `fn`, always disconnects. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000, statement_timeout: 30_000, application_name: 'surgectl-failover' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function orderIdsSince(url: string, sinceMs: number): Promise<string[]> {
  return withClient(url, async (c) => (await c.query<{ id: string }>('SELECT id FROM orders WHERE created_at >= $1', [sinceMs])).rows.map((r) => r.id));
}

function orderIdsIn(url: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return withClient(url, async (c) => (await c.query<{ id: string }>('SELECT id FROM orders WHERE id = ANY($1::text[])', [ids])).rows.map((r) => r.id));
}

export interface FailbackRequest extends Omit<FailoverRequest, 'force'> {
  /** Skip rebuilding the region traffic leaves (it is rebuilt by hand later). */
  keepOld?: boolean;
}

/** One runbook run of a failback, in order. */
export interface FailbackPart {
  part: 'rebuild' | 'switchover' | 'rebuild-old';
  region: string;
  journal?: RunbookJournal;
  journalPath?: string;
  plan: RunbookPlan;
}

export interface FailbackResult {
  from: string;
  to: string;
  parts: FailbackPart[];
  rtoMs?: number;
  rpo?: RpoReport;
  /** What is left to do by hand (a region without a rebuild command). */
  todo: string[];
}

/** The region-rebuild runbook's parameters: `region` rebuilt as a replica of `primary`. */
function rebuildParams(regions: Readonly<Record<string, RegionConfig>>, region: string, primary: string, maxLagBytes: number): Record<string, ParamValue> {
  const r = regions[region] as RegionConfig;
  const p = regions[primary] as RegionConfig;
  const u = new URL(p.store);
  return {
    store: withoutPassword(r.store, 'PostgreSQL'),
    primary_store: withoutPassword(p.store, 'PostgreSQL'),
    primary_host: u.hostname.replace(/^\[|\]$/g, ''),
    primary_port: u.port || '5432',
    rebuild: r.rebuild as string,
    max_lag_bytes: maxLagBytes,
  };
}

/**
 * `surgectl failback --to a`, after a failover from a to b: rebuilds a as b's replica (its
 * `rebuild` command), fails over from b to a with the same fencing (planned), then rebuilds b as
 * a's replica, so the pair ends as it was. Each part is a runbook run with its own journal; the
 * first that does not complete stops the failback.
 */
export async function failback(c: RunbookRunContext, req: FailbackRequest): Promise<FailbackResult> {
  const { from, to } = resolvePair(req.regions, req.to, req.from);
  const regions = req.regions;
  if (regions[to]?.rebuild === undefined) {
    throw new SurgeError('SRG_CONFIG_INVALID', `region ${to} has no rebuild command: failback first rebuilds its PostgreSQL as a replica of ${from}`, {
      hint: `regions.${to}.rebuild: a shell line that runs pg_rewind (or pg_basebackup) for that server and returns once it streams; it gets PRIMARY_HOST, PRIMARY_PORT and PRIMARY_URL`,
    });
  }
  const out: FailbackResult = { from, to, parts: [], todo: [] };
  const done = (p: FailbackPart) => p.journal !== undefined && p.journal.status === 'completed';

  const rebuild = await startRunbook(c, { nameOrPath: 'region-rebuild', params: rebuildParams(regions, to, from, req.maxLagBytes), dryRun: req.dryRun });
  out.parts.push({ part: 'rebuild', region: to, plan: rebuild.plan, ...(rebuild.journal ? { journal: rebuild.journal } : {}), ...(rebuild.journalPath ? { journalPath: rebuild.journalPath } : {}) });
  if (!req.dryRun && !done(out.parts[0]!)) return out;

  const sw = await failover(c, { ...req, force: false, journalPath: undefined });
  out.parts.push({ part: 'switchover', region: to, plan: sw.plan, ...(sw.journal ? { journal: sw.journal } : {}), ...(sw.journalPath ? { journalPath: sw.journalPath } : {}) });
  if (sw.rtoMs !== undefined) out.rtoMs = sw.rtoMs;
  if (sw.rpo !== undefined) out.rpo = sw.rpo;
  if (!req.dryRun && !done(out.parts[1]!)) return out;

  if (req.keepOld === true || regions[from]?.rebuild === undefined) {
    out.todo.push(`rebuild ${from}'s PostgreSQL (${withoutCredentials(regions[from]!.store)}) as a replica of ${to}: ${regions[from]?.rebuild === undefined ? `regions.${from}.rebuild is not set` : '--keep-old was given'}`);
    return out;
  }
  const back = await startRunbook(c, { nameOrPath: 'region-rebuild', params: rebuildParams(regions, from, to, req.maxLagBytes), dryRun: req.dryRun });
  out.parts.push({ part: 'rebuild-old', region: from, plan: back.plan, ...(back.journal ? { journal: back.journal } : {}), ...(back.journalPath ? { journalPath: back.journalPath } : {}) });
  return out;
}

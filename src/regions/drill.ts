import { join } from 'node:path';
import type { RegionConfig } from '../config/schema.js';
import { SurgeError, withWriteFailure } from '../errors.js';
import { TERMINAL_STATUSES, type OrderStatus } from '../order-core/domain/types.js';
import type { RunbookRunContext } from '../runbooks/run.js';
import { errorText } from '../runbooks/step.js';
import { checkOutputPaths, writeOutputFiles } from '../util/output-files.js';
import { withoutCredentials } from '../util/url.js';
import {
  drillGates,
  drillStatus,
  loadFigures,
  longestGapMs,
  newLoadRecord,
  recordAnswer,
  timelineOf,
  type DrillPart,
  type DrillReport,
  type OrderCheck,
  type TimelineStep,
} from './drill-report.js';
import { failback, failover, forcedLossEstimate, resolvePair, withClient, type FailbackResult, type FailoverResult, type FailoverTraffic } from './failover.js';

export type { DrillReport } from './drill-report.js';

/*
 * `surgectl drill failover`: the region failover and the failback rehearsed under a steady
 * open-model order load through the front, then every order the load saw acknowledged looked up
 * on the final primary. The chaos variant SIGKILLs the primary's postmaster first (the region's
 * `kill` command) and fails over with force: the orders it had acknowledged and not shipped are
 * then the measured loss, listed by id.
 */

/** What the drill is asked to do. Durations in ms. */
export interface DrillRequest extends FailoverTraffic {
  regions: Readonly<Record<string, RegionConfig>>;
  /** The standby that takes over; default: the one region whose PostgreSQL is in recovery. */
  to?: string | undefined;
  from?: string | undefined;
  /** Workers each new primary's stack starts. */
  workers: number;
  maxLagBytes: number;
  replayTimeout?: string | undefined;
  /** Orders per second through the front. Default 200. */
  ratePerSec: number;
  /** SIGKILL the primary (its region's `kill` command) and fail over with force. */
  killPrimary: boolean;
  /** Gate: each switch's RTO at most this. Default 10 s. */
  maxRtoMs: number;
  /** Steady load before the failover. Default 3 s. */
  warmupMs: number;
  /** Load after the failback, before it stops. Default 2 s. */
  cooldownMs: number;
  /** Hard cap of the load, whatever happens. Default 10 min. */
  maxDurationMs: number;
  /** How long acknowledged orders may take to reach a final status afterwards. Default 60 s. */
  settleTimeoutMs: number;
}

export const DRILL_DEFAULTS = { ratePerSec: 200, maxRtoMs: 10_000, warmupMs: 3_000, cooldownMs: 2_000, maxDurationMs: 10 * 60_000, settleTimeoutMs: 60_000 } as const;

/** The load the drill runs: answers are reported one by one, stop() ends it. */
export interface DrillLoadOptions {
  url: string;
  ratePerSec: number;
  maxDurationMs: number;
  signal: AbortSignal;
  onAnswer(status: number, orderIds: readonly string[]): void;
}
export interface RunningDrillLoad {
  /** Stops sending, lets requests in flight settle (at most 2 s) and returns what the generator dropped. */
  stop(): Promise<{ dropped: number; durationMs: number }>;
}

export interface DrillDeps {
  /** Default: the loadtest engine (constant arrival rate) through the front. */
  startLoad?: (o: DrillLoadOptions) => Promise<RunningDrillLoad>;
}

/** The report file names in --report-dir. */
export const DRILL_FILES = { json: 'failover-drill.json', html: 'failover-drill.html' } as const;

/**
 * The drill's load: single-unit orders at a constant arrival rate through the front, with the
 * loadtest engine (the chaos drill's load scenario), every answer passed on.
 */
export async function startEngineLoad(o: DrillLoadOptions): Promise<RunningDrillLoad> {
  const [{ runEngine }, { fetchSkus }, { drillLoadScenario }, { randomBytes }] = await Promise.all([
    import('../loadtest/engine.js'),
    import('../loadtest/run.js'),
    import('../chaos/background-load.js'),
    import('node:crypto'),
  ]);
  const skus = await fetchSkus(o.url, o.signal, { inStockOnly: true });
  const stopper = new AbortController();
  const signal = AbortSignal.any([o.signal, stopper.signal]);
  // room for a few seconds of answers that hang (a dead primary's stack) before arrivals are dropped
  const maxInFlight = Math.max(64, Math.ceil(o.ratePerSec * 2));
  const { scenario } = drillLoadScenario({ url: o.url, rate: o.ratePerSec, maxRequests: Math.ceil((o.ratePerSec * o.maxDurationMs) / 1000), maxDurationMs: o.maxDurationMs, maxInFlight }, skus, 'failover-drill-load');
  const done = runEngine(scenario, { skus, runId: `failover-drill-${randomBytes(6).toString('hex')}`, signal, onResponse: (status, ids) => o.onAnswer(status, ids) });
  done.catch(() => undefined);
  return {
    async stop() {
      stopper.abort();
      const raw = await done;
      return { dropped: raw.dropped, durationMs: raw.durationMs };
    },
  };
}

/**
 * Checks before anything runs that the drill can run: the pair, the failback's rebuild command,
 * the kill command with --kill-primary. Returns the pair.
 */
export async function drillPair(req: Pick<DrillRequest, 'regions' | 'to' | 'from' | 'killPrimary'>): Promise<{ from: string; to: string }> {
  // no regions at all: resolvePair says so, with the shape they take
  if (Object.keys(req.regions).length === 0) resolvePair(req.regions, req.to ?? '', req.from);
  const to = req.to ?? (await standbyRegion(req.regions, req.from));
  const { from } = resolvePair(req.regions, to, req.from);
  const regions = req.regions;
  if (regions[from]?.rebuild === undefined) {
    throw new SurgeError('SRG_CONFIG_INVALID', `region ${from} has no rebuild command: the drill's failback first rebuilds its PostgreSQL as a replica of ${to}`, {
      hint: `regions.${from}.rebuild: a shell line that runs pg_rewind (or pg_basebackup) for that server and returns once it streams`,
    });
  }
  if (req.killPrimary && regions[from]?.kill === undefined) {
    throw new SurgeError('SRG_CONFIG_INVALID', `region ${from} has no kill command: --kill-primary SIGKILLs its PostgreSQL postmaster with it`, {
      hint: `regions.${from}.kill: a shell line, e.g. "ssh db-${from} 'pkill -KILL -o -x postgres'", that returns once the server is gone`,
    });
  }
  return { from, to };
}

/** The one region (other than `from`) whose PostgreSQL is a standby; --to is needed otherwise. */
async function standbyRegion(regions: Readonly<Record<string, RegionConfig>>, from: string | undefined): Promise<string> {
  const names = Object.keys(regions).filter((n) => n !== from);
  const roles = await Promise.all(names.map(async (n) => ({ n, recovery: await inRecovery(regions[n]!.store).catch(() => undefined) })));
  const standbys = roles.filter((r) => r.recovery === true).map((r) => r.n);
  if (standbys.length === 1) return standbys[0] as string;
  throw new SurgeError('SRG_CLI_USAGE', `--to is needed: ${standbys.length === 0 ? 'no region' : `${standbys.length} regions (${standbys.join(', ')})`} answered as a PostgreSQL standby`, {
    hint: `e.g. --to ${names[names.length - 1] ?? 'b'}; surgectl region status shows each region's role`,
  });
}

/**
 * Runs the drill and returns its report (never throws for a failed part: the gates say so).
 * Asks once for the whole drill (--yes answers), then runs the runbooks without asking per step.
 * @throws SurgeError for a pair that cannot be drilled, a declined confirmation, or a front that
 *   has nothing in stock.
 */
export async function runFailoverDrill(c: RunbookRunContext, req: DrillRequest, deps: DrillDeps = {}): Promise<DrillReport> {
  const { from, to } = await drillPair(req);
  const what = `a failover drill: ${from} -> ${to} and back under ${req.ratePerSec} orders/s through ${withoutCredentials(req.frontUrl)}${req.killPrimary ? `, SIGKILLing ${from}'s PostgreSQL first (what it had not shipped is lost)` : ''}`;
  if (!(await c.reporter.confirm(`Run ${what}?`, false))) {
    throw new SurgeError('SRG_CLI_ABORTED', 'Nothing changed: the drill was declined', { hint: 'Pass --yes to run it unattended.' });
  }
  // the drill was confirmed as a whole: a question per step would stretch the RTO it measures
  const rc: RunbookRunContext = { ...c, yes: true };
  const notify = (m: string, level: 'info' | 'warn' | 'success' = 'info') => c.reporter.notify(m, level);
  const startedAt = c.now();
  const events: { t: number; what: string }[] = [];
  const notes: string[] = [];
  const rec = newLoadRecord(startedAt);
  const at = () => Math.round(c.now() - rec.t0) / 1000;
  const event = (w: string) => events.push({ t: at(), what: w });

  const loadSignal = new AbortController();
  const stopOnAbort = () => loadSignal.abort();
  c.signal.addEventListener('abort', stopOnAbort, { once: true });
  const load = await (deps.startLoad ?? startEngineLoad)({
    url: req.frontUrl,
    ratePerSec: req.ratePerSec,
    maxDurationMs: req.maxDurationMs,
    signal: loadSignal.signal,
    onAnswer: (status, ids) => recordAnswer(rec, c.now(), status, ids),
  }).catch((err: unknown) => {
    // nothing was switched yet: the front could not be loaded (unreachable, nothing in stock)
    c.signal.removeEventListener('abort', stopOnAbort);
    throw err;
  });
  event(`load started: ${req.ratePerSec} orders/s through ${withoutCredentials(req.frontUrl)}`);
  notify(`drill: ${req.ratePerSec} orders/s through ${withoutCredentials(req.frontUrl)}; ${Math.round(req.warmupMs / 100) / 10} s of steady state first`);
  const parts: DrillPart[] = [];
  const steps: TimelineStep[] = [];
  let kill: DrillReport['kill'];
  let failoverStartMs: number | undefined;
  try {
    await c.sleep(req.warmupMs, c.signal).catch(() => undefined);
    if (!c.signal.aborted && req.killPrimary) {
      const command = req.regions[from]!.kill as string;
      event(`kill ${from}'s PostgreSQL (SIGKILL)`);
      notify(`drill: SIGKILL of ${from}'s PostgreSQL postmaster`, 'warn');
      const atS = at();
      const r = await c.ports.shell({ command, env: {}, signal: c.signal }).catch((err: unknown) => ({ exitCode: -1, stdout: '', stderr: errorText(err) }));
      kill = { atS, exitCode: r.exitCode, ...(r.exitCode === 0 ? {} : { message: r.stderr.trim().split('\n').slice(-1)[0] ?? '' }) };
      if (r.exitCode === 0) {
        kill.lossEstimate = await forcedLossEstimate(req.regions[to]!.store);
        notify(`drill: forced failover from ${from} to ${to}: ${kill.lossEstimate}`, 'warn');
      }
    }
    if (!c.signal.aborted && (kill === undefined || kill.exitCode === 0)) {
      failoverStartMs = c.now();
      event(`failover ${from} -> ${to}${req.killPrimary ? ' (forced)' : ''} started`);
      const part = await runPart('failover', from, to, rec.t0, c.now, () => failover(rc, { ...traffic(req), regions: req.regions, to, from, force: req.killPrimary, dryRun: false }));
      // A forced failover's runbook counts from the promotion; clients were refused from the kill on.
      const promote = part.steps.find((s) => s.step === 'promote')?.startS;
      if (kill && part.part.rtoMs !== undefined && promote !== undefined) {
        part.part.rtoMs = Math.round(part.part.rtoMs + (promote - kill.atS) * 1000);
        part.part.rtoFrom = 'kill';
      }
      parts.push(part.part);
      steps.push(...part.steps);
      event(`failover ${from} -> ${to} ${part.part.status}`);
      notify(`drill: failover ${from} -> ${to} ${part.part.status}${part.part.rtoMs !== undefined ? `, RTO ${(part.part.rtoMs / 1000).toFixed(2)} s` : ''}`, part.part.status === 'completed' ? 'success' : 'warn');
    }
    if (!c.signal.aborted && parts[0]?.status === 'completed') {
      event(`failback ${to} -> ${from} started`);
      const part = await runPart('failback', to, from, rec.t0, c.now, () => failback(rc, { ...traffic(req), regions: req.regions, to: from, from: to, dryRun: false }));
      parts.push(part.part);
      steps.push(...part.steps);
      event(`failback ${to} -> ${from} ${part.part.status}`);
      notify(`drill: failback ${to} -> ${from} ${part.part.status}${part.part.rtoMs !== undefined ? `, RTO ${(part.part.rtoMs / 1000).toFixed(2)} s` : ''}`, part.part.status === 'completed' ? 'success' : 'warn');
    }
    if (!c.signal.aborted) await c.sleep(req.cooldownMs, c.signal).catch(() => undefined);
  } finally {
    c.signal.removeEventListener('abort', stopOnAbort);
  }
  const stopped = await load.stop();
  event('load stopped');
  const loadEndMs = c.now() - rec.t0;
  for (const p of parts) {
    if (p.startS !== undefined && p.endS !== undefined) p.observedGapMs = longestGapMs(rec.acceptedAt, p.startS * 1000, p.endS * 1000, loadEndMs);
  }
  // the part that never ran is still judged (its RTO was not measured)
  if (!c.signal.aborted && parts.length === 0) parts.push({ name: 'failover', from, to, status: 'not run', message: kill ? `the kill command exited ${kill.exitCode}` : 'not started', journals: [] });
  if (!c.signal.aborted && parts.length === 1) parts.push({ name: 'failback', from: to, to: from, status: 'not run', message: 'the failover did not complete', journals: [] });

  const interrupted = c.signal.aborted;
  const finalPrimary = parts[1]?.status === 'completed' ? from : parts[0]?.status === 'completed' ? to : from;
  let orders: OrderCheck;
  if (interrupted) {
    orders = { finalPrimary, basis: 'unreadable', acknowledged: rec.acknowledged.length, present: 0, missing: [], byStatus: {}, unfinished: 0, note: 'interrupted: the orders were not checked' };
  } else {
    notify(`drill: looking up ${rec.acknowledged.length} acknowledged orders on ${finalPrimary}`);
    orders = await checkOrders(req.regions, finalPrimary, rec.acknowledged, req.settleTimeoutMs, c);
    event(
      orders.basis === 'measured'
        ? `orders checked on ${orders.finalPrimary}: ${orders.present} of ${orders.acknowledged} acknowledged found, ${orders.missing.length} missing, ${orders.unfinished} not final`
        : `orders not checked: ${orders.note ?? ''}`,
    );
  }
  if (orders.unfinished > 0) notes.push(`${orders.unfinished} acknowledged orders were not in a final status ${Math.round(req.settleTimeoutMs / 1000)} s after the load (payments pending or workers still busy)`);
  if (parts.some((p) => p.todo && p.todo.length > 0)) notes.push(...parts.flatMap((p) => p.todo ?? []).map((t) => `left to do: ${t}`));
  const figures = loadFigures(rec, { ratePerSec: req.ratePerSec, durationMs: stopped.durationMs, dropped: stopped.dropped, failoverStartMs });
  if (figures.dropped > 0) notes.push(`${figures.dropped} arrivals were dropped by the load generator (every in-flight slot busy): the load was below ${req.ratePerSec}/s for a while`);
  const gates = drillGates({
    killPrimary: req.killPrimary,
    maxRtoMs: req.maxRtoMs,
    parts,
    killExitCode: kill?.exitCode,
    orders,
    listedMissing: orders.missing.length,
    acceptedBeforeFailover: figures.acceptedBeforeFailover,
    ratePerSec: req.ratePerSec,
  });
  const endedAt = c.now();
  return {
    apiVersion: 'surgectl/v1',
    kind: 'FailoverDrillReport',
    status: drillStatus(gates, interrupted),
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
    durationMs: Math.round(endedAt - startedAt),
    settings: { from, to, ratePerSec: req.ratePerSec, frontUrl: withoutCredentials(req.frontUrl), killPrimary: req.killPrimary, maxRtoMs: req.maxRtoMs, warmupMs: req.warmupMs },
    ...(kill ? { kill } : {}),
    parts,
    load: figures,
    orders,
    steps,
    events,
    gates,
    notes,
  };
}

function traffic(req: DrillRequest) {
  return { haproxy: req.haproxy, backend: req.backend, frontUrl: req.frontUrl, workers: req.workers, maxLagBytes: req.maxLagBytes, replayTimeout: req.replayTimeout };
}

/** Runs one part (failover or failback) and places it on the drill's clock; a throw is the part's `error`. */
async function runPart(
  name: DrillPart['name'],
  from: string,
  to: string,
  t0: number,
  now: () => number,
  run: () => Promise<FailoverResult | FailbackResult>,
): Promise<{ part: DrillPart; steps: TimelineStep[] }> {
  const startMs = now();
  const part: DrillPart = { name, from, to, status: 'error', journals: [], startS: Math.round(startMs - t0) / 1000 };
  const steps: TimelineStep[] = [];
  try {
    const r = await run();
    if ('parts' in r) {
      for (const p of r.parts) {
        part.journals.push({ runbook: p.journal?.runbook.name ?? (p.part === 'switchover' ? 'region-failover' : 'region-rebuild'), region: p.region, status: p.journal?.status ?? 'not run', ...(p.journalPath ? { path: p.journalPath } : {}) });
        if (p.journal) steps.push(...timelineOf(`failback/${p.part}`, p.journal, t0));
      }
      if (r.todo.length > 0) part.todo = r.todo;
      const expected = r.todo.length > 0 ? 2 : 3;
      const bad = part.journals.find((j) => j.status !== 'completed');
      part.status = bad ? bad.status : part.journals.length < expected ? 'incomplete' : 'completed';
      if (bad) part.message = messageOf(r.parts.find((p) => p.journal?.status === bad.status)?.journal);
    } else {
      part.journals.push({ runbook: 'region-failover', region: r.to, status: r.journal?.status ?? 'not run', ...(r.journalPath ? { path: r.journalPath } : {}) });
      if (r.journal) steps.push(...timelineOf('failover', r.journal, t0));
      part.status = r.journal?.status ?? 'not run';
      if (part.status !== 'completed') part.message = messageOf(r.journal);
    }
    if (r.rtoMs !== undefined) {
      part.rtoMs = Math.round(r.rtoMs);
      part.rtoFrom = 'pause-intake';
    }
    if (r.rpo !== undefined) part.rpo = r.rpo;
  } catch (err) {
    part.status = 'error';
    part.message = errorText(err);
  }
  part.endS = Math.round(now() - t0) / 1000;
  return { part, steps };
}

function messageOf(journal: { message?: string | undefined; steps: { step: string; status: string; error?: string | undefined }[] } | undefined): string | undefined {
  if (!journal) return undefined;
  const failed = journal.steps.find((s) => s.status === 'failed' || s.status === 'rollback-failed');
  return journal.message ?? (failed ? `${failed.step}: ${failed.error ?? failed.status}` : undefined);
}

// ── the order check ──────────────────────────────────────────────────────────────────────────


function inRecovery(url: string): Promise<boolean> {
  return withClient(url, async (c) => (await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r === true);
}

/** id -> status of those of `ids` the store holds, read in slices. */
async function statusesOf(url: string, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await withClient(url, async (c) => {
    for (let i = 0; i < ids.length; i += 5_000) {
      const rows = (await c.query<{ id: string; status: string }>('SELECT id, status FROM orders WHERE id = ANY($1::text[])', [ids.slice(i, i + 5_000)])).rows;
      for (const r of rows) out.set(r.id, r.status);
    }
  });
  return out;
}

/**
 * Every acknowledged order on the final primary: present or missing, and its status once the
 * present ones reached a final status (polled every 500 ms up to `settleTimeoutMs`). When the
 * expected primary is a standby (a part stopped half way), the other region is read instead, and
 * said so.
 */
async function checkOrders(regions: Readonly<Record<string, RegionConfig>>, expected: string, ids: readonly string[], settleTimeoutMs: number, c: Pick<RunbookRunContext, 'now' | 'sleep'>): Promise<OrderCheck> {
  let primary = expected;
  let note: string | undefined;
  const recovery = await inRecovery(regions[expected]!.store).catch(() => undefined);
  if (recovery !== false) {
    const other = Object.keys(regions).find((n) => n !== expected && regions[n] !== undefined);
    if (other !== undefined && (await inRecovery(regions[other]!.store).catch(() => undefined)) === false) {
      note = `${expected} ${recovery === undefined ? 'could not be read' : 'is a standby'}: the orders were looked up on ${other}, the primary at the end`;
      primary = other;
    }
  }
  const store = regions[primary]!.store;
  const deadline = c.now() + settleTimeoutMs;
  let seen: Map<string, string>;
  try {
    for (;;) {
      seen = await statusesOf(store, ids);
      const unfinished = [...seen.values()].filter((s) => !TERMINAL_STATUSES.has(s as OrderStatus)).length;
      if (unfinished === 0 || c.now() >= deadline) break;
      await c.sleep(500);
    }
  } catch (err) {
    return { finalPrimary: primary, basis: 'unreadable', acknowledged: ids.length, present: 0, missing: [], byStatus: {}, unfinished: 0, note: `${withoutCredentials(store)} could not be read: ${errorText(err)}` };
  }
  const byStatus: Record<string, number> = {};
  for (const s of seen.values()) byStatus[s] = (byStatus[s] ?? 0) + 1;
  return {
    finalPrimary: primary,
    basis: 'measured',
    acknowledged: ids.length,
    present: seen.size,
    missing: ids.filter((id) => !seen.has(id)),
    byStatus,
    unfinished: [...seen.values()].filter((s) => !TERMINAL_STATUSES.has(s as OrderStatus)).length,
    ...(note ? { note } : {}),
  };
}

// ── the report files ─────────────────────────────────────────────────────────────────────────

/** The report files' paths in `dir`. */
export function drillFiles(dir: string): { json: string; html: string } {
  return { json: join(dir, DRILL_FILES.json), html: join(dir, DRILL_FILES.html) };
}

/** Before the drill: the report can be written there (SRG_CLI_USAGE naming --report-dir otherwise). */
export async function checkReportDir(dir: string): Promise<void> {
  const f = drillFiles(dir);
  await checkOutputPaths(
    [
      { flag: '--report-dir', path: f.json },
      { flag: '--report-dir', path: f.html },
    ],
    { createParents: true },
  );
}

/**
 * Writes failover-drill.json and failover-drill.html into `dir` (created when missing), both or
 * neither (util/output-files), and returns the report with its files; a write failure is kept in
 * `writeError` rather than thrown, so the drill's outcome is still reported.
 */
export async function writeDrillReport(dir: string, report: DrillReport, renderHtml: (r: DrillReport) => string): Promise<DrillReport> {
  const files = drillFiles(dir);
  const withFiles: DrillReport = { ...report, files };
  try {
    await writeOutputFiles(
      [
        { flag: '--report-dir', path: files.html, text: renderHtml(withFiles) },
        { flag: '--report-dir', path: files.json, text: JSON.stringify(withFiles, null, 2) + '\n' },
      ],
      { createParents: true },
    );
    return withFiles;
  } catch (err) {
    return { ...report, writeError: `the drill report could not be written to ${dir}: ${errorText(err)}` };
  }
}

/** The exit outcome: 130 when interrupted, 20 when a gate failed (the write failure added), else the write failure alone. */
export function drillOutcome(r: DrillReport): SurgeError | undefined {
  const where = r.files ? ` Report: ${r.files.html}` : '';
  if (r.status === 'interrupted') {
    const journals = r.parts.flatMap((p) => p.journals.filter((j) => j.status !== 'completed' && j.path).map((j) => j.path as string));
    return new SurgeError('SRG_CLI_INTERRUPTED', 'failover drill interrupted; the load was stopped', {
      hint: journals.length > 0 ? `Carry on with: surgectl runbook resume ${journals[0]}.${where}` : `Nothing was switched yet.${where}`,
    });
  }
  let outcome: SurgeError | undefined;
  if (r.status === 'failed') {
    const failed = r.gates.filter((g) => g.status === 'fail');
    outcome = new SurgeError('SRG_DRILL_GATE', `${failed.length} of ${r.gates.length} failover drill gates failed: ${failed.map((g) => g.id).join(', ')}`, {
      details: failed.map((g) => `${g.id}: ${g.observed}`),
      hint: `${failed[0]?.fix ?? ''}${where}`.trim(),
    });
  }
  const writeError =
    r.writeError === undefined
      ? undefined
      : new SurgeError('SRG_DRILL_REPORT', outcome ? r.writeError : `Every gate passed, but ${r.writeError}`, { hint: 'Pass --report-dir with a folder you can write to; the report above is complete.' });
  return withWriteFailure(outcome, writeError, 'the report');
}

import { judge, type GateResult } from '../rehearse/gates.js';
import type { RunbookJournal } from '../runbooks/types.js';
import type { RpoReport } from './failover.js';

/*
 * The failover drill's report: what the load saw each second, when each step of each part ran,
 * how long orders were refused (RTO) and which acknowledged orders are missing afterwards (RPO),
 * and the gates. Pure: the load's answers, the journals and the order check come in as data, so
 * every figure and every gate can be tested without a cluster.
 */

/** The drill's deliverable, written as failover-drill.json (this shape) and failover-drill.html. `t`/`…S` offsets are seconds since the load began. */
export interface DrillReport {
  apiVersion: 'surgectl/v1';
  kind: 'FailoverDrillReport';
  /** `passed`: every gate passed; `failed`: at least one failed; `interrupted`: Ctrl-C (the journals say where to resume). */
  status: 'passed' | 'failed' | 'interrupted';
  startedAt: string;
  endedAt: string;
  durationMs: number;
  settings: {
    from: string;
    to: string;
    /** Orders per second asked of the front. */
    ratePerSec: number;
    /** The front the load went through (without credentials). */
    frontUrl: string;
    killPrimary: boolean;
    /** Gate: each switch's RTO at most this, ms. */
    maxRtoMs: number;
    /** Steady load before the failover, ms. */
    warmupMs: number;
  };
  /** With --kill-primary: the kill command's outcome and what the standby knew before the forced promotion. */
  kill?: { atS: number; exitCode: number; message?: string; lossEstimate?: string };
  /** The failover to `to`, then the failback to `from`. */
  parts: DrillPart[];
  load: LoadFigures;
  orders: OrderCheck;
  /** Every step of every runbook run, in order. */
  steps: TimelineStep[];
  /** What the drill itself did, in order. */
  events: { t: number; what: string }[];
  gates: GateResult[];
  /** Files written. */
  files?: { json: string; html: string };
  /** Why the report files could not be written (only in the returned report, never in a file). */
  writeError?: string;
  notes: string[];
}

/** One switch of the drill: the failover, or the failback (its rebuilds and switchover). */
export interface DrillPart {
  name: 'failover' | 'failback';
  from: string;
  to: string;
  /** `completed` when every runbook of the part completed; else the first status that was not, `error` when it threw, `not run`. */
  status: string;
  message?: string;
  startS?: number;
  endS?: number;
  /**
   * RTO, ms: from the first refused order (the runbook's pause-intake; with --kill-primary the
   * SIGKILL) to the synthetic order accepted through the front.
   */
  rtoMs?: number;
  /** Where the RTO counts from: `pause-intake` (planned) or `kill` (the SIGKILL of the primary). */
  rtoFrom?: 'pause-intake' | 'kill';
  /** What the load saw: the longest time without an acknowledged order around this part, ms. */
  observedGapMs?: number;
  /** The runbook's own RPO (the old primary's orders compared with the new one's). */
  rpo?: RpoReport;
  journals: { runbook: string; region: string; status: string; path?: string }[];
  todo?: string[];
}

/** One step of a runbook run, placed on the drill's clock. */
export interface TimelineStep {
  /** `failover`, `failback/rebuild`, `failback/switchover`, `failback/rebuild-old`. */
  part: string;
  step: string;
  kind: string;
  status: string;
  startS?: number;
  endS?: number;
  durationMs?: number;
  error?: string;
}

/** One second of the load: answers by outcome. */
export interface SecondOutcome {
  /** Seconds since the load began (the start of this second). */
  t: number;
  /** 2xx with an order id. */
  accepted: number;
  /** Answered, but not accepted (503 from a paused or fenced intake, 5xx, 4xx). */
  refused: number;
  /** No answer (connection refused or reset, timed out). */
  failed: number;
}

export interface LoadFigures {
  ratePerSec: number;
  durationMs: number;
  /** Arrivals sent (answered or not) and those the generator dropped for want of a free slot. */
  sent: number;
  dropped: number;
  acknowledged: number;
  refused: number;
  failed: number;
  /** Accepted during the steady state before the failover. */
  acceptedBeforeFailover: number;
  maxRefusedPerSec: number;
  maxFailedPerSec: number;
  /** Seconds with at least one refused or failed request. */
  secondsWithRefusals: number;
  perSecond: SecondOutcome[];
}

/** Every acknowledged order looked up on the final primary. */
export interface OrderCheck {
  /** The region that is primary at the end (the one the orders are looked up in). */
  finalPrimary: string;
  /** `measured`: the store was read; `unreadable`: it could not be (the gate fails). */
  basis: 'measured' | 'unreadable';
  acknowledged: number;
  present: number;
  /** Acknowledged orders the final primary lacks: every one, by id. */
  missing: string[];
  /** Present orders by status once they settled (or the wait ran out). */
  byStatus: Record<string, number>;
  /** Present orders not in a final status when the check ended. */
  unfinished: number;
  note?: string;
}

// ── the load's answers ───────────────────────────────────────────────────────────────────────

/** What the drill records of each answer while the load runs. Mutable; see {@link recordAnswer}. */
export interface LoadRecord {
  /** When the load began, ms (the drill's clock). */
  readonly t0: number;
  readonly seconds: SecondOutcome[];
  /** Acknowledged order ids, in the order their 202 arrived. */
  readonly acknowledged: string[];
  /** When each acknowledgement arrived, ms since t0, ascending. */
  readonly acceptedAt: number[];
}

export function newLoadRecord(t0: number): LoadRecord {
  return { t0, seconds: [], acknowledged: [], acceptedAt: [] };
}

/** Counts one answer (status 0: none) at `atMs` on the drill's clock into its second. */
export function recordAnswer(rec: LoadRecord, atMs: number, status: number, orderIds: readonly string[]): void {
  const rel = Math.max(0, atMs - rec.t0);
  const i = Math.floor(rel / 1000);
  while (rec.seconds.length <= i) rec.seconds.push({ t: rec.seconds.length, accepted: 0, refused: 0, failed: 0 });
  const s = rec.seconds[i] as SecondOutcome;
  if (status === 0) s.failed++;
  else if (status >= 200 && status < 300 && orderIds.length > 0) {
    s.accepted += orderIds.length;
    for (const id of orderIds) rec.acknowledged.push(id);
    // answers arrive in clock order; a clock step backwards must not unsort the list
    const last = rec.acceptedAt[rec.acceptedAt.length - 1];
    rec.acceptedAt.push(last !== undefined && rel < last ? last : rel);
  } else s.refused++;
}

/**
 * The longest time clients went without an acknowledged order around [fromMs, toMs] (ms since the
 * load began): the largest gap between consecutive acknowledgements (the load's start and end
 * bounding the first and last) that overlaps the window. 0 when acknowledgements never paused there.
 */
export function longestGapMs(acceptedAt: readonly number[], fromMs: number, toMs: number, loadEndMs: number): number {
  let best = 0;
  let prev = 0;
  const consider = (end: number) => {
    if (prev <= toMs && end >= fromMs) best = Math.max(best, end - prev);
    prev = end;
  };
  for (const t of acceptedAt) {
    consider(t);
    if (t > toMs) return Math.round(best);
  }
  consider(Math.max(prev, loadEndMs));
  return Math.round(best);
}

/** The load's totals and per-second series from the record and the generator's counts. */
export function loadFigures(rec: LoadRecord, opts: { ratePerSec: number; durationMs: number; dropped: number; failoverStartMs?: number | undefined }): LoadFigures {
  let refused = 0;
  let failed = 0;
  let maxRefused = 0;
  let maxFailed = 0;
  let withRefusals = 0;
  for (const s of rec.seconds) {
    refused += s.refused;
    failed += s.failed;
    maxRefused = Math.max(maxRefused, s.refused);
    maxFailed = Math.max(maxFailed, s.failed);
    if (s.refused + s.failed > 0) withRefusals++;
  }
  const cut = opts.failoverStartMs === undefined ? Number.POSITIVE_INFINITY : opts.failoverStartMs - rec.t0;
  return {
    ratePerSec: opts.ratePerSec,
    durationMs: Math.round(opts.durationMs),
    sent: rec.acknowledged.length + refused + failed,
    dropped: opts.dropped,
    acknowledged: rec.acknowledged.length,
    refused,
    failed,
    acceptedBeforeFailover: rec.acceptedAt.filter((t) => t < cut).length,
    maxRefusedPerSec: maxRefused,
    maxFailedPerSec: maxFailed,
    secondsWithRefusals: withRefusals,
    perSecond: rec.seconds.map((s) => ({ ...s })),
  };
}

// ── journals on the drill's clock ────────────────────────────────────────────────────────────

const secondsSince = (t0: number, iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? Math.round(ms - t0) / 1000 : undefined;
};

/** The steps of one runbook run that ran (a step its `when:` skipped is left out) as timeline rows, offsets in seconds since `t0` (ms). */
export function timelineOf(part: string, journal: RunbookJournal, t0: number): TimelineStep[] {
  return journal.steps.filter((s) => s.status !== 'skipped').map((s) => {
    const startS = secondsSince(t0, s.startedAt);
    const endS = secondsSince(t0, s.endedAt);
    return {
      part,
      step: s.step,
      kind: s.kind,
      status: s.status,
      ...(startS !== undefined ? { startS } : {}),
      ...(endS !== undefined ? { endS } : {}),
      ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
      ...(s.error ? { error: s.error } : {}),
    };
  });
}

// ── gates ────────────────────────────────────────────────────────────────────────────────────

/** What the gates are judged on. */
export interface DrillEvidence {
  killPrimary: boolean;
  maxRtoMs: number;
  parts: readonly Pick<DrillPart, 'name' | 'status' | 'rtoMs' | 'rtoFrom' | 'message'>[];
  /** The kill command's exit status (--kill-primary). */
  killExitCode?: number | undefined;
  orders: Pick<OrderCheck, 'basis' | 'acknowledged' | 'missing' | 'note' | 'finalPrimary'>;
  /** Missing order ids the report lists (all of them, unless something truncated it). */
  listedMissing: number;
  acceptedBeforeFailover: number;
  ratePerSec: number;
}


const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * The drill's gates: the load was taken before the failover (else the rest proves nothing); each
 * switch's RTO within the limit; no acknowledged order missing (with --kill-primary: each missing
 * one listed by id, the honest measured loss); every part completed.
 */
export function drillGates(e: DrillEvidence): GateResult[] {
  const gates: GateResult[] = [
    judge({
      id: 'steady-load',
      title: 'Orders taken before the failover',
      condition: 'value>0',
      value: e.acceptedBeforeFailover,
      observed: `${e.acceptedBeforeFailover} orders acknowledged in the steady state at ${e.ratePerSec}/s`,
      expected: 'at least one: a drill without orders proves nothing about losing them',
      fix: 'The front did not take orders before the drill began: check the HAProxy frontend (--front-url), that the primary region takes traffic (surgectl region status) and its stock.',
    }),
  ];
  for (const p of e.parts) {
    const limit = e.maxRtoMs;
    gates.push(
      judge({
        id: `${p.name}-rto`,
        title: `RTO of the ${p.name}`,
        condition: `value<=${limit}`,
        value: p.rtoMs,
        observed: p.rtoMs === undefined ? `not measured: the ${p.name} ${p.status}${p.message ? ` (${p.message})` : ''}` : `${secs(p.rtoMs)} from ${p.rtoFrom === 'kill' ? 'the SIGKILL of the primary' : 'the first refused order'} to the first accepted one`,
        expected: `at most ${secs(limit)}`,
        fix:
          p.rtoMs === undefined
            ? `The ${p.name} did not complete: its journal names the step that failed; finish or roll it back (surgectl runbook resume|rollback <journal>) before anything else.`
            : 'Orders were refused too long: see which steps took the time in the timeline (wait-idle: in-flight orders; wait-replay: replication lag; wait-ready: the stack noticing the promotion) and shorten those.',
      }),
    );
  }
  const { orders } = e;
  const missing = orders.missing.length;
  if (e.killPrimary) {
    gates.push(
      judge({
        id: 'acknowledged-orders',
        title: 'Every acknowledged order found, or listed as lost',
        condition: 'value==0',
        value: orders.basis === 'measured' ? missing - e.listedMissing : undefined,
        observed:
          orders.basis === 'measured'
            ? `${missing} of ${orders.acknowledged} acknowledged orders missing on ${orders.finalPrimary} (the primary was killed: the measured loss), ${e.listedMissing} listed by id`
            : `not measured: ${orders.note ?? `${orders.finalPrimary} could not be read`}`,
        expected: 'every missing order listed by id',
        fix: orders.basis === 'measured' ? 'The report did not list every missing order: a bug in surgectl.' : `Read the final primary (${orders.finalPrimary}) by hand: the loss could not be measured.`,
      }),
    );
  } else {
    gates.push(
      judge({
        id: 'acknowledged-orders',
        title: 'No acknowledged order lost',
        condition: 'value==0',
        value: orders.basis === 'measured' ? missing : undefined,
        observed: orders.basis === 'measured' ? `${missing} of ${orders.acknowledged} acknowledged orders missing on ${orders.finalPrimary}` : `not measured: ${orders.note ?? `${orders.finalPrimary} could not be read`}`,
        expected: 'exactly 0 (a planned failover fences the primary and waits for replay)',
        fix:
          orders.basis === 'measured'
            ? 'A planned failover lost acknowledged orders: the fence let writes through after the cut, or the promotion came before the replay. The old primary still holds them: copy them over, and report this with the drill report.'
            : `Read the final primary (${orders.finalPrimary}) by hand: the loss could not be measured.`,
      }),
    );
  }
  const notCompleted = e.parts.filter((p) => p.status !== 'completed');
  const killFailed = e.killPrimary && e.killExitCode !== 0;
  gates.push(
    judge({
      id: 'parts-completed',
      title: 'Every part of the drill completed',
      condition: 'value==0',
      value: notCompleted.length + (killFailed ? 1 : 0),
      observed:
        notCompleted.length === 0 && !killFailed
          ? `${e.killPrimary ? 'kill, ' : ''}${e.parts.map((p) => p.name).join(' and ')} completed`
          : [
              ...(killFailed ? [`the kill command ${e.killExitCode === undefined ? 'did not run' : `exited ${e.killExitCode}`}`] : []),
              ...notCompleted.map((p) => `${p.name} ${p.status}${p.message ? `: ${p.message}` : ''}`),
            ].join('; '),
      expected: `${e.killPrimary ? 'the kill, ' : ''}the failover and the failback completed`,
      fix: 'Look at the failed step in the timeline and its journal; the regions may be half-way: `surgectl region status` shows where each stands, `surgectl runbook resume <journal>` carries on.',
    }),
  );
  return gates;
}

/** `passed` when every gate passed; `interrupted` wins over both. */
export function drillStatus(gates: readonly GateResult[], interrupted: boolean): DrillReport['status'] {
  if (interrupted) return 'interrupted';
  return gates.every((g) => g.status !== 'fail') ? 'passed' : 'failed';
}

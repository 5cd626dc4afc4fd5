import { ERROR_CODES, isSurgeError, SurgeError, type ErrorCode } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatDuration } from '../util/duration.js';
import type { Reporter } from '../reporter.js';
import { appendAudit, redactParams, redactor, writeJournal, type AuditEntry } from './journal.js';
import { checkAction, STEP_KINDS, type StepContext } from './kinds.js';
import type { ResolvedRunbook } from './load.js';
import type { RunbookPorts } from './ports.js';
import { decideRollback } from './rollback.js';
import { errorText, runStep, type StepOutcome } from './step.js';
import type { ActionSpec, PhaseRecord, ResolvedStep, Runbook, RunbookJournal, StepRecord } from './types.js';

/** Live progress of a run, for a spinner per step (the command draws it). */
export interface StepObserver {
  start(step: string, what: string): void;
  end(step: string, result: 'ok' | 'failed' | 'skipped' | 'rolled back' | 'rollback failed', detail: string, durationMs: number): void;
}

/** How a run behaves and what it may reach: the same for run, resume and rollback. */
export interface RunSettings {
  ports: RunbookPorts;
  reporter: Reporter;
  /** --yes: no question per step (the operator agreed to the whole run). */
  yes: boolean;
  /** A person can be asked (stdin and stderr are terminals). */
  interactive: boolean;
  /** --auto-rollback (or the runbook's own `autoRollback`): roll back a failed run without asking. */
  autoRollback: boolean;
  user: string;
  reason?: string | undefined;
  auditPath: string;
  signal: AbortSignal;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  env: Readonly<Record<string, string | undefined>>;
  observer?: StepObserver;
}

export interface RunRunbookOptions extends RunSettings {
  runbook: Runbook;
  resolved: ResolvedRunbook;
  journalPath: string;
  /** Resuming: the journal read back (already checked against the runbook's version). */
  journal?: RunbookJournal;
}

const iso = (ms: number) => new Date(ms).toISOString();
const codeOf = (err: unknown): { errorCode?: string } => (isSurgeError(err) ? { errorCode: err.code } : {});

/** Why a step outcome is not `completed`, in words (a timeout names the limit). */
function whyNot(out: StepOutcome<unknown>, timeoutMs: number): string {
  if (out.status === 'timed-out') return `timed out after ${formatDuration(timeoutMs)} (the step's timeout)`;
  if (out.status === 'interrupted') return 'interrupted';
  return errorText(out.error);
}

/**
 * Runs (or resumes) a runbook: each step's precondition, confirmation, action and verify, the
 * journal written atomically after every change of state and an audit line per phase. A failed
 * step leads to the one rollback decision (auto, or asked on a TTY): completed steps undone in
 * reverse order. Never throws for a step's failure — the journal's status says how the run ended
 * ({@link runbookOutcome} turns it into an exit code); throws only when the journal cannot be
 * written or nothing may run (a change off a TTY without --yes).
 */
export async function runRunbook(opts: RunRunbookOptions): Promise<RunbookJournal> {
  const { runbook, resolved } = opts;
  if (!opts.yes && !opts.interactive && resolved.steps.some((s) => s.mutating)) {
    throw new SurgeError('SRG_CLI_NOT_A_TTY', `runbook ${runbook.spec.name} changes live systems and there is no terminal to confirm on`, { hint: 'Pass --yes to run it unattended, or --dry-run to see what it would do.' });
  }
  const o = redacted(opts);
  const journal: RunbookJournal = o.journal ?? {
    kind: 'surgectl.runbook.journal',
    schemaVersion: 1,
    runbook: { name: runbook.spec.name, version: runbook.spec.version, digest: runbook.digest, source: runbook.source },
    params: redactParams(resolved.params, resolved.secrets),
    user: o.user,
    ...(o.reason ? { reason: o.reason } : {}),
    status: 'running',
    startedAt: iso(o.now()),
    resumes: [],
    steps: resolved.steps.map((s) => ({ step: s.name, kind: s.kind, status: 'pending' })),
  };
  if (o.journal) {
    journal.status = 'running';
    delete journal.message;
    delete journal.endedAt;
    journal.resumes.push({ at: iso(o.now()), user: o.user, ...(o.reason ? { reason: o.reason } : {}) });
  } else {
    o.reporter.notify(`journal: ${o.journalPath} (resume with: surgectl runbook resume ${o.journalPath})`, 'info');
  }
  const h = helpers(o, journal);
  const { save, audit, finish, ctxFor } = h;
  await save();
  await audit({ step: '-', phase: 'run', result: o.journal ? 'resumed' : 'started', durationMs: 0 });

  for (const [i, step] of resolved.steps.entries()) {
    const rec = journal.steps[i] as StepRecord;
    if (rec.status === 'completed' || rec.status === 'skipped') continue;
    if (o.signal.aborted) return finish('interrupted', `interrupted before step ${step.name}; resume with: surgectl runbook resume ${o.journalPath}`);
    if (!step.enabled) {
      rec.status = 'skipped';
      o.observer?.end(step.name, 'skipped', 'its when: is false', 0);
      await save();
      continue;
    }
    const resumingThis = rec.status === 'running' || rec.status === 'failed';
    const t0 = o.now();
    o.observer?.start(step.name, describeAction(step.action));

    // Precondition: checked first, and again when a resume meets a step that did not finish.
    if (step.precondition) {
      const pre = await runCheck(step.precondition, step.timeoutMs, ctxFor, o);
      rec.precondition = pre;
      await audit({ step: step.name, phase: 'precondition', result: pre.status, durationMs: pre.durationMs, error: pre.error });
      if (o.signal.aborted) return finish('interrupted', `interrupted during the precondition of ${step.name}; resume with: surgectl runbook resume ${o.journalPath}`);
      if (pre.status !== 'passed') {
        rec.status = 'failed';
        rec.error = `precondition failed: ${pre.error ?? 'it did not hold'}`;
        if (pre.code) rec.errorCode = pre.code;
        o.observer?.end(step.name, 'failed', rec.error, o.now() - t0);
        await save();
        return failRun(journal, `step ${step.name}: ${rec.error}`, o, h);
      }
    }

    // Confirmation of a change.
    if (step.mutating) {
      if (o.yes) rec.confirmedBy = '--yes';
      else {
        const yes = await o.reporter.confirm(`Run step ${step.name}: ${describeAction(step.action)}?`, false);
        await audit({ step: step.name, phase: 'confirm', result: yes ? 'yes' : 'no', durationMs: 0 });
        if (!yes) {
          o.observer?.end(step.name, 'skipped', 'declined', o.now() - t0);
          return finish('aborted', `step ${step.name} was declined; nothing after it ran. Resume with: surgectl runbook resume ${o.journalPath}, or undo with: surgectl runbook rollback ${o.journalPath}`);
        }
        rec.confirmedBy = 'tty';
      }
    }

    // The action: what it will change is journaled first (write-ahead), then the change.
    rec.status = 'running';
    rec.startedAt = iso(t0);
    delete rec.error;
    const kind = STEP_KINDS[step.kind];
    const spec = checkAction(step.action, step.name).spec as never;
    const acted = await runStep(
      async (signal) => {
        if (!kind) throw new Error(`unknown step kind ${step.kind}`);
        if (kind.before && !(resumingThis && rec.undo !== undefined)) rec.undo = await kind.before(spec, ctxFor(signal));
        await save();
        const r = await kind.run(spec, ctxFor(signal));
        if (r.undo !== undefined) rec.undo = r.undo;
        if (r.output !== undefined) rec.output = r.output;
        if (!r.passed) throw new Error(r.message ?? 'the action did not pass');
        return r;
      },
      { signal: o.signal, timeoutMs: step.timeoutMs, now: o.now, track: h.track },
    );
    if (acted.status === 'interrupted') {
      rec.error = 'interrupted while the action ran';
      o.observer?.end(step.name, 'failed', rec.error, o.now() - t0);
      await audit({ step: step.name, phase: 'action', result: 'interrupted', durationMs: acted.durationMs });
      return finish('interrupted', `interrupted during step ${step.name}; resume with: surgectl runbook resume ${o.journalPath} (its precondition is checked again, then it runs again)`);
    }
    if (acted.status !== 'completed') {
      rec.status = 'failed';
      rec.error = whyNot(acted, step.timeoutMs);
      Object.assign(rec, codeOf(acted.error));
      stamp(rec, t0, o.now());
      await audit({ step: step.name, phase: 'action', result: 'failed', durationMs: acted.durationMs, error: rec.error });
      o.observer?.end(step.name, 'failed', rec.error, o.now() - t0);
      await save();
      return failRun(journal, `step ${step.name} failed: ${rec.error}`, o, h);
    }
    await audit({ step: step.name, phase: 'action', result: 'completed', durationMs: o.now() - t0 });

    if (step.verify) {
      const v = await runCheck(step.verify, step.timeoutMs, ctxFor, o);
      rec.verify = v;
      await audit({ step: step.name, phase: 'verify', result: v.status, durationMs: v.durationMs, error: v.error });
      if (v.status !== 'passed') {
        // The change is in place: this step is rolled back with the ones before it. An interrupted
        // verify leaves the step running: a resume checks its precondition, applies it again and verifies.
        rec.status = o.signal.aborted ? 'running' : 'failed';
        rec.error = o.signal.aborted ? 'interrupted during verify' : `verify failed: ${v.error ?? 'it did not hold'}`;
        stamp(rec, t0, o.now());
        o.observer?.end(step.name, 'failed', rec.error, o.now() - t0);
        await save();
        if (o.signal.aborted) return finish('interrupted', `interrupted while verifying ${step.name}; resume with: surgectl runbook resume ${o.journalPath}`);
        return failRun(journal, `step ${step.name}: ${rec.error}`, o, h);
      }
    }
    rec.status = 'completed';
    stamp(rec, t0, o.now());
    o.observer?.end(step.name, 'ok', summary(rec), o.now() - t0);
    await save();
  }
  return finish('completed');
}

function stamp(rec: StepRecord, t0: number, t1: number) {
  rec.startedAt ??= iso(t0);
  rec.endedAt = iso(t1);
  rec.durationMs = t1 - t0;
}

function summary(rec: StepRecord): string {
  const v = rec.verify ? ', verify passed' : '';
  return `done${v}`;
}

async function runCheck(action: ActionSpec, timeoutMs: number, ctxFor: (s: AbortSignal) => StepContext, o: RunRunbookOptions): Promise<PhaseRecord> {
  const kind = STEP_KINDS[action.kind];
  const spec = checkAction(action, action.kind).spec as never;
  const out = await runStep(
    async (signal) => {
      if (!kind) throw new Error(`unknown step kind ${action.kind}`);
      return kind.run(spec, ctxFor(signal));
    },
    { signal: o.signal, timeoutMs, now: o.now },
  );
  const times = { startedAt: iso(out.startedAt), endedAt: iso(out.endedAt), durationMs: out.durationMs };
  if (out.status !== 'completed' || !out.value) {
    const code = codeOf(out.error).errorCode;
    return { status: 'failed', error: whyNot(out, timeoutMs), ...(code ? { code } : {}), ...times };
  }
  const r = out.value;
  return { status: r.passed ? 'passed' : 'failed', ...(r.output === undefined ? {} : { output: r.output }), ...(r.passed ? {} : { error: r.message ?? 'it did not hold' }), ...times };
}

interface Helpers {
  save(): Promise<void>;
  audit(e: Omit<AuditEntry, 'at' | 'user' | 'reason' | 'runbook' | 'version' | 'journal' | 'params'>): Promise<void>;
  /** Ends the run: status and message into the journal, the journal saved, a last audit line; returns it redacted. */
  finish(status: RunbookJournal['status'], message?: string): Promise<RunbookJournal>;
  ctxFor(s: AbortSignal): StepContext;
  /** Keeps an action a timeout abandoned, so a rollback does not race it. */
  track(settled: Promise<void>): void;
  /** Waits (at most 15 s) for abandoned actions: one may still land its change, and the undo must come after it. */
  settle(): Promise<void>;
}

/** The journal's writers for one run: everything written goes through the run's redaction. */
function helpers(o: RunRunbookOptions, journal: RunbookJournal): Helpers {
  const abandoned = new Set<Promise<void>>();
  const hide = redactor(o.resolved.params, o.resolved.secrets);
  const params = redactParams(o.resolved.params, o.resolved.secrets);
  const save = () => writeJournal(o.journalPath, hide(journal));
  const audit: Helpers['audit'] = (e) =>
    appendAudit(o.auditPath, hide({ at: iso(o.now()), user: o.user, reason: o.reason, runbook: o.runbook.spec.name, version: o.runbook.spec.version, journal: o.journalPath, params, ...e }));
  return {
    save,
    audit,
    async finish(status, message) {
      journal.status = status;
      if (message) journal.message = message;
      journal.endedAt = iso(o.now());
      await save();
      await audit({ step: '-', phase: 'run', result: status, durationMs: Date.parse(journal.endedAt) - Date.parse(journal.startedAt), ...(message ? { error: message } : {}) });
      return hide(journal);
    },
    ctxFor: (signal) => ({ ports: o.ports, signal, now: o.now, sleep: o.sleep, reporter: o.reporter, env: o.env }),
    track(settled) {
      abandoned.add(settled);
      void settled.then(() => abandoned.delete(settled));
    },
    async settle() {
      if (abandoned.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...abandoned]), new Promise<void>((r) => (timer = setTimeout(r, 15_000)))]);
      clearTimeout(timer);
    },
  };
}

/** The run's options with its reporter and progress redacted: a secret parameter's value is never shown, whatever a step prints. */
function redacted<T extends RunRunbookOptions>(o: T): T {
  const hide = redactor(o.resolved.params, o.resolved.secrets);
  const observer = o.observer;
  return {
    ...o,
    reporter: { notify: (m, l) => o.reporter.notify(hide(m), l), confirm: (q, d) => o.reporter.confirm(hide(q), d) },
    ...(observer ? { observer: { start: (step: string, what: string) => observer.start(hide(step), hide(what)), end: (step: string, r: Parameters<StepObserver['end']>[1], d: string, ms: number) => observer.end(hide(step), r, hide(d), ms) } } : {}),
  };
}

/**
 * The one rollback decision: with autoRollback, or when the operator says yes on a TTY, the
 * completed steps (and the failed one when its change is in place) are undone in reverse order.
 */
async function failRun(journal: RunbookJournal, why: string, o: RunRunbookOptions, h: Helpers): Promise<RunbookJournal> {
  const from = undoableFrom(journal, o);
  const toUndo = journal.steps.filter((r, i) => i >= from && changedSomething(r) && o.resolved.steps[i]?.mutating === true);
  if (toUndo.length === 0) {
    const barrier = from > 0 ? o.resolved.steps[from - 1] : undefined;
    return h.finish('failed', barrier === undefined ? why : `${why}; nothing rolled back: ${barrier.name} cannot be undone, and the steps before it stay as they are (resume with: surgectl runbook resume ${o.journalPath})`);
  }
  // Unattended without --auto-rollback there is nobody to ask: leave it, and say how to undo.
  const strategy = o.autoRollback || o.runbook.spec.autoRollback === true ? 'deviated' : o.interactive || o.yes ? 'ask' : 'never';
  const decision = decideRollback(strategy, true);
  const go = 'ask' in decision ? await o.reporter.confirm(`${why}. Roll back ${toUndo.length} step(s) (${toUndo.map((u) => u.step).reverse().join(', ')})?`, true) : decision.run;
  if (!go) return h.finish('failed', `${why}; not rolled back. Undo with: surgectl runbook rollback ${o.journalPath}, or resume with: surgectl runbook resume ${o.journalPath}`);
  o.reporter.notify(`${why}: rolling back ${toUndo.length} step(s)`, 'warn');
  await h.settle();
  return rollbackSteps(journal, o, h, why);
}

/**
 * The first step a rollback may undo: the one after the last irreversible step that ran (see
 * StepKind.irreversible), else the first.
 */
function undoableFrom(journal: RunbookJournal, o: RunRunbookOptions): number {
  for (let i = journal.steps.length - 1; i >= 0; i--) {
    const step = o.resolved.steps[i];
    const rec = journal.steps[i] as StepRecord;
    if (step !== undefined && step.rollback === 'auto' && STEP_KINDS[step.kind]?.irreversible === true && (rec.status === 'completed' || rec.status === 'rollback-failed')) return i + 1;
  }
  return 0;
}

/** A completed step, or one that failed after recording what it was about to change (its change may be in place, whole or in part). */
function changedSomething(r: StepRecord): boolean {
  return r.status === 'completed' || ((r.status === 'failed' || r.status === 'running' || r.status === 'rollback-failed') && r.undo !== undefined);
}

/** Undoes every completed mutating step in reverse order; each failure is kept and named as work left by hand. */
async function rollbackSteps(journal: RunbookJournal, o: RunRunbookOptions, h: Helpers, why: string): Promise<RunbookJournal> {
  const manual: string[] = [];
  const from = undoableFrom(journal, o);
  if (from > 0) {
    const barrier = o.resolved.steps[from - 1] as ResolvedStep;
    o.reporter.notify(`${barrier.name} cannot be undone: only the steps after it are rolled back; ${barrier.name} and the steps before it stay as they are`, 'warn');
  }
  for (let i = journal.steps.length - 1; i >= from; i--) {
    const rec = journal.steps[i] as StepRecord;
    const step = o.resolved.steps[i] as ResolvedStep;
    if (!changedSomething(rec) || !step.mutating) continue;
    o.observer?.start(`rollback ${step.name}`, describeUndo(step, rec));
    // A rollback is not cut short by Ctrl-C: only its own time limit stops it.
    const undone = await runStep(
      async (signal): Promise<unknown> => {
        if (step.rollback === 'none') return 'rollback: none (nothing to undo)';
        if (step.rollback === 'auto') {
          const kind = STEP_KINDS[step.kind];
          if (!kind?.undo) throw new Error(`a ${step.kind} step has no automatic undo; give it a rollback: action`);
          if (rec.undo === undefined) throw new Error('nothing was recorded to undo from');
          await kind.undo(checkAction(step.action, step.name).spec as never, rec.undo, h.ctxFor(signal));
          return undefined;
        }
        const kind = STEP_KINDS[step.rollback.kind];
        if (!kind) throw new Error(`unknown step kind ${step.rollback.kind}`);
        const r = await kind.run(checkAction(step.rollback, step.name).spec as never, h.ctxFor(signal));
        if (!r.passed) throw new Error(r.message ?? 'the rollback action did not pass');
        return r.output;
      },
      { signal: new AbortController().signal, timeoutMs: step.timeoutMs, now: o.now },
    );
    const times = { startedAt: iso(undone.startedAt), endedAt: iso(undone.endedAt), durationMs: undone.durationMs };
    if (undone.status === 'completed') {
      rec.status = 'rolled-back';
      rec.rollback = { status: 'completed', ...(undone.value === undefined ? {} : { output: undone.value }), ...times };
      o.observer?.end(`rollback ${step.name}`, 'rolled back', 'undone', undone.durationMs);
      await h.audit({ step: step.name, phase: 'rollback', result: 'completed', durationMs: undone.durationMs });
    } else {
      const why = whyNot(undone, step.timeoutMs);
      rec.status = 'rollback-failed';
      rec.rollback = { status: 'failed', error: why, ...times };
      manual.push(`${step.name}: ${describeUndo(step, rec)} (the rollback failed: ${why})`);
      o.observer?.end(`rollback ${step.name}`, 'rollback failed', why, undone.durationMs);
      await h.audit({ step: step.name, phase: 'rollback', result: 'failed', durationMs: undone.durationMs, error: why });
    }
    await h.save();
  }
  if (manual.length > 0) {
    journal.manual = manual;
    return h.finish('rollback-failed', `${why}; the rollback did not complete`);
  }
  return h.finish('rolled-back', `${why}; every completed step was rolled back`);
}

/**
 * `runbook rollback <journal>`: undoes what a stopped run (failed, aborted, interrupted) changed,
 * in reverse order, with the same rollback as a failed run.
 */
export async function rollbackRunbook(opts: RunRunbookOptions & { journal: RunbookJournal }): Promise<RunbookJournal> {
  const { journal } = opts;
  if (!opts.yes && !opts.interactive) throw new SurgeError('SRG_CLI_NOT_A_TTY', 'a rollback changes live systems and there is no terminal to confirm on', { hint: 'Pass --yes.' });
  const o = redacted(opts);
  const from = undoableFrom(journal, o);
  const changed = journal.steps.filter((r, i) => i >= from && o.resolved.steps[i]?.mutating === true && changedSomething(r));
  if (changed.length === 0) {
    const barrier = from > 0 ? o.resolved.steps[from - 1] : undefined;
    throw new SurgeError(
      'SRG_RUNBOOK_JOURNAL',
      barrier === undefined
        ? `${o.journalPath}: nothing to roll back (no step of it changed anything that is not already undone)`
        : `${o.journalPath}: nothing to roll back after ${barrier.name}, which cannot be undone (the steps before it stay as they are)`,
    );
  }
  if (!o.yes) {
    const yes = await o.reporter.confirm(`Roll back ${changed.length} step(s) of ${o.runbook.spec.name} (${changed.map((c) => c.step).reverse().join(', ')})?`, false);
    if (!yes) throw new SurgeError('SRG_CLI_ABORTED', 'Not rolled back: the confirmation was declined; nothing was changed');
  }
  journal.resumes.push({ at: iso(o.now()), user: o.user, ...(o.reason ? { reason: `rollback${o.reason ? `: ${o.reason}` : ''}` } : { reason: 'rollback' }) });
  return rollbackSteps(journal, o, helpers(o, journal), 'rollback asked for');
}

/** One line for an action: the kind's own words, or the kind and fields when they do not validate. */
export function describeAction(a: ActionSpec): string {
  const kind = STEP_KINDS[a.kind];
  const { spec } = checkAction(a, a.kind);
  if (!kind || spec === undefined) return `${a.kind} ${JSON.stringify(a)}`;
  try {
    return kind.describe(spec as never);
  } catch {
    return `${a.kind} ${JSON.stringify(a)}`;
  }
}

function describeUndo(step: ResolvedStep, rec: StepRecord): string {
  if (step.rollback === 'none') return 'nothing to undo';
  if (typeof step.rollback === 'object') return describeAction(step.rollback);
  const kind = STEP_KINDS[step.kind];
  if (kind?.describeUndo && rec.undo !== undefined) return kind.describeUndo(checkAction(step.action, step.name).spec as never, rec.undo);
  return `undo ${describeAction(step.action)} by hand`;
}

/** The exit status of a finished run, in one place (a closed set of statuses → codes). */
export function runbookOutcome(j: RunbookJournal, journalPath: string, opts: { rollbackAsked?: boolean } = {}): SurgeError | undefined {
  // `runbook rollback` / `cutover --rollback`: a complete rollback is what was asked for.
  if (opts.rollbackAsked && j.status === 'rolled-back') return undefined;
  const failed = j.steps.find((s) => s.status === 'failed' || s.status === 'rolled-back' || s.status === 'rollback-failed');
  switch (j.status) {
    case 'completed':
      return undefined;
    case 'interrupted':
      return new SurgeError('SRG_CLI_INTERRUPTED', j.message ?? 'interrupted', { hint: `surgectl runbook resume ${journalPath}` });
    case 'aborted':
      return new SurgeError('SRG_CLI_ABORTED', j.message ?? 'a step was declined', { hint: `surgectl runbook resume ${journalPath}` });
    case 'rollback-failed':
      return new SurgeError('SRG_RUNBOOK_ROLLBACK', j.message ?? 'the rollback did not complete', { details: (j.manual ?? []).map((m) => `left to do by hand: ${m}`), hint: `The journal ${journalPath} has each step's state; retry with: surgectl runbook rollback ${journalPath}` });
    case 'failed':
    case 'rolled-back':
      // Nothing could be done because a system did not answer: the house exit code for that (3).
      if (j.status === 'failed' && failed?.errorCode && (ERROR_CODES as Record<string, { exitCode: ExitCode }>)[failed.errorCode]?.exitCode === ExitCode.Unreachable) {
        return new SurgeError(failed.errorCode as ErrorCode, j.message ?? 'a system the runbook needs did not answer', { hint: `The journal ${journalPath} says which step; once it answers: surgectl runbook resume ${journalPath}` });
      }
      return new SurgeError(failed?.precondition?.status === 'failed' && failed.output === undefined && failed.undo === undefined ? 'SRG_RUNBOOK_PRECONDITION' : 'SRG_RUNBOOK_STEP_FAILED', j.message ?? 'a step failed', { hint: `The journal ${journalPath} says why.` });
    default:
      return new SurgeError('SRG_RUNBOOK_JOURNAL', `the run ended in an unexpected state ${j.status}`);
  }
}

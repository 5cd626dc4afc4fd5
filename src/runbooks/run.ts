import { join, resolve } from 'node:path';
import { SurgeError } from '../errors.js';
import { describeAction, rollbackRunbook, runRunbook, type RunSettings } from './engine.js';
import { readJournal, redactor, redactParams } from './journal.js';
import { STEP_KINDS } from './kinds.js';
import { findRunbook, resolveRunbook, type RunbookSources } from './load.js';
import type { ParamValue, ResolvedStep, Runbook, RunbookJournal } from './types.js';

/** What every way of running a runbook needs from the command: the run settings, where runbooks are, and cwd. */
export interface RunbookRunContext extends Omit<RunSettings, 'auditPath'> {
  cwd: string;
  sources: RunbookSources;
  /** Default: .surgectl/audit.log under cwd. */
  auditPath?: string | undefined;
}

/** A dry run: every step with what it would change, parameters resolved (secrets as ***). Touches nothing. */
export interface RunbookPlan {
  runbook: { name: string; version: number; digest: string; source: string; description?: string | undefined; autoRollback: boolean };
  params: Record<string, ParamValue>;
  steps: { name: string; kind: string; mutating: boolean; enabled: boolean; action: string; precondition?: string; verify?: string; rollback: string; timeoutMs: number }[];
}

export function planOf(rb: Runbook, steps: readonly ResolvedStep[], params: Record<string, ParamValue>, secrets: readonly string[]): RunbookPlan {
  return {
    runbook: { name: rb.spec.name, version: rb.spec.version, digest: rb.digest, source: rb.source, description: rb.spec.description, autoRollback: rb.spec.autoRollback === true },
    params: redactParams(params, secrets),
    steps: steps.map((s) => ({
      name: s.name,
      kind: s.kind,
      mutating: s.mutating,
      enabled: s.enabled,
      action: hideAll(describeAction(s.action), params, secrets),
      ...(s.precondition ? { precondition: hideAll(describeAction(s.precondition), params, secrets) } : {}),
      ...(s.verify ? { verify: hideAll(describeAction(s.verify), params, secrets) } : {}),
      rollback: rollbackText(s, params, secrets),
      timeoutMs: s.timeoutMs,
    })),
  };
}

function rollbackText(s: ResolvedStep, params: Record<string, ParamValue>, secrets: readonly string[]): string {
  if (s.rollback === 'none') return 'none';
  if (typeof s.rollback === 'object') return hideAll(describeAction(s.rollback), params, secrets);
  if (!s.mutating) return 'none needed';
  const kind = STEP_KINDS[s.kind];
  if (kind?.irreversible === true) return 'none: the point of no return (a failure after it rolls back only the steps after it)';
  return kind?.undo ? 'auto (put back what it changed)' : 'none automatic: a failure after it leaves it to undo by hand (give it a rollback: action)';
}

function hideAll(text: string, params: Record<string, ParamValue>, secrets: readonly string[]): string {
  return redactor(params, secrets)(text);
}

/**
 * `runbook show`: the plan with these parameters, or undefined when the runbook has required
 * parameters and none were given (it is still shown, without steps). Bad values given are errors.
 */
export function previewRunbook(rb: Runbook, params: Readonly<Record<string, ParamValue>>, env: Readonly<Record<string, string | undefined>>): RunbookPlan | undefined {
  const required = Object.entries(rb.spec.params ?? {}).filter(([, p]) => p.default === undefined && (p.env === undefined || !env[p.env]));
  if (Object.keys(params).length === 0 && required.length > 0) return undefined;
  const r = resolveRunbook(rb, params, env);
  return planOf(rb, r.steps, r.params, r.secrets);
}

/** Default journal path: .surgectl/runbooks/<name>-<UTC time>.json under cwd. */
export function defaultJournalPath(cwd: string, name: string, now: number): string {
  return join(cwd, '.surgectl', 'runbooks', `${name}-${new Date(now).toISOString().replace(/[:.]/g, '-')}.json`);
}

/** `runbook run` / `cutover`: the plan only (dry run), or the run with its journal. */
export async function startRunbook(
  c: RunbookRunContext,
  opts: { nameOrPath: string; params: Readonly<Record<string, ParamValue>>; dryRun: boolean; journalPath?: string | undefined },
): Promise<{ plan: RunbookPlan; journal?: RunbookJournal; journalPath?: string }> {
  const rb = await findRunbook(opts.nameOrPath, { ...c.sources, cwd: c.cwd });
  const resolved = resolveRunbook(rb, opts.params, c.env);
  const plan = planOf(rb, resolved.steps, resolved.params, resolved.secrets);
  if (opts.dryRun) return { plan };
  const journalPath = resolve(c.cwd, opts.journalPath ?? defaultJournalPath(c.cwd, rb.spec.name, c.now()));
  const journal = await runRunbook({ ...common(c), runbook: rb, resolved, journalPath });
  return { plan, journal, journalPath };
}

function common(c: RunbookRunContext): RunSettings {
  const { cwd, sources: _sources, auditPath, ...settings } = c;
  return { ...settings, auditPath: resolve(cwd, auditPath ?? join('.surgectl', 'audit.log')) };
}

/**
 * Reads a journal and the runbook it belongs to, refusing a journal written by another version
 * of that runbook (its steps may mean something else now).
 */
async function reopen(c: RunbookRunContext, journalPath: string) {
  const path = resolve(c.cwd, journalPath);
  const journal = await readJournal(path);
  const { name, source, version, digest } = journal.runbook;
  const rb = await findRunbook(source === 'builtin' ? name : source, { ...c.sources, cwd: c.cwd }).catch((err: unknown) => {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `${path} belongs to runbook ${name} (${source}), which cannot be loaded: ${(err as Error).message}`);
  });
  if (rb.spec.version !== version || rb.digest !== digest) {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `${path} was written by ${name} version ${version} (digest ${digest}); the runbook is now version ${rb.spec.version} (digest ${rb.digest})`, {
      hint: 'Its steps may have changed meaning, so it is not resumed. Finish by hand from the journal, or roll back with the surgectl version that wrote it.',
    });
  }
  // Secrets were journaled as ***: they come back from their env variables (or defaults).
  const given = Object.fromEntries(Object.entries(journal.params).filter(([, v]) => v !== '***'));
  const resolved = resolveRunbook(rb, given, c.env);
  return { path, journal, rb, resolved };
}

/** `runbook resume <journal>`: carries on after the last finished step. */
export async function resumeRunbook(c: RunbookRunContext, journalPath: string): Promise<{ journal: RunbookJournal; journalPath: string }> {
  const { path, journal, rb, resolved } = await reopen(c, journalPath);
  if (journal.status === 'completed' || journal.status === 'rolled-back') {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `${path}: the run is ${journal.status}; there is nothing left to resume`);
  }
  if (journal.status === 'rollback-failed') {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `${path}: the run failed and its rollback did not complete; it is not resumed forwards`, { hint: `Retry the rollback: surgectl runbook rollback ${path}` });
  }
  if (journal.steps.length !== resolved.steps.length || journal.steps.some((s, i) => s.step !== resolved.steps[i]?.name)) {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `${path}: its steps (${journal.steps.map((s) => s.step).join(', ')}) are not the runbook's steps with these parameters`);
  }
  const next = journal.steps.find((s) => s.status !== 'completed' && s.status !== 'skipped');
  c.reporter.notify(`resuming ${rb.spec.name} at step ${next?.step ?? '(none)'} (${journal.steps.filter((s) => s.status === 'completed').length} of ${journal.steps.length} done)`, 'info');
  const out = await runRunbook({ ...common(c), runbook: rb, resolved, journalPath: path, journal });
  return { journal: out, journalPath: path };
}

/** `runbook rollback <journal>` (and `cutover --rollback`): undoes what the run changed, newest first. */
export async function rollbackJournal(c: RunbookRunContext, journalPath: string): Promise<{ journal: RunbookJournal; journalPath: string }> {
  const { path, journal, rb, resolved } = await reopen(c, journalPath);
  const out = await rollbackRunbook({ ...common(c), runbook: rb, resolved, journalPath: path, journal });
  return { journal: out, journalPath: path };
}

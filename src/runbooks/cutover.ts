import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SurgeError } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import { writeOutputFiles } from '../util/output-files.js';
import { rollbackJournal, startRunbook, type RunbookPlan, type RunbookRunContext } from './run.js';
import type { ParamValue, RunbookJournal } from './types.js';

/**
 * `surgectl cutover`: the blue-green runbooks with flags instead of --param, and the state that
 * makes `--rollback` instant and `finish` safe — the last cutover's journal and when it ended,
 * kept in .surgectl/cutover/last.json.
 */

export type CutoverTarget = 'haproxy' | 'kubernetes';

export interface CutoverRequest {
  target: CutoverTarget;
  to: string;
  from: string;
  /** Runbook parameters from flags (only those given; the runbook's defaults fill the rest). */
  params: Record<string, ParamValue>;
  /** How long the old color stays up after the switch before `finish` may scale it down, ms. Argo Rollouts' scaleDownDelaySeconds defaults to 30 s. */
  scaleDownDelayMs: number;
  dryRun: boolean;
  journalPath?: string | undefined;
}

/** What .surgectl/cutover/last.json holds. */
export interface CutoverState {
  kind: 'surgectl.cutover.state';
  target: CutoverTarget;
  runbook: string;
  from: string;
  to: string;
  /** Parameters of the cutover, so `finish` reaches the same HAProxy / namespace. */
  params: Record<string, ParamValue>;
  journal: string;
  status: RunbookJournal['status'];
  endedAt: string;
  scaleDownDelayMs: number;
  /** Set once `cutover finish` has run. */
  finishedAt?: string;
  /** Set once `cutover --rollback` has run. */
  rolledBackAt?: string;
}

const statePath = (cwd: string) => join(cwd, '.surgectl', 'cutover', 'last.json');

async function readState(cwd: string): Promise<CutoverState> {
  const path = statePath(cwd);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `no cutover has run from this directory (${path} does not exist)`, { hint: 'Run `surgectl cutover --to green` first, or roll back a run by its journal: surgectl runbook rollback <journal>.' });
  }
  let s: CutoverState | undefined;
  try {
    s = JSON.parse(text) as CutoverState;
  } catch {
    // handled below: not JSON is not a state file either
  }
  if (s?.kind !== 'surgectl.cutover.state' || typeof s.journal !== 'string') {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `${path} is not a surgectl cutover state file`, { hint: 'Remove it, and roll back by journal instead: surgectl runbook rollback <journal>.' });
  }
  return s;
}

async function writeState(cwd: string, s: CutoverState): Promise<void> {
  await mkdir(join(cwd, '.surgectl', 'cutover'), { recursive: true });
  await writeOutputFiles([{ flag: 'cutover state', path: statePath(cwd), text: `${JSON.stringify(s, null, 2)}\n` }]);
}

const RUNBOOK: Record<CutoverTarget, string> = { haproxy: 'blue-green-haproxy', kubernetes: 'blue-green-kubernetes' };
const FINISH: Record<CutoverTarget, string> = { haproxy: 'blue-green-haproxy-finish', kubernetes: 'blue-green-kubernetes-finish' };

/** `cutover --to <color>`: runs the target's blue-green runbook and records the state for --rollback and finish. */
export async function cutover(c: RunbookRunContext, req: CutoverRequest): Promise<{ plan: RunbookPlan; journal?: RunbookJournal; journalPath?: string }> {
  if (req.to === req.from) throw new SurgeError('SRG_CLI_USAGE', `--to and --from are both ${req.to}`, { hint: 'Traffic moves from one color to the other, e.g. --from blue --to green.' });
  // The new color's Deployment follows --to unless named (a cutover back to blue checks orders-blue).
  const params = { ...(req.target === 'kubernetes' ? { to_deployment: `orders-${req.to}` } : {}), ...req.params, from: req.from, to: req.to };
  const r = await startRunbook(c, { nameOrPath: RUNBOOK[req.target], params, dryRun: req.dryRun, journalPath: req.journalPath });
  if (r.journal && r.journalPath) {
    await writeState(c.cwd, {
      kind: 'surgectl.cutover.state',
      target: req.target,
      runbook: RUNBOOK[req.target],
      from: req.from,
      to: req.to,
      params,
      journal: r.journalPath,
      status: r.journal.status,
      endedAt: r.journal.endedAt ?? new Date(c.now()).toISOString(),
      scaleDownDelayMs: req.scaleDownDelayMs,
    });
  }
  return r;
}

/** `cutover --rollback`: undoes the last cutover from its journal (weights or selector back as they were). */
export async function cutoverRollback(c: RunbookRunContext): Promise<{ journal: RunbookJournal; journalPath: string }> {
  const state = await readState(c.cwd);
  if (state.finishedAt) {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `the cutover to ${state.to} was finished at ${state.finishedAt}: ${state.from} is scaled down, so traffic cannot go back at once`, {
      hint: `Bring ${state.from} back up (surgectl runbook rollback of the finish journal), then run: surgectl cutover --to ${state.from}.`,
    });
  }
  const r = await rollbackJournal(c, state.journal);
  await writeState(c.cwd, { ...state, status: r.journal.status, rolledBackAt: new Date(c.now()).toISOString() });
  return r;
}

/** `cutover finish`: once the scale-down delay has passed, takes the old color out (HAProxy maint, or replicas 0). */
export async function cutoverFinish(c: RunbookRunContext, opts: { force: boolean; dryRun: boolean; params: Record<string, ParamValue> }): Promise<{ plan: RunbookPlan; journal?: RunbookJournal; journalPath?: string }> {
  const state = await readState(c.cwd);
  if (state.status !== 'completed' || state.rolledBackAt) {
    throw new SurgeError('SRG_RUNBOOK_PRECONDITION', `the last cutover (to ${state.to}) is ${state.rolledBackAt ? 'rolled back' : state.status}, so ${state.from} still carries traffic; nothing is scaled down`, { hint: `Journal: ${state.journal}` });
  }
  const readyAt = Date.parse(state.endedAt) + state.scaleDownDelayMs;
  if (!opts.force && c.now() < readyAt) {
    throw new SurgeError('SRG_RUNBOOK_PRECONDITION', `${state.from} stays up until ${new Date(readyAt).toISOString()} (scale-down delay ${formatDuration(state.scaleDownDelayMs)} after the cutover ended), so a rollback stays instant`, {
      hint: `Wait ${formatDuration(Math.ceil((readyAt - c.now()) / 1000) * 1000)}, or pass --force.`,
    });
  }
  const keep = state.target === 'haproxy' ? ['haproxy', 'backend'] : ['context', 'namespace'];
  // What is taken out is the color traffic left: HAProxy's `from` server, or its Deployment (orders-<from> unless named).
  const side: Record<string, ParamValue> = state.target === 'haproxy' ? { from: state.from } : { from_deployment: `orders-${state.from}` };
  const params: Record<string, ParamValue> = { ...Object.fromEntries(keep.filter((k) => state.params[k] !== undefined).map((k) => [k, state.params[k] as ParamValue])), ...side, ...opts.params };
  const r = await startRunbook(c, { nameOrPath: FINISH[state.target], params, dryRun: opts.dryRun });
  if (r.journal?.status === 'completed') await writeState(c.cwd, { ...state, finishedAt: new Date(c.now()).toISOString() });
  return r;
}

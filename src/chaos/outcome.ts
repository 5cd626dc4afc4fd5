import { ERROR_CODES, SurgeError, isSurgeError, type ErrorCode } from '../errors.js';
import { checkOutputPaths, writeOutputFiles } from '../util/output-files.js';
import type { Journal } from './journal.js';

/**
 * The error a finished drill ends the command with, most serious first: a failed rollback (30),
 * an interrupt (130), an abort (the cause's own code, e.g. SRG_STACK_UNREACHABLE when a
 * steady-state probe could not reach the stack), a deviation (21), a steady state that was not met
 * before the method (21), a failed action (2). Undefined when the drill passed. A rollback that
 * failed before the method ran does not count as failed (nothing was injected; see
 * Journal.rollback_failed), so it cannot hide why the drill stopped.
 */
export function outcomeError(j: Journal, journalPath?: string): SurgeError | undefined {
  const see = journalPath ? `Details are in the journal: ${journalPath}` : 'Re-run with --journal-path to keep the journal.';
  if (j.rollback_failed) {
    // Set only once the method has started (see Journal.rollback_failed): the target may be left
    // changed, so it wins over everything, an abort included; what happened first is kept below.
    const failed = j.rollbacks.filter((r) => r.status === 'failed');
    const before = j.status === 'aborted' || j.status === 'interrupted' ? [`before the rollbacks, the drill was ${j.status}: ${j.reason ?? j.error?.message ?? 'unknown reason'}`] : [];
    return new SurgeError('SRG_CHAOS_ROLLBACK', `Rollback failed (${failed.map((r) => r.activity.name).join(', ')}): the target may be left changed`, {
      details: [...failed.map((r) => `${r.activity.name}: ${r.exception?.message ?? 'failed'}`), ...before],
      hint: `Restore by hand (for the bundled stack: curl -X DELETE <url>/admin/faults with the admin token). ${see}`,
    });
  }
  if (j.status === 'interrupted') {
    return new SurgeError('SRG_CLI_INTERRUPTED', `The drill "${j.title}" was interrupted; rollbacks ${j.rollbacks.length > 0 ? 'ran' : 'did not run'}`, { hint: see });
  }
  if (j.status === 'aborted') {
    const code = j.error && j.error.code in ERROR_CODES ? (j.error.code as ErrorCode) : 'SRG_CLI_INTERNAL';
    return new SurgeError(code, `The drill "${j.title}" was aborted: ${j.reason ?? j.error?.message ?? 'unknown reason'}`, {
      hint: j.error?.hint ?? see,
    });
  }
  const failingProbes = (runs: Journal['run']) =>
    runs.filter((p) => p.tolerance_met === false).map((p) => `${p.activity.name}: ${p.tolerance_result?.message ?? p.exception?.message ?? 'not met'}`);
  if (j.deviated) {
    const during = j.steady_states.during.filter((d) => !d.steady_state_met).flatMap((d) => failingProbes(d.probes));
    const after = failingProbes(j.steady_states.after?.probes ?? []);
    return new SurgeError('SRG_CHAOS_DEVIATED', `The steady state of "${j.title}" deviated${after.length > 0 ? ' after the method' : ' during the method'}`, {
      details: [...new Set([...after, ...during])],
      hint: `The system did not tolerate the fault; rollbacks ${j.rollbacks.length > 0 ? 'ran' : 'did not run'}. ${see}`,
    });
  }
  if (j.status === 'failed' && j.steady_states.before && !j.steady_states.before.steady_state_met) {
    return new SurgeError('SRG_CHAOS_NOT_STEADY', `The steady state of "${j.title}" was not met before the method, so nothing was injected`, {
      details: failingProbes(j.steady_states.before.probes),
      hint: 'Fix the system (or the tolerances) first: a drill needs a healthy starting point.',
    });
  }
  if (j.status === 'failed') {
    const failed = j.run.filter((r) => r.status === 'failed' && r.activity.type === 'action');
    return new SurgeError('SRG_CHAOS_ACTION', `The drill "${j.title}" failed: ${j.reason ?? 'an action failed'}`, {
      details: failed.map((r) => `${r.activity.name}: ${r.exception?.message ?? 'failed'}`),
      hint: see,
    });
  }
  return undefined;
}

/**
 * Checks before the drill that the journal can be written there (missing directories are created
 * when it is written). Throws SRG_CLI_USAGE naming `flag` and the path.
 */
export async function checkJournalPath(path: string, flag = '--journal-path'): Promise<void> {
  await checkOutputPaths([{ flag, path }], { createParents: true });
}

/**
 * Writes the journal as JSON; through a temp file and a rename, so a reader never sees half a
 * journal. Throws SRG_CLI_USAGE naming `flag` and the path when it cannot (no temp file is left).
 */
export async function writeJournal(path: string, journal: Journal, flag = '--journal-path'): Promise<void> {
  await writeOutputFiles([{ flag, path, text: JSON.stringify(journal, null, 2) + '\n' }], { createParents: true });
}

/**
 * Writes the journal like writeJournal, but a journal that cannot be written does not hide the
 * drill: the SRG_CLI_USAGE error is returned rather than thrown, for
 * `withWriteFailure(outcome, writeError, 'the journal')` once the results are shown.
 */
export async function tryWriteJournal(path: string, journal: Journal, flag = '--journal-path'): Promise<SurgeError | undefined> {
  try {
    await writeJournal(path, journal, flag);
    return undefined;
  } catch (err) {
    if (!isSurgeError(err)) throw err;
    return err;
  }
}

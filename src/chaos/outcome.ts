import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ERROR_CODES, SurgeError, type ErrorCode } from '../errors.js';
import type { Journal } from './runner.js';

/**
 * The error a finished drill ends the command with, most serious first: a failed rollback (30),
 * an interrupt (130), an abort (the cause's own code), a deviation (21), a steady state that was
 * not met before the method (21), a failed action (2). Undefined when the drill passed.
 */
export function outcomeError(j: Journal, journalPath?: string): SurgeError | undefined {
  const see = journalPath ? `Details are in the journal: ${journalPath}` : 'Re-run with --journal-path to keep the journal.';
  if (j.rollback_failed) {
    const failed = j.rollbacks.filter((r) => r.status === 'failed');
    return new SurgeError('SRG_CHAOS_ROLLBACK', `Rollback failed (${failed.map((r) => r.activity.name).join(', ')}): the target may be left changed`, {
      details: failed.map((r) => `${r.activity.name}: ${r.exception?.message ?? 'failed'}`),
      hint: `Restore by hand (for the bundled stack: curl -X DELETE <url>/admin/faults with the admin token). ${see}`,
    });
  }
  if (j.status === 'interrupted') {
    return new SurgeError('SRG_CLI_INTERRUPTED', `The drill "${j.title}" was interrupted; rollbacks ${j.rollbacks.length > 0 ? 'ran' : 'did not run'}`, { hint: see });
  }
  if (j.status === 'aborted') {
    const code = j.error && j.error.code in ERROR_CODES ? (j.error.code as ErrorCode) : 'SRG_CLI_INTERNAL';
    return new SurgeError(code, `The drill "${j.title}" was aborted: ${j.error?.message ?? j.reason ?? 'unknown reason'}`, {
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

/** Writes the journal as JSON; through a temp file and a rename, so a reader never sees half a journal. */
export async function writeJournal(path: string, journal: Journal): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(journal, null, 2) + '\n');
  await rename(tmp, path);
}

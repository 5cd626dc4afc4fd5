import { SurgeError, withWriteFailure } from '../errors.js';
import type { PreflightRun } from './run.js';
import type { PreflightReport } from './types.js';

/** SRG_PREFLIGHT_FAILED (exit 20) naming the failed checks, or undefined when none failed (warnings and skips do not fail). */
export function preflightOutcome(report: PreflightReport): SurgeError | undefined {
  const failed = report.checks.filter((c) => c.verdict === 'fail');
  if (failed.length === 0) return undefined;
  return new SurgeError('SRG_PREFLIGHT_FAILED', `Preflight failed: ${failed.map((c) => c.name).join(', ')}`, {
    details: failed.map((c) => `${c.name}: ${c.fix ?? c.evidence[0] ?? ''}`),
    hint: 'Fix each failed check as its row says, then run `surgectl preflight` again.',
  });
}

/** The run's outcome, with "the JUnit report was not written" added when the write failed. */
export function preflightRunOutcome(run: PreflightRun): SurgeError | undefined {
  return withWriteFailure(preflightOutcome(run.report), run.writeError, 'the JUnit report');
}

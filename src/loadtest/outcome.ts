import { SurgeError } from '../errors.js';
import type { LoadTestResult } from './summary.js';

/**
 * The error a finished load test ends the command with, or undefined when it passed: interrupted
 * (SRG_CLI_INTERRUPTED, 130) before failed thresholds or an abortOnFail stop (SRG_LOADTEST_THRESHOLD,
 * 20), whose message names the metrics whose thresholds failed, as k6 does ("thresholds on metrics
 * 'http_req_duration' have been crossed"). The result itself is printed first; this is what the
 * exit status says about it. Pure.
 */
export function loadTestOutcome(result: LoadTestResult): SurgeError | undefined {
  if (result.aborted === 'interrupted') {
    return new SurgeError('SRG_CLI_INTERRUPTED', 'The load test was interrupted; the figures above cover the part that ran.');
  }
  if (result.passed) return undefined;
  const failed = result.thresholds.filter((t) => !t.ok);
  const metrics = [...new Set(failed.map((t) => t.metric))].map((m) => `'${m}'`).join(', ');
  const crossed = failed.length > 0 ? `thresholds on metrics ${metrics} have been crossed (${failed.length} of ${result.thresholds.length} failed)` : '';
  const aborted = result.aborted === undefined ? '' : `the run was aborted: ${result.aborted}`;
  // One line: the thresholds themselves are in the printed result.
  return new SurgeError('SRG_LOADTEST_THRESHOLD', [crossed, aborted].filter((s) => s !== '').join('; ') || 'the load test did not pass');
}

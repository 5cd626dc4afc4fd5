import { describe, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.js';
import { SurgeError, withWriteFailure } from '../errors.js';
import { loadTestOutcome } from './outcome.js';
import type { LoadTestResult, ThresholdResult } from './summary.js';

const threshold = (metric: string, ok: boolean): ThresholdResult => ({ metric, threshold: 'p(95)<200', ok, phase: ok ? 'pass' : 'fail', value: ok ? 100 : 300, abortOnFail: false });

function result(over: Partial<LoadTestResult>): LoadTestResult {
  return {
    engine: 'builtin',
    scenario: 's',
    target: 'http://127.0.0.1:1',
    passed: true,
    thresholds: [threshold('http_req_duration', true)],
    summary: { root_group: { name: '', path: '', id: '', groups: [], checks: [] }, options: { summaryTrendStats: [], summaryTimeUnit: '', noColor: false }, state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 0 }, metrics: {} },
    scenarios: [],
    timeline: [],
    durationMs: 1000,
    warnings: [],
    ...over,
  };
}

describe('loadTestOutcome', () => {
  it('is nothing for a run that passed', () => {
    expect(loadTestOutcome(result({}))).toBeUndefined();
  });

  it('failed thresholds: exit 20, naming the metrics once each, as k6 does', () => {
    const e = loadTestOutcome(
      result({ passed: false, thresholds: [threshold('http_req_duration', false), { ...threshold('http_req_duration', false), threshold: 'p(99)<500' }, threshold('http_req_failed', true), threshold('dropped_iterations', false)] }),
    );
    expect(e).toBeInstanceOf(SurgeError);
    expect(e?.code).toBe('SRG_LOADTEST_THRESHOLD');
    expect(e?.exitCode).toBe(ExitCode.GateFailed);
    expect(e?.message).toBe("thresholds on metrics 'http_req_duration', 'dropped_iterations' have been crossed (3 of 4 failed)");
  });

  it('an abortOnFail stop says why the run stopped', () => {
    const e = loadTestOutcome(
      result({ passed: false, aborted: 'threshold http_req_failed: rate<0.01 failed (abortOnFail)', thresholds: [{ ...threshold('http_req_failed', false), abortOnFail: true }] }),
    );
    expect(e?.code).toBe('SRG_LOADTEST_THRESHOLD');
    expect(e?.message).toBe("thresholds on metrics 'http_req_failed' have been crossed (1 of 1 failed); the run was aborted: threshold http_req_failed: rate<0.01 failed (abortOnFail)");
  });

  it('a k6 run k6 failed although every verdict it wrote is ok still exits 20', () => {
    expect(loadTestOutcome(result({ passed: false }))).toMatchObject({ code: 'SRG_LOADTEST_THRESHOLD', message: 'the load test did not pass' });
  });

  it('an interrupt wins: exit 130, whatever the thresholds said', () => {
    const e = loadTestOutcome(result({ passed: false, aborted: 'interrupted', thresholds: [threshold('http_req_duration', false)] }));
    expect(e?.code).toBe('SRG_CLI_INTERRUPTED');
    expect(e?.exitCode).toBe(ExitCode.Interrupted);
  });

  it('keeps its code when the reports were not written too, and gains a line saying so', () => {
    const write = new SurgeError('SRG_CLI_USAGE', 'Cannot write --junit /x/r.xml: ENOENT', { hint: 'Pass a file path in a directory that exists.' });
    const e = withWriteFailure(loadTestOutcome(result({ passed: false, thresholds: [threshold('http_reqs', false)] })), write, 'the reports');
    expect(e).toMatchObject({ code: 'SRG_LOADTEST_THRESHOLD', details: ['the reports were not written: Cannot write --junit /x/r.xml: ENOENT'] });
    expect(withWriteFailure(loadTestOutcome(result({})), write, 'the reports')).toBe(write);
  });
});

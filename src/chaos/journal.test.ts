import { describe, expect, it } from 'vitest';
import { parseExperiment } from './experiment.js';
import {
  HYPOTHESIS_STRATEGIES,
  ROLLBACK_STRATEGIES,
  assembleJournal,
  gateVerdict,
  hypothesisChecks,
  judge,
  rollbackDecision,
  rollbackFailed,
  type ActivityRun,
  type DrillEvidence,
  type MethodEvidence,
  type SteadyStateRun,
} from './journal.js';

const T = '2026-01-01T00:00:00.000Z';

/** A finished activity run; a probe with `met` gets a tolerance verdict. */
function activityRun(name: string, o: { type?: 'action' | 'probe'; failed?: { code?: string; message: string }; met?: boolean } = {}): ActivityRun {
  return {
    activity: { type: o.type ?? 'action', name, provider: { type: 'stack', func: 'oversold' } },
    status: o.failed ? 'failed' : 'succeeded',
    output: o.failed ? null : 0,
    exception: o.failed ? { ...o.failed } : null,
    start: T,
    end: T,
    duration: 0,
    ...(o.met === undefined ? {} : { tolerance_met: o.met, tolerance_result: { phase: o.met ? ('pass' as const) : ('fail' as const), value: 0 } }),
  };
}

function check(met: boolean, probes: ActivityRun[] = [activityRun('probe', { type: 'probe', met })]): SteadyStateRun {
  return { steady_state_met: met, probes, start: T, end: T, duration: 0 };
}

const unreachable = activityRun('oversold', { type: 'probe', met: false, failed: { code: 'SRG_STACK_UNREACHABLE', message: 'The stack did not answer' } });
const crdMissing = activityRun('network-delay', { failed: { code: 'SRG_CHAOS_CRD_MISSING', message: 'no Chaos Mesh' } });

function method(o: Partial<MethodEvidence> = {}): MethodEvidence {
  return { runs: [activityRun('fault')], during: [], abortedBy: null, stoppedEarly: false, ...o };
}

function evidence(o: Partial<DrillEvidence> = {}): DrillEvidence {
  return { before: check(true), method: method(), after: check(true), interruptedIn: null, failure: null, ...o };
}

describe('hypothesisChecks', () => {
  it.each([
    ['default', { before: true, during: false, after: true }],
    ['before-method-only', { before: true, during: false, after: false }],
    ['after-method-only', { before: false, during: false, after: true }],
    ['during-method-only', { before: false, during: true, after: false }],
    ['continuously', { before: true, during: true, after: true }],
  ] as const)('%s checks %o', (strategy, expected) => {
    expect(hypothesisChecks(strategy)).toEqual(expected);
  });

  it('covers every strategy', () => {
    expect(HYPOTHESIS_STRATEGIES.map((s) => hypothesisChecks(s))).toHaveLength(5);
  });
});

describe('rollbackDecision: strategy × deviation', () => {
  const table: [(typeof ROLLBACK_STRATEGIES)[number], boolean, boolean][] = [
    ['default', false, true],
    ['default', true, true],
    ['always', false, true],
    ['always', true, true],
    ['deviated', false, false],
    ['deviated', true, true],
    ['never', false, false],
    ['never', true, false],
  ];
  it.each(table)('%s with deviated=%s runs rollbacks: %s', (strategy, deviated, runs) => {
    const d = rollbackDecision(strategy, deviated);
    expect(d.run).toBe(runs);
    // A skip always says why; a run never carries a reason.
    if (runs) expect(d.skipped).toBeNull();
    else expect(d.skipped).toMatch(strategy === 'never' ? /"never"/ : /"deviated" and the steady state did not deviate/);
  });

  it('covers every strategy', () => {
    expect(new Set(table.map(([s]) => s))).toEqual(new Set(ROLLBACK_STRATEGIES));
  });
});

describe('gateVerdict', () => {
  it('lets the method run when the steady state was met or not checked', () => {
    expect(gateVerdict(null)).toBeUndefined();
    expect(gateVerdict(check(true))).toBeUndefined();
  });

  it('fails as "not steady" when a probe ran and missed its tolerance', () => {
    expect(gateVerdict(check(false))).toMatchObject({ status: 'failed', error: null, reason: expect.stringMatching(/not met before the method; nothing was injected/) });
  });

  it('aborts with the error of a probe that could not run, even beside one that merely missed', () => {
    const v = gateVerdict(check(false, [activityRun('slow', { type: 'probe', met: false }), unreachable]));
    expect(v).toMatchObject({ status: 'aborted', error: { code: 'SRG_STACK_UNREACHABLE' }, reason: 'oversold: The stack did not answer', cannotRun: { activity: { name: 'oversold' } } });
  });

  it.each(['SRG_K8S_UNREACHABLE', 'SRG_K8S_API', 'SRG_CHAOS_HTTP', 'SRG_STACK_ADMIN'])('aborts when a probe could not run with %s', (code) => {
    const probe = activityRun('pods-ready', { type: 'probe', met: false, failed: { code, message: 'no answer' } });
    expect(gateVerdict(check(false, [probe]))).toMatchObject({ status: 'aborted', error: { code } });
  });

  it('keeps "not steady" for a probe error without a code that means it could not run', () => {
    const odd = activityRun('odd', { type: 'probe', met: false, failed: { message: 'the answer was not understood' } });
    expect(gateVerdict(check(false, [odd]))?.status).toBe('failed');
  });
});

describe('judge: status precedence', () => {
  it('completes when everything held', () => {
    expect(judge(evidence())).toEqual({ status: 'completed', deviated: false, reason: null, error: null });
  });

  it('a deviation after the method fails the run and flags it', () => {
    expect(judge(evidence({ after: check(false) }))).toMatchObject({ status: 'failed', deviated: true, reason: 'the steady state deviated after the method' });
  });

  it('a deviation during the method is flagged too; the reason names the first finding (a failed action)', () => {
    const v = judge(evidence({ method: method({ runs: [activityRun('fault', { failed: { message: 'refused' } })], during: [check(true), check(false)] }), after: check(false) }));
    expect(v).toMatchObject({ status: 'failed', deviated: true, reason: 'action fault failed; the fault may not have been injected' });
  });

  it('a failed probe in the method is not a failed action', () => {
    expect(judge(evidence({ method: method({ runs: [activityRun('look', { type: 'probe', failed: { message: 'x' } })] }) })).status).toBe('completed');
  });

  it('an aborting activity wins over a later deviation, which is still flagged', () => {
    const v = judge(evidence({ method: method({ runs: [crdMissing], abortedBy: crdMissing, stoppedEarly: true, during: [check(false)] }), after: null }));
    expect(v).toMatchObject({ status: 'aborted', deviated: true, error: { code: 'SRG_CHAOS_CRD_MISSING' }, reason: 'network-delay: no Chaos Mesh' });
  });

  it('a gate that could not run aborts; one that missed fails; neither is a deviation', () => {
    expect(judge(evidence({ before: check(false, [unreachable]), method: null, after: null }))).toMatchObject({ status: 'aborted', deviated: false, error: { code: 'SRG_STACK_UNREACHABLE' } });
    expect(judge(evidence({ before: check(false), method: null, after: null }))).toMatchObject({ status: 'failed', deviated: false, error: null });
  });

  it('an interrupt wins over everything, keeps an aborting error, and leaves the interrupted phase unjudged', () => {
    const inMethod = judge(evidence({ method: method({ runs: [crdMissing], abortedBy: crdMissing, during: [check(false)] }), after: null, interruptedIn: 'method' }));
    expect(inMethod).toEqual({ status: 'interrupted', deviated: false, reason: 'interrupted before the drill finished', error: { code: 'SRG_CHAOS_CRD_MISSING', message: 'no Chaos Mesh' } });
    // The deviation during the method was judged before the interrupt in the check after.
    const inAfter = judge(evidence({ method: method({ during: [check(false)] }), after: check(false), interruptedIn: 'after' }));
    expect(inAfter).toMatchObject({ status: 'interrupted', deviated: true, reason: 'interrupted before the drill finished' });
    expect(judge(evidence({ before: check(false), method: null, after: null, interruptedIn: 'before' }))).toMatchObject({ status: 'interrupted', error: null });
  });

  it('an unexpected failure aborts with its error (e.g. the load could not start)', () => {
    const failure = { code: 'SRG_STACK_UNREACHABLE', message: 'load: Cannot reach http://127.0.0.1:1/v1/inventory' };
    expect(judge({ before: null, method: null, after: null, interruptedIn: null, failure })).toEqual({ status: 'aborted', deviated: false, reason: failure.message, error: failure });
  });
});

describe('rollbackFailed and assembleJournal', () => {
  it('a failed rollback counts only once the method started', () => {
    const failed = [activityRun('restore', { failed: { message: 'HTTP 500' } })];
    expect(rollbackFailed(true, failed)).toBe(true);
    expect(rollbackFailed(false, failed)).toBe(false);
    expect(rollbackFailed(true, [activityRun('restore')])).toBe(false);
  });

  it('builds the journal in Chaos Toolkit shape from the evidence and the verdict', () => {
    const experiment = parseExperiment({ title: 'drill', tags: ['t'], method: [{ type: 'action', name: 'fault', provider: { type: 'stack', func: 'kill-worker' } }] });
    const ev = evidence({ method: method({ during: [check(true)] }) });
    const rollbacks = [activityRun('restore', { failed: { message: 'HTTP 500' } })];
    const j = assembleJournal({
      experiment,
      options: { rollback_strategy: 'default', hypothesis_strategy: 'continuously', fail_fast: false },
      evidence: ev,
      verdict: judge(ev),
      rollbacks,
      rollbacksSkipped: null,
      load: null,
      startedAt: 0,
      endedAt: 2_500,
    });
    expect(j).toMatchObject({
      title: 'drill',
      description: null,
      tags: ['t'],
      status: 'completed',
      steady_states: { before: ev.before, after: ev.after, during: ev.method?.during },
      run: ev.method?.runs,
      rollbacks,
      rollback_failed: true,
      start: '1970-01-01T00:00:00.000Z',
      end: '1970-01-01T00:00:02.500Z',
      duration: 2.5,
    });
    expect(j.experiment).toBe(experiment.raw);
  });
});

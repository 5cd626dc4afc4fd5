import { describe, expect, it } from 'vitest';
import { createFakeStackAdmin, type FakeStackAdmin } from '../adapters/stack-admin/fake.js';
import { SurgeError } from '../errors.js';
import { createRecordingReporter } from '../reporter.js';
import type { LoadOptions, RunningLoad } from './background-load.js';
import { parseExperiment } from './experiment.js';
import { planExperiment } from './plan.js';
import { outcomeError } from './outcome.js';
import { runExperiment, type Journal } from './runner.js';

/** A fake whose breaker opens while payments fail, as the real stack's breaker would. */
function stackWithBreaker(): FakeStackAdmin {
  const fake = createFakeStackAdmin();
  const set = fake.setPaymentFaults;
  fake.setPaymentFaults = async (f) => {
    const r = await set(f);
    fake.state.breaker = r.failureRate >= 0.5 ? 'open' : 'closed';
    return r;
  };
  const clear = fake.clearFaults;
  fake.clearFaults = async () => {
    fake.state.breaker = 'closed';
    return clear();
  };
  return fake;
}

const breakerClosed = { type: 'probe', name: 'breaker-closed', tolerance: 'closed', provider: { type: 'stack', func: 'breaker-state' } };
const notOversold = { type: 'probe', name: 'not-oversold', tolerance: 0, provider: { type: 'stack', func: 'oversold' } };
const clearFaults = { type: 'action', name: 'clear-faults', provider: { type: 'stack', func: 'clear-faults' } };

function experiment(method: unknown[], extra: Record<string, unknown> = {}) {
  return parseExperiment({
    title: 'Payment outage',
    'steady-state-hypothesis': { title: 'orders flow', probes: [breakerClosed, notOversold] },
    method,
    rollbacks: [clearFaults],
    ...extra,
  });
}

const outage = (args: Record<string, unknown> = { failureRate: 1 }) => ({
  type: 'action',
  name: 'payment-outage',
  provider: { type: 'stack', func: 'payment-fault', arguments: args },
});

function expectCompleteJournal(j: Journal): void {
  for (const r of [...j.run, ...j.rollbacks, ...(j.steady_states.before?.probes ?? []), ...(j.steady_states.after?.probes ?? [])]) {
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['activity', 'status', 'output', 'exception', 'start', 'end', 'duration']));
    expect(Date.parse(r.end)).toBeGreaterThanOrEqual(Date.parse(r.start));
    expect(r.duration).toBeGreaterThanOrEqual(0);
  }
  expect(JSON.parse(JSON.stringify(j))).toEqual(j);
}

describe('runExperiment', () => {
  it('runs steady state -> method -> steady state -> rollbacks and journals every activity', async () => {
    const stack = stackWithBreaker();
    const reporter = createRecordingReporter();
    // The outage ends by itself (duration), so the steady state after holds.
    const e = experiment([outage({ failureRate: 1, duration: 0.02 }), { ref: 'breaker-closed' }]);
    const j = await runExperiment(e, { targets: { stack }, reporter });
    expect(j.status).toBe('completed');
    expect(j.deviated).toBe(false);
    expect(j.steady_states.before?.steady_state_met).toBe(true);
    expect(j.steady_states.after?.steady_state_met).toBe(true);
    expect(j.run.map((r) => [r.activity.name, r.status])).toEqual([
      ['payment-outage', 'succeeded'],
      ['breaker-closed', 'succeeded'],
    ]);
    expect(j.run[0]?.output).toEqual({
      previous: { failureRate: 0, latencyMs: 5 },
      applied: { failureRate: 1, latencyMs: 5 },
      restored: { failureRate: 0, latencyMs: 5 },
    });
    expect(j.rollbacks.map((r) => [r.activity.name, r.status])).toEqual([['clear-faults', 'succeeded']]);
    expect(stack.calls).toEqual([
      'status()', 'status()', // before: both probes
      'paymentFaults()', 'setPaymentFaults({"failureRate":1})', 'setPaymentFaults({"failureRate":0,"latencyMs":5})',
      'status()', // method probe
      'status()', 'status()', // after
      'clearFaults()',
    ]);
    expect(reporter.messages.some((m) => m.message.includes('steady state after: met'))).toBe(true);
    expectCompleteJournal(j);
  });

  it('marks a deviation when the steady state is not met after the method, and still rolls back', async () => {
    const stack = stackWithBreaker();
    const j = await runExperiment(experiment([outage()]), { targets: { stack } });
    expect(j.status).toBe('failed');
    expect(j.deviated).toBe(true);
    expect(j.reason).toMatch(/deviated after/);
    const after = j.steady_states.after;
    expect(after?.steady_state_met).toBe(false);
    expect(after?.probes[0]).toMatchObject({ tolerance_met: false, output: 'open', tolerance_result: { phase: 'fail', value: 'open' } });
    expect(after?.probes[1]).toMatchObject({ tolerance_met: true, output: 0 });
    expect(j.rollbacks).toHaveLength(1);
    expect(j.rollbacks[0]?.status).toBe('succeeded');
    expect(stack.state.breaker).toBe('closed');
    expect(stack.state.payment.failureRate).toBe(0);
    expectCompleteJournal(j);
  });

  it('does not run the method when the steady state is not met before, but still restores', async () => {
    const stack = stackWithBreaker();
    stack.state.oversold = 3;
    const j = await runExperiment(experiment([outage()]), { targets: { stack } });
    expect(j.status).toBe('failed');
    expect(j.deviated).toBe(false);
    expect(j.reason).toMatch(/not met before/);
    expect(j.run).toEqual([]);
    expect(j.steady_states.after).toBeNull();
    expect(j.steady_states.before?.probes[1]).toMatchObject({ tolerance_met: false, output: 3 });
    expect(j.rollbacks.map((r) => r.status)).toEqual(['succeeded']);
    expect(stack.calls).not.toContain('setPaymentFaults({"failureRate":1})');
  });

  it('follows --rollback-strategy never and deviated', async () => {
    const never = await runExperiment(experiment([outage({ failureRate: 1, duration: 0.01 })]), { targets: { stack: stackWithBreaker() }, rollbackStrategy: 'never' });
    expect(never.rollbacks).toEqual([]);
    expect(never.rollbacks_skipped).toMatch(/never/);

    const s1 = stackWithBreaker();
    const notDeviated = await runExperiment(experiment([outage({ failureRate: 1, duration: 0.01 })]), { targets: { stack: s1 }, rollbackStrategy: 'deviated' });
    expect(notDeviated.deviated).toBe(false);
    expect(notDeviated.rollbacks).toEqual([]);
    expect(s1.calls).not.toContain('clearFaults()');

    const s2 = stackWithBreaker();
    const deviated = await runExperiment(experiment([outage()]), { targets: { stack: s2 }, rollbackStrategy: 'deviated' });
    expect(deviated.deviated).toBe(true);
    expect(deviated.rollbacks.map((r) => r.status)).toEqual(['succeeded']);
  });

  it('flags a failed rollback', async () => {
    const stack = stackWithBreaker();
    stack.clearFaults = async () => {
      throw new (await import('../errors.js')).SurgeError('SRG_STACK_ADMIN', 'The stack refused DELETE /admin/faults: HTTP 500');
    };
    const j = await runExperiment(experiment([outage({ failureRate: 1, duration: 0.01 })]), { targets: { stack } });
    expect(j.rollback_failed).toBe(true);
    expect(j.rollbacks[0]).toMatchObject({ status: 'failed', exception: { code: 'SRG_STACK_ADMIN', message: expect.stringContaining('HTTP 500') } });
  });

  it('fails the run when an action fails (the fault was not injected), and records the exception', async () => {
    const stack = stackWithBreaker();
    const e = experiment([{ type: 'action', name: 'drop', provider: { type: 'stack', func: 'drop-requests', arguments: { ratio: 0.5 } } }]);
    stack.setDropRatio = async () => {
      throw new (await import('../errors.js')).SurgeError('SRG_STACK_UNREACHABLE', 'The stack at http://127.0.0.1:8080 did not answer');
    };
    const j = await runExperiment(e, { targets: { stack } });
    expect(j.status).toBe('failed');
    expect(j.deviated).toBe(false);
    expect(j.reason).toMatch(/action drop failed/);
    expect(j.run[0]).toMatchObject({ status: 'failed', output: null, exception: { code: 'SRG_STACK_UNREACHABLE' } });
    expect(j.steady_states.after?.steady_state_met).toBe(true);
    expect(j.rollbacks).toHaveLength(1);
  });

  it('is interrupted by the signal mid-method, skips the rest and the steady state after, but rolls back', async () => {
    const stack = stackWithBreaker();
    const ac = new AbortController();
    const e = experiment([
      { ...outage(), pauses: { after: 30 } },
      { type: 'action', name: 'never-reached', provider: { type: 'stack', func: 'kill-worker' } },
    ]);
    const reporter = createRecordingReporter();
    reporter.notify = (m) => {
      if (m.startsWith('action payment-outage')) queueMicrotask(() => ac.abort());
    };
    const j = await runExperiment(e, { targets: { stack }, signal: ac.signal, reporter });
    expect(j.status).toBe('interrupted');
    expect(j.run.map((r) => r.activity.name)).toEqual(['payment-outage']);
    expect(j.steady_states.after).toBeNull();
    expect(j.rollbacks.map((r) => r.status)).toEqual(['succeeded']);
    expect(stack.state.payment.failureRate).toBe(0);
    expect(stack.calls).not.toContain('killWorker()');
  });

  it('runs background activities alongside the method and waits for them before the steady state after', async () => {
    const stack = stackWithBreaker();
    const e = experiment([
      { ...outage({ failureRate: 1, duration: 0.2 }), background: true },
      // Observes the outage while the background action still holds it.
      { type: 'probe', name: 'breaker-open', tolerance: 'open', provider: { type: 'stack', func: 'breaker-state' }, pauses: { before: 0.05 } },
    ]);
    const j = await runExperiment(e, { targets: { stack } });
    expect(j.status).toBe('completed');
    // The probe finished first, the background action after it; the journal keeps completion order.
    expect(j.run.map((r) => r.activity.name)).toEqual(['breaker-open', 'payment-outage']);
    expect(j.run[0]).toMatchObject({ output: 'open', tolerance_met: true });
    expect(j.run[1]?.activity.background).toBe(true);
    expect(j.steady_states.after?.steady_state_met).toBe(true);
  });

  it('checks the steady state during the method and with --fail-fast stops at the first deviation', async () => {
    const stack = stackWithBreaker();
    const e = experiment([
      outage(),
      { type: 'action', name: 'wait', provider: { type: 'stack', func: 'pause-consumer', arguments: { duration: 30 } } },
      { type: 'action', name: 'never-reached', provider: { type: 'stack', func: 'kill-worker' } },
    ]);
    const j = await runExperiment(e, { targets: { stack }, hypothesisStrategy: 'continuously', failFast: true, hypothesisFrequencyMs: 10 });
    expect(j.deviated).toBe(true);
    expect(j.status).toBe('failed');
    expect(j.steady_states.before?.steady_state_met).toBe(true);
    expect(j.steady_states.during.length).toBeGreaterThanOrEqual(1);
    expect(j.steady_states.during.at(-1)?.steady_state_met).toBe(false);
    expect(j.steady_states.after).toBeNull();
    expect(j.run.map((r) => r.activity.name)).not.toContain('never-reached');
    expect(j.rollbacks.map((r) => r.status)).toEqual(['succeeded']);
    // The interrupted bounded fault restored itself, and the rollback cleared the rest.
    expect(stack.state.workers.paused).toBe(false);
  });

  it('with during-method-only and no fail-fast: records deviations during, finishes the method, skips before/after', async () => {
    const stack = stackWithBreaker();
    const e = experiment([
      outage(),
      { type: 'action', name: 'hold', provider: { type: 'stack', func: 'pause-consumer', arguments: { duration: 0.1 } } },
      { type: 'action', name: 'heal', provider: { type: 'stack', func: 'clear-faults' } },
    ]);
    const j = await runExperiment(e, { targets: { stack }, hypothesisStrategy: 'during-method-only', hypothesisFrequencyMs: 5 });
    expect(j.steady_states.before).toBeNull();
    expect(j.steady_states.after).toBeNull();
    expect(j.steady_states.during.some((d) => !d.steady_state_met)).toBe(true);
    expect(j.run.map((r) => r.activity.name)).toEqual(['payment-outage', 'hold', 'heal']);
    expect(j).toMatchObject({ status: 'failed', deviated: true, reason: 'the steady state deviated during the method' });
  });

  it('fails an activity that outlives its timeout', async () => {
    const stack = stackWithBreaker();
    const e = experiment([{ ...outage({ failureRate: 1, duration: 30 }), timeout: 0.05 }]);
    const j = await runExperiment(e, { targets: { stack } });
    expect(j.run[0]).toMatchObject({ status: 'failed', exception: { message: 'timed out after 0.05s' } });
    // The timed-out bounded fault restores what it changed.
    expect(stack.state.payment.failureRate).toBe(0);
  });

  it('aborts when the target is not set up (no Kubernetes) and names the error', async () => {
    const stack = stackWithBreaker();
    const e = experiment([
      { type: 'action', name: 'kill-pod', provider: { type: 'kubernetes', func: 'delete-pods', arguments: { labelSelector: 'app=orders' } } },
      outage(),
    ]);
    const j = await runExperiment(e, { targets: { stack } });
    expect(j.status).toBe('aborted');
    expect(j.error).toMatchObject({ code: 'SRG_K8S_CONFIG' });
    expect(j.run.map((r) => r.activity.name)).toEqual(['kill-pod']);
    expect(j.rollbacks).toHaveLength(1);
  });

  it('aborts before the method when a steady-state probe cannot reach the stack, and a rollback of nothing is not a failed rollback', async () => {
    const stack = stackWithBreaker();
    stack.down = true;
    const reporter = createRecordingReporter();
    const j = await runExperiment(experiment([outage()]), { targets: { stack }, reporter });
    expect(j).toMatchObject({ status: 'aborted', deviated: false, run: [], error: { code: 'SRG_STACK_UNREACHABLE' } });
    expect(j.reason).toMatch(/^breaker-closed: /);
    // Rollbacks still run (restoring anyway); failing against the same dead target changes nothing.
    expect(j.rollbacks.map((r) => r.status)).toEqual(['failed']);
    expect(j.rollback_failed).toBe(false);
    expect(stack.calls).not.toContain('setPaymentFaults({"failureRate":1})');
    expect(outcomeError(j)?.code).toBe('SRG_STACK_UNREACHABLE');
    expect(reporter.messages.some((m) => /nothing was injected/.test(m.message))).toBe(true);
  });

  it('aborts with SRG_K8S_CONFIG when a steady-state probe has no usable kubeconfig', async () => {
    const e = parseExperiment({
      title: 'pods',
      'steady-state-hypothesis': { title: 'ready', probes: [{ type: 'probe', name: 'pods', tolerance: { type: 'range', range: [2, 10], target: 'ready' }, provider: { type: 'kubernetes', func: 'pods', arguments: { labelSelector: 'app=x' } } }] },
      method: [{ type: 'action', name: 'kill', provider: { type: 'kubernetes', func: 'delete-pods', arguments: { labelSelector: 'app=x' } } }],
    });
    const j = await runExperiment(e, { targets: {} });
    expect(j).toMatchObject({ status: 'aborted', run: [], error: { code: 'SRG_K8S_CONFIG' } });
    expect(outcomeError(j)?.exitCode).toBe(10);
  });

  it('keeps "not steady" for a probe that ran and failed for another reason (no error code)', async () => {
    const stack = stackWithBreaker();
    stack.status = async () => {
      throw new Error('the answer was not understood');
    };
    const j = await runExperiment(experiment([outage()]), { targets: { stack } });
    expect(j).toMatchObject({ status: 'failed', run: [], error: null });
    expect(outcomeError(j)?.code).toBe('SRG_CHAOS_NOT_STEADY');
  });

  it('a rollback that fails after a fault was injected is a failed rollback even when the run then aborted', async () => {
    const stack = stackWithBreaker();
    stack.clearFaults = async () => {
      throw new (await import('../errors.js')).SurgeError('SRG_STACK_ADMIN', 'The stack refused DELETE /admin/faults: HTTP 500');
    };
    const e = experiment([outage(), { type: 'action', name: 'kill-pod', provider: { type: 'kubernetes', func: 'delete-pods', arguments: { labelSelector: 'app=orders' } } }]);
    const j = await runExperiment(e, { targets: { stack } });
    expect(j).toMatchObject({ status: 'aborted', rollback_failed: true, error: { code: 'SRG_K8S_CONFIG' } });
    const err = outcomeError(j);
    expect(err?.code).toBe('SRG_CHAOS_ROLLBACK');
    expect(err?.details.join('\n')).toMatch(/aborted.*kill-pod/);
  });

  it('measures latency and error rate from /metrics over a window', async () => {
    const stack = createFakeStackAdmin();
    const scrapes = [metrics({ ok: 10, err: 0, fast: 10, slow: 0 }), metrics({ ok: 100, err: 10, fast: 60, slow: 50 })];
    let n = 0;
    stack.metricsText = async () => scrapes[Math.min(n++ % 2, 1)] as string;
    const e = parseExperiment({
      title: 'metrics',
      'steady-state-hypothesis': {
        title: 'fast and clean',
        probes: [
          { type: 'probe', name: 'p99', tolerance: 'p(99)<500', provider: { type: 'stack', func: 'acceptance-latency', arguments: { window: 0.01 } } },
        ],
      },
      method: [{ type: 'probe', name: 'errors', tolerance: 'rate<0.05', provider: { type: 'stack', func: 'error-rate', arguments: { window: 0.01 } } }],
    });
    const j = await runExperiment(e, { targets: { stack } });
    const p99 = j.steady_states.before?.probes[0];
    // 100 requests in the window: 50 in (0, 10ms], 50 in (250ms, 500ms]; p99 interpolates to 495 ms.
    const values = (p99?.output as { values: Record<string, number> }).values;
    expect(values.count).toBe(100);
    expect(values['p(99)']).toBeCloseTo(495, 6);
    expect(values['p(50)']).toBeCloseTo(10, 6);
    expect(values.avg).toBeCloseTo(150, 6);
    expect(p99?.tolerance_met).toBe(true);
    expect(j.run[0]?.output).toEqual({ type: 'rate', values: { errors: 10, total: 100, rate: 0.1 } });
    expect(j.run[0]?.tolerance_met).toBe(false);
  });
});

describe('runExperiment with background load', () => {
  const summary = { rate: 20, sent: 40, accepted: 38, rejected: 1, errors: 1, failed: 0, dropped: 0, durationMs: 2000 };

  it('starts the load before the steady state, hands it the drill signal, stops it after the rollbacks and journals its figures', async () => {
    const stack = stackWithBreaker();
    const events: string[] = [];
    const given: LoadOptions[] = [];
    const startLoad = async (o: LoadOptions): Promise<RunningLoad> => {
      given.push(o);
      events.push(`load started (${stack.calls.length} calls before)`);
      return { stop: async () => (events.push(`load stopped (${stack.calls.at(-1)} last)`), summary) };
    };
    const ac = new AbortController();
    const e = experiment([outage({ failureRate: 1, duration: 0.01 })], { load: { rate: 20, maxDuration: 60, warmup: 0.01 } });
    const j = await runExperiment(e, { targets: { stack }, startLoad, signal: ac.signal });
    expect(given).toEqual([{ url: stack.url, rate: 20, maxRequests: 1200, maxDurationMs: 60_000, maxInFlight: 64, signal: ac.signal }]);
    expect(events).toEqual(['load started (0 calls before)', 'load stopped (clearFaults() last)']);
    expect(j.load).toEqual(summary);
    expect(j.status).toBe('completed');
  });

  it('an interrupt during the warm-up stops the load and still rolls back', async () => {
    const stack = stackWithBreaker();
    const ac = new AbortController();
    let stopped = 0;
    const startLoad = async (o: LoadOptions): Promise<RunningLoad> => {
      queueMicrotask(() => ac.abort());
      expect(o.signal).toBe(ac.signal);
      return { stop: async () => (stopped++, summary) };
    };
    const e = experiment([outage()], { load: { rate: 20, warmup: 30 } });
    const j = await runExperiment(e, { targets: { stack }, startLoad, signal: ac.signal });
    expect(j).toMatchObject({ status: 'interrupted', run: [], load: summary, steady_states: { before: null } });
    expect(stopped).toBe(1);
    expect(j.rollbacks.map((r) => r.status)).toEqual(['succeeded']);
  });

  it('a load that cannot start aborts the drill with its error', async () => {
    const stack = stackWithBreaker();
    const startLoad = async (): Promise<RunningLoad> => {
      throw new SurgeError('SRG_STACK_UNREACHABLE', 'load: Cannot reach http://127.0.0.1:8080/v1/inventory');
    };
    const j = await runExperiment(experiment([outage()], { load: { rate: 20 } }), { targets: { stack }, startLoad });
    expect(j).toMatchObject({ status: 'aborted', load: null, run: [], error: { code: 'SRG_STACK_UNREACHABLE' }, rollback_failed: false });
    expect(stack.calls).toEqual(['clearFaults()']);
  });
});

describe('planExperiment', () => {
  it('lists what would run, in order, including during-checks and rollbacks, without touching anything', () => {
    const e = experiment([{ ...outage({ failureRate: 1, duration: 30 }), pauses: { after: 5 } }], { load: { rate: 20 } });
    const plan = planExperiment(e, { hypothesisStrategy: 'continuously' });
    expect(plan.steps.map((s) => `${s.step} ${s.phase} ${s.name}`)).toEqual([
      '1 load background load',
      '2 steady-state-before breaker-closed',
      '3 steady-state-before not-oversold',
      '4 steady-state-during breaker-closed',
      '5 steady-state-during not-oversold',
      '6 method payment-outage',
      '7 steady-state-after breaker-closed',
      '8 steady-state-after not-oversold',
      '9 rollback clear-faults',
    ]);
    expect(plan.steps[5]?.does).toBe('payment gateway: 100% errors for 30s, then restored');
    expect(plan.steps[5]?.notes).toBe('pause 5s after; timeout 90s');
    expect(planExperiment(e, { rollbackStrategy: 'never' }).steps.some((s) => s.phase === 'rollback')).toBe(false);
  });
});

function metrics(c: { ok: number; err: number; fast: number; slow: number }): string {
  const name = 'surgectl_http_request_duration_seconds';
  const l = (status: number) => `route="/v1/orders",method="POST",status_code="${status}"`;
  // All "ok" requests are fast or slow; errors are counted in the fast bucket for simplicity.
  const lines = [`# TYPE ${name} histogram`];
  const bounds = [0.01, 0.25, 0.5, '+Inf'];
  const cumOk = [c.fast - c.err, c.fast - c.err, c.fast - c.err + c.slow, c.ok];
  const cumErr = [c.err, c.err, c.err, c.err];
  bounds.forEach((b, i) => lines.push(`${name}_bucket{le="${b}",${l(202)}} ${cumOk[i]}`));
  bounds.forEach((b, i) => lines.push(`${name}_bucket{le="${b}",${l(503)}} ${cumErr[i]}`));
  lines.push(`${name}_count{${l(202)}} ${c.ok}`, `${name}_sum{${l(202)}} ${c.slow * 0.3}`);
  lines.push(`${name}_count{${l(503)}} ${c.err}`, `${name}_sum{${l(503)}} 0`);
  lines.push(`${name}_count{route="/v1/inventory",method="GET",status_code="500"} 99`);
  return lines.join('\n') + '\n';
}

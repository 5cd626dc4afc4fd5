import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/support/stack.js';
import { createStackAdmin } from '../adapters/stack-admin/stack-admin.js';
import { createRecordingReporter } from '../reporter.js';
import { parseExperiment } from './experiment.js';
import { runExperiment, type ActivityRun, type Journal } from './runner.js';

/**
 * Drills against the REAL bundled stack (startStack in this process, real sockets): the payment
 * gateway fails, the breaker opens, the drill heals it and the steady state comes back; and a
 * drill whose hypothesis deviates still rolls back. Tolerances on latency are generous on
 * purpose: this proves behaviour, not speed.
 */
let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.dispose();
  stack = undefined;
});

const hypothesis = {
  title: 'orders are taken quickly, nothing is oversold, payments flow',
  probes: [
    { type: 'probe', name: 'acceptance-p99', tolerance: 'p(99)<2000', provider: { type: 'stack', func: 'acceptance-latency', arguments: { window: '2s' } } },
    { type: 'probe', name: 'intake-errors', tolerance: 'rate<0.01', provider: { type: 'stack', func: 'error-rate', arguments: { window: '2s' } } },
    { type: 'probe', name: 'not-oversold', tolerance: 0, provider: { type: 'stack', func: 'oversold' } },
    { type: 'probe', name: 'breaker-closed', tolerance: 'closed', provider: { type: 'stack', func: 'breaker-state' } },
  ],
};
const clearFaults = { type: 'action', name: 'clear-faults', provider: { type: 'stack', func: 'clear-faults' } };

function activityNames(runs: ActivityRun[]): string[] {
  return runs.map((r) => r.activity.name);
}

function expectJournaled(runs: ActivityRun[]): void {
  for (const r of runs) {
    expect(r).toEqual(
      expect.objectContaining({ activity: expect.any(Object), status: expect.stringMatching(/^(succeeded|failed)$/), start: expect.any(String), end: expect.any(String), duration: expect.any(Number) }),
    );
    expect('output' in r && 'exception' in r).toBe(true);
  }
}

async function drill(doc: Record<string, unknown>): Promise<{ journal: Journal; messages: string[] }> {
  stack = await startTestStack({ seedInventory: 5_000, workers: 4 });
  const admin = createStackAdmin({ url: stack.url, token: stack.adminToken });
  const reporter = createRecordingReporter();
  const journal = await runExperiment(parseExperiment(doc), { targets: { stack: admin }, reporter });
  return { journal, messages: reporter.messages.map((m) => m.message) };
}

describe('chaos drill against the real bundled stack', () => {
  it('payment outage: the breaker opens during it, the steady state recovers after, rollbacks run', async () => {
    const { journal, messages } = await drill({
      title: 'Payment gateway outage',
      load: { rate: 20, maxDuration: 90 },
      'steady-state-hypothesis': hypothesis,
      method: [
        {
          type: 'action',
          name: 'payment-outage',
          background: true,
          provider: { type: 'stack', func: 'payment-fault', arguments: { failureRate: 1, duration: '6s' } },
        },
        {
          type: 'probe',
          name: 'breaker-opens',
          tolerance: 'open',
          provider: { type: 'stack', func: 'breaker-state', arguments: { until: 'open', timeout: '30s' } },
        },
        {
          type: 'probe',
          name: 'breaker-closes-again',
          tolerance: 'closed',
          provider: { type: 'stack', func: 'breaker-state', arguments: { until: 'closed', timeout: '60s' } },
        },
      ],
      rollbacks: [clearFaults],
    });

    expect(journal.status, journal.reason ?? '').toBe('completed');
    expect(journal.deviated).toBe(false);
    expect(journal.error).toBeNull();

    // The steady state held before and recovered after, each probe with a real measurement.
    const before = journal.steady_states.before;
    const after = journal.steady_states.after;
    expect(before?.steady_state_met).toBe(true);
    expect(after?.steady_state_met).toBe(true);
    for (const ss of [before, after]) {
      expect(activityNames(ss?.probes ?? [])).toEqual(['acceptance-p99', 'intake-errors', 'not-oversold', 'breaker-closed']);
      const latency = ss?.probes[0]?.output as { values: Record<string, number> };
      expect(latency.values.count).toBeGreaterThan(0);
      expect(latency.values['p(99)']).toBeGreaterThan(0);
      expect((ss?.probes[1]?.output as { values: { total: number } }).values.total).toBeGreaterThan(0);
      expect(ss?.probes[2]?.output).toBe(0);
    }

    // The breaker opened during the outage and closed again once the gateway was healed.
    const byName = new Map(journal.run.map((r) => [r.activity.name, r]));
    expect(byName.get('breaker-opens')).toMatchObject({ status: 'succeeded', output: 'open', tolerance_met: true });
    expect(byName.get('breaker-closes-again')).toMatchObject({ status: 'succeeded', output: 'closed', tolerance_met: true });
    expect(byName.get('payment-outage')).toMatchObject({
      status: 'succeeded',
      output: { previous: { failureRate: 0 }, applied: { failureRate: 1 }, restored: { failureRate: 0 } },
    });
    expect(Date.parse(byName.get('breaker-opens')?.end ?? '')).toBeLessThanOrEqual(Date.parse(byName.get('breaker-closes-again')?.start ?? ''));

    // The journal is complete and rollbacks ran against the stack.
    expectJournaled([...journal.run, ...journal.rollbacks, ...(before?.probes ?? []), ...(after?.probes ?? [])]);
    expect(activityNames(journal.rollbacks)).toEqual(['clear-faults']);
    expect(journal.rollbacks[0]?.status).toBe('succeeded');
    expect(journal.rollback_failed).toBe(false);
    expect(journal.load?.sent).toBeGreaterThan(0);
    expect(journal.load?.accepted).toBeGreaterThan(0);
    expect(journal.load?.errors).toBe(0);
    expect(messages).toContain('steady state after: met');

    // Nothing was oversold and the payment side is back to its configured values.
    const status = await createStackAdmin({ url: stack!.url, token: stack!.adminToken }).status();
    expect(status.oversold).toBe(0);
    expect(status.payment?.failureRate).toBe(0);
  }, 150_000);

  it('deviated hypothesis: status failed, deviated flagged, and rollbacks still restore the stack', async () => {
    const { journal } = await drill({
      title: 'Payment outage that is never healed by the method',
      load: { rate: 20, maxDuration: 60 },
      'steady-state-hypothesis': hypothesis,
      method: [
        { type: 'action', name: 'payment-outage', provider: { type: 'stack', func: 'payment-fault', arguments: { failureRate: 1 } } },
        { type: 'action', name: 'drop-half', provider: { type: 'stack', func: 'drop-requests', arguments: { ratio: 0.5 } } },
        { type: 'probe', name: 'breaker-opens', tolerance: 'open', provider: { type: 'stack', func: 'breaker-state', arguments: { until: 'open', timeout: '30s' } } },
      ],
      rollbacks: [clearFaults],
    });

    expect(journal.status).toBe('failed');
    expect(journal.deviated).toBe(true);
    expect(journal.steady_states.before?.steady_state_met).toBe(true);
    const after = journal.steady_states.after;
    expect(after?.steady_state_met).toBe(false);
    const byName = new Map((after?.probes ?? []).map((p) => [p.activity.name, p]));
    // Dropped requests show up as intake errors, and the breaker is still open.
    expect(byName.get('intake-errors')?.tolerance_met).toBe(false);
    expect((byName.get('intake-errors')?.output as { values: { rate: number } }).values.rate).toBeGreaterThan(0.01);
    expect(byName.get('breaker-closed')).toMatchObject({ tolerance_met: false, output: 'open' });

    expect(journal.rollbacks.map((r) => [r.activity.name, r.status])).toEqual([['clear-faults', 'succeeded']]);
    expectJournaled([...journal.run, ...journal.rollbacks]);
    const status = await createStackAdmin({ url: stack!.url, token: stack!.adminToken }).status();
    expect(status.payment?.failureRate).toBe(0);
    expect(status.faults.dropRatio).toBe(0);
    expect(status.oversold).toBe(0);
  }, 120_000);
});

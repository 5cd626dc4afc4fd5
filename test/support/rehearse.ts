import { connect } from 'node:net';
import type { StackStatus } from '../../src/adapters/stack-admin/port.js';
import type { DrillJournal, LoadOutcome, RehearsalReport } from '../../src/rehearse/report.js';

/** True when nothing listens on the URL's port any more (the connection is refused). */
export function portClosed(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}

/** Every restore check of a report, as one object for a readable assertion. */
export function restoreOf(r: RehearsalReport): Record<string, unknown> {
  return { ...r.restore, gate: r.gates.find((g) => g.id === 'restored')?.status };
}

/** A stack status with these order counts (and the rest idle): the stack before or after a load. */
export function stackStatus(byStatus: Record<string, number>, extra: Partial<Pick<StackStatus, 'oversold' | 'breaker'>> & { depth?: number } = {}): StackStatus {
  return {
    intake: { paused: false, draining: false },
    workers: { size: 4, busy: 0, paused: false },
    queue: { depth: extra.depth ?? 0, oldestWaitingMs: 0 },
    orders: { byStatus },
    oversold: extra.oversold ?? 0,
    breaker: extra.breaker ?? 'closed',
    payment: { failureRate: 0, latencyMs: 5 },
    faults: { dropRatio: 0 },
    color: null,
  };
}

/** When the load of the fixtures began: 2026-11-27T03:00:00Z. */
export const LOAD_START = Date.UTC(2026, 10, 27, 3);

/** An ISO time `s` seconds after {@link LOAD_START}. */
export const atS = (s: number): string => new Date(LOAD_START + s * 1000).toISOString();

/** A drill that went to plan: steady before and after, the outage from 4 s to 10 s, one rollback. */
export function completedDrill(): DrillJournal {
  const probe = (met: boolean, message?: string) => ({
    activity: { name: 'intake-latency' },
    tolerance_met: met,
    ...(message ? { tolerance_result: { message } } : {}),
    exception: null,
  });
  return {
    status: 'completed',
    deviated: false,
    steady_states: { before: { steady_state_met: true, probes: [probe(true)] }, after: { steady_state_met: true, probes: [probe(true)] } },
    run: [{ activity: { name: 'payment-outage' }, start: atS(4), end: atS(10) }],
    rollbacks: [{}],
    rollback_failed: false,
    reason: null,
  };
}

/** A load test of 20 s at 50/s: 1000 requests, p95 12.345 ms, p99 40.678 ms, none failed or dropped. */
export function loadOutcome(over: Partial<LoadOutcome> = {}): LoadOutcome {
  return {
    summary: {
      metrics: {
        http_reqs: { values: { count: 1000, rate: 49.996 } },
        http_req_duration: { values: { med: 4.321, 'p(95)': 12.345, 'p(99)': 40.678 } },
        http_req_failed: { values: { rate: 0 } },
        dropped_iterations: { values: { count: 0 } },
      },
    },
    scenarios: [{ scheduled: 1000, dropped: 0 }],
    timeline: [{ t: 1, requests: 50, failed: 0, dropped: 0, p95Ms: 10.004, p99Ms: 20.006 }],
    durationMs: 20_012.4,
    warnings: [],
    ...over,
  };
}

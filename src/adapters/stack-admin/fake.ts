import { SurgeError } from '../../errors.js';
import type { PaymentFaults, StackAdminPort, StackStatus } from './port.js';

/** Knobs a test turns on the fake to shape what the probes see. */
export interface FakeStackAdmin extends StackAdminPort {
  /** The state the fake reports; tests may change it directly. */
  readonly state: StackStatus;
  /** Exposition text GET /metrics returns. */
  metrics: string;
  /** Every call made, in order, e.g. `setDropRatio(0.5)`. */
  readonly calls: string[];
  /** When set, every call rejects with SRG_STACK_UNREACHABLE (the stack is "down"). */
  down: boolean;
}

/** An in-memory stand-in for the stack admin API, for unit tests of the runner and providers. */
export function createFakeStackAdmin(init: { url?: string; payment?: PaymentFaults } = {}): FakeStackAdmin {
  const configured: PaymentFaults = init.payment ?? { failureRate: 0, latencyMs: 5 };
  const state: StackStatus = {
    intake: { paused: false, draining: false },
    workers: { size: 8, busy: 0, paused: false },
    queue: { depth: 0, oldestWaitingMs: 0 },
    orders: { byStatus: {} },
    oversold: 0,
    breaker: 'closed',
    payment: { ...configured },
    faults: { dropRatio: 0 },
  };
  const fake: FakeStackAdmin = {
    url: init.url ?? 'http://127.0.0.1:8080',
    state,
    metrics: '',
    calls: [],
    down: false,
    status: () => op('status()', () => structuredClone(state)),
    metricsText: () => op('metricsText()', () => fake.metrics),
    setWorkers: (count) =>
      op(`setWorkers(${count})`, () => {
        if (!Number.isInteger(count) || count < 0 || count > 512) throw admin('count must be an integer 0..512');
        state.workers.size = count;
        return { size: count };
      }),
    killWorker: () =>
      op('killWorker()', () => {
        if (state.workers.size === 0) return { killed: false };
        return { killed: true };
      }),
    pauseConsumer: () => op('pauseConsumer()', () => ({ paused: (state.workers.paused = true) })),
    resumeConsumer: () => op('resumeConsumer()', () => ({ paused: (state.workers.paused = false) })),
    setDropRatio: (ratio) =>
      op(`setDropRatio(${ratio})`, () => {
        if (!(ratio >= 0 && ratio <= 1)) throw admin('ratio must be 0..1');
        state.faults.dropRatio = ratio;
        return { dropRatio: ratio };
      }),
    paymentFaults: () => op('paymentFaults()', () => ({ ...state.payment })),
    setPaymentFaults: (faults) =>
      op(`setPaymentFaults(${JSON.stringify(faults)})`, () => {
        if (faults.failureRate !== undefined && !(faults.failureRate >= 0 && faults.failureRate <= 1)) throw admin('failureRate must be 0..1');
        if (faults.latencyMs !== undefined && !(faults.latencyMs >= 0)) throw admin('latencyMs must be >= 0');
        Object.assign(state.payment, faults);
        return { ...state.payment };
      }),
    restartStore: () => op('restartStore()', () => ({ restarted: true, downtimeMs: 1 })),
    clearFaults: () =>
      op('clearFaults()', () => {
        state.faults.dropRatio = 0;
        state.workers.paused = false;
        state.payment = { ...configured };
        return structuredClone(state);
      }),
  };

  async function op<T>(name: string, fn: () => T): Promise<T> {
    fake.calls.push(name);
    if (fake.down) throw new SurgeError('SRG_STACK_UNREACHABLE', `The stack at ${fake.url} did not answer ${name}`);
    return fn();
  }
  return fake;
}

function admin(message: string): SurgeError {
  return new SurgeError('SRG_STACK_ADMIN', `The stack refused the request: HTTP 400 ${message}`);
}

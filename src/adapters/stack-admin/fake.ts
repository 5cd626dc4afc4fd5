import { SurgeError } from '../../errors.js';
import type { CallOptions, InventoryItem, PaymentFaults, StackAdminPort, StackFlag, StackStatus } from './port.js';

/** Knobs a test turns on the fake to shape what the probes see. */
export interface FakeStackAdmin extends StackAdminPort {
  /** The state the fake reports; tests may change it directly. The fake always has a payment gateway. */
  readonly state: StackStatus & { payment: PaymentFaults };
  /** Exposition text GET /metrics returns. */
  metrics: string;
  /** Stock GET /v1/inventory returns; tests may change it. Default: two skus of 10 units. */
  stock: InventoryItem[];
  /** Every call made, in order, e.g. `setDropRatio(0.5)`. */
  readonly calls: string[];
  /** When set, every call rejects with SRG_STACK_UNREACHABLE (the stack is "down"). */
  down: boolean;
}

/** A flag the fake knows: its default, and the value an override set, if any. */
interface FakeFlag {
  name: string;
  defaultEnabled: boolean;
  description: string;
  override?: boolean;
}

/** The bundled stack's flags (order-core/flags.ts), all on by default. */
const STACK_FLAGS: readonly Omit<FakeFlag, 'override'>[] = [
  { name: 'order-notifications', defaultEnabled: true, description: 'Write an order-confirmed notification to the outbox after confirm.' },
  { name: 'recommendations', defaultEnabled: true, description: 'Add best-selling in-stock skus to the order-confirmed notification.' },
  { name: 'loyalty-points', defaultEnabled: true, description: 'Credit loyalty points (one per whole currency unit) when an order is confirmed.' },
];

/** An in-memory stand-in for the stack admin API, for unit tests of the runner, providers and watch loop. */
export function createFakeStackAdmin(
  init: { url?: string; payment?: PaymentFaults; flags?: readonly { name: string; defaultEnabled: boolean; description?: string }[]; color?: 'blue' | 'green' } = {},
): FakeStackAdmin {
  const configured: PaymentFaults = init.payment ?? { failureRate: 0, latencyMs: 5 };
  const state: FakeStackAdmin['state'] = {
    intake: { paused: false, draining: false },
    workers: { size: 8, busy: 0, paused: false },
    queue: { depth: 0, oldestWaitingMs: 0 },
    orders: { byStatus: { accepted: 0, reserved: 0, payment_pending: 0, paid: 0, confirmed: 0, sold_out: 0, payment_failed: 0, cancelled: 0 } },
    oversold: 0,
    breaker: 'closed',
    payment: { ...configured },
    faults: { dropRatio: 0 },
    color: init.color ?? null,
  };
  const flags: FakeFlag[] = (init.flags ?? STACK_FLAGS).map((f) => ({ name: f.name, defaultEnabled: f.defaultEnabled, description: f.description ?? '' }));
  // GET /admin/flags' refreshedAt for the local source: the start or the last change.
  let flagsChangedAt = new Date().toISOString();
  const shown = (f: FakeFlag): StackFlag => ({ name: f.name, enabled: f.override ?? f.defaultEnabled, overridden: f.override !== undefined, description: f.description });
  const flag = (name: string): FakeFlag => {
    const f = flags.find((x) => x.name === name);
    if (f === undefined) {
      throw new SurgeError('SRG_STACK_UNKNOWN_FLAG', `The stack at ${fake.url} has no flag named '${name}'`, {
        hint: `known flags: ${flags.map((x) => x.name).join(', ') || '(none)'}`,
      });
    }
    return f;
  };

  const fake: FakeStackAdmin = {
    url: init.url ?? 'http://127.0.0.1:8080',
    state,
    metrics: '',
    stock: [
      { sku: 'SKU-0001', available: 10, reserved: 0, sold: 0 },
      { sku: 'SKU-0002', available: 10, reserved: 0, sold: 0 },
    ],
    calls: [],
    down: false,
    status: (o?: CallOptions) => op('status()', () => structuredClone(state), o?.signal),
    metricsText: () => op('metricsText()', () => fake.metrics),
    inventory: (o?: CallOptions) => op('inventory()', () => structuredClone(fake.stock), o?.signal),
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
    pauseIntake: () => op('pauseIntake()', () => ({ paused: (state.intake.paused = true) })),
    resumeIntake: () => op('resumeIntake()', () => ({ paused: (state.intake.paused = false) })),
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
    flags: () => op('flags()', () => flags.map(shown)),
    flagList: (o = {}) => op('flagList()', () => ({ flags: flags.map(shown), source: 'local' as const, refreshedAt: flagsChangedAt, instance: `fake:${fake.url}` }), o.signal),
    setFlag: (name, enabled) =>
      op(`setFlag(${name}, ${enabled})`, () => {
        const f = flag(name);
        f.override = enabled;
        flagsChangedAt = new Date().toISOString();
        return shown(f);
      }),
    clearFlag: (name) =>
      op(`clearFlag(${name})`, () => {
        const f = flag(name);
        delete f.override;
        flagsChangedAt = new Date().toISOString();
        return shown(f);
      }),
  };

  async function op<T>(name: string, fn: () => T, signal?: AbortSignal): Promise<T> {
    fake.calls.push(name);
    if (signal?.aborted) throw new SurgeError('SRG_CLI_INTERRUPTED', `Interrupted while asking the stack at ${fake.url} (${name})`);
    if (fake.down) throw new SurgeError('SRG_STACK_UNREACHABLE', `No stack answered ${name} at ${fake.url}`);
    return fn();
  }
  return fake;
}

function admin(message: string): SurgeError {
  return new SurgeError('SRG_STACK_ADMIN', `The stack refused the request: HTTP 400 ${message}`);
}

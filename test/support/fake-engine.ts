import type { OrderStatus, OrderView, InventoryItem } from '../../src/order-core/domain/types.js';
import { ORDER_STATUSES } from '../../src/order-core/domain/types.js';
import type { OrderEngine } from '../../src/order-core/engine.js';
import type { BreakerState } from '../../src/order-core/resilience/circuit-breaker.js';
import { StoreUnavailable } from '../../src/order-core/domain/outcomes.js';
import type { AcceptOutcome, AcceptRequest, OrderReads, StoreStats } from '../../src/order-core/storage/ports.js';

/**
 * An in-memory OrderEngine for unit tests of the HTTP layer with inject(). It has no pipeline:
 * orders stay `accepted` unless a test moves them. Never use it to prove the stack works.
 */
export function createFakeEngine(opts: { skus?: Record<string, number>; queueDepth?: number } = {}) {
  const inventory = new Map<string, InventoryItem>(
    Object.entries(opts.skus ?? { 'SKU-1': 100, 'SKU-2': 5 }).map(([sku, n]) => [sku, { sku, available: n, reserved: 0, sold: 0 }]),
  );
  const orders = new Map<string, OrderView>();
  const byKey = new Map<string, { hash: string; orderId: string }>();
  const accepted: AcceptRequest[] = [];
  let seq = 0;
  let healthy = true;
  let failAccept = false;
  /** GET /v1/orders/:id meets a networked store that does not answer (StoreUnavailable). */
  let unavailable = false;
  let extraDepth = opts.queueDepth ?? 0;
  let poolSize = 4;
  let poolPaused = false;
  let breaker: BreakerState = 'closed';
  const flags = new Map<string, { def: boolean; override?: boolean; description: string }>([
    ['checkout.express', { def: true, description: 'express checkout' }],
  ]);

  const store: OrderReads = {
    async accept(req): Promise<AcceptOutcome> {
      if (failAccept) throw new Error('disk on fire');
      const prev = byKey.get(req.idempotencyKey);
      if (prev) {
        if (prev.hash !== req.requestHash) return { kind: 'conflict', orderId: prev.orderId };
        return { kind: 'existing', order: orders.get(prev.orderId)! };
      }
      const unknown = req.order.items.map((i) => i.sku).filter((s) => !inventory.has(s));
      if (unknown.length > 0) return { kind: 'unknown_sku', skus: [...new Set(unknown)] };
      const orderId = `ord_${++seq}`;
      const at = new Date(0).toISOString();
      const order: OrderView = {
        orderId,
        customerId: req.order.customerId,
        items: req.order.items,
        status: 'accepted',
        history: [{ status: 'accepted', at }],
        createdAt: at,
        updatedAt: at,
      };
      orders.set(orderId, order);
      byKey.set(req.idempotencyKey, { hash: req.requestHash, orderId });
      accepted.push(req);
      return { kind: 'created', order };
    },
    getOrder: async (id) => {
      if (unavailable) throw new StoreUnavailable('the order store is unavailable: fake outage', undefined);
      return orders.get(id);
    },
    listInventory: async () => [...inventory.values()],
    async stats(): Promise<StoreStats> {
      const byStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
      for (const o of orders.values()) byStatus[o.status]++;
      return { queueDepth: byStatus.accepted + extraDepth, oldestWaitingMs: 0, byStatus, oversold: 0 };
    },
    queueDepth() {
      return [...orders.values()].filter((o) => o.status === 'accepted').length + extraDepth;
    },
    async cancel(id) {
      const o = orders.get(id);
      if (!o || o.status === 'paid' || o.status === 'confirmed' || o.status === 'sold_out' || o.status === 'payment_failed') return false;
      o.status = 'cancelled';
      o.history.push({ status: 'cancelled', at: new Date(0).toISOString() });
      return true;
    },
    isHealthy: () => healthy,
    close: async () => undefined,
  };

  const engine: OrderEngine = {
    store,
    pool: {
      size: () => poolSize,
      setSize: (n) => void (poolSize = n),
      busy: () => 0,
      pause: () => void (poolPaused = true),
      resume: () => void (poolPaused = false),
      isPaused: () => poolPaused,
      killWorker: () => ({ killed: true }),
      throughputPerSec: () => 100,
      drain: async () => ({ drained: true, inFlight: 0 }),
    },
    payments: { breakerState: () => breaker },
    flags: {
      source: 'local',
      refreshedAt: () => 0,
      isEnabled: (n) => {
        const f = flags.get(n);
        return f ? (f.override ?? f.def) : false;
      },
      list: () => [...flags].map(([name, f]) => ({ name, enabled: f.override ?? f.def, overridden: f.override !== undefined, description: f.description })),
      set: async (n, e) => {
        const f = flags.get(n);
        if (f) f.override = e;
      },
      clear: async (n) => {
        const f = flags.get(n);
        if (f) delete f.override;
      },
    },
    close: async () => undefined,
  };

  return {
    engine,
    /** Every accept request the store committed, in order. */
    accepted,
    orders,
    setHealthy: (h: boolean) => void (healthy = h),
    setFailAccept: (f: boolean) => void (failAccept = f),
    setUnavailable: (u: boolean) => void (unavailable = u),
    setExtraDepth: (n: number) => void (extraDepth = n),
    setBreaker: (b: BreakerState) => void (breaker = b),
    setStatus(orderId: string, status: OrderStatus) {
      const o = orders.get(orderId);
      if (o) o.status = status;
    },
  };
}

export type FakeEngine = ReturnType<typeof createFakeEngine>;

/* global process */
// The HTTP layer alone: the real order API (validation, idempotency hash, rate/shed checks,
// metrics, logging to a file) over an in-memory store that commits at once. Run by
// bench/intake.mjs to split the intake cost between the API and the durable store.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from '../dist/src/order-core/api/app.js';
import { createStackLogger } from '../dist/src/order-core/logger.js';
import { createStackMetrics } from '../dist/src/order-core/metrics.js';

const orders = new Map();
const keys = new Map();
let seq = 0;
const byStatus = { accepted: 0, reserved: 0, payment_pending: 0, paid: 0, confirmed: 0, sold_out: 0, payment_failed: 0, cancelled: 0 };
const store = {
  async accept(req) {
    const prev = keys.get(req.idempotencyKey);
    if (prev) return prev.hash === req.requestHash ? { kind: 'existing', order: orders.get(prev.id) } : { kind: 'conflict', orderId: prev.id };
    // Bounded, like a store that keeps its data on disk: an ever-growing heap would bill GC to the API.
    if (orders.size >= 10_000) {
      orders.clear();
      keys.clear();
    }
    const id = `ord_${++seq}`;
    const at = new Date().toISOString();
    const order = { orderId: id, customerId: req.order.customerId, items: req.order.items, status: 'accepted', history: [{ status: 'accepted', at }], createdAt: at, updatedAt: at, queuePosition: 1 };
    orders.set(id, order);
    keys.set(req.idempotencyKey, { hash: req.requestHash, id });
    return { kind: 'created', order };
  },
  getOrder: (id) => orders.get(id),
  listInventory: () => [],
  stats: () => ({ queueDepth: 0, oldestWaitingMs: 0, byStatus, oversold: 0 }),
  queueDepth: () => 0,
  cancel: () => false,
  isHealthy: () => true,
  close: async () => {},
};
const engine = {
  store,
  pool: { size: () => 0, setSize() {}, busy: () => 0, pause() {}, resume() {}, isPaused: () => false, killWorker: () => ({ killed: false }), throughputPerSec: () => 0, drain: async () => ({ drained: true, inFlight: 0 }) },
  payments: { breakerState: () => 'closed' },
  flags: { isEnabled: () => false, list: () => [], set() {}, clear() {} },
  close: async () => {},
};
const logger = createStackLogger({ level: 'info', destination: join(mkdtempSync(join(tmpdir(), 'surgectl-apibench-')), 'api.log') });
const app = await buildApi({ engine, metrics: createStackMetrics(), logger, adminToken: 'x'.repeat(32), rateLimit: 'off', maxBacklog: 1e9 });
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${app.server.address().port}` }) + '\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));

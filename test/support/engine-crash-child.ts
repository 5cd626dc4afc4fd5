// Child process for the SIGKILL test: runs the real engine on a data dir and accepts orders as
// fast as it can, printing "ACK <orderId>" only after each accept resolved (= committed).
// Bounded: at most MAX_ORDERS orders and MAX_MS of run time.
import { pino } from 'pino';
import { StackConfigSchema } from '../../src/config/schema.js';
import { requestHash } from '../../src/order-core/domain/idempotency.js';
import { createStackMetrics } from '../../src/order-core/metrics.js';
import { createEngine } from '../../src/order-core/pipeline/create-engine.js';
import { CHARGE_TOKEN } from './order-engine.js';

const [dataDir, paymentUrl] = process.argv.slice(2);
if (dataDir === undefined || paymentUrl === undefined) throw new Error('usage: engine-crash-child <dataDir> <paymentUrl>');
const MAX_ORDERS = 4_000;
const MAX_MS = 20_000;

const { store: _store, storePool: _storePool, ...settings } = StackConfigSchema.parse({ dataDir, workers: 4, leaseMs: 2_000, seedInventory: 150, paymentTimeoutMs: 1_000 });
const engine = await createEngine({
  ...settings,
  paymentUrl,
  paymentAuthToken: CHARGE_TOKEN,
  logger: pino({ level: 'silent' }),
  metrics: createStackMetrics({ defaultMetrics: false }),
});
process.stdout.write('READY\n');
const started = Date.now();
let n = 0;
while (n < MAX_ORDERS && Date.now() - started < MAX_MS) {
  const batch = Array.from({ length: 20 }, () => {
    const order = { customerId: `c${n}`, items: [{ sku: 'SKU-0001', qty: 1 }] };
    const key = `crash-${process.pid}-${n++}`;
    return engine.store.accept({ order, idempotencyKey: key, requestHash: requestHash(order) }).then((o) => {
      if (o.kind === 'created') process.stdout.write(`ACK ${o.order.orderId}\n`);
    });
  });
  await Promise.all(batch);
}
await engine.close();

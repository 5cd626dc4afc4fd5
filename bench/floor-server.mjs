/* global process, setImmediate */
// The floor of a durable intake: the ceiling's fastify route plus the least any durable order
// endpoint must do — insert the order into SQLite (WAL), group-committed, and answer only after
// an fdatasync of the WAL — with no validation, idempotency, metrics or logging. Run by
// bench/intake.mjs: no implementation of the order API can be faster than this on the machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { WalSync } from '../dist/src/order-core/storage/sqlite/wal-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'surgectl-floor-'));
const db = new Database(join(dir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE orders (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO orders (body) VALUES (?)');
// the store's own WAL syncer: one fdatasync in flight, commits made meanwhile share the next
const wal = new WalSync(join(dir, 'floor.db-wal'));
const commitAll = db.transaction((bodies) => bodies.map((b) => insert.run(b).lastInsertRowid));

let queue = [];
function flush() {
  const batch = queue;
  queue = [];
  const ids = commitAll(batch.map((o) => o.body));
  wal.sync().then(
    () => batch.forEach((o, i) => o.resolve(ids[i])),
    (err) => batch.forEach((o) => o.reject(err)),
  );
}
const commit = (body) =>
  new Promise((resolve, reject) => {
    if (queue.push({ body, resolve, reject }) === 1) setImmediate(flush);
  });

const app = Fastify({ logger: false });
app.post('/v1/orders', async (req, reply) => {
  const seq = await commit(JSON.stringify(req.body));
  const id = `ord_${seq}`;
  return reply.code(202).send({ orderId: id, status: 'accepted', statusUrl: `/v1/orders/${id}`, queuePosition: 1, estimatedWaitMs: null });
});
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${app.server.address().port}` }) + '\n');
process.on('SIGTERM', () =>
  app.close().then(() => {
    wal.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }),
);

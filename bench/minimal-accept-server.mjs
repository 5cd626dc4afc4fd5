/* global process, setImmediate, URL, Buffer */
// The least a durable, idempotent order intake can do, as a diagnostic row of bench/intake.mjs
// (BENCH_MINIMAL=1): raw node:http (no framework), JSON.parse and a type check (no schema, no
// proto-safe parser, no UTF-8 check), the stack's request hash and order id, an in-memory key
// map, one group-committed INSERT of the stack's intake-journal row and an fdatasync of the WAL
// before the 202 (the stack's WalSync), the stack's answer headers. No metrics, no log, no
// backlog, no replay. With `--thread` the SQLite work runs on its own thread (one message per
// event-loop turn each way): what taking the store off the event loop would buy at best.
// Prints {"url"} like the other bench servers; SIGTERM stops it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { newOrderId, requestHash } from '../dist/src/order-core/domain/idempotency.js';
import { migrate } from '../dist/src/order-core/storage/sqlite/schema.js';
import { WalSync } from '../dist/src/order-core/storage/sqlite/wal-sync.js';

/** The journal: the stack's schema and intake table, one group-committed INSERT per order, fdatasync per group. */
function openJournal(dir) {
  const db = new Database(join(dir, 'orders.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // the stack's own schema, so the row written is the stack's intake-journal row
  migrate(db);
  db.prepare('SELECT 1').get();
  const insert = db.prepare(
    'INSERT INTO intake (id, idem_key, request_hash, customer_id, items, payment_token, client_id, amount_cents, created_at, trace_parent) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL)',
  );
  const wal = new WalSync(join(dir, 'orders.db-wal'));
  const commit = db.transaction((rows) => {
    for (const r of rows) insert.run(r[0], r[1], r[2], r[3], r[4], r[5], 100, r[6]);
  });
  return {
    /** Commits `rows`, resolves once they are on disk. */
    write: (rows) => {
      commit(rows);
      return wal.sync();
    },
    close: () => {
      wal.close();
      db.close();
    },
  };
}

if (!isMainThread) {
  const journal = openJournal(workerData.dir);
  parentPort.on('message', (m) => {
    if (m === 'close') {
      journal.close();
      parentPort.close();
      return;
    }
    journal.write(m.rows).then(() => parentPort.postMessage(m.group));
  });
} else {
  const dir = mkdtempSync(join(tmpdir(), 'surgectl-minimal-'));
  const threaded = process.argv.includes('--thread');
  let write;
  let stop;
  if (threaded) {
    const worker = new Worker(new URL(import.meta.url), { workerData: { dir } });
    const waiting = new Map();
    let groups = 0;
    worker.on('message', (group) => {
      const done = waiting.get(group);
      waiting.delete(group);
      done();
    });
    write = (rows) =>
      new Promise((resolve) => {
        const group = ++groups;
        waiting.set(group, resolve);
        worker.postMessage({ group, rows });
      });
    stop = () => worker.postMessage('close');
  } else {
    const journal = openJournal(dir);
    write = journal.write;
    stop = journal.close;
  }

  let rows = [];
  let answers = [];
  const flush = () => {
    const group = answers;
    write(rows).then(() => group.forEach((answer) => answer()));
    rows = [];
    answers = [];
  };
  const keys = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const order = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string' || typeof order.customerId !== 'string' || !Array.isArray(order.items)) {
        res.writeHead(400);
        res.end();
        return;
      }
      const now = Date.now();
      const hash = requestHash(order);
      const id = newOrderId(now);
      keys.set(key, { id, hash });
      if (rows.push([id, key, hash, order.customerId, JSON.stringify(order.items), req.socket.remoteAddress, now]) === 1) setImmediate(flush);
      answers.push(() => {
        const statusUrl = `/v1/orders/${id}`;
        const body = JSON.stringify({ orderId: id, status: 'accepted', statusUrl, queuePosition: keys.size, estimatedWaitMs: null });
        res.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-request-id': randomUUID(), location: statusUrl });
        res.end(body);
      });
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }) + '\n'));
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => {
      stop();
      setImmediate(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
    });
  });
}

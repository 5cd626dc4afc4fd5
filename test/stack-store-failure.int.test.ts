import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../src/order-core/api/app.js';
import { acceptRequest, silentLogger, stackConfig, startEngine, startGateway, tempDir } from './support/order-engine.js';
import { waitFor } from './support/stack.js';

/**
 * A store that cannot write (disk full, I/O error) makes /readyz answer 503 over a real socket,
 * and ready again once a write succeeds. The failure is injected into the store's group commit.
 */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each([
  ['SQLITE_FULL', 'database or disk is full'],
  ['SQLITE_IOERR_WRITE', 'disk I/O error'],
])('a store whose writes fail with %s', (code, message) => {
  it('is not ready (503) while writes fail, and ready again once one succeeds', async () => {
    const tmp = tempDir('surgectl-store-fail-');
    cleanups.push(() => tmp.remove());
    const gateway = await startGateway(tmp.dir);
    cleanups.push(() => gateway.close());
    let diskFull = false;
    const engine = await startEngine(stackConfig({ dataDir: tmp.dir, workers: 0, seedInventory: 10 }), gateway.url, {
      beforeGroupCommit: () => {
        if (diskFull) throw new Database.SqliteError(message, code);
      },
    });
    cleanups.push(() => engine.close({ drainTimeoutMs: 0 }));
    const app = await buildApi({ engine, metrics: engine.metrics, logger: silentLogger(), adminToken: 'x'.repeat(20), rateLimit: 'off', maxBacklog: 1000 });
    cleanups.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const readyz = async () => {
      const res = await fetch(`${url}/readyz`);
      return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
    };
    const order = { customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] };
    expect((await readyz()).status).toBe(200);

    diskFull = true;
    await expect(engine.store.accept(acceptRequest(order))).rejects.toThrow(message);
    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(notReady.body.error).toMatchObject({ code: 'ORDER_STORE_UNAVAILABLE', message: expect.stringContaining('store unavailable') });
    // an order now is refused as an outage (retry with the same key), not acknowledged
    const refused = await fetch(`${url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'full-1' }, body: JSON.stringify(order) });
    expect(refused.status).toBe(503);
    expect((await readyz()).status).toBe(503);

    // the disk takes writes again: the store's own probe write notices without any order arriving
    diskFull = false;
    await waitFor('/readyz ready again', async () => (await readyz()).status === 200, { timeoutMs: 10_000, intervalMs: 100 });
    const retried = await fetch(`${url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'full-1' }, body: JSON.stringify(order) });
    expect(retried.status).toBe(202);
  });
});

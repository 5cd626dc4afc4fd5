import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { OrderView } from '../src/order-core/domain/types.js';
import { runCli, runMain } from './support/cli.js';
import { requireHaproxy } from './support/haproxy.js';
import { kill, pgQuery, requirePgBinaries } from './support/pg-cluster.js';
import { startRegions, stopReceiving, type TestRegions } from './support/regions.js';
import { httpClient, waitFor } from './support/stack.js';

/**
 * `surgectl failover` and `surgectl failback` against two real PostgreSQL clusters in streaming
 * replication, two order stacks and a real HAProxy in front (test/support/regions.ts), under an
 * open-model order load through HAProxy.
 */

requirePgBinaries();
requireHaproxy();

let regions: TestRegions | undefined;
afterEach(async () => {
  await regions?.stop();
  regions = undefined;
}, 60_000);

interface Load {
  acknowledged: string[];
  refused: number;
  failed: number;
  stop(): Promise<void>;
}

/** Orders through the front at `perSec` (Idempotency-Keys `<prefix>-<n>`), until stop() or `maxMs` (bounded). */
function steadyLoad(front: string, perSec: number, prefix: string, maxMs = 60_000): Load {
  const pool = new Pool(front, { connections: 64, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const out: Load = { acknowledged: [], refused: 0, failed: 0, stop: async () => undefined };
  const inflight = new Set<Promise<void>>();
  let n = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    // open model: as many arrivals as the clock says, whatever the answers
    const due = Math.floor(((Date.now() - started) / 1000) * perSec) - n;
    for (let i = 0; i < due; i++) {
      n++;
      const p = pool
        .request({
          method: 'POST',
          path: '/v1/orders',
          headers: { 'content-type': 'application/json', 'idempotency-key': `${prefix}-${n}` },
          body: JSON.stringify({ customerId: `c-${n}`, items: [{ sku: 'SKU-0001', qty: 1 }] }),
        })
        .then(async (r) => {
          const body = (await r.body.json().catch(() => undefined)) as { orderId?: string } | undefined;
          if ((r.statusCode === 202 || r.statusCode === 200) && body?.orderId) out.acknowledged.push(body.orderId);
          else out.refused++;
        })
        .catch(() => void out.failed++)
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    if (Date.now() - started > maxMs) clearInterval(timer);
  }, 10);
  out.stop = async () => {
    clearInterval(timer);
    await Promise.allSettled([...inflight]);
    await pool.close();
  };
  return out;
}

const env = (r: TestRegions) => ({ SURGECTL_STACK_ADMIN_TOKEN: r.adminToken, PATH: process.env.PATH ?? '', SURGECTL_CONFIG: join(r.cwd, 'surgectl.yaml') });

async function skuOf(r: TestRegions): Promise<string> {
  const http = httpClient(r.haproxy.url);
  try {
    return ((await http.call('GET', '/v1/inventory')).body as { items: { sku: string }[] }).items[0]!.sku;
  } finally {
    await http.close();
  }
}

/** Succeeded charges per order over both regions' payment gateways. */
async function chargesPerOrder(r: TestRegions, ids: readonly string[]): Promise<number[]> {
  const gateways = [httpClient(r.a.stack.paymentUrl), httpClient(r.b.stack.paymentUrl)];
  try {
    return await Promise.all(
      ids.map(async (id) => {
        let n = 0;
        for (const g of gateways) n += ((await g.call('GET', `/v1/charges?orderId=${id}`)).body as { charges: { status: string }[] }).charges.filter((c) => c.status === 'succeeded').length;
        return n;
      }),
    );
  } finally {
    for (const g of gateways) await g.close();
  }
}

describe('surgectl failover on PostgreSQL streaming replication behind HAProxy', () => {
  it('moves the stack to b under 200 orders/s: RTO under 10 s, no acknowledged order lost, each processed exactly once; then failback to a', async () => {
    regions = await startRegions();
    const r = regions;
    expect(await skuOf(r)).toBe('SKU-0001');
    const load = steadyLoad(r.haproxy.url, 200, 'over');
    await new Promise((res) => setTimeout(res, 1_500));
    const out = await runMain(['--yes', 'failover', '--to', 'b', ...r.trafficArgs, '--workers', '8', '-o', 'json'], { cwd: r.cwd, env: env(r) });
    await new Promise((res) => setTimeout(res, 1_500));
    await load.stop();
    expect(out.code, out.stderr).toBe(0);
    const doc = JSON.parse(out.stdout) as { from: string; to: string; status: string; rtoMs: number; rpo: { basis: string; missing: string[]; compared: number } };
    expect(doc).toMatchObject({ from: 'a', to: 'b', status: 'completed', rpo: { basis: 'measured', missing: [] } });
    expect(doc.rtoMs).toBeGreaterThan(0);
    expect(doc.rtoMs).toBeLessThan(10_000);
    expect(doc.rpo.compared).toBeGreaterThan(200);
    expect(load.acknowledged.length).toBeGreaterThan(400);

    // every acknowledged order is on b, and ends confirmed with exactly one charge over both regions
    const ids = load.acknowledged;
    const onB = await pgQuery<{ id: string; status: string }>(r.b.store, 'SELECT id, status FROM orders WHERE id = ANY($1::text[])', [ids]);
    expect(onB.length).toBe(ids.length);
    const front = httpClient(r.haproxy.url);
    try {
      await waitFor('every acknowledged order confirmed on b', async () => (await Promise.all(ids.map(async (id) => ((await front.call('GET', `/v1/orders/${id}`)).body as OrderView).status))).every((s) => s === 'confirmed'), {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
    } finally {
      await front.close();
    }
    expect((await chargesPerOrder(r, ids)).filter((n) => n !== 1)).toEqual([]);
    expect((await pgQuery<{ r: boolean }>(r.b.store, 'SELECT pg_is_in_recovery() AS r'))[0]?.r).toBe(false);

    // failback: a rebuilt as b's replica, a planned switchover back, b rebuilt as a's replica
    const back = steadyLoad(r.haproxy.url, 100, 'back');
    const fb = await runMain(['--yes', 'failback', '--to', 'a', ...r.trafficArgs, '--workers', '8', '-o', 'json'], { cwd: r.cwd, env: env(r) });
    await back.stop();
    expect(fb.code, fb.stderr).toBe(0);
    const fdoc = JSON.parse(fb.stdout) as { parts: { part: string; status: string }[]; rtoMs: number; rpo: { missing: string[] } };
    expect(fdoc.parts.map((p) => [p.part, p.status])).toEqual([
      ['rebuild', 'completed'],
      ['switchover', 'completed'],
      ['rebuild-old', 'completed'],
    ]);
    expect(fdoc.rtoMs).toBeLessThan(10_000);
    expect(fdoc.rpo.missing).toEqual([]);
    expect((await pgQuery<{ r: boolean }>(r.a.store, 'SELECT pg_is_in_recovery() AS r'))[0]?.r).toBe(false);
    expect((await pgQuery<{ r: boolean }>(r.b.store, 'SELECT pg_is_in_recovery() AS r'))[0]?.r).toBe(true);
    const onA = await pgQuery<{ n: string }>(r.a.store, 'SELECT count(*) AS n FROM orders WHERE id = ANY($1::text[])', [[...ids, ...back.acknowledged]]);
    expect(Number(onA[0]?.n)).toBe(ids.length + back.acknowledged.length);
    const status = await runMain(['region', 'status', '-o', 'json'], { cwd: r.cwd, env: env(r) });
    const rows = JSON.parse(status.stdout) as { name: string; role: string; takesTraffic: boolean }[];
    expect(rows.map((x) => [x.name, x.role, x.takesTraffic])).toEqual([
      ['a', 'primary', true],
      ['b', 'standby', false],
    ]);
  }, 240_000);

  it('resumes a failover interrupted after the fence from its journal', async () => {
    regions = await startRegions();
    const r = regions;
    // replay paused on b: the failover fences a, then waits for b's replay; there it is interrupted
    await pgQuery(r.b.store, 'SELECT pg_wal_replay_pause()');
    // orders a takes now are flushed on a and received by b, not replayed there
    const http = httpClient(r.haproxy.url);
    const early: string[] = [];
    for (let i = 0; i < 5; i++) early.push(((await http.postOrder({ customerId: `early-${i}`, items: [{ sku: 'SKU-0001', qty: 1 }] }, `early-${i}`)).body as { orderId: string }).orderId);
    await http.close();
    const journalDir = join(r.cwd, '.surgectl', 'runbooks');
    const running = runCli(['--yes', 'failover', '--to', 'b', ...r.trafficArgs, '--workers', '8', '-o', 'json'], { cwd: r.cwd, env: env(r), timeoutMs: 90_000 });
    const journalPath = await waitFor(
      'the journal to show the fence done',
      () => {
        const files = (() => {
          try {
            return readdirSync(journalDir).filter((f) => f.startsWith('region-failover-'));
          } catch {
            return [];
          }
        })();
        const path = files[0] === undefined ? undefined : join(journalDir, files[0]);
        if (path === undefined) return undefined;
        const j = JSON.parse(readFileSync(path, 'utf8')) as { steps: { step: string; status: string }[] };
        return j.steps.find((s) => s.step === 'fence')?.status === 'completed' ? path : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // Ctrl+C: the CLI stops where it is and says how to resume
    const { execSync } = await import('node:child_process');
    // the bracket keeps the pattern from matching pkill's own shell
    execSync(`pkill -INT -f "failover --[t]o b"`);
    const stopped = await running;
    expect(stopped.code).toBe(130);
    const interrupted = JSON.parse(readFileSync(journalPath, 'utf8')) as { status: string; steps: { step: string; status: string }[] };
    expect(interrupted.status).toBe('interrupted');
    const statusOf = (name: string) => interrupted.steps.find((s) => s.step === name)?.status;
    expect([statusOf('fence'), statusOf('wait-replay'), statusOf('promote')]).toEqual(['completed', 'running', 'pending']);
    // a is still fenced and refuses writes; nothing took orders meanwhile
    expect((await pgQuery<{ default_transaction_read_only: string }>(r.a.store, 'SHOW default_transaction_read_only'))[0]?.default_transaction_read_only).toBe('on');

    await pgQuery(r.b.store, 'SELECT pg_wal_replay_resume()');
    const resumed = await runMain(['--yes', 'runbook', 'resume', journalPath, '-o', 'json'], { cwd: r.cwd, env: env(r) });
    expect(resumed.code, resumed.stderr).toBe(0);
    const done = JSON.parse(readFileSync(journalPath, 'utf8')) as { status: string; steps: { step: string; status: string }[] };
    expect(done.status).toBe('completed');
    // HAProxy moved the traffic; the Kubernetes variant of that step did not run
    expect(done.steps.filter((s) => s.status !== 'completed').map((s) => `${s.step}:${s.status}`)).toEqual(['move-service:skipped']);
    expect((await pgQuery<{ r: boolean }>(r.b.store, 'SELECT pg_is_in_recovery() AS r'))[0]?.r).toBe(false);
    // what a acknowledged before the fence is on b
    expect((await pgQuery(r.b.store, 'SELECT id FROM orders WHERE id = ANY($1::text[])', [early])).length).toBe(5);
  }, 180_000);

  it('forced failover after SIGKILL of the primary: promotes b at once and says the loss cannot be measured, after estimating it', async () => {
    regions = await startRegions();
    const r = regions;
    // b stops receiving (its walreceiver off), then a acknowledges orders b never gets
    await stopReceiving(r);
    const lost: string[] = [];
    const http = httpClient(r.haproxy.url);
    for (let i = 0; i < 20; i++) {
      const res = await http.postOrder({ customerId: `lost-${i}`, items: [{ sku: 'SKU-0001', qty: 1 }] }, `lost-${i}`);
      expect(res.status).toBe(202);
      lost.push((res.body as { orderId: string }).orderId);
    }
    await http.close();
    await kill(r.a.pg);

    const out = await runMain(['--yes', 'failover', '--to', 'b', '--force', ...r.trafficArgs, '--workers', '8', '-o', 'json'], { cwd: r.cwd, env: env(r) });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/forced failover from a to b: .* its walreceiver is stopped\. Every order the old primary acknowledged after the last WAL it shipped is lost/);
    const doc = JSON.parse(out.stdout) as { status: string; rpo: { basis: string; note: string } };
    expect(doc).toMatchObject({ status: 'completed', rpo: { basis: 'unknown' } });
    expect(doc.rpo.note).toContain('could not be read');
    // the orders a acknowledged after b stopped receiving are not on b: what "lost" means here
    const onB = await pgQuery(r.b.store, 'SELECT id FROM orders WHERE id = ANY($1::text[])', [lost]);
    expect(onB).toEqual([]);
  }, 180_000);
});

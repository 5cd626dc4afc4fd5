import { afterAll, describe, expect, it } from 'vitest';
import type { StackStatus } from '../src/order-core/api/admin-contract.js';
import type { OrderView } from '../src/order-core/domain/types.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from './support/postgres.js';
import { createTestVhost, requireRabbitMq, type TestVhost } from './support/rabbitmq.js';
import { httpClient, spawnStackProcess, tempDir, waitFor, writeSeedFile, type HttpClient, type StackProcess } from './support/stack.js';

/**
 * `surgectl stack up --intake-replicas N --worker-processes M` as users run it: the built CLI in
 * a child process, supervising real processes on the machine's PostgreSQL (and RabbitMQ), driven
 * over HTTP; processes are killed with SIGKILL and the supervisor starts them again.
 */

const pgUp = await requirePostgres('stack-replicas.int.test.ts');
const rabbitUp = await requireRabbitMq('stack-replicas.int.test.ts');

interface Running {
  proc: StackProcess;
  http: HttpClient;
  status(): Promise<StackStatus>;
  stop(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
}, 60_000);

async function start(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const dir = tempDir('surgectl-replicas-');
  const proc = await spawnStackProcess({ dataDir: dir.path, args, env, timeoutMs: 40_000 });
  const http = httpClient(proc.info.url, { adminToken: proc.info.adminToken, connections: 64, timeoutMs: 10_000 });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await http.close();
    proc.child.kill('SIGTERM');
    const { code } = await proc.exited;
    dir.remove();
    expect(code, proc.stderr()).toBe(0);
  };
  cleanups.push(stop);
  return { proc, http, status: async () => (await http.admin('GET', '/admin/status')).body as StackStatus, stop };
}

describe.skipIf(!pgUp)('a stack of several processes on PostgreSQL', () => {
  it('2 intake replicas and 4 worker processes sell exactly 100 of 100 units to 2,000 concurrent orders, none oversold; stack status shows each process', async () => {
    const db: TestDatabase = await createTestDatabase('surgectl_replicas');
    cleanups.push(() => db.drop());
    const seedDir = tempDir('surgectl-replicas-seed-');
    cleanups.push(async () => seedDir.remove());
    const seed = writeSeedFile(seedDir.path, [{ sku: 'HOT-1', stock: 100, priceCents: 4999 }]);
    const s = await start(['--store', db.url, '--intake-replicas', '2', '--worker-processes', '4', '--workers', '8', '--seed-inventory', seed, '--store-pool', '6']);
    expect(s.proc.info.processes?.map((p) => p.name)).toEqual(['intake-1', 'intake-2', 'worker-1', 'worker-2', 'worker-3', 'worker-4']);

    const answers = await Promise.all(Array.from({ length: 2000 }, (_, i) => s.http.postOrder({ customerId: `buyer-${i}`, items: [{ sku: 'HOT-1', qty: 1 }] }, `replicas-flash-${i}`)));
    expect(answers.map((a) => a.status).filter((c) => c !== 202)).toEqual([]);
    await waitFor(
      'every flash order final',
      async () => {
        const st = await s.status();
        return st.orders.byStatus.confirmed === 100 && st.orders.byStatus.sold_out === 1900 ? st : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    const st = await s.status();
    expect(st.oversold).toBe(0);
    const inv = (await s.http.call('GET', '/v1/inventory')).body as { items: { sku: string; available: number; reserved: number; sold: number }[] };
    expect(inv.items).toEqual([{ sku: 'HOT-1', available: 0, reserved: 0, sold: 100 }]);
    expect(st.processes?.map((p) => [p.role, p.name, p.state, p.restarts])).toEqual([
      ['intake', 'intake-1', 'running', 0],
      ['intake', 'intake-2', 'running', 0],
      ['worker', 'worker-1', 'running', 0],
      ['worker', 'worker-2', 'running', 0],
      ['worker', 'worker-3', 'running', 0],
      ['worker', 'worker-4', 'running', 0],
    ]);
    expect(new Set(st.processes?.map((p) => p.pid)).size).toBe(6);
    await s.stop();
  }, 150_000);

  it.skipIf(!rabbitUp)(
    'kill -9 of a worker process and of an intake replica mid-load loses no acknowledged order and charges none twice; the supervisor starts both again',
    async () => {
      const db: TestDatabase = await createTestDatabase('surgectl_replicas');
      cleanups.push(() => db.drop());
      const vhost: TestVhost = await createTestVhost('surgectl_replicas');
      cleanups.push(() => vhost.drop());
      // a short lease: the jobs the killed worker held come back within seconds, not 30 s
      const s = await start(['--store', db.url, '--queue', vhost.url, '--intake-replicas', '2', '--worker-processes', '2', '--workers', '16', '--seed-inventory', '100000'], {
        SURGECTL_STACK_LEASE_MS: '3000',
        SURGECTL_STACK_PAYMENT_LATENCY_MS: '20',
      });
      const before = await s.status();
      const victimWorker = before.processes!.find((p) => p.name === 'worker-1')!;
      const victimIntake = before.processes!.find((p) => p.name === 'intake-1')!;
      const sku = ((await s.http.call('GET', '/v1/inventory')).body as { items: { sku: string }[] }).items[0]!.sku;

      const acknowledged = new Set<string>();
      let refused = 0;
      // bounded: 30 rounds of 20 concurrent orders; the kills come after round 10
      for (let round = 0; round < 30; round++) {
        if (round === 10) {
          process.kill(victimWorker.pid!, 'SIGKILL');
          process.kill(victimIntake.pid!, 'SIGKILL');
        }
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            s.http.postOrder({ customerId: `kill-${round}-${i}`, items: [{ sku, qty: 1 }] }, `replicas-kill-${round}-${i}`).catch(() => undefined),
          ),
        );
        for (const a of answers) {
          if (a?.status === 202) acknowledged.add((a.body as { orderId: string }).orderId);
          else refused++;
        }
      }
      // a request on a connection of the killed replica fails (never acknowledged); the rest are taken
      expect(acknowledged.size).toBeGreaterThan(500);
      expect(refused).toBeLessThan(100);

      const ids = [...acknowledged];
      const order = async (id: string) => (await s.http.call('GET', `/v1/orders/${id}`)).body as OrderView;
      await waitFor('every acknowledged order confirmed', async () => (await Promise.all(ids.map(order))).every((o) => o.status === 'confirmed'), {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      const pay = httpClient(s.proc.info.paymentUrl);
      try {
        const charges = await Promise.all(ids.map(async (id) => ((await pay.call('GET', `/v1/charges?orderId=${id}`)).body as { charges: { status: string }[] }).charges.filter((c) => c.status === 'succeeded').length));
        expect(charges.filter((n) => n !== 1)).toEqual([]);
      } finally {
        await pay.close();
      }
      const after = await s.status();
      expect(after.oversold).toBe(0);
      const byName = new Map(after.processes!.map((p) => [p.name, p]));
      expect(byName.get('worker-1')).toMatchObject({ state: 'running', restarts: 1 });
      expect(byName.get('intake-1')).toMatchObject({ state: 'running', restarts: 1 });
      expect(byName.get('worker-1')!.pid).not.toBe(victimWorker.pid);
      expect(byName.get('worker-2')).toMatchObject({ restarts: 0, pid: before.processes!.find((p) => p.name === 'worker-2')!.pid });
      await s.stop();
    },
    150_000,
  );

  it('refuses replicas on the SQLite store, naming the flag', async () => {
    const dir = tempDir('surgectl-replicas-sqlite-');
    cleanups.push(async () => dir.remove());
    await expect(spawnStackProcess({ dataDir: dir.path, args: ['--intake-replicas', '2'], timeoutMs: 20_000 })).rejects.toThrow(/need a PostgreSQL store[\s\S]*--store postgres:\/\//);
  });
});

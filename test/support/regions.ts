import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHaproxy, type TestHaproxy } from './haproxy.js';
import { killCommand, rebuildCommand, startPrimary, startReplica, type PgCluster } from './pg-cluster.js';
import { httpClient, startTestStack, tempDir, type TestStack } from './stack.js';

/**
 * Two regions on this machine, as `surgectl failover` meets them: region a's PostgreSQL primary
 * (a temporary cluster) with the order stack on it taking orders; region b's PostgreSQL, a
 * streaming replica of a, with a stack on it that takes no orders (intake paused, no workers);
 * real HAProxy in front, all traffic on a; and a surgectl.yaml naming both (with the rebuild
 * command `surgectl failback` runs, and the kill command of `drill failover --kill-primary`). Everything is torn down by stop().
 */
export interface TestRegions {
  a: { pg: PgCluster; stack: TestStack; store: string };
  b: { pg: PgCluster; stack: TestStack; store: string };
  haproxy: TestHaproxy;
  /** The directory holding surgectl.yaml: run the CLI there. */
  cwd: string;
  /** The admin token both stacks share (SURGECTL_STACK_ADMIN_TOKEN for the CLI). */
  adminToken: string;
  /** The CLI flags that reach this HAProxy. */
  trafficArgs: string[];
  stop(): Promise<void>;
}

const ADMIN_TOKEN = 'regions-test-admin-token-0123456789';

export async function startRegions(opts: { sync?: boolean; seed?: number; workers?: number } = {}): Promise<TestRegions> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const pgA = await startPrimary({ name: 'pg_a' });
    cleanups.push(() => pgA.stop());
    const pgB = await startReplica(pgA, { name: 'pg_b', ...(opts.sync ? { sync: true } : {}) });
    cleanups.push(() => pgB.stop());
    const stackA = await startTestStack({ store: pgA.url, workers: opts.workers ?? 8, seedInventory: opts.seed ?? 100_000, adminToken: ADMIN_TOKEN, storePool: 6 });
    cleanups.push(() => stackA.dispose());
    // the schema and the stock reach b by replication before its stack opens the store
    await waitFor(async () => (await import('./pg-cluster.js')).pgQuery(pgB.url, "SELECT 1 FROM pg_tables WHERE tablename = 'products'").then((r) => r.length === 1));
    const stackB = await startTestStack({ store: pgB.url, workers: 0, adminToken: ADMIN_TOKEN, storePool: 6 });
    cleanups.push(() => stackB.dispose());
    const adminB = httpClient(stackB.url, { adminToken: ADMIN_TOKEN });
    await adminB.admin('POST', '/admin/intake/pause');
    await adminB.close();
    const portOf = (url: string) => Number(new URL(url).port);
    const haproxy = await startHaproxy({
      servers: [
        { name: 'a', port: portOf(stackA.url), weight: 100 },
        { name: 'b', port: portOf(stackB.url), weight: 0 },
      ],
    });
    cleanups.push(() => haproxy.stop());
    const dir = tempDir('surgectl-regions-');
    cleanups.push(async () => dir.remove());
    const yaml = `regions:
  a: { store: '${pgA.url}', intakeUrl: '${stackA.url}', rebuild: '${await rebuildCommand(pgA)}', kill: '${await killCommand(pgA)}' }
  b: { store: '${pgB.url}', intakeUrl: '${stackB.url}', rebuild: '${await rebuildCommand(pgB)}', kill: '${await killCommand(pgB)}' }
`;
    writeFileSync(join(dir.path, 'surgectl.yaml'), yaml);
    return {
      a: { pg: pgA, stack: stackA, store: pgA.url },
      b: { pg: pgB, stack: stackB, store: pgB.url },
      haproxy,
      cwd: dir.path,
      adminToken: ADMIN_TOKEN,
      trafficArgs: ['--haproxy', haproxy.statsEndpoint, '--backend', 'orders', '--front-url', haproxy.url],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('the replica did not receive the order store schema in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Region b stops receiving WAL (its walreceiver off, primary_conninfo emptied): from here on,
 * what a acknowledges b never gets — the loss a forced failover after a's death shows.
 */
export async function stopReceiving(r: TestRegions): Promise<void> {
  const { pgQuery } = await import('./pg-cluster.js');
  await pgQuery(r.b.store, "ALTER SYSTEM SET primary_conninfo = ''");
  await pgQuery(r.b.store, 'SELECT pg_reload_conf()');
  const deadline = Date.now() + 15_000;
  while ((await pgQuery(r.b.store, 'SELECT 1 FROM pg_stat_wal_receiver')).length > 0) {
    if (Date.now() > deadline) throw new Error('b did not stop receiving within 15 s');
    await new Promise((res) => setTimeout(res, 100));
  }
}

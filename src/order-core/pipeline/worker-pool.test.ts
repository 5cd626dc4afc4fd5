import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { createStackMetrics } from '../metrics.js';
import type { LeasedJob } from '../storage/sqlite/order-store.js';
import type { JobResult } from './steps.js';
import { PoolDrainingError, WorkerPool } from './worker-pool.js';

/** Pools to stop after each test, and how to make their fake store answer every lease from then on. */
const pools: { pool: WorkerPool; endLeases: () => void }[] = [];
afterEach(async () => {
  await Promise.all(
    pools.splice(0).map(({ pool, endLeases }) => {
      endLeases();
      return pool.stop(0);
    }),
  );
});

/** A pool over a store whose lease commits finish when the test says so, and jobs that finish when released. */
function harness() {
  const leases: { tokens: string[]; finish: (jobs: LeasedJob[]) => void }[] = [];
  let ended = false;
  const started: string[] = [];
  const release: (() => void)[] = [];
  const pool = new WorkerPool({
    store: {
      leaseBatch: (tokens: string[]) => new Promise<LeasedJob[]>((finish) => (ended ? finish([]) : leases.push({ tokens, finish }))),
      renewLease: async () => true,
    } as never,
    worker: async (job, signal) => {
      started.push(job.orderId);
      await new Promise<void>((resolve, reject) => {
        release.push(resolve);
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
      return { kind: 'completed' } as JobResult;
    },
    leaseMs: 30_000,
    logger: silentLogger(),
    metrics: createStackMetrics({ defaultMetrics: false }),
    now: Date.now,
    pollMs: 5,
  });
  pools.push({
    pool,
    endLeases: () => {
      ended = true;
      for (const l of leases) l.finish([]);
    },
  });
  const job = (token: string, n: number): LeasedJob => ({ orderId: `ord_${n}`, token, redelivered: false }) as LeasedJob;
  return { pool, leases, started, release, job };
}

const turn = () => new Promise((r) => setImmediate(r));
/** Yields to the event loop until `cond` holds; fails with `what` after 5 s instead of at the test timeout. */
async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await turn();
  }
}

describe('worker pool', () => {
  it('a drain that begins while a lease commits waits for the jobs that lease hands out', async () => {
    const { pool, leases, started, release, job } = harness();
    pool.start(2);
    await until('a lease', () => leases.length > 0);
    expect(leases[0]!.tokens).toHaveLength(2);

    let result: { drained: boolean; inFlight: number } | undefined;
    const draining = pool.drain(10_000).then((r) => (result = r));
    leases[0]!.finish(leases[0]!.tokens.map((t, i) => job(t, i + 1)));
    await until('two jobs started', () => started.length >= 2);
    for (let i = 0; i < 5; i++) await turn();
    // both leased jobs run, and the drain does not claim to be done while they do
    expect(pool.busy()).toBe(2);
    expect(result).toBeUndefined();

    for (const r of release) r();
    await draining;
    expect(result).toEqual({ drained: true, inFlight: 0 });
    expect(pool.busy()).toBe(0);
    // and nothing more is leased after the drain began
    for (let i = 0; i < 5; i++) await turn();
    expect(leases).toHaveLength(1);
  });

  it('starts no workers once draining: a larger size is refused, a smaller one taken', async () => {
    const { pool, leases } = harness();
    pool.start(2);
    await until('a lease', () => leases.length > 0);
    leases[0]!.finish([]);
    await pool.drain(1_000);
    expect(() => pool.setSize(3)).toThrow(PoolDrainingError);
    expect(pool.size()).toBe(2);
    pool.setSize(1);
    expect(pool.size()).toBe(1);
  });

  it('a drain that begins while a lease commits lets the workers that got no job go home', async () => {
    const { pool, leases, started, release, job } = harness();
    pool.start(3);
    await until('a lease', () => leases.length > 0);
    const draining = pool.drain(10_000);
    leases[0]!.finish([job(leases[0]!.tokens[0]!, 1)]);
    await until('a job started', () => started.length >= 1);
    release[0]!();
    expect(await draining).toEqual({ drained: true, inFlight: 0 });
    expect(started).toEqual(['ord_1']);
  });
});

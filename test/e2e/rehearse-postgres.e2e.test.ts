import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RehearsalReport } from '../../src/rehearse/report.js';
import { runMain } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { portClosed, restoreOf } from '../support/rehearse.js';

/**
 * `surgectl rehearse --store postgres://…`: the whole rehearsal (probe, flags degraded, load with
 * the payment outage, drain, restore) on a stack whose order store is a real PostgreSQL database,
 * fresh for this test and dropped after it. PostgreSQL on 127.0.0.1:5432 must be up: creating the database
 * fails the test otherwise.
 */
let dir: string;
let db: TestDatabase;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-pg-'));
  db = await createTestDatabase('surgectl_rehearse');
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** One query on the test database, on a connection of its own. */
async function query<R extends pg.QueryResultRow>(sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

it('rehearse --store postgres://… runs every stage on the PostgreSQL-backed stack, passes every gate and leaves the orders in the database', async () => {
  const reportDir = join(dir, 'report');
  // Latency limits that hold on a loaded 2-core runner, as in rehearse.e2e.test.ts.
  // --degrade peak: the flag overrides live in the database on this store; the restore must put them back there.
  const r = await runMain(['rehearse', '--store', db.url, '--duration', '20s', '--degrade', 'peak', '--report-dir', reportDir, '--p95', '1000', '--p99', '3000'], { cwd: dir });
  const jsonPath = join(reportDir, 'rehearsal.json');
  expect(existsSync(jsonPath), r.stderr).toBe(true);
  const report = JSON.parse(await readFile(jsonPath, 'utf8')) as RehearsalReport;
  expect(report.gates.filter((g) => g.status !== 'pass').map((g) => `${g.id} ${g.status}: ${g.observed}`), r.stderr).toEqual([]);
  expect(r.code, r.stderr).toBe(0);
  expect(report.stages.map((s) => `${s.name} ${s.status}`)).toEqual(['history done', 'forecast done', 'capacity done', 'calibrate done', 'scale done', 'load done', 'drain done', 'restore done']);

  // The stack ran on the database, and said so without a password.
  expect(report.stack?.store).toBe(`PostgreSQL ${db.url}`);
  expect(r.stderr).toContain(`on PostgreSQL ${db.url}`);
  expect(report.notes).toContainEqual(expect.stringMatching(/^order store PostgreSQL .*: the orders of the probe and the load test, and the stock they took, stay in that database/));

  // Calibrated by the probe on this stack; the load test ran at min(peak, 75% of what held).
  const s = report.scaling!;
  expect(s.machineBasis).toMatch(/^probed: [\d,.]+\/s sustained at p99 [\d,.]+ ms/);
  expect(s.probe?.steps.length).toBeGreaterThan(0);
  expect(s.machineMaxPerSec).toBe(s.probe?.sustainedPerSec);
  expect(s.targetPerSec).toBeCloseTo(Math.min(s.peakPerSec, s.machineMaxPerSec * 0.75), 1);
  expect(report.load?.targetPerSec).toBe(s.targetPerSec);

  // The outage drill ran on it: breaker open, orders waited, every one confirmed after.
  expect(report.outage?.journal).toMatchObject({ status: 'completed', steadyStateBefore: true, steadyStateAfter: true, rollbackFailed: false });
  expect(report.outage?.maxPaymentPending).toBeGreaterThan(0);
  expect(report.orders?.byStatus.confirmed).toBe(report.orders?.created);
  expect(report.orders?.oversold).toBe(0);

  // The orders are in PostgreSQL: this run's, plus the probe's, which the baseline kept apart; all confirmed.
  const rows = await query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM orders GROUP BY status');
  const inDb = Object.fromEntries(rows.map((x) => [x.status, Number(x.n)]));
  const probeCreates = s.probe!.steps.reduce((a, x) => a + x.requests, 0);
  expect(Object.keys(inDb)).toEqual(['confirmed']);
  expect(inDb.confirmed).toBeGreaterThan(report.orders!.created);
  expect(inDb.confirmed).toBeLessThanOrEqual(report.orders!.created + probeCreates);

  // Restored: stack stopped, its ports free, its temp data dir gone, and no connection of it left on the database.
  expect(restoreOf(report)).toMatchObject({ faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, dataDirRemoved: true, flagsRestored: true, gate: 'pass' });
  expect(report.degraded?.flags.sort()).toEqual(['loyalty-points', 'order-notifications', 'recommendations']);
  expect(await query('SELECT name, enabled FROM flag_overrides')).toEqual([]);
  expect(await portClosed(report.stack!.url)).toBe(true);
  expect(existsSync(report.stack!.dataDir)).toBe(false);
  const others = await query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '${db.name}' AND pid <> pg_backend_pid()`);
  expect(Number(others[0]?.n)).toBe(0);
}, 180_000);

it('rehearse --store refuses a URL that is neither sqlite nor postgres:// before anything starts (no password echoed)', async () => {
  const r = await runMain(['rehearse', '--store', 'mysql://app:s3cret@127.0.0.1/orders', '--report-dir', join(dir, 'bad')], { cwd: dir });
  // A bad flag value is a usage error (exit 2), worded as `stack up --store` words it.
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --store must be 'sqlite' or a postgres:\/\/user@host:port\/database URL/);
  expect(r.stderr).not.toContain('s3cret');
  expect(r.stderr).not.toContain('[1/9]');
  expect(existsSync(join(dir, 'bad'))).toBe(false);
});

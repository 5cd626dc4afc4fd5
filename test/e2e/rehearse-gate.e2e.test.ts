import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RehearsalReport } from '../../src/rehearse/report.js';
import { runMain } from '../support/cli.js';
import { portClosed, restoreOf } from '../support/rehearse.js';

/**
 * A gate that cannot pass (p99 below a microsecond): exit 20, and the report names the gate and the
 * fix. The run also uses the overrides: --peak-rate instead of the forecast peak, --workers.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-gate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('exits 20 when a gate fails; the JSON on stdout and the files name the gate and what to fix; the stack is still restored', async () => {
  const reportDir = join(dir, 'report');
  const r = await runMain(['-o', 'json', 'rehearse', '--duration', '18s', '--no-chaos', '--p99', '0.001', '--peak-rate', '30', '--max-rate', '60', '--workers', '3', '--report-dir', reportDir], { cwd: dir });
  expect(r.code, r.stderr).toBe(20);
  expect(r.stderr).toMatch(/error \[SRG_REHEARSE_GATE\] \d+ of 11 readiness gates failed: .*latency-p99/);

  const report = JSON.parse(r.stdout) as RehearsalReport;
  expect(report.status).toBe('failed');
  const p99 = report.gates.find((g) => g.id === 'latency-p99')!;
  expect(p99).toMatchObject({ status: 'fail', condition: 'p(99)<0.001', expected: 'below 0.001 ms' });
  expect(p99.value).toBeGreaterThan(0.001);
  expect(p99.fix).toMatch(/slowest 1% of orders/);
  expect(report.gates.filter((g) => g.status === 'skip').map((g) => g.id)).toEqual(['breaker-opened', 'orders-waited', 'steady-state']);
  expect(report.outage).toBeUndefined();

  // The overrides: the peak is rehearsed at full size (below --max-rate) and the plan sized on it.
  expect(report.forecast?.overridden).toBe(true);
  expect(report.forecast?.peak.value).toBeCloseTo(30, 6);
  expect(report.scaling).toMatchObject({ peakPerSec: 30, machineMaxPerSec: 60, factor: 1, targetPerSec: 30 });
  expect(report.load?.targetPerSec).toBe(30);
  expect(report.capacity?.sizedPerSec).toBeGreaterThanOrEqual(30);
  expect(report.stack?.workers).toMatchObject({ applied: 3, basis: '--workers 3' });
  expect(report.stack?.workers.restoredTo).toBe(report.stack?.workers.before);

  expect(restoreOf(report)).toMatchObject({ faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, gate: 'pass' });
  expect(await portClosed(report.stack!.url)).toBe(true);

  expect(report.files?.json).toBe(join(reportDir, 'rehearsal.json'));
  expect(JSON.parse(await readFile(report.files!.json, 'utf8'))).toEqual(report);
  const html = await readFile(report.files!.html, 'utf8');
  expect(html).toMatch(/NOT READY: \d+ gate\(s\) failed/);
  expect(html).toContain('The slowest 1% of orders');
  expect(existsSync(join(reportDir, 'chaos-journal.json'))).toBe(false);
}, 120_000);

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { generateSample, sampleToCsv } from '../../src/forecast/sample.js';
import type { RehearsalReport } from '../../src/rehearse/report.js';
import type { Runtime } from '../../src/runtime.js';
import { portClosed, restoreOf } from '../support/rehearse.js';

/**
 * Ctrl-C during the load test: exit 130 after restoring everything; the partial report says so.
 * The run reads its history from a CSV file (--history) rather than the built-in sample.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-int-'));
  await writeFile(join(dir, 'orders.csv'), sampleToCsv(generateSample({ days: 28, seed: 7, baseRate: 5 })));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('restores the stack and exits 130 when interrupted mid-load', async () => {
  const controller = new AbortController();
  let stdout = '';
  let stderr = '';
  const runtime: Runtime = {
    env: { NO_COLOR: '1' },
    cwd: dir,
    argv0: 'surgectl',
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: {
      write: (s: string) => {
        stderr += s;
        // The first live line of the load test: the stack is scaled and under load. "Ctrl-C".
        if (/ {6}load \d+s\//.test(s)) controller.abort(new Error('received SIGINT'));
      },
      isTTY: false,
    },
    now: () => Date.now(),
    signal: controller.signal,
  };
  const code = await main(['-o', 'json', 'rehearse', '--duration', '60s', '--history', 'orders.csv', '--report-dir', join(dir, 'report')], runtime);
  expect(controller.signal.aborted, stderr).toBe(true);
  expect(code, stderr).toBe(130);
  expect(stderr).toMatch(/\[SRG_CLI_INTERRUPTED\] rehearsal interrupted/);

  const report = JSON.parse(stdout) as RehearsalReport;
  expect(report.status).toBe('interrupted');
  expect(report.history).toMatchObject({ source: 'orders.csv', points: 28 * 288, stepSeconds: 300 });
  expect(report.forecast?.campaigns).toEqual([]);
  // A small history (5 orders/s base) is rehearsed at full size.
  expect(report.scaling?.factor).toBe(1);
  expect(report.stages.find((s) => s.name === 'load')?.status).toBe('interrupted');
  // Stopped early: far less than the 60 s asked for.
  expect(report.load!.durationMs).toBeLessThan(30_000);
  expect(restoreOf(report)).toMatchObject({ faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, dataDirRemoved: true });
  expect(await portClosed(report.stack!.url)).toBe(true);
  expect(await portClosed(report.stack!.paymentUrl)).toBe(true);
}, 90_000);

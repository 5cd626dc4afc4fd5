import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portClosed } from '../../test/support/rehearse.js';
import { createFakeStackAdmin, type FakeStackAdmin } from '../adapters/stack-admin/fake.js';
import { SurgeError } from '../errors.js';
import { createRecordingReporter } from '../reporter.js';
import { runRehearsal, type RehearseOptions } from './run.js';

/**
 * The phases of a rehearsal around a real in-process stack whose admin API is the fake: the
 * rehearsal reaches the stack only through the port it is given, and the restore runs however the
 * run ends. No load test runs to its end here (the e2e tests do that).
 */
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Options of a small rehearsal whose admin port is `fake`; `urls` collects the stack URLs it was connected to. */
function options(fake: FakeStackAdmin, urls: string[], over: Partial<RehearseOptions> = {}): RehearseOptions {
  return {
    cwd: dir as string,
    stackAdmin: async (url, token) => {
      expect(token).not.toBe('');
      urls.push(url);
      return fake;
    },
    loadDurationMs: 18_000,
    peakRate: 10,
    maxRate: 60,
    workers: 3,
    ...over,
  };
}

describe('runRehearsal', () => {
  it('probes the stack it started, then after Ctrl-C during the scale stage still restores (faults, then workers, then stop) and reports `interrupted`', async () => {
    dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-run-'));
    const fake = createFakeStackAdmin();
    const urls: string[] = [];
    const controller = new AbortController();
    const reporter = createRecordingReporter();
    const notify = reporter.notify.bind(reporter);
    reporter.notify = (message, level) => {
      notify(message, level);
      if (message.includes('] scale')) controller.abort(new Error('SIGINT'));
    };

    const report = await runRehearsal(options(fake, urls, { signal: controller.signal, reporter, reportDir: 'report', maxRate: undefined }));

    expect(report.status).toBe('interrupted');
    expect(report.stages.map((s) => `${s.name} ${s.status}`)).toEqual(['history done', 'forecast done', 'capacity done', 'calibrate done', 'scale interrupted', 'restore done']);
    // The probe ran on the real stack: a peak of 10/s needs 13.33/s, which any machine holds.
    const probe = report.scaling?.probe;
    expect(probe?.steps.map((s) => [s.ratePerSec, s.held])).toEqual([
      [6.67, true],
      [13.33, true],
    ]);
    expect(probe?.steps.every((s) => s.requests >= s.scheduled - 1 && s.failed === 0 && s.p99Ms !== undefined)).toBe(true);
    expect(report.scaling).toMatchObject({ machineMaxPerSec: 13.33, share: 0.75, factor: 1, targetPerSec: 10 });
    expect(report.scaling?.machineBasis).toMatch(/^probed: 13.33\/s sustained at p99 [\d.]+ ms, the most the probe asks/);
    expect(reporter.messages.map((m) => m.message)).toContainEqual(expect.stringMatching(/^ {6}probe 13.33\/s for [\d.]+s: held, p99 [\d.]+ ms, \d+ answered$/));
    // The worker pool the fake reported (8) was scaled to --workers 3 and put back.
    expect(report.stack?.workers).toMatchObject({ before: 8, applied: 3, basis: '--workers 3', restoredTo: 8 });
    const restoreCalls = fake.calls.slice(fake.calls.lastIndexOf('clearFaults()'));
    expect(restoreCalls).toEqual(['clearFaults()', 'setWorkers(8)', 'status()']);
    expect(report.restore).toEqual({ faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, dataDirRemoved: true, problems: [] });
    expect(existsSync(report.stack!.dataDir)).toBe(false);
    expect(urls).toEqual([report.stack!.url]);
    expect(await portClosed(report.stack!.url)).toBe(true);
    expect(await portClosed(report.stack!.paymentUrl)).toBe(true);
    expect(report.files?.json).toBe(join(dir, 'report', 'rehearsal.json'));
    expect(reporter.messages.map((m) => m.message)).toContain('[8/9] restore');
  }, 60_000);

  it('after Ctrl-C during the calibration probe, asks for no further step, restores and reports `interrupted`', async () => {
    dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-run-'));
    const fake = createFakeStackAdmin();
    const controller = new AbortController();
    const reporter = createRecordingReporter();
    const notify = reporter.notify.bind(reporter);
    reporter.notify = (message, level) => {
      notify(message, level);
      if (message.includes('probe 6.67/s')) controller.abort(new Error('SIGINT'));
    };

    const report = await runRehearsal(options(fake, [], { signal: controller.signal, reporter, maxRate: undefined }));

    expect(report.status).toBe('interrupted');
    expect(report.stages.map((s) => `${s.name} ${s.status}`)).toEqual(['history done', 'forecast done', 'capacity done', 'calibrate interrupted', 'restore done']);
    expect(report.stages.find((s) => s.name === 'calibrate')?.summary).toBe('rehearsal interrupted during the calibration probe');
    expect(reporter.messages.filter((m) => /^ {6}probe \d/.test(m.message))).toHaveLength(1);
    expect(report.scaling).toBeUndefined();
    expect(report.restore).toMatchObject({ faultsCleared: true, stackStopped: true, portsFreed: true, dataDirRemoved: true, problems: [] });
    expect(await portClosed(report.stack!.url)).toBe(true);
  }, 60_000);

  it('when a stage fails, restores and stops the stack before the error reaches the caller', async () => {
    dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-run-'));
    const fake = createFakeStackAdmin();
    fake.down = true;
    const urls: string[] = [];
    const reporter = createRecordingReporter();

    const err = await runRehearsal(options(fake, urls, { reporter, dataDir: 'data' })).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_STACK_UNREACHABLE');
    const lines = reporter.messages.map((m) => m.message);
    expect(lines).toContain('[8/9] restore');
    expect(lines).toContainEqual(expect.stringMatching(/^ {6}clearing faults failed: No stack answered clearFaults\(\)/));
    expect(fake.calls).toContain('clearFaults()');
    expect(urls).toHaveLength(1);
    expect(await portClosed(urls[0] as string)).toBe(true);
    // A data dir the caller named is kept.
    expect(existsSync(join(dir, 'data'))).toBe(true);
  }, 60_000);

  it('--degrade switches the set off before the load and puts every flag back in the restore, also after Ctrl-C', async () => {
    dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-run-'));
    const fake = createFakeStackAdmin();
    const urls: string[] = [];
    const controller = new AbortController();
    const reporter = createRecordingReporter();
    const notify = reporter.notify.bind(reporter);
    let seenWhileDegraded: Record<string, boolean> | undefined;
    reporter.notify = (message, level) => {
      notify(message, level);
      if (message.includes("set 'peak' degraded")) {
        void fake.flags().then((fs) => (seenWhileDegraded = Object.fromEntries(fs.map((f) => [f.name, f.enabled]))));
        controller.abort(new Error('SIGINT'));
      }
    };
    const before = await fake.flags();
    await fake.setFlag('recommendations', false); // already off by an override: restored as an override, not reset

    const report = await runRehearsal(
      options(fake, urls, { signal: controller.signal, reporter, reportDir: 'report', degrade: { set: 'peak', sets: { peak: ['recommendations', 'loyalty-points'] } } }),
    );

    expect(report.status).toBe('interrupted');
    expect(seenWhileDegraded).toMatchObject({ recommendations: false, 'loyalty-points': false });
    expect(report.degraded).toMatchObject({ set: 'peak', flags: ['loyalty-points'] });
    expect(report.degraded?.snapshot.startsWith(join(dir, 'report', 'flags-'))).toBe(true);
    expect(existsSync(report.degraded!.snapshot)).toBe(true);
    expect(report.restore).toMatchObject({ flagsRestored: true, problems: [] });
    const after = Object.fromEntries((await fake.flags()).map((f) => [f.name, [f.enabled, f.overridden]]));
    expect(after['loyalty-points']).toEqual([true, false]);
    expect(after.recommendations).toEqual([false, true]);
    expect(after['order-notifications']).toEqual([before.find((f) => f.name === 'order-notifications')!.enabled, false]);
    // the flags were put back before the workers and the stop
    const restoreCalls = fake.calls.slice(fake.calls.indexOf('setFlag(loyalty-points, false)') + 1);
    expect(restoreCalls.indexOf('clearFlag(loyalty-points)')).toBeLessThan(restoreCalls.indexOf('clearFaults()'));
  }, 60_000);

  it('--degrade with a set that does not exist is refused before anything starts', async () => {
    dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-run-'));
    const fake = createFakeStackAdmin();
    const err = await runRehearsal(options(fake, [], { degrade: { set: 'nope', sets: { peak: ['recommendations'] } } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SRG_FLAGS_SET', message: '--degrade nope: no such flag set in surgectl.yaml (flags.sets)', hint: expect.stringContaining('Known sets: peak') });
    expect(fake.calls).toEqual([]);
  });
});

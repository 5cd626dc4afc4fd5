import { describe, expect, it } from 'vitest';
import { completedDrill, LOAD_START, loadOutcome, stackStatus } from '../../test/support/rehearse.js';
import { SurgeError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { DEFAULT_LIMITS, evaluateGates, type GateEvidence } from './gates.js';
import { assembleReport, rehearsalOutcome, type AssembleOptions } from './outcome.js';
import type { RehearsalReport } from './report.js';

/** A report as the stages leave it, before the gates: settings, stages and samples, no findings. */
function staged(chaos = true): RehearsalReport {
  return {
    apiVersion: 'surgectl/v1',
    kind: 'RehearsalReport',
    status: 'failed',
    startedAt: '2026-11-27T02:59:00.000Z',
    endedAt: '2026-11-27T02:59:00.000Z',
    durationMs: 0,
    settings: { loadDurationMs: 20_000, seed: 42, history: 'sample (seed 42)', chaos, limits: DEFAULT_LIMITS },
    stages: [],
    samples: [
      { t: 5, breaker: 'open', pending: 9, depth: 4, confirmed: 100 },
      { t: 12, breaker: 'closed', pending: 0, depth: 0, confirmed: 900 },
    ],
    restore: { faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, dataDirRemoved: true, problems: [] },
    gates: [],
    notes: ['an earlier note'],
  };
}

/** What a healthy run observed. */
function healthy(over: Partial<AssembleOptions> = {}): AssembleOptions {
  return {
    load: loadOutcome({ warnings: ['/metrics not scraped'] }),
    targetPerSec: 50,
    baseline: stackStatus({}),
    final: stackStatus({ confirmed: 900 }),
    drainMs: 3_000,
    drainBudgetMs: 40_000,
    chaos: true,
    journal: completedDrill(),
    restore: staged().restore,
    loadStart: LOAD_START,
    interrupted: false,
    ...over,
  };
}

describe('assembleReport', () => {
  it('adds the load, orders, outage, notes and passed gates of a healthy run, leaving the staged report as it was', () => {
    const before = staged();
    const snapshot = structuredClone(before);
    const report = assembleReport(before, healthy());
    expect(before).toEqual(snapshot);
    expect(report.status).toBe('passed');
    expect(report.gates.map((g) => `${g.id} ${g.status}`).filter((g) => !g.endsWith(' pass'))).toEqual([]);
    expect(report.load).toMatchObject({ requests: 1000, p95Ms: 12.35 });
    expect(report.orders).toEqual({ created: 900, byStatus: { confirmed: 900 }, oversold: 0, drainMs: 3_000, unfinished: 0 });
    expect(report.outage).toMatchObject({ startS: 4, endS: 10, breakerOpenedS: 5, breakerClosedS: 12, maxPaymentPending: 9 });
    expect(report.notes).toEqual(['an earlier note', 'load test: /metrics not scraped']);
  });

  it('judges with the limits in the report settings', () => {
    const strict = { ...staged(), settings: { ...staged().settings, limits: { ...DEFAULT_LIMITS, p95Ms: 10 } } };
    const report = assembleReport(strict, healthy());
    expect(report.status).toBe('failed');
    expect(report.gates.find((g) => g.id === 'latency-p95')).toMatchObject({ status: 'fail', condition: 'p(95)<10' });
  });

  it('says interrupted after Ctrl-C whatever the gates say, and leaves out what was not observed', () => {
    const report = assembleReport(staged(), healthy({ interrupted: true, load: undefined, final: undefined, journal: undefined }));
    expect(report.status).toBe('interrupted');
    expect(report).not.toHaveProperty('load');
    expect(report).not.toHaveProperty('orders');
    expect(report).not.toHaveProperty('outage');
    expect(report.gates.find((g) => g.id === 'steady-state')?.status).toBe('fail');
  });

  it('without chaos has no outage section and skips the chaos gates', () => {
    const report = assembleReport(staged(false), healthy({ chaos: false, journal: undefined }));
    expect(report.outage).toBeUndefined();
    expect(report.status).toBe('passed');
    expect(report.gates.filter((g) => g.status === 'skip').map((g) => g.id)).toEqual(['breaker-opened', 'orders-waited', 'steady-state']);
  });
});

describe('rehearsalOutcome', () => {
  const evidence: GateEvidence = {
    load: { p95Ms: 12, p99Ms: 1800, requests: 1000, failedRate: 0.2, scheduled: 1000, dropped: 0, targetPerSec: 50 },
    orders: { created: 900, confirmed: 900, unfinished: 0, paymentFailed: 0, soldOut: 0, oversold: 0, drainMs: 5_000, drainBudgetMs: 40_000 },
    restore: { faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, problems: [] },
  };
  const files = { json: '/r/rehearsal.json', html: '/r/rehearsal.html' };
  const passed = (): RehearsalReport => ({ ...staged(false), status: 'passed', gates: evaluateGates({ ...evidence, load: { ...evidence.load, p99Ms: 40, failedRate: 0 } }), files });
  const failed = (): RehearsalReport => ({ ...staged(false), status: 'failed', gates: evaluateGates(evidence), files });

  it('is nothing when every gate passed and the files are written', () => {
    expect(rehearsalOutcome(passed())).toBeUndefined();
  });

  it('is a gate failure (exit 20) naming the failed gates and where the fixes are', () => {
    const err = rehearsalOutcome(failed());
    expect(err).toBeInstanceOf(SurgeError);
    expect(err).toMatchObject({ code: 'SRG_REHEARSE_GATE', exitCode: ExitCode.GateFailed, message: '2 of 11 readiness gates failed: latency-p99, error-rate' });
    expect(err?.hint).toBe('What to fix is in the table above and in /r/rehearsal.html');
    expect(err?.details).toEqual([]);
    const { files: _files, ...noFiles } = failed();
    expect(rehearsalOutcome(noFiles)?.hint).toBe('What to fix is in the table above.');
  });

  it('is an interrupt (exit 130) pointing at the partial report, whatever the gates say', () => {
    const err = rehearsalOutcome({ ...failed(), status: 'interrupted' });
    expect(err).toMatchObject({ code: 'SRG_CLI_INTERRUPTED', exitCode: ExitCode.Interrupted, hint: 'Partial report: /r/rehearsal.html' });
    expect(err?.message).toBe('rehearsal interrupted; faults were cleared, workers restored and the stack stopped');
  });

  it('is the write failure when every gate passed but the files could not be written', () => {
    const { files: _files, ...noFiles } = passed();
    const err = rehearsalOutcome({ ...noFiles, writeError: 'Cannot write --report-dir file /r/rehearsal.json: ENOSPC' });
    expect(err).toMatchObject({ code: 'SRG_REHEARSE_REPORT', exitCode: ExitCode.Usage, message: 'Every gate passed, but Cannot write --report-dir file /r/rehearsal.json: ENOSPC' });
    expect(err?.hint).toMatch(/^Pass --report-dir with a folder you can write to/);
  });

  it('keeps a failed gate or an interrupt as the outcome when the files could not be written either, and says so', () => {
    const writeError = 'Cannot write --report-dir file /r/rehearsal.json: ENOSPC';
    const gate = rehearsalOutcome({ ...failed(), files: undefined, writeError });
    expect(gate).toMatchObject({ code: 'SRG_REHEARSE_GATE', exitCode: ExitCode.GateFailed, hint: 'What to fix is in the table above.' });
    expect(gate?.details).toEqual([`the report was not written: ${writeError}`]);
    const interrupted = rehearsalOutcome({ ...failed(), status: 'interrupted', files: undefined, writeError });
    expect(interrupted).toMatchObject({ code: 'SRG_CLI_INTERRUPTED', details: [`the report was not written: ${writeError}`] });
  });
});

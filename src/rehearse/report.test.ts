import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { createPaint, stripAnsi } from '../ui/color.js';
import { DEFAULT_LIMITS, evaluateGates, type GateEvidence } from './gates.js';
import { renderReportHtml } from './html.js';
import { scaleToMachine } from './plan.js';
import { judgeStep, probeOutcome } from './probe.js';
import { renderReportTable } from './render.js';
import { completedDrill, LOAD_START, loadOutcome, stackStatus } from '../../test/support/rehearse.js';
import {
  drainSummary,
  drillDeviations,
  loadFigures,
  loadSection,
  loadSummary,
  orderDelta,
  ordersSection,
  outageSection,
  restoreStage,
  stackSample,
  unfinishedOrders,
  type RehearsalReport,
} from './report.js';
import { writeReportFiles } from './write.js';

const evidence: GateEvidence = {
  load: { p95Ms: 12, p99Ms: 1800, requests: 1000, failedRate: 0, scheduled: 1000, dropped: 0, targetPerSec: 50 },
  orders: { created: 900, confirmed: 900, unfinished: 0, paymentFailed: 0, soldOut: 0, oversold: 0, drainMs: 5_000, drainBudgetMs: 40_000 },
  restore: { faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, problems: [] },
};

/** A probe for a peak of 80/s (need 106.67/s): 53.33/s held, 106.67/s did not (p99 over the gate). */
function probeOf(): NonNullable<RehearsalReport['scaling']>['probe'] {
  const step = (rate: number, p99Ms: number) =>
    judgeStep({ ratePerSec: rate, durationMs: 2_004, requests: Math.round(rate * 2), failed: 0, scheduled: Math.round(rate * 2), dropped: 0, p95Ms: p99Ms / 2, p99Ms }, DEFAULT_LIMITS);
  return probeOutcome([step(53.33, 20), step(106.67, 1500)], 106.67);
}

/** A failed rehearsal (p99 over its limit), without chaos. */
function failedReport(): RehearsalReport {
  const probe = probeOf()!;
  return {
    apiVersion: 'surgectl/v1',
    kind: 'RehearsalReport',
    status: 'failed',
    startedAt: '2026-11-28T03:00:00.000Z',
    endedAt: '2026-11-28T03:00:30.000Z',
    durationMs: 30_000,
    settings: { loadDurationMs: 20_000, seed: 42, history: 'sample (seed 42)', chaos: false, limits: DEFAULT_LIMITS },
    stages: [{ name: 'history', status: 'done', durationMs: 20, summary: '16128 points of <orders>' }],
    scaling: { ...scaleToMachine(80, { maxPerSec: probe.maxPerSec, basis: probe.basis, share: probe.share }), probe },
    load: {
      targetPerSec: 50,
      durationMs: 20_000,
      requests: 1000,
      rps: 50,
      p95Ms: 12,
      p99Ms: 1800,
      failedRate: 0,
      scheduled: 1000,
      dropped: 0,
      timeline: [
        { t: 1, requests: 40, failed: 0, dropped: 0, p95Ms: 10, p99Ms: 20 },
        { t: 2, requests: 50, failed: 0, dropped: 0, p95Ms: 14, p99Ms: 1800 },
      ],
    },
    samples: [{ t: 0.5, breaker: 'closed', pending: 0, depth: 3, confirmed: 10 }],
    gates: evaluateGates(evidence),
    notes: [],
  };
}

describe('terminal report', () => {
  it('shows every gate, the failed one with what to fix, the scaling sentence and the verdict; no colour when disabled', () => {
    const text = renderReportTable(failedReport(), createPaint(false));
    expect(text).not.toContain('\u001b[');
    expect(text).toContain(
      'forecast peak 4,800 orders/min = 80/s; scaled to 40/s for this machine (75% of 53.33/s; probed: 53.33/s sustained at p99 20 ms; 106.67/s was not (p95 750 ms over the 250 ms gate; p99 1,500 ms over the 1000 ms gate)): factor 0.5',
    );
    expect(text).toMatch(/latency-p99\s+FAIL\s+p99 1800 ms/);
    expect(text).toMatch(/latency-p95\s+PASS/);
    expect(text).toMatch(/breaker-opened\s+SKIP/);
    expect(text).toMatch(/What to fix:\n {2}latency-p99: The slowest 1% of orders/);
    expect(text).toContain('NOT READY: 1 of 11 gates failed');
  });

  it('colours results when colour is on, and the columns still line up', () => {
    const coloured = renderReportTable(failedReport(), createPaint(true));
    expect(coloured).toContain('\u001b[31mFAIL\u001b[39m');
    expect(stripAnsi(coloured)).toBe(renderReportTable(failedReport(), createPaint(false)));
  });
});

describe('HTML report', () => {
  it('is one self-contained page with the verdict, every gate, the fix and the charts; text is escaped', () => {
    const html = renderReportHtml(failedReport());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link /);
    expect(html).toContain('NOT READY: 1 gate(s) failed');
    for (const g of failedReport().gates) expect(html).toContain(`<code>${g.id}</code>`);
    expect(html).toMatch(/<tr class="fail"><td>FAIL<\/td><td>Order intake latency p99/);
    expect(html).toContain('The slowest 1% of orders');
    expect(html).toContain('16128 points of &lt;orders&gt;');
    expect(html.match(/<svg /g)?.length).toBe(3);
    // Where the load test's rate came from: the machine rate and each probe step with its verdict.
    expect(html).toContain('53.33/s (probed: 53.33/s sustained at p99 20 ms;');
    expect(html).toContain('the load test asks at most 75% of it = 40/s');
    expect(html).toMatch(/<tr class="pass"><td>HELD<\/td><td>53.33\/s<\/td>/);
    expect(html).toMatch(/<tr class="fail"><td>NOT HELD<\/td><td>106.67\/s<\/td>.*p99 1,500 ms over the 1000 ms gate<\/td><\/tr>/);
  });
});

describe('report files', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes rehearsal.json (the report with its file names) and rehearsal.html, and no temp files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'surgectl-report-'));
    const out = join(dir, 'nested', 'run-1');
    const files = await writeReportFiles(out, failedReport(), {
      journal: { status: 'completed' },
      loadSummary: { metrics: {} },
      scenario: { name: 'rehearsal-peak', target: 'http://127.0.0.1:1' },
    });
    expect(files).toEqual({
      json: join(out, 'rehearsal.json'),
      html: join(out, 'rehearsal.html'),
      journal: join(out, 'chaos-journal.json'),
      loadSummary: join(out, 'loadtest-summary.json'),
      scenario: join(out, 'load-scenario.yaml'),
    });
    expect(await readFile(files.scenario!, 'utf8')).toBe('name: rehearsal-peak\ntarget: http://127.0.0.1:1\n');
    const json = JSON.parse(await readFile(files.json, 'utf8')) as RehearsalReport;
    expect(json.files).toEqual(files);
    expect(json.gates.find((g) => g.id === 'latency-p99')?.status).toBe('fail');
    expect(await readFile(files.html, 'utf8')).toContain('NOT READY');
    expect((await readdir(out)).sort()).toEqual(['chaos-journal.json', 'load-scenario.yaml', 'loadtest-summary.json', 'rehearsal.html', 'rehearsal.json']);
  });

  it('writes all the files or none: a file that cannot be placed leaves no other file and no temp file behind', async () => {
    dir = await mkdtemp(join(tmpdir(), 'surgectl-report-'));
    // rehearsal.json is renamed last; a directory in its place makes that rename fail.
    await mkdir(join(dir, 'rehearsal.json'));
    const err = await writeReportFiles(dir, failedReport(), { journal: { status: 'completed' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).message).toContain(join(dir, 'rehearsal.json'));
    expect((err as SurgeError).message).toContain('no output was written');
    expect(await readdir(dir)).toEqual(['rehearsal.json']);
  });
});

describe('report sections from what the stages observed', () => {
  it('load: figures rounded to 2 decimals, arrivals summed over the profiles, absent percentiles left out', () => {
    const load = loadOutcome({ scenarios: [{ scheduled: 600, dropped: 2 }, { scheduled: 400, dropped: 1 }], warnings: ['metrics not scraped'] });
    expect(loadSection(load, 50)).toEqual({
      targetPerSec: 50,
      durationMs: 20_012,
      requests: 1000,
      rps: 50,
      p50Ms: 4.32,
      p95Ms: 12.35,
      p99Ms: 40.68,
      failedRate: 0,
      scheduled: 1000,
      dropped: 3,
      timeline: [{ t: 1, requests: 50, failed: 0, dropped: 0, p95Ms: 10, p99Ms: 20.01 }],
    });
    const unanswered = loadOutcome({ summary: { metrics: {} }, aborted: 'interrupted' });
    expect(loadSection(unanswered, 50)).toMatchObject({ requests: 0, rps: 0, aborted: 'interrupted' });
    for (const absent of ['p50Ms', 'p95Ms', 'p99Ms', 'failedRate']) expect(loadSection(unanswered, 50)).not.toHaveProperty(absent);
    expect(loadFigures(loadOutcome()).p95Ms).toBe(12.345);
  });

  it('load: one line with the figures, and why the load stopped early', () => {
    expect(loadSummary(loadOutcome(), 50)).toBe('1000 requests at 50/s for 20s: p95 12.3 ms, p99 40.7 ms, failed 0%, dropped 0');
    expect(loadSummary(loadOutcome({ summary: { metrics: {} }, aborted: 'interrupted' }), 50)).toBe('0 requests at 50/s for 20s: p95 -, p99 -, failed -, dropped 0 (stopped: interrupted)');
  });

  it('orders: only what this rehearsal changed, on a store that already held orders', () => {
    const before = stackStatus({ confirmed: 100, payment_failed: 2 });
    const after = stackStatus({ confirmed: 1000, payment_failed: 2, payment_pending: 3, accepted: 1 }, { oversold: 0 });
    expect(orderDelta(before, after)).toEqual({ created: 904, byStatus: { confirmed: 900, payment_pending: 3, accepted: 1 } });
    expect(ordersSection(before, after, 5_000)).toEqual({ created: 904, byStatus: { confirmed: 900, payment_pending: 3, accepted: 1 }, oversold: 0, drainMs: 5_000, unfinished: 4 });
    expect(ordersSection(before, after, undefined)).not.toHaveProperty('drainMs');
    expect(ordersSection(before, undefined, undefined)).toBeUndefined();
  });

  it('counts as unfinished every order not in one of the domain terminal statuses', () => {
    const s = stackStatus({ accepted: 1, reserved: 2, payment_pending: 3, paid: 4, confirmed: 50, sold_out: 5, payment_failed: 6, cancelled: 7 });
    expect(unfinishedOrders(s)).toBe(10);
  });

  it('samples: offsets rounded, confirmed counted from the baseline', () => {
    const s = stackStatus({ confirmed: 130, payment_pending: 7 }, { breaker: 'open', depth: 9 });
    expect(stackSample(s, stackStatus({ confirmed: 100 }), 3.14159)).toEqual({ t: 3.14, breaker: 'open', pending: 7, depth: 9, confirmed: 30 });
  });

  it('outage: the fault window from the journal, and the first samples with the breaker open after it began and closed after it ended', () => {
    const samples = [
      { t: 3, breaker: 'open', pending: 0, depth: 0, confirmed: 10 },
      { t: 4.5, breaker: 'closed', pending: 2, depth: 1, confirmed: 12 },
      { t: 5, breaker: 'open', pending: 9, depth: 4, confirmed: 12 },
      { t: 9, breaker: 'closed', pending: 4, depth: 2, confirmed: 20 },
      { t: 11, breaker: 'half_open', pending: 1, depth: 1, confirmed: 30 },
      { t: 12, breaker: 'closed', pending: 0, depth: 0, confirmed: 40 },
    ];
    expect(outageSection(completedDrill(), samples, LOAD_START)).toEqual({
      startS: 4,
      endS: 10,
      breakerOpenedS: 5,
      breakerClosedS: 12,
      maxPaymentPending: 9,
      journal: { status: 'completed', deviated: false, steadyStateBefore: true, steadyStateAfter: true, rollbacks: 1, rollbackFailed: false, reason: null },
    });
    const neverOpened = outageSection(completedDrill(), samples.map((s) => ({ ...s, breaker: 'closed' })), LOAD_START);
    expect(neverOpened).not.toHaveProperty('breakerOpenedS');
    expect(neverOpened).not.toHaveProperty('breakerClosedS');
    const noAction = outageSection({ ...completedDrill(), run: [], steady_states: { before: null, after: null } }, [], LOAD_START);
    expect(noAction).toEqual({ maxPaymentPending: 0, journal: { status: 'completed', deviated: false, rollbacks: 1, rollbackFailed: false, reason: null } });
  });

  it('names the steady-state probes that missed their tolerance, before and after', () => {
    const j = completedDrill();
    j.steady_states.after = {
      steady_state_met: false,
      probes: [
        { activity: { name: 'intake-latency' }, tolerance_met: false, tolerance_result: { message: 'p(99)=1200 not < 1000' }, exception: null },
        { activity: { name: 'error-rate' }, tolerance_met: false, exception: { message: 'stack unreachable' } },
        { activity: { name: 'oversell' }, tolerance_met: false, exception: null },
        { activity: { name: 'breaker' }, tolerance_met: true, exception: null },
      ],
    };
    expect(drillDeviations(j)).toEqual(['intake-latency after: p(99)=1200 not < 1000', 'error-rate after: stack unreachable', 'oversell after: tolerance not met']);
  });

  it('drain: how the drill went and whether the backlog drained', () => {
    const samples = [{ t: 5, breaker: 'open', pending: 9, depth: 4, confirmed: 12 }];
    const base = { chaos: true, journal: completedDrill(), samples, loadStart: LOAD_START, drainMs: 2_345, drainBudgetMs: 40_000, interrupted: false };
    expect(drainSummary(base)).toBe('drill completed; breaker open at 5s, up to 9 orders payment_pending; backlog drained in 2.3s');
    expect(drainSummary({ ...base, samples: [], drainMs: undefined })).toBe('drill completed; the breaker was never seen open; backlog not drained in 40s');
    expect(drainSummary({ ...base, journal: { ...completedDrill(), status: 'failed', deviated: true, run: [] } })).toMatch(/^drill failed \(deviated\); the outage action did not run;/);
    expect(drainSummary({ ...base, journal: undefined, drainMs: undefined, interrupted: true })).toBe('the drill did not run (interrupted before it started); backlog not waited for (interrupted)');
    expect(drainSummary({ ...base, chaos: false })).toBe('no outage (--no-chaos); backlog drained in 2.3s');
  });

  it('restore: done when nothing went wrong or every check still holds, failed otherwise', () => {
    const ok = { faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, dataDirRemoved: false, problems: [] };
    expect(restoreStage(ok, 8, [4100, 4101])).toEqual({ name: 'restore', status: 'done', summary: 'faults cleared, workers back to 8, stack stopped, ports 4100, 4101 free' });
    // Jobs left in flight are worth saying, but the stack was still put back.
    expect(restoreStage({ ...ok, problems: ['2 jobs were still in flight at stop'] }, 8, [1, 2])).toEqual({ name: 'restore', status: 'done', summary: '2 jobs were still in flight at stop' });
    expect(restoreStage({ ...ok, stackStopped: false, problems: ['stopping the stack failed: x'] }, undefined, [1, 2]).status).toBe('failed');
    expect(restoreStage({ ...ok, workersRestored: true }, undefined, [1, 2]).summary).toContain('workers back to -');
  });
});

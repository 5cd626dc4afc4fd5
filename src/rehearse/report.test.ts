import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { createPaint, stripAnsi } from '../ui/color.js';
import { DEFAULT_LIMITS, evaluateGates, type GateEvidence } from './gates.js';
import { renderReportHtml } from './html.js';
import { scaleToMachine } from './plan.js';
import { renderReportTable } from './render.js';
import type { RehearsalReport } from './report.js';
import { writeReportFiles } from './write.js';

const evidence: GateEvidence = {
  load: { p95Ms: 12, p99Ms: 1800, requests: 1000, failedRate: 0, scheduled: 1000, dropped: 0, targetPerSec: 50 },
  orders: { created: 900, confirmed: 900, unfinished: 0, paymentFailed: 0, soldOut: 0, oversold: 0, drainMs: 5_000, drainBudgetMs: 40_000 },
  restore: { faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, problems: [] },
};

/** A failed rehearsal (p99 over its limit), without chaos. */
function failedReport(): RehearsalReport {
  return {
    apiVersion: 'surgectl/v1',
    kind: 'RehearsalReport',
    status: 'failed',
    startedAt: '2026-11-28T03:00:00.000Z',
    endedAt: '2026-11-28T03:00:30.000Z',
    durationMs: 30_000,
    settings: { loadDurationMs: 20_000, seed: 42, history: 'sample (seed 42)', chaos: false, limits: DEFAULT_LIMITS },
    stages: [{ name: 'history', status: 'done', durationMs: 20, summary: '16128 points of <orders>' }],
    scaling: scaleToMachine(80, { maxPerSec: 50, basis: '2 cores x 25/s' }),
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
    expect(text).toContain('forecast peak 4,800 orders/min = 80/s; scaled to 50/s for this machine (2 cores x 25/s): factor 0.625');
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

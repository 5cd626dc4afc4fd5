import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startTrivialServer } from '../../test/support/loadtest-servers.js';
import { createRecordingReporter } from '../reporter.js';
import type { Progress } from './evidence.js';
import { importSummaryFile, runScenarioFile } from './run-file.js';

const dir = mkdtempSync(join(tmpdir(), 'surgectl-run-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const summary = (ok: boolean) => ({
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 1000 },
  metrics: { http_req_duration: { type: 'trend', contains: 'time', values: { 'p(95)': 250 }, thresholds: { 'p(95)<200': { ok } } } },
});

describe('importSummaryFile', () => {
  it('reads the summary, writes the reports, and ends with exit 20 when a threshold failed', async () => {
    const file = join(dir, 'red.json');
    writeFileSync(file, JSON.stringify(summary(false)));
    const reporter = createRecordingReporter();
    const { result, outcome } = await importSummaryFile({ file, reports: { cwd: dir, junit: 'red.xml' }, reporter });
    expect(result).toMatchObject({ engine: 'k6', scenario: 'red.json', passed: false });
    expect(outcome).toMatchObject({ code: 'SRG_LOADTEST_THRESHOLD', message: expect.stringContaining("'http_req_duration'") });
    expect(readFileSync(join(dir, 'red.xml'), 'utf8')).toContain('<failure');
    expect(reporter.messages).toContainEqual({ level: 'info', message: `wrote ${join(dir, 'red.xml')}` });
  });

  it('a passing summary has no outcome; a bad report path is refused before the file is read', async () => {
    const file = join(dir, 'green.json');
    writeFileSync(file, JSON.stringify(summary(true)));
    expect((await importSummaryFile({ file, reports: { cwd: dir }, reporter: createRecordingReporter() })).outcome).toBeUndefined();
    await expect(importSummaryFile({ file: join(dir, 'missing.json'), reports: { cwd: dir, html: '/nonexistent-dir/r.html' }, reporter: createRecordingReporter() })).rejects.toMatchObject({
      code: 'SRG_CLI_USAGE',
      message: expect.stringContaining('--html'),
    });
  });

  it('names an unreadable or malformed file as an input error', async () => {
    await expect(importSummaryFile({ file: join(dir, 'missing.json'), reports: { cwd: dir }, reporter: createRecordingReporter() })).rejects.toMatchObject({
      code: 'SRG_LOADTEST_SCENARIO',
      message: expect.stringMatching(/^Cannot read the k6 summary .*missing\.json: ENOENT$/),
    });
    writeFileSync(join(dir, 'bad.json'), '{');
    await expect(importSummaryFile({ file: join(dir, 'bad.json'), reports: { cwd: dir }, reporter: createRecordingReporter() })).rejects.toMatchObject({
      code: 'SRG_LOADTEST_SCENARIO',
      message: expect.stringMatching(/bad\.json is not valid JSON .*"metrics" object$/),
    });
  });
});

describe('runScenarioFile', () => {
  it('applies --target, --rate and --duration, feeds the progress sink and ends it, and writes the reports', async () => {
    const srv = await startTrivialServer();
    try {
      const work = mkdtempSync(join(dir, 'run-'));
      const file = join(work, 's.yaml');
      writeFileSync(
        file,
        stringify({
          scrapeMetrics: false,
          requests: [{ kind: 'http', path: '/' }],
          scenarios: { s: { executor: 'constant-arrival-rate', rate: 1, timeUnit: '1s', duration: '10s', preAllocatedVUs: 5, maxVUs: 50 } },
          thresholds: { http_reqs: ['count>0'] },
        }),
      );
      const updates: Progress[] = [];
      let ended = 0;
      const { result, outcome } = await runScenarioFile({
        file,
        target: srv.url,
        overrides: { rate: 40, durationMs: 1500 },
        engine: 'builtin',
        reports: { cwd: work, out: 'r.json' },
        signal: new AbortController().signal,
        reporter: createRecordingReporter(),
        tty: { stdout: false, stderr: true },
        progress: { update: (p) => updates.push(p), end: () => ended++ },
        env: {},
      });
      expect(result).toMatchObject({ target: srv.url, passed: true });
      expect(result.scenarios[0]).toMatchObject({ arrivals: 60, dropped: 0, activeMs: 1500 });
      expect(result.summary.state.isStdErrTTY).toBe(true);
      expect(updates.length).toBeGreaterThanOrEqual(1);
      expect(updates[0]!.plannedMs).toBe(1500);
      expect(ended).toBe(1);
      expect(outcome).toBeUndefined();
      expect(readdirSync(work).sort()).toEqual(['r.json', 's.yaml']);
    } finally {
      await srv.close();
    }
  });
});

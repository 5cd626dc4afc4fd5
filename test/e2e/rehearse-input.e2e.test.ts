import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';

/** Bad input is refused with a clear message and the documented exit code, before any stack starts. */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-input-'));
  const rows = ['series,timestamp,value'];
  for (let i = 0; i < 50; i++) rows.push(`eu,${new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString()},${10 + (i % 24)}`);
  for (let i = 0; i < 50; i++) rows.push(`us,${new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString()},${20 + (i % 24)}`);
  await writeFile(join(dir, 'two.csv'), rows.join('\n') + '\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('surgectl rehearse input', () => {
  it('--help lists the flags and examples', async () => {
    const r = await runMain(['rehearse', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--duration', '--seed', '--data-dir', '--store', '--report-dir', '--workers', '--peak-rate', '--max-rate', '--no-chaos', '--history']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/Examples:\n {2}\$ surgectl rehearse/);
  });

  it('refuses a duration too short for the drill (exit 2) and names the minimum', async () => {
    const r = await runMain(['rehearse', '--duration', '5s', '--report-dir', join(dir, 'r1')], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[SRG_CLI_USAGE\] --duration must be at least 18s, got 5s/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['--duration', 'soon'], /--duration must be a positive duration: a number with a unit \(ms, s, m, h, d, w\), e\.g\. 500ms, 30s, 2m, 1h30m, got 'soon'/],
    [['--seed', 'x'], /--seed must be a whole number >= 0, got 'x'/],
    [['--workers', '0'], /--workers must be a whole number >= 1, got '0'/],
    [['--peak-rate', '-3'], /--peak-rate must be a positive number/],
    [['--max-error-rate', '2'], /--max-error-rate must be a share from 0 to 1/],
  ])('rejects %j as a usage error', async (args, message) => {
    const r = await runMain(['rehearse', ...args], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('asks which series of a multi-series history to rehearse (exit 10), listing them', async () => {
    const r = await runMain(['rehearse', '--history', 'two.csv', '--report-dir', join(dir, 'r2')], { cwd: dir });
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/\[SRG_DATA_FORMAT\] two\.csv holds 2 series; say which one to rehearse with --series/);
    expect(r.stderr).toMatch(/- eu\n\s+- us/);
  });

  it('reports a history file that does not exist', async () => {
    const r = await runMain(['rehearse', '--history', 'missing.csv', '--report-dir', join(dir, 'r3')], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/missing\.csv/);
    expect(r.stderr).toMatch(/error \[SRG_DATA_/);
  });
});

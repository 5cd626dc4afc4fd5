import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';

/** A report dir that cannot be created is refused before anything starts (exit 2), not after two minutes. */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'surgectl-rehearse-rdir-'));
  await writeFile(join(dir, 'a-file'), 'not a folder\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('exits 2 with SRG_REHEARSE_REPORT when the report dir cannot be created, before any stage runs', async () => {
  const r = await runMain(['rehearse', '--duration', '18s', '--report-dir', join(dir, 'a-file', 'report')], { cwd: dir });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/error \[SRG_REHEARSE_REPORT\] Cannot create the report directory .*a-file\/report: ENOTDIR/);
  expect(r.stderr).toMatch(/hint: Pass --report-dir with a folder you can write to/);
  expect(r.stderr).not.toContain('[1/9]');
  expect(r.stdout).toBe('');
});

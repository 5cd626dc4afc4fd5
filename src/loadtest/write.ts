import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { renderHtml, renderJUnit } from './reporters.js';
import type { LoadTestResult } from './summary.js';

/** Where to write report files; relative paths resolve against `cwd`. */
export interface ReportPaths {
  cwd: string;
  /** k6 handleSummary-shaped JSON (the summary plus surgectl's verdicts under "surgectl"). */
  out?: string;
  junit?: string;
  html?: string;
}

/**
 * Writes the asked reports, each to a temporary file renamed into place, so a reader never sees a
 * half-written file. Returns the absolute paths written.
 */
export async function writeReports(r: LoadTestResult, paths: ReportPaths): Promise<string[]> {
  const jobs: [string, string][] = [];
  if (paths.out) {
    const { summary, ...rest } = r;
    jobs.push([paths.out, JSON.stringify({ ...summary, surgectl: rest }, null, 2) + '\n']);
  }
  if (paths.junit) jobs.push([paths.junit, renderJUnit(r)]);
  if (paths.html) jobs.push([paths.html, renderHtml(r)]);
  const written: string[] = [];
  for (const [p, text] of jobs) {
    const abs = resolve(paths.cwd, p);
    const tmp = `${abs}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, text);
    await rename(tmp, abs);
    written.push(abs);
  }
  return written;
}

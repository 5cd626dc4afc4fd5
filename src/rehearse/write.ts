import { mkdir, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { renderReportHtml } from './html.js';
import type { RehearsalReport } from './report.js';

/**
 * Writes rehearsal.json and rehearsal.html (plus, when given, the chaos journal, the k6-shaped load
 * summary, and the load scenario and chaos experiment as run, in the formats `surgectl loadtest run`
 * and `surgectl chaos run` read) into `dir`. Each file is written to a temp name and renamed, so a
 * reader never sees half a report.
 */
export async function writeReportFiles(
  dir: string,
  report: RehearsalReport,
  extra: { journal?: unknown; loadSummary?: unknown; scenario?: unknown; experiment?: unknown; stackLog?: string } = {},
): Promise<NonNullable<RehearsalReport['files']>> {
  await mkdir(dir, { recursive: true });
  const files: NonNullable<RehearsalReport['files']> = { json: join(dir, 'rehearsal.json'), html: join(dir, 'rehearsal.html') };
  if (extra.journal !== undefined) files.journal = join(dir, 'chaos-journal.json');
  if (extra.loadSummary !== undefined) files.loadSummary = join(dir, 'loadtest-summary.json');
  if (extra.scenario !== undefined) files.scenario = join(dir, 'load-scenario.yaml');
  if (extra.experiment !== undefined) files.experiment = join(dir, 'chaos-experiment.yaml');
  if (extra.stackLog !== undefined && extra.stackLog.startsWith(dir)) files.stackLog = extra.stackLog;
  const withFiles: RehearsalReport = { ...report, files };
  const put = async (path: string, text: string) => {
    const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, text);
    await rename(tmp, path);
  };
  if (files.scenario || files.experiment) {
    const { stringify } = await import('yaml');
    if (files.scenario) await put(files.scenario, stringify(extra.scenario));
    if (files.experiment) await put(files.experiment, stringify(extra.experiment));
  }
  if (files.journal) await put(files.journal, JSON.stringify(extra.journal, null, 2) + '\n');
  if (files.loadSummary) await put(files.loadSummary, JSON.stringify(extra.loadSummary, null, 2) + '\n');
  await put(files.html, renderReportHtml(withFiles));
  await put(files.json, JSON.stringify(withFiles, null, 2) + '\n');
  return files;
}

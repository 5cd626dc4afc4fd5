import { join } from 'node:path';
import { writeOutputFiles } from '../util/output-files.js';
import { renderReportHtml } from './html.js';
import type { RehearsalReport } from './report.js';

/**
 * Writes rehearsal.json and rehearsal.html (plus, when given, the chaos journal, the k6-shaped load
 * summary, and the load scenario and chaos experiment as run, in the formats `surgectl loadtest run`
 * and `surgectl chaos run` read) into `dir`, creating it when missing. All files or none: each is
 * staged under a temp name and renamed only when every one is written (util/output-files), so a
 * reader never sees half a report. A failure throws SRG_CLI_USAGE naming `--report-dir` and the file.
 */
export async function writeReportFiles(
  dir: string,
  report: RehearsalReport,
  extra: { journal?: unknown; loadSummary?: unknown; scenario?: unknown; experiment?: unknown; stackLog?: string } = {},
): Promise<NonNullable<RehearsalReport['files']>> {
  const files: NonNullable<RehearsalReport['files']> = { json: join(dir, 'rehearsal.json'), html: join(dir, 'rehearsal.html') };
  if (extra.journal !== undefined) files.journal = join(dir, 'chaos-journal.json');
  if (extra.loadSummary !== undefined) files.loadSummary = join(dir, 'loadtest-summary.json');
  if (extra.scenario !== undefined) files.scenario = join(dir, 'load-scenario.yaml');
  if (extra.experiment !== undefined) files.experiment = join(dir, 'chaos-experiment.yaml');
  if (extra.stackLog !== undefined && extra.stackLog.startsWith(dir)) files.stackLog = extra.stackLog;
  const withFiles: RehearsalReport = { ...report, files };
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  const out: { flag: string; path: string; text: string }[] = [];
  const add = (path: string, text: string) => out.push({ flag: '--report-dir', path, text });
  if (files.scenario || files.experiment) {
    const { stringify } = await import('yaml');
    if (files.scenario) add(files.scenario, stringify(extra.scenario));
    if (files.experiment) add(files.experiment, stringify(extra.experiment));
  }
  if (files.journal) add(files.journal, json(extra.journal));
  if (files.loadSummary) add(files.loadSummary, json(extra.loadSummary));
  add(files.html, renderReportHtml(withFiles));
  add(files.json, json(withFiles));
  await writeOutputFiles(out, { createParents: true });
  return files;
}

import { resolve } from 'node:path';
import { isSurgeError, type SurgeError } from '../errors.js';
import type { Reporter } from '../reporter.js';
import { checkOutputPaths, writeOutputFiles, type OutputPath } from '../util/output-files.js';
import { renderHtml, renderJUnit } from './reporters.js';
import type { LoadTestResult } from './summary.js';

/** Where to write report files; relative paths resolve against `cwd`. */
export interface ReportPaths {
  cwd: string;
  /** k6 handleSummary-shaped JSON (the summary plus surgectl's verdicts under "surgectl"). */
  out?: string | undefined;
  junit?: string | undefined;
  html?: string | undefined;
}

/** The asked reports as absolute paths, each with the flag that named it. */
function outputs(paths: ReportPaths): (OutputPath & { kind: 'out' | 'junit' | 'html' })[] {
  const list: (OutputPath & { kind: 'out' | 'junit' | 'html' })[] = [];
  for (const kind of ['out', 'junit', 'html'] as const) {
    const p = paths[kind];
    if (p) list.push({ kind, flag: `--${kind}`, path: resolve(paths.cwd, p) });
  }
  return list;
}

/**
 * Checks the report paths before a run, so a run whose reports cannot be written does not start:
 * each parent directory must exist, no path may be a directory, no two flags may name one file.
 * Throws SRG_CLI_USAGE naming the flag and the path.
 */
export async function checkReportPaths(paths: ReportPaths): Promise<void> {
  await checkOutputPaths(outputs(paths));
}

/**
 * Writes the asked reports all or nothing: each to a temporary file, renamed into place once
 * every one is written, so a reader never sees a half-written file or a partial set. Returns the
 * absolute paths written; throws SRG_CLI_USAGE naming the flag and the path when one cannot be
 * written (and leaves no temp file).
 */
export async function writeReports(r: LoadTestResult, paths: ReportPaths): Promise<string[]> {
  const files = outputs(paths).map((o) => {
    if (o.kind === 'out') {
      const { summary, ...rest } = r;
      return { ...o, text: JSON.stringify({ ...summary, surgectl: rest }, null, 2) + '\n' };
    }
    return { ...o, text: o.kind === 'junit' ? renderJUnit(r) : renderHtml(r) };
  });
  return writeOutputFiles(files);
}

/**
 * Writes the asked reports after a run and says `wrote <path>` for each; a write that fails is
 * returned, not thrown, so the run's own result is still printed and its outcome still decides
 * the exit (see withWriteFailure in src/errors.ts). Anything but a SurgeError is a bug and is thrown.
 */
export async function writeReportsOrError(r: LoadTestResult, paths: ReportPaths, reporter?: Reporter): Promise<SurgeError | undefined> {
  try {
    for (const w of await writeReports(r, paths)) reporter?.notify(`wrote ${w}`, 'info');
    return undefined;
  } catch (err) {
    if (!isSurgeError(err)) throw err;
    return err;
  }
}

import { SurgeError, withWriteFailure } from '../errors.js';
import type { Reporter } from '../reporter.js';
import { findK6, readK6SummaryFile, runK6, runK6Script } from './k6.js';
import { loadTestOutcome } from './outcome.js';
import type { ProgressSink } from './progress.js';
import { runLoadTest } from './run.js';
import { applyOverrides, isK6Script, loadScenarioFile, type ScenarioOverrides } from './scenario.js';
import type { LoadTestResult } from './summary.js';
import { checkReportPaths, writeReportsOrError, type ReportPaths } from './write.js';

/**
 * `loadtest run` and `loadtest import` as library calls: check where the reports go, get a
 * result, write the reports, and say what the exit should be. The caller prints the result and
 * then throws the outcome when there is one.
 */

/** A finished load test and the error the command ends with (undefined when it passed and every report was written). */
export interface FinishedLoadTest {
  readonly result: LoadTestResult;
  /** {@link loadTestOutcome} with a failed report write added (withWriteFailure). */
  readonly outcome: SurgeError | undefined;
}

/** Options of {@link runScenarioFile}. */
export interface RunScenarioFileOptions {
  /** The scenario file, absolute. */
  file: string;
  /** Base URL of the system under test; replaces (or supplies) the scenario's. */
  target?: string | undefined;
  /** Peak arrival rate per second and total length in ms, scaled into every profile. Default: as written. */
  overrides?: Pick<ScenarioOverrides, 'rate' | 'durationMs'>;
  /**
   * The load generator. Default: builtin for a scenario file; for a k6 script, k6 itself when it
   * is on PATH, else builtin (which then needs `mix`).
   */
  engine?: 'builtin' | 'k6' | undefined;
  /** For a k6 script on the builtin engine: the surgectl request mix, a file or a name (see loadScenarioFile). */
  mix?: string | undefined;
  /** Directory `mix` is resolved against. */
  cwd?: string | undefined;
  /** Report files, checked before the run starts and written after it. */
  reports: ReportPaths;
  /** Stops the run; the result so far is kept and the outcome is SRG_CLI_INTERRUPTED. */
  signal: AbortSignal;
  reporter: Reporter;
  /** Whether stdout and stderr are terminals (recorded in the summary's `state`, as k6 does). */
  tty: { stdout: boolean; stderr: boolean };
  /** The live progress line (builtin engine). Default: none. */
  progress?: ProgressSink | undefined;
  /** Environment for k6; its PATH is searched for the binary. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs a scenario file. The report paths are checked first and the scenario is loaded next, so a
 * run whose reports cannot be written or whose scenario is invalid does not start.
 */
export async function runScenarioFile(opts: RunScenarioFileOptions): Promise<FinishedLoadTest> {
  await checkReportPaths(opts.reports);
  const script = isK6Script(opts.file);
  const engine = opts.engine ?? (script && (await findK6(opts.env.PATH)) ? 'k6' : 'builtin');
  if (script && engine === 'k6') {
    // The user's own script, unchanged: k6 runs it with its own options and thresholds.
    if (opts.overrides?.rate !== undefined || opts.overrides?.durationMs !== undefined || opts.mix !== undefined) {
      opts.reporter.notify('k6 runs the script as written: --rate, --duration and --mix apply to the builtin engine only', 'warn');
    }
    return finish(await runK6Script(opts.file, { pathEnv: opts.env.PATH, env: opts.env, signal: opts.signal, reporter: opts.reporter, target: opts.target }), opts.reports, opts.reporter);
  }
  if (script && opts.mix === undefined) {
    throw new SurgeError('SRG_CLI_USAGE', `Running the k6 script ${opts.file} with the builtin engine needs --mix: the requests to send (k6 is not on PATH to run the script's own code)`, {
      hint: 'Pass --mix <file> (a YAML file with requests or mixes named after the script\'s exec functions) or --mix <name> for scenarios/load/<name>.yaml; or install k6.',
    });
  }
  let loaded = await loadScenarioFile(opts.file, { target: opts.target, mix: opts.mix, cwd: opts.cwd, env: opts.env });
  if (opts.overrides && (opts.overrides.rate !== undefined || opts.overrides.durationMs !== undefined)) loaded = applyOverrides(loaded, opts.overrides);
  const progress = opts.progress;
  let result: LoadTestResult;
  try {
    result =
      engine === 'k6'
        ? await runK6(loaded, { pathEnv: opts.env.PATH, env: opts.env, signal: opts.signal, reporter: opts.reporter })
        : await runLoadTest(loaded, { signal: opts.signal, reporter: opts.reporter, tty: opts.tty, ...(progress ? { onProgress: (p) => progress.update(p) } : {}) });
  } finally {
    progress?.end();
  }
  return finish(result, opts.reports, opts.reporter);
}

/** Options of {@link importSummaryFile}. */
export interface ImportSummaryFileOptions {
  /** The handleSummary JSON, absolute. */
  file: string;
  /** Report files (junit, html), checked before the file is read. */
  reports: ReportPaths;
  reporter: Reporter;
}

/** Reads a k6 handleSummary JSON into a result (see readK6SummaryFile for its errors) and writes the reports. */
export async function importSummaryFile(opts: ImportSummaryFileOptions): Promise<FinishedLoadTest> {
  await checkReportPaths(opts.reports);
  return finish(await readK6SummaryFile(opts.file), opts.reports, opts.reporter);
}

async function finish(result: LoadTestResult, reports: ReportPaths, reporter: Reporter): Promise<FinishedLoadTest> {
  const writeError = await writeReportsOrError(result, reports, reporter);
  return { result, outcome: withWriteFailure(loadTestOutcome(result), writeError, 'the reports') };
}

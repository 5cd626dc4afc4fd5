import { Option, type Command } from 'commander';
import { SurgeError, isSurgeError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { LoadTestResult, Progress, ReportPaths, ScenarioOverrides } from '../loadtest/index.js';
import type { CommandContext } from './context.js';

interface RunFlags {
  engine: 'builtin' | 'k6';
  target?: string;
  rate?: string;
  duration?: string;
  out?: string;
  junit?: string;
  html?: string;
  progress: boolean;
}

export function registerLoadtest(program: Command, ctx: CommandContext): void {
  const loadtest = program
    .command('loadtest')
    .description('load tests that gate CI: k6 scenarios, thresholds, reports')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl loadtest run scenarios/load/flash-sale.yaml --junit report.xml   # exit 20 when a threshold fails
  $ surgectl loadtest validate scenarios/load/flash-sale.yaml
  $ surgectl loadtest export scenarios/load/flash-sale.yaml --k6 > flash-sale.js
  $ surgectl loadtest import summary.json --junit report.xml                  # a k6 handleSummary JSON
`,
    );

  loadtest
    .command('run')
    .description('run a load-test scenario; exit 20 when a threshold fails')
    .argument('<scenario>', 'scenario file, e.g. scenarios/load/flash-sale.yaml')
    .addOption(new Option('--engine <engine>', 'load generator').choices(['builtin', 'k6']).default('builtin'))
    .option('--target <url>', 'base URL of the system under test (overrides the scenario)')
    .option('--rate <n>', 'peak arrival rate per second (scales arrival-rate profiles)')
    .option('--duration <d>', 'total length, e.g. 30s or 2m (scales every profile)')
    .option('--out <file>', "write the summary as JSON in k6's handleSummary shape")
    .option('--junit <file>', 'write JUnit XML: a testcase per threshold')
    .option('--html <file>', 'write an HTML report with latency and throughput over time')
    .option('--no-progress', 'no live progress line')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl loadtest run scenarios/load/flash-sale.yaml
  $ surgectl loadtest run scenarios/load/flash-sale.yaml --rate 2000 --duration 1m --junit report.xml
  $ surgectl loadtest run scenarios/load/smoke.yaml --target http://127.0.0.1:8080 --out results.json --html report.html
  $ surgectl loadtest run scenarios/load/flash-sale.yaml --engine k6     # needs k6 on PATH
`,
    )
    .action(async (file: string, flags: RunFlags) => {
      const lt = await import('../loadtest/index.js');
      const { parseDuration } = await import('../probes/index.js');
      const { runtime } = ctx;
      const { resolve } = await import('node:path');
      // Flags, then the report paths, then the scenario: a run that cannot finish properly does not start.
      if (flags.target !== undefined) checkTarget(flags.target);
      const overrides: ScenarioOverrides = {};
      if (flags.rate !== undefined) {
        const rate = Number(flags.rate);
        if (!Number.isFinite(rate) || rate <= 0) throw new SurgeError('SRG_CLI_USAGE', `--rate must be a positive number of arrivals per second, got "${flags.rate}"`);
        overrides.rate = rate;
      }
      if (flags.duration !== undefined) {
        const ms = parseDuration(flags.duration);
        if (ms === undefined || ms <= 0) throw new SurgeError('SRG_CLI_USAGE', `--duration must be a duration such as 30s or 2m, got "${flags.duration}"`);
        overrides.durationMs = ms;
      }
      const reports: ReportPaths = { cwd: runtime.cwd, out: flags.out, junit: flags.junit, html: flags.html };
      await lt.checkReportPaths(reports);
      let loaded = await lt.loadScenarioFile(resolve(runtime.cwd, file), flags.target === undefined ? {} : { target: flags.target });
      if (Object.keys(overrides).length > 0) loaded = lt.applyOverrides(loaded, overrides);

      const reporter = ctx.reporter();
      const stderr = runtime.stderr;
      let lastPlain = 0;
      const onProgress = flags.progress
        ? (p: Progress) => {
            const line = lt.renderProgress(p);
            if (stderr.isTTY) stderr.write(`\r\u001b[2K${line}`);
            else if (p.elapsedMs - lastPlain >= 5000) {
              lastPlain = p.elapsedMs;
              reporter.notify(line, 'progress');
            }
          }
        : undefined;

      const result =
        flags.engine === 'k6'
          ? await lt.runK6(loaded, { pathEnv: runtime.env.PATH, env: runtime.env, signal: runtime.signal, reporter })
          : await lt.runLoadTest(loaded, {
              signal: runtime.signal,
              reporter,
              tty: { stdout: runtime.stdout.isTTY === true, stderr: stderr.isTTY === true },
              ...(onProgress ? { onProgress } : {}),
            });
      if (onProgress && stderr.isTTY) stderr.write('\r\u001b[2K');

      const writeError = await writeReportsOrError(result, reports, ctx);
      await ctx.print(result, () => lt.renderText(result, ctx.paint()));
      finish(result, writeError, ctx);
    });

  loadtest
    .command('export')
    .description('write the scenario as a k6 script, or as k6-operator TestRun + ConfigMap manifests')
    .argument('<scenario>', 'scenario file')
    .option('--k6', 'a k6 script (options.scenarios, thresholds, the request mix) on stdout')
    .option('--k6-operator', 'a TestRun (k6.io/v1alpha1) and its ConfigMap as YAML on stdout')
    .option('--parallelism <n>', 'k6 runners for --k6-operator', '1')
    .option('--name <name>', 'TestRun name (default: the scenario name)')
    .option('--namespace <ns>', 'namespace for the manifests')
    .option('--target <url>', 'base URL the script targets (overrides the scenario; TARGET env wins at run time)')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl loadtest export --k6 scenarios/load/flash-sale.yaml > script.js && k6 run script.js
  $ surgectl loadtest export --k6-operator --parallelism 4 scenarios/load/flash-sale.yaml | kubectl apply -f -
`,
    )
    .action(async (file: string, flags: { k6?: boolean; k6Operator?: boolean; parallelism: string; name?: string; namespace?: string; target?: string }) => {
      if (flags.k6 === flags.k6Operator) throw new SurgeError('SRG_CLI_USAGE', 'Pass exactly one of --k6 or --k6-operator');
      if (flags.target !== undefined) checkTarget(flags.target);
      const parallelism = Number(flags.parallelism);
      if (flags.k6Operator && (!/^\s*\d+\s*$/.test(flags.parallelism) || !Number.isInteger(parallelism) || parallelism < 1)) {
        throw new SurgeError('SRG_CLI_USAGE', `--parallelism must be a whole number >= 1, got "${flags.parallelism}"`);
      }
      const lt = await import('../loadtest/index.js');
      const { resolve } = await import('node:path');
      const loaded = await lt.loadScenarioFile(resolve(ctx.runtime.cwd, file), flags.target === undefined ? {} : { target: flags.target });
      if (flags.k6) {
        ctx.runtime.stdout.write(lt.exportK6Script(loaded));
        return;
      }
      ctx.runtime.stdout.write(
        await lt.exportK6Operator(loaded, { parallelism, ...(flags.name ? { name: flags.name } : {}), ...(flags.namespace ? { namespace: flags.namespace } : {}) }),
      );
    });

  loadtest
    .command('validate')
    .description('check a scenario file; every problem is listed at once (exit 10 when invalid)')
    .argument('<scenario>', 'scenario file')
    .addHelpText('after', '\nExamples:\n  $ surgectl loadtest validate scenarios/load/flash-sale.yaml\n')
    .action(async (file: string) => {
      const lt = await import('../loadtest/index.js');
      const { resolve } = await import('node:path');
      const loaded = await lt.loadScenarioFile(resolve(ctx.runtime.cwd, file));
      const data = { valid: true, file: loaded.file, scenarios: Object.keys(loaded.scenario.scenarios), thresholds: loaded.thresholds.length, plannedMs: Math.max(...Object.values(loaded.scenario.scenarios).map(lt.totalMs)) };
      await ctx.print(data, () => `${file}: valid (${data.scenarios.length} scenario(s), ${data.thresholds} threshold(s), ${data.plannedMs / 1000}s)\n`);
    });

  loadtest
    .command('import')
    .description("read a k6 handleSummary JSON, print it and write reports (exit 20 when a threshold failed)")
    .argument('<summary>', 'JSON written by handleSummary(data) => JSON.stringify(data)')
    .option('--junit <file>', 'write JUnit XML')
    .option('--html <file>', 'write an HTML report')
    .addHelpText('after', '\nExamples:\n  $ surgectl loadtest import summary.json --junit report.xml\n')
    .action(async (file: string, flags: { junit?: string; html?: string }) => {
      const lt = await import('../loadtest/index.js');
      const { readFile } = await import('node:fs/promises');
      const { resolve, basename } = await import('node:path');
      const reports: ReportPaths = { cwd: ctx.runtime.cwd, junit: flags.junit, html: flags.html };
      await lt.checkReportPaths(reports);
      const path = resolve(ctx.runtime.cwd, file);
      const expected = 'expected the JSON of k6\'s handleSummary(data), an object with a "metrics" object';
      const hint = 'Write it from the k6 script: export function handleSummary(data) { return { "summary.json": JSON.stringify(data) }; }';
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (cause) {
        throw new SurgeError('SRG_LOADTEST_SCENARIO', `Cannot read the k6 summary ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause, hint });
      }
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (cause) {
        throw new SurgeError('SRG_LOADTEST_SCENARIO', `${path} is not valid JSON (${(cause as Error).message}); ${expected}`, { cause, hint });
      }
      const result = lt.importK6Summary(data, { scenario: basename(path), target: '-', file: path });
      const writeError = await writeReportsOrError(result, reports, ctx);
      await ctx.print(result, () => lt.renderText(result, ctx.paint()));
      finish(result, writeError, ctx);
    });
}

/** A --target flag must be an http(s) URL: a usage error naming the flag, not a scenario error. */
function checkTarget(target: string): void {
  let url: URL | undefined;
  try {
    url = new URL(target);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new SurgeError('SRG_CLI_USAGE', `--target "${target}" is not an http(s) URL: expected the base URL of the system under test, e.g. http://127.0.0.1:8080`);
  }
}

/** Writes the reports; a write that fails is returned (the results are still printed), not thrown. */
async function writeReportsOrError(result: LoadTestResult, reports: ReportPaths, ctx: CommandContext): Promise<SurgeError | undefined> {
  const { writeReports } = await import('../loadtest/index.js');
  try {
    for (const w of await writeReports(result, reports)) ctx.reporter().notify(`wrote ${w}`, 'info');
    return undefined;
  } catch (err) {
    if (!isSurgeError(err)) throw err;
    return err;
  }
}

/**
 * The exit of a finished run, most serious first: interrupted (130), failed thresholds (20), then
 * reports that could not be written (2). A write failure is reported with the first two, never
 * instead of them.
 */
function finish(result: LoadTestResult, writeError: SurgeError | undefined, ctx: CommandContext): void {
  const notWritten = writeError ? { details: [`the reports were not written: ${writeError.message}`] } : {};
  if (result.aborted === 'interrupted') {
    throw new SurgeError('SRG_CLI_INTERRUPTED', 'The load test was interrupted; the figures above cover the part that ran.', notWritten);
  }
  if (!result.passed) {
    if (!writeError) {
      ctx.setExitCode(ExitCode.GateFailed);
      return;
    }
    const failed = result.thresholds.filter((t) => !t.ok).length;
    throw new SurgeError('SRG_LOADTEST_THRESHOLD', `${failed > 0 ? `${failed} threshold(s) failed` : `the run was aborted (${result.aborted ?? 'threshold'})`}, and the reports were not written`, {
      ...notWritten,
      ...(writeError.hint ? { hint: writeError.hint } : {}),
    });
  }
  if (writeError) throw writeError;
}

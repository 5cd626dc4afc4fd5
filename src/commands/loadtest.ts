import { Option, type Command } from 'commander';
import { durationMs, httpUrl, positiveNumber, wholeNumber } from './args.js';
import type { CommandContext } from './context.js';

interface RunFlags {
  engine?: 'builtin' | 'k6';
  mix?: string;
  target?: string;
  rate?: number;
  /** Ms. */
  duration?: number;
  out?: string;
  junit?: string;
  html?: string;
  progress: boolean;
}

interface ExportFlags {
  k6?: boolean;
  k6Operator?: boolean;
  parallelism: number;
  name?: string;
  namespace?: string;
  target?: string;
  mix?: string;
}

const TARGET_EXAMPLE = 'http://127.0.0.1:8080';

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
    .argument('<scenario>', 'scenario file, e.g. scenarios/load/flash-sale.yaml, or a k6 script (.js)')
    .addOption(new Option('--engine <engine>', 'load generator (default: builtin; for a k6 script, k6 when it is on PATH)').choices(['builtin', 'k6']))
    .option('--mix <file|name>', 'for a k6 script on the builtin engine: the request mix (a YAML file, or scenarios/load/<name>.yaml)')
    .option('--target <url>', 'base URL of the system under test (overrides the scenario)', httpUrl(TARGET_EXAMPLE))
    .option('--rate <n>', 'peak arrival rate per second (scales arrival-rate profiles)', positiveNumber())
    .option('--duration <d>', 'total length, e.g. 30s or 2m (scales every profile)', durationMs())
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
  $ surgectl loadtest run script.js --mix checkout-mix.yaml --target http://127.0.0.1:8080   # a k6 script's options and thresholds
`,
    )
    .action(async (file: string, flags: RunFlags) => {
      const lt = await import('../loadtest/index.js');
      const { resolve } = await import('node:path');
      const { runtime } = ctx;
      const reporter = ctx.reporter();
      const { result, outcome } = await lt.runScenarioFile({
        file: resolve(runtime.cwd, file),
        target: flags.target,
        overrides: { ...(flags.rate === undefined ? {} : { rate: flags.rate }), ...(flags.duration === undefined ? {} : { durationMs: flags.duration }) },
        engine: flags.engine,
        mix: flags.mix,
        cwd: runtime.cwd,
        reports: { cwd: runtime.cwd, out: flags.out, junit: flags.junit, html: flags.html },
        signal: runtime.signal,
        reporter,
        tty: { stdout: runtime.stdout.isTTY === true, stderr: runtime.stderr.isTTY === true },
        progress: flags.progress ? lt.progressLine(runtime.stderr, reporter) : undefined,
        env: runtime.env,
      });
      await ctx.print(result, () => lt.renderText(result, ctx.paint()));
      if (outcome) throw outcome;
    });

  loadtest
    .command('export')
    .description('write the scenario as a k6 script, or as k6-operator TestRun + ConfigMap manifests')
    .argument('<scenario>', 'scenario file, or a k6 script with --mix')
    .option('--mix <file|name>', 'for a k6 script: the request mix to write into the exported script')
    .option('--k6', 'a k6 script (options.scenarios, thresholds, the request mix) on stdout')
    .option('--k6-operator', 'a TestRun (k6.io/v1alpha1) and its ConfigMap as YAML on stdout')
    .option('--parallelism <n>', 'k6 runners for --k6-operator', wholeNumber({ min: 1 }), 1)
    .option('--name <name>', 'TestRun name (default: the scenario name)')
    .option('--namespace <ns>', 'namespace for the manifests')
    .option('--target <url>', 'base URL the script targets (overrides the scenario; TARGET env wins at run time)', httpUrl(TARGET_EXAMPLE))
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl loadtest export --k6 scenarios/load/flash-sale.yaml > script.js && k6 run script.js
  $ surgectl loadtest export --k6-operator --parallelism 4 scenarios/load/flash-sale.yaml | kubectl apply -f -
`,
    )
    .action(async (file: string, flags: ExportFlags) => {
      const lt = await import('../loadtest/index.js');
      const { resolve } = await import('node:path');
      ctx.runtime.stdout.write(await lt.exportScenarioFile(resolve(ctx.runtime.cwd, file), { ...flags, cwd: ctx.runtime.cwd, env: ctx.runtime.env }));
    });

  loadtest
    .command('validate')
    .description('check a scenario file or a k6 script\'s options; every problem is listed at once (exit 10 when invalid)')
    .argument('<scenario>', 'scenario file, or a k6 script (.js)')
    .option('--mix <file|name>', 'for a k6 script: also check the request mix it would run with')
    .addHelpText('after', '\nExamples:\n  $ surgectl loadtest validate scenarios/load/flash-sale.yaml\n  $ surgectl loadtest validate script.js --mix checkout-mix.yaml\n')
    .action(async (file: string, flags: { mix?: string }) => {
      const lt = await import('../loadtest/index.js');
      const { resolve } = await import('node:path');
      const { cwd, env } = ctx.runtime;
      const data = await lt.validateScenarioFile(resolve(cwd, file), { mix: flags.mix, cwd, env });
      const reporter = ctx.reporter();
      for (const w of data.warnings) reporter.notify(w, 'warn');
      await ctx.print(data, () => `${file}: valid (${data.scenarios.length} scenario(s), ${data.thresholds} threshold(s), ${data.plannedMs / 1000}s)\n`);
    });

  loadtest
    .command('import')
    .description('read a k6 handleSummary JSON, print it and write reports (exit 20 when a threshold failed)')
    .argument('<summary>', 'JSON written by handleSummary(data) => JSON.stringify(data)')
    .option('--junit <file>', 'write JUnit XML')
    .option('--html <file>', 'write an HTML report')
    .addHelpText('after', '\nExamples:\n  $ surgectl loadtest import summary.json --junit report.xml\n')
    .action(async (file: string, flags: { junit?: string; html?: string }) => {
      const lt = await import('../loadtest/index.js');
      const { resolve } = await import('node:path');
      const { cwd } = ctx.runtime;
      const { result, outcome } = await lt.importSummaryFile({ file: resolve(cwd, file), reports: { cwd, junit: flags.junit, html: flags.html }, reporter: ctx.reporter() });
      await ctx.print(result, () => lt.renderText(result, ctx.paint()));
      if (outcome) throw outcome;
    });
}

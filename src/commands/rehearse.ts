import type { Command } from 'commander';
import { durationMs, positiveNumber, share, wholeNumber } from './args.js';
import { givenFlags, type CommandContext } from './context.js';
import { stackOptionsFromConfig } from './stack-options.js';

interface RehearseFlags {
  duration?: number;
  seed?: number;
  history?: string;
  series?: string;
  campaigns?: string;
  dataDir?: string;
  store?: string;
  reportDir?: string;
  workers?: number;
  peakRate?: number;
  maxRate?: number;
  perWorkerRps?: number;
  chaos: boolean;
  degrade?: string;
  p95?: number;
  p99?: number;
  maxErrorRate?: number;
}

export function registerRehearse(program: Command, ctx: CommandContext): void {
  program
    .command('rehearse')
    .description('the whole surge rehearsal on the bundled stack: forecast, plan, scale, load test with a payment outage, readiness report')
    .option('--duration <d>', 'length of the load test at the peak; every stage scales with it (default 110s, at least 18s)', durationMs())
    .option('--seed <n>', 'seed of the sample history and the load payloads (default 42)', wholeNumber())
    .option('--history <file>', 'CSV/JSON order-rate history (orders/s) instead of the generated sample')
    .option('--series <name>', 'which series of --history to rehearse (when it holds several)')
    .option('--campaigns <file>', 'campaign calendar YAML for the forecast (default for the sample: Black Friday x3.5)')
    .option('--data-dir <dir>', 'data dir of the rehearsal stack (default: a temp dir, removed at the end)')
    .option('--store <sqlite|postgres://…>', "the rehearsal stack's order store: 'sqlite' in the data dir, or a PostgreSQL database the rehearsal's orders stay in (default stack.store, else sqlite)")
    .option('--report-dir <dir>', 'where rehearsal.html/.json go (default ./reports/rehearsal-<timestamp>)')
    .option('--workers <n>', 'local pipeline workers instead of the planned replicas x the scaling factor', wholeNumber({ min: 1 }))
    .option('--peak-rate <orders/s>', 'rehearse this peak instead of the forecast one (the plan scales with it)', positiveNumber())
    .option('--max-rate <orders/s>', 'what this machine takes, orders/s, instead of probing it (default: a step-load probe of a few seconds, rehearsing at most 75% of what held)', positiveNumber())
    .option('--per-worker-rps <n>', 'orders/s one worker replica completes, for the capacity plan (default 20)', positiveNumber())
    .option('--no-chaos', 'skip the payment outage (its gates are reported as skipped)')
    .option('--degrade <set>', 'switch off this flag set (flags.sets in surgectl.yaml) on the stack while the load runs; restored at the end')
    .option('--p95 <ms>', 'gate: intake latency p95 below this (default 250)', positiveNumber())
    .option('--p99 <ms>', 'gate: intake latency p99 below this (default 1000)', positiveNumber())
    .option('--max-error-rate <0..1>', 'gate: share of failed requests below this (default 0.01)', share())
    .addHelpText(
      'after',
      `
Stages: history -> forecast (7 days ahead) -> capacity plan -> calibrate (start the local stack,
probe the rate it holds within the latency gates) -> scale its workers -> load test at
min(forecast peak, 75% of the probed rate) with the payment gateway failing every call for 30%
of it -> drain -> restore (faults cleared, workers back, stack stopped) -> readiness report.
Exit 0 when every gate passed, 20 when one failed, 130 on Ctrl-C (everything is restored first).

Examples:
  $ surgectl rehearse                                  # about 2 minutes; report in ./reports/
  $ surgectl rehearse --duration 20s                   # a quick rehearsal (CI)
  $ surgectl rehearse --history orders.csv --campaigns scenarios/campaigns/bf.yaml
  $ surgectl rehearse --peak-rate 120 --max-rate 60 --p99 500
  $ surgectl rehearse --duration 30s -o json > rehearsal.json
  $ surgectl rehearse --degrade peak                   # non-critical flags off during the load, back after
  $ surgectl rehearse --store postgres://app@127.0.0.1:5432/rehearsal   # on a PostgreSQL-backed stack
`,
    )
    .action(async (flags: RehearseFlags, cmd: Command) => {
      const { runRehearsal, renderReportTable, createRehearseProgress, rehearsalOutcome } = await import('../rehearse/index.js');
      // --store is stack.store for this run: validated by the config schema, as `stack up --store` is.
      const loaded = await ctx.loadConfig({ stack: givenFlags(cmd, { store: 'store' }) });
      const { runtime } = ctx;
      const live = createRehearseProgress({ sink: runtime.stderr, paint: ctx.stderrPaint(), reporter: ctx.reporter() });
      const report = await runRehearsal({
        cwd: runtime.cwd,
        stackAdmin: (url, token) => ctx.adapters.stackAdmin({ url, token }),
        stack: stackOptionsFromConfig(loaded.config.stack),
        ...(flags.duration !== undefined ? { loadDurationMs: flags.duration } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        ...(flags.history !== undefined ? { historyFile: flags.history } : {}),
        ...(flags.series !== undefined ? { series: flags.series } : {}),
        ...(flags.campaigns !== undefined ? { campaignsFile: flags.campaigns } : {}),
        ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
        reportDir: flags.reportDir ?? `reports/rehearsal-${stamp(runtime.now())}`,
        ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
        ...(flags.peakRate !== undefined ? { peakRate: flags.peakRate } : {}),
        ...(flags.maxRate !== undefined ? { maxRate: flags.maxRate } : {}),
        ...(flags.perWorkerRps !== undefined ? { perWorkerRps: flags.perWorkerRps } : {}),
        chaos: flags.chaos,
        ...(flags.degrade !== undefined ? { degrade: { set: flags.degrade, sets: loaded.config.flags.sets } } : {}),
        limits: {
          ...(flags.p95 !== undefined ? { p95Ms: flags.p95 } : {}),
          ...(flags.p99 !== undefined ? { p99Ms: flags.p99 } : {}),
          ...(flags.maxErrorRate !== undefined ? { maxErrorRate: flags.maxErrorRate } : {}),
        },
        signal: runtime.signal,
        reporter: live.reporter,
        onLoadProgress: live.onProgress,
        now: () => runtime.now(),
      });
      live.end();
      await ctx.print(report, () => renderReportTable(report, ctx.paint()));
      const outcome = rehearsalOutcome(report);
      if (outcome) throw outcome;
    });
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

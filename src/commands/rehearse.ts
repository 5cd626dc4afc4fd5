import { InvalidArgumentError, type Command } from 'commander';
import { SurgeError } from '../errors.js';
import { parseDuration } from '../probes/condition.js';
import type { RehearsalReport } from '../rehearse/index.js';
import { colorEnabled, createPaint } from '../ui/color.js';
import type { CommandContext } from './context.js';

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${v}'`);
  return n;
};
const whole = (name: string, min = 0) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got '${v}'`);
  return Number(v);
};
const share = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a share from 0 to 1, got '${v}'`);
  return n;
};
const duration = (v: string) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`--duration must be a duration such as 20s, 90s or 2m, got '${v}'`);
  return ms;
};

interface RehearseFlags {
  duration?: number;
  seed?: number;
  history?: string;
  series?: string;
  campaigns?: string;
  dataDir?: string;
  reportDir?: string;
  workers?: number;
  peakRate?: number;
  maxRate?: number;
  perWorkerRps?: number;
  chaos: boolean;
  p95?: number;
  p99?: number;
  maxErrorRate?: number;
}

export function registerRehearse(program: Command, ctx: CommandContext): void {
  program
    .command('rehearse')
    .description('the whole surge rehearsal on the bundled stack: forecast, plan, scale, load test with a payment outage, readiness report')
    .option('--duration <d>', 'length of the load test at the peak; every stage scales with it (default 110s, at least 18s)', duration)
    .option('--seed <n>', 'seed of the sample history and the load payloads (default 42)', whole('--seed'))
    .option('--history <file>', 'CSV/JSON order-rate history (orders/s) instead of the generated sample')
    .option('--series <name>', 'which series of --history to rehearse (when it holds several)')
    .option('--campaigns <file>', 'campaign calendar YAML for the forecast (default for the sample: Black Friday x3.5)')
    .option('--data-dir <dir>', 'data dir of the rehearsal stack (default: a temp dir, removed at the end)')
    .option('--report-dir <dir>', 'where rehearsal.html/.json go (default ./reports/rehearsal-<timestamp>)')
    .option('--workers <n>', 'local pipeline workers instead of the planned replicas x the scaling factor', whole('--workers', 1))
    .option('--peak-rate <orders/s>', 'rehearse this peak instead of the forecast one (the plan scales with it)', positive('--peak-rate'))
    .option('--max-rate <orders/s>', 'most orders/s this machine is asked to take (default 25 per core)', positive('--max-rate'))
    .option('--per-worker-rps <n>', 'orders/s one worker replica completes, for the capacity plan (default 20)', positive('--per-worker-rps'))
    .option('--no-chaos', 'skip the payment outage (its gates are reported as skipped)')
    .option('--p95 <ms>', 'gate: intake latency p95 below this (default 250)', positive('--p95'))
    .option('--p99 <ms>', 'gate: intake latency p99 below this (default 1000)', positive('--p99'))
    .option('--max-error-rate <0..1>', 'gate: share of failed requests below this (default 0.01)', share('--max-error-rate'))
    .addHelpText(
      'after',
      `
Stages: history -> forecast (7 days ahead) -> capacity plan -> scale the local stack -> load test
at the forecast peak, scaled to this machine, with the payment gateway failing every call for 30%
of it -> drain -> restore (faults cleared, workers back, stack stopped) -> readiness report.
Exit 0 when every gate passed, 20 when one failed, 130 on Ctrl-C (everything is restored first).

Examples:
  $ surgectl rehearse                                  # about 2 minutes; report in ./reports/
  $ surgectl rehearse --duration 20s                   # a quick rehearsal (CI)
  $ surgectl rehearse --history orders.csv --campaigns scenarios/campaigns/bf.yaml
  $ surgectl rehearse --peak-rate 120 --max-rate 60 --p99 500
  $ surgectl rehearse --duration 30s -o json > rehearsal.json
`,
    )
    .action(async (flags: RehearseFlags) => {
      const { runRehearsal, renderReportTable, createRehearseProgress } = await import('../rehearse/index.js');
      const loaded = await ctx.loadConfig();
      const { runtime } = ctx;
      // The live line goes to stderr, so its colour follows stderr being a terminal (ctx.paint() follows stdout).
      const stderrPaint = createPaint(colorEnabled(runtime.env, runtime.stderr.isTTY === true, ctx.globals().color));
      const live = createRehearseProgress({ sink: runtime.stderr, paint: stderrPaint, reporter: ctx.reporter() });
      const report: RehearsalReport = await runRehearsal({
        cwd: runtime.cwd,
        stack: loaded.config.stack,
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
      if (report.status === 'interrupted') {
        throw new SurgeError('SRG_CLI_INTERRUPTED', 'rehearsal interrupted; faults were cleared, workers restored and the stack stopped', {
          ...(report.files ? { hint: `Partial report: ${report.files.html}` } : {}),
        });
      }
      if (report.status === 'failed') {
        const failed = report.gates.filter((g) => g.status === 'fail').map((g) => g.id);
        throw new SurgeError('SRG_REHEARSE_GATE', `${failed.length} of ${report.gates.length} readiness gates failed: ${failed.join(', ')}`, {
          hint: report.files ? `What to fix is in the table above and in ${report.files.html}` : 'What to fix is in the table above.',
          ...(report.writeError ? { details: [report.writeError] } : {}),
        });
      }
      if (report.writeError) {
        throw new SurgeError('SRG_REHEARSE_REPORT', `Every gate passed, but ${report.writeError}`, {
          hint: 'Pass --report-dir with a folder you can write to; the report above is complete.',
        });
      }
    });
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

import type { Command } from 'commander';
import { durationMs, positiveNumber } from './args.js';
import type { CommandContext } from './context.js';
import { switchFlags, switchRequest, type SwitchFlags } from './failover.js';
import { runContext, runFlags, type RunFlags } from './runbook.js';

interface DrillFailoverFlags extends RunFlags, SwitchFlags {
  to?: string;
  from?: string;
  rate?: number;
  killPrimary: boolean;
  reportDir?: string;
  maxRto?: number;
  warmup?: number;
  cooldown?: number;
  maxDuration?: number;
  settleTimeout?: number;
}

export function registerDrill(program: Command, ctx: CommandContext): void {
  const drill = program.command('drill').description('rehearse a recovery on the live pair under load, with a report: drill failover');
  switchFlags(runFlags(
    drill
      .command('failover')
      .description('failover then failback under a steady order load through the front; checks every acknowledged order afterwards and writes an HTML + JSON report with RTO, RPO and the timeline')
      .option('--to <region>', 'the standby region that takes over (default: the one whose PostgreSQL is a standby)')
      .option('--from <region>', 'the primary region it takes over from (default: the other region)')
      .option('--rate <orders/s>', 'open-model order arrivals per second through --front-url (default 200)', positiveNumber())
      .option('--kill-primary', "chaos: SIGKILL the primary's postmaster (regions.<from>.kill) and fail over with --force; the orders it lost are measured and listed", false)
      .option('--report-dir <dir>', 'where failover-drill.html/.json go (default ./reports/failover-drill-<timestamp>)')
      .option('--max-rto <duration>', 'gate: each switch refuses orders at most this long (default 10s)', durationMs())
      .option('--warmup <duration>', 'steady load before the failover (default 3s)', durationMs({ minMs: 0 }))
      .option('--cooldown <duration>', 'load after the failback before it stops (default 2s)', durationMs({ minMs: 0 }))
      .option('--max-duration <duration>', 'hard cap of the load, whatever happens (default 10m)', durationMs({ minMs: 1_000 }))
      .option('--settle-timeout <duration>', 'how long acknowledged orders may take to reach a final status afterwards (default 60s)', durationMs({ minMs: 0 })),
  ))
    .addHelpText(
      'after',
      `
The drill: a steady open-model order load through --front-url (the loadtest engine); a few seconds
of steady state; surgectl failover --to <b> (with --kill-primary: the primary's postmaster SIGKILLed
first by regions.<a>.kill, then failover --force); surgectl failback --to <a> (rebuild a as b's
replica, switch back, rebuild b); the load stops; every order it saw acknowledged is looked up on
the final primary. The report (failover-drill.html, failover-drill.json) has each switch's RTO, the
acknowledged orders missing by id (RPO), refused and failed requests per second and the timeline
of every runbook step. Asked once for the whole drill (--yes answers); each runbook is journaled.

Gates: each switch's RTO <= --max-rto; 0 acknowledged orders missing (--kill-primary: each missing
one listed by id, the measured loss); the kill, failover and failback completed; orders were taken
before the failover. Exit 0 when every gate passed, 20 when one failed, 130 on Ctrl-C.

Examples:
  $ surgectl --yes drill failover --to b
  $ surgectl --yes drill failover --rate 500 --max-rto 5s --report-dir reports/drill-dec
  $ surgectl --yes drill failover --kill-primary          # regions.a.kill SIGKILLs a's postmaster
  $ surgectl --yes drill failover -o json > drill.json
`,
    )
    .action(async (f: DrillFailoverFlags) => {
      const { runFailoverDrill, checkReportDir, writeDrillReport, drillOutcome, DRILL_DEFAULTS: d } = await import('../regions/drill.js');
      const { createStepProgress } = await import('../ui/runbook.js');
      const { renderDrill } = await import('../ui/drill.js');
      const { renderDrillHtml } = await import('../ui/drill-html.js');
      const { runtime } = ctx;
      const regions = (await ctx.loadConfig()).config.regions;
      const reportDir = f.reportDir ?? `reports/failover-drill-${stamp(runtime.now())}`;
      const { resolve } = await import('node:path');
      const dir = resolve(runtime.cwd, reportDir);
      await checkReportDir(dir);
      const progress = createStepProgress(runtime.stderr, ctx.stderrPaint(), () => runtime.now());
      const report = await runFailoverDrill(await runContext(ctx, f, progress), {
        ...switchRequest(f, regions),
        to: f.to,
        ratePerSec: f.rate ?? d.ratePerSec,
        killPrimary: f.killPrimary,
        maxRtoMs: f.maxRto ?? d.maxRtoMs,
        warmupMs: f.warmup ?? d.warmupMs,
        cooldownMs: f.cooldown ?? d.cooldownMs,
        maxDurationMs: f.maxDuration ?? d.maxDurationMs,
        settleTimeoutMs: f.settleTimeout ?? d.settleTimeoutMs,
      }).finally(() => progress.stop());
      const written = await writeDrillReport(dir, report, renderDrillHtml);
      await ctx.print(written, () => renderDrill(written, ctx.paint()));
      const outcome = drillOutcome(written);
      if (outcome) throw outcome;
    });
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

import type { Command } from 'commander';
import { durationMs } from './args.js';
import type { CommandContext } from './context.js';
import { targetFlags, targetPorts, type TargetFlags as SharedTargetFlags } from './targets.js';

/** The plan file plus where its targets live. */
interface TargetFlags extends SharedTargetFlags {
  file: string;
}

function targetOptions(cmd: Command, withFile = true): Command {
  if (withFile) cmd.requiredOption('-f, --file <plan>', 'ScalePlan YAML/JSON (from `surgectl capacity plan --out`, or hand-written)');
  return targetFlags(cmd);
}

export function registerScale(program: Command, ctx: CommandContext): void {
  const scale = program
    .command('scale')
    .description('pre-scale before a surge and put everything back after: Kubernetes, AWS Auto Scaling, the bundled stack')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl scale plan -f plan.yaml                      # current -> target per object; changes nothing
  $ surgectl scale apply -f plan.yaml --timeout 15m       # snapshot, confirm, apply, wait until ready
  $ surgectl scale status -f plan.yaml --watch
  $ surgectl scale restore .surgectl/snapshots/scale-20261127T053000Z.json
  $ surgectl scale schedule -f plan.yaml                  # ASG scheduled actions for the campaign window
`,
    );

  const options = async (f: TargetFlags) => {
    const { config } = await ctx.loadConfig();
    return { file: f.file, cwd: ctx.runtime.cwd, configTargets: config.scale.targets, connect: targetPorts(ctx, f), reporter: ctx.reporter(), signal: ctx.runtime.signal, now: () => ctx.runtime.now() };
  };

  targetOptions(scale.command('plan').description('read the plan and the live objects; print current -> target per object (exit 2 when a target is missing or blocked)'))
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl scale plan -f plan.yaml
  $ surgectl scale plan -f plan.yaml --context prod -n shop -o json
`,
    )
    .action(async (f: TargetFlags) => {
      const { planFromFile } = await import('../scale/run.js');
      const { planOutcome } = await import('../scale/outcome.js');
      const { renderScalePlanReport } = await import('../ui/scale.js');
      const report = await planFromFile(await options(f));
      await ctx.print({ plan: report.plan, changes: report.changes, warnings: report.warnings, blockers: report.blockers }, () => renderScalePlanReport(report, ctx.paint()));
      const outcome = planOutcome(report);
      if (outcome) throw outcome;
    });

  targetOptions(scale.command('apply').description('snapshot the live state, confirm, apply the plan, then wait until the targets are ready (exit 20 when not within --timeout)'))
    .option('--dry-run', 'print the plan and the exact API calls; change nothing', false)
    .option('--timeout <duration>', 'how long to wait for the targets to be ready; 0 = do not wait', durationMs({ minMs: 0 }), 10 * 60_000)
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl scale apply -f plan.yaml --dry-run
  $ surgectl scale apply -f plan.yaml --timeout 15m
  $ surgectl --yes scale apply -f plan.yaml -o json        # unattended (CI): --yes is required off a terminal
`,
    )
    .action(async (f: TargetFlags & { dryRun: boolean; timeout: number }) => {
      const { applyScale } = await import('../scale/run.js');
      const { applyOutcome } = await import('../scale/outcome.js');
      const { renderApplyReport, readinessProgress } = await import('../ui/scale.js');
      const report = await applyScale({ ...(await options(f)), dryRun: f.dryRun, timeoutMs: f.timeout, onProgress: readinessProgress(ctx.runtime.stderr, ctx.stderrPaint()) });
      await ctx.print(report, () => renderApplyReport(report, ctx.paint()));
      const outcome = applyOutcome(report);
      if (outcome) throw outcome;
    });

  targetOptions(scale.command('status').description('ready against target for every object of the plan; --watch until all are ready'))
    .option('--watch', 'poll until every target is ready or --timeout passes (exit 20 then)', false)
    .option('--timeout <duration>', 'with --watch: how long to wait', durationMs(), 10 * 60_000)
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl scale status -f plan.yaml
  $ surgectl scale status -f plan.yaml --watch --timeout 5m
`,
    )
    .action(async (f: TargetFlags & { watch: boolean; timeout: number }) => {
      const { scaleStatus } = await import('../scale/run.js');
      const { statusOutcome } = await import('../scale/outcome.js');
      const { renderStatusReport, readinessProgress } = await import('../ui/scale.js');
      const report = await scaleStatus({ ...(await options(f)), ...(f.watch ? { watchTimeoutMs: f.timeout, onProgress: readinessProgress(ctx.runtime.stderr, ctx.stderrPaint()) } : {}) });
      await ctx.print(report, () => renderStatusReport(report, ctx.paint()));
      const outcome = statusOutcome(report);
      if (outcome) throw outcome;
    });

  targetOptions(scale.command('restore').description('put every object of a snapshot back exactly as it was, and delete the scheduled actions surgectl created (exit 30 when incomplete)'), false)
    .argument('<snapshot>', 'snapshot file written by `scale apply` or `scale schedule` (under .surgectl/snapshots/)')
    .option('--dry-run', 'print what would be put back and the exact API calls; change nothing', false)
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl scale restore .surgectl/snapshots/scale-20261127T053000Z.json --dry-run
  $ surgectl --yes scale restore .surgectl/snapshots/scale-20261127T053000Z.json
`,
    )
    .action(async (snapshot: string, f: Omit<TargetFlags, 'file'> & { dryRun: boolean }) => {
      const { restoreScale } = await import('../scale/run.js');
      const { restoreOutcome } = await import('../scale/outcome.js');
      const { renderRestoreReport } = await import('../ui/scale.js');
      const { resolve } = await import('node:path');
      const report = await restoreScale({ snapshot: resolve(ctx.runtime.cwd, snapshot), connect: targetPorts(ctx, f), reporter: ctx.reporter(), dryRun: f.dryRun, signal: ctx.runtime.signal });
      await ctx.print(report, () => renderRestoreReport(report, ctx.paint()));
      const outcome = restoreOutcome(report);
      if (outcome) throw outcome;
    });

  targetOptions(scale.command('schedule').description("Auto Scaling scheduled actions: the plan's sizes at spec.window.start, today's sizes back at spec.window.end"))
    .option('--dry-run', 'print the actions and the exact API calls; change nothing', false)
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl scale schedule -f plan.yaml --dry-run
  $ surgectl --yes scale schedule -f plan.yaml --region eu-west-1
`,
    )
    .action(async (f: TargetFlags & { dryRun: boolean }) => {
      const { scheduleScale } = await import('../scale/run.js');
      const { scheduleOutcome } = await import('../scale/outcome.js');
      const { renderScheduleReport } = await import('../ui/scale.js');
      const report = await scheduleScale({ ...(await options(f)), dryRun: f.dryRun });
      await ctx.print(report, () => renderScheduleReport(report, ctx.paint()));
      const outcome = scheduleOutcome(report);
      if (outcome) throw outcome;
    });
}

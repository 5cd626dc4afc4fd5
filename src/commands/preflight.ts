import type { Command } from 'commander';
import { durationMs } from './args.js';
import type { CommandContext } from './context.js';
import { targetFlags, targetPorts, type TargetFlags } from './targets.js';

interface PreflightFlags extends TargetFlags {
  plan?: string;
  results?: string;
  maxAge?: number;
  forecast?: string;
  junit?: string;
}

export function registerPreflight(program: Command, ctx: CommandContext): void {
  targetFlags(program.command('preflight'))
    .description('is everything ready for the surge? capacity, autoscaling ceilings, degrade flags, load-test recency, CDN caching, alerts (exit 20 when a check fails)')
    .option('--plan <file>', 'ScalePlan YAML/JSON: live scale and HPA/ASG ceilings must cover it')
    .option('--results <dir>', 'load-test results directory; its newest *.json is checked (default: preflight.loadTestResults)')
    .option('--max-age <duration>', 'how old the newest load-test result may be (default: preflight.maxResultAge, 7d)', durationMs())
    .option('--forecast <file>', 'forecast JSON (`surgectl forecast --out`): the load test must have reached its peak (default: the plan\'s demand)')
    .option('--junit <file>', 'also write a JUnit XML report: one testcase per check, skipped checks as <skipped/>')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl preflight --plan plan.yaml --results loadtests/ --forecast f.json
  $ surgectl preflight --plan plan.yaml --junit preflight.xml -o json     # CI: exit 20 when a check fails
  $ surgectl preflight                                                   # only what surgectl.yaml configures; the rest is skipped
`,
    )
    .action(async (f: PreflightFlags) => {
      const { preflight, shippedRulesDir } = await import('../preflight/run.js');
      const { preflightRunOutcome } = await import('../preflight/outcome.js');
      const { renderPreflightReport } = await import('../preflight/render.js');
      const { parseDuration } = await import('../util/duration.js');
      const { config } = await ctx.loadConfig();
      const p = config.preflight;
      const set = p.degradeSet;
      const results = f.results ?? p.loadTestResults;
      const run = await preflight({
        cwd: ctx.runtime.cwd,
        now: () => ctx.runtime.now(),
        signal: ctx.runtime.signal,
        ...(f.plan ? { plan: f.plan } : {}),
        configTargets: config.scale.targets,
        connect: targetPorts(ctx, f),
        ...(set ? { degradeSet: { name: set, flags: config.flags.sets[set] ?? [] } } : {}),
        flags: () => ctx.adapters.flags({ stackUrl: f.url, tokenEnv: f.tokenEnv }),
        ...(results ? { results } : {}),
        maxAgeMs: f.maxAge ?? parseDuration(p.maxResultAge) ?? 7 * 86_400_000,
        ...(f.forecast ? { forecast: f.forecast } : {}),
        cacheableUrls: p.cacheableUrls,
        uncacheableUrls: p.uncacheableUrls,
        ...(p.prometheusUrl ? { prometheusUrl: p.prometheusUrl } : {}),
        rulesDir: shippedRulesDir(),
        ...(f.junit ? { junit: f.junit } : {}),
      });
      await ctx.print(run.report, () => renderPreflightReport(run.report, ctx.paint()));
      const outcome = preflightRunOutcome(run);
      if (outcome) throw outcome;
    });
}

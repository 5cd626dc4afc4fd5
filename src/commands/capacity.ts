import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { SurgeError } from '../errors.js';
import { durationMs, finiteNumber, wholeNumber } from './args.js';
import type { CommandContext } from './context.js';

interface PlanFlags {
  forecast: string;
  series?: string;
  services: string;
  perReplicaRps?: string;
  loadTest?: string;
  replicasUnderTest: number;
  headroom: string;
  sizeOn: 'point' | 'p80' | 'p95';
  maxFactor: number;
  /** ms */
  lead: number;
  name?: string;
  targets?: string;
  out?: string;
}

export function registerCapacity(program: Command, ctx: CommandContext): void {
  const capacity = program
    .command('capacity')
    .description('turn a demand forecast into replica counts and a scale plan')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl forecast --input orders.csv --horizon 7d --out forecast.json
  $ surgectl capacity plan --forecast forecast.json --per-replica-rps 120 --out plan.yaml
  $ surgectl capacity plan --forecast forecast.json --load-test k6-summary.json --replicas-under-test 2
`,
    );
  capacity
    .command('plan')
    .description('replicas per service and ASG min/desired/max for the forecast peak, with the arithmetic; writes a ScalePlan YAML')
    .requiredOption('--forecast <file>', 'forecast JSON written by `surgectl forecast --out`')
    .option('--series <name>', 'which series of the forecast (when it holds several)')
    .option('--services <list>', 'services to size: name[:requests-per-order],...', 'intake,worker')
    .option('--per-replica-rps <n|name=n,...>', 'requests per second one replica sustains')
    .option('--load-test <file>', 'k6 summary JSON: per-replica rps = http_reqs rate / --replicas-under-test')
    .option('--replicas-under-test <n>', 'replicas that served the load test', wholeNumber({ min: 1 }), 1)
    .option('--headroom <share>', 'spare capacity over the sized demand: 30% or 0.3', '30%')
    .addOption(new Option('--size-on <bound>', 'size on the point forecast or an interval upper bound').choices(['point', 'p80', 'p95']).default('p95'))
    .option('--max-factor <x>', 'ASG max = ceil(desired x this), >= 1', finiteNumber({ min: 1 }), 1.5)
    .addOption(new Option('--lead <duration>', 'capacity in place this long before the busy window').argParser(durationMs()).default(30 * 60_000, '30m'))
    .option('--name <name>', 'plan name (default surge-<peak date>)')
    .option('--targets <file>', 'YAML/JSON map of service -> live objects (as scale.targets), embedded in the plan for `surgectl scale`')
    .option('--out <file>', 'write the ScalePlan YAML (replicas and ASG min/desired/max per service, for your deploy tooling)')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl capacity plan --forecast forecast.json --per-replica-rps 120 --headroom 30% --services intake,worker --out plan.yaml
  $ surgectl capacity plan --forecast forecast.json --per-replica-rps intake=120,worker=40 --services intake,worker:2
  $ surgectl capacity plan --forecast forecast.json --load-test k6-summary.json --replicas-under-test 2 -o yaml
  $ surgectl capacity plan --forecast forecast.json --per-replica-rps 120 --targets targets.yaml --out plan.yaml
  $ surgectl scale apply -f plan.yaml       # apply it: snapshot, confirm, scale, wait
`,
    )
    .action(async (flags: PlanFlags) => {
      const { runCapacityPlan } = await import('../forecast/run.js');
      const cwd = ctx.runtime.cwd;
      if (flags.perReplicaRps !== undefined) checkFinite('--per-replica-rps', flags.perReplicaRps, (part) => (part.includes('=') ? part.slice(part.indexOf('=') + 1) : part));
      checkFinite('--services', flags.services, (part) => (part.includes(':') ? part.slice(part.indexOf(':') + 1) : undefined));
      const { plan, written } = await runCapacityPlan({
        forecastFile: resolve(cwd, flags.forecast),
        ...(flags.series !== undefined ? { series: flags.series } : {}),
        services: flags.services,
        ...(flags.perReplicaRps !== undefined ? { perReplicaRps: flags.perReplicaRps } : {}),
        ...(flags.loadTest !== undefined ? { loadTestFile: resolve(cwd, flags.loadTest) } : {}),
        replicasUnderTest: flags.replicasUnderTest,
        headroom: flags.headroom,
        sizeOn: flags.sizeOn,
        maxFactor: flags.maxFactor,
        leadMs: flags.lead,
        ...(flags.name ? { name: flags.name } : {}),
        ...(flags.targets !== undefined ? { targetsFile: resolve(cwd, flags.targets) } : {}),
        ...(flags.out ? { out: resolve(cwd, flags.out) } : {}),
        now: () => ctx.runtime.now(),
        reporter: ctx.reporter(),
      });
      for (const f of written) ctx.reporter().notify(`wrote ${f}`, 'success');
      const { renderScalePlan } = await import('../ui/chart-report.js');
      await ctx.print(plan, () => renderScalePlan(plan, ctx.paint()));
    });
}

/**
 * Each comma-separated part of `text` whose number (picked by `numberOf`) is not a finite number
 * is a usage error naming the flag (`Infinity` and `1e999` would pass a `> 0` check).
 */
function checkFinite(flag: string, text: string, numberOf: (part: string) => string | undefined): void {
  for (const part of text.split(',')) {
    const n = numberOf(part.trim());
    if (n !== undefined && !Number.isFinite(Number(n))) {
      throw new SurgeError('SRG_CLI_USAGE', `${flag}: "${part.trim()}" is not a finite number`);
    }
  }
}

import { Option, type Command } from 'commander';
import { SurgeError } from '../errors.js';
import type { ParamValue } from '../runbooks/types.js';
import { durationMs, durationText, httpUrl, positiveNumber, share, wholeNumber } from './args.js';
import type { CommandContext } from './context.js';
import { givenFlags } from './context.js';
import { finishRun, runContext, runFlags, type RunFlags } from './runbook.js';

const weightList = (v: string): string => {
  const items = v.split(',').map((s) => s.trim());
  const nums = items.map(Number);
  if (items.length === 0 || nums.some((n, i) => items[i] === '' || !Number.isFinite(n) || n <= 0 || n > 100) || nums.some((n, i) => i > 0 && n <= (nums[i - 1] as number)) || nums[nums.length - 1] !== 100) {
    throw new SurgeError('SRG_CLI_USAGE', `--weights must be rising percentages ending at 100, e.g. 10,50,100, got '${v}'`);
  }
  return v;
};

interface CutoverFlags extends RunFlags {
  to?: string;
  from?: string;
  target: 'haproxy' | 'kubernetes';
  rollback: boolean;
  dryRun: boolean;
  journal?: string;
  scaleDownDelay: number;
}

/** Flag → runbook parameter, for the flags the user gave. */
const PARAM_OF: Record<string, string> = {
  haproxy: 'haproxy',
  backend: 'backend',
  toUrl: 'to_url',
  prometheus: 'prometheus',
  weights: 'weights',
  smoke: 'smoke',
  smokeRate: 'smoke_rate',
  smokeDuration: 'smoke_duration',
  window: 'window',
  interval: 'interval',
  initialDelay: 'initial_delay',
  count: 'count',
  failureLimit: 'failure_limit',
  maxErrorRate: 'max_error_rate',
  maxP99Ms: 'max_p99_ms',
  namespace: 'namespace',
  service: 'service',
  label: 'label',
  toDeployment: 'to_deployment',
  fromDeployment: 'from_deployment',
  analysis: 'analysis',
  drain: 'drain',
};

function paramsFrom(cmd: Command): Record<string, ParamValue> {
  return Object.fromEntries(Object.entries(givenFlags<Record<string, ParamValue>>(cmd, PARAM_OF)).filter(([, v]) => v !== undefined)) as Record<string, ParamValue>;
}

export function registerCutover(program: Command, ctx: CommandContext): void {
  const cmd = runFlags(
    program
      .command('cutover')
      .description('blue-green cutover as a runbook: prechecks, traffic in steps with analysis between them, automatic move back on failure')
      .option('--to <color>', 'the color traffic moves to (blue or green, or a server name)')
      .option('--from <color>', 'the color traffic leaves (default: the other of blue/green)')
      .option('--rollback', 'move traffic back as it was before the last cutover, at once (from its journal)', false)
      .addOption(new Option('--target <kind>', 'where traffic is switched').choices(['haproxy', 'kubernetes']).default('haproxy'))
      .option('--haproxy <endpoint>', "HAProxy's runtime API: host:port or unix socket path (default 127.0.0.1:9999)")
      .option('--backend <name>', 'HAProxy backend holding both colors (default orders)')
      .option('--to-url <url>', "the new color's own URL for the prechecks (default http://127.0.0.1:8081)", httpUrl('http://127.0.0.1:8081'))
      .option('-n, --namespace <namespace>', 'Kubernetes: namespace of the Service and Deployments (default default)')
      .option('--service <name>', 'Kubernetes: the Service whose selector moves (default orders)')
      .option('--label <key>', 'Kubernetes: the selector key that tells the colors apart (default color)')
      .option('--to-deployment <name>', "Kubernetes: the new color's Deployment, checked for ready replicas (default orders-<to>)")
      .option('--prometheus <url>', 'Prometheus for the analysis (default http://127.0.0.1:9090)', httpUrl('http://127.0.0.1:9090'))
      .option('--weights <list>', 'HAProxy: percent of traffic on the new color after each step (default 10,50,100)', weightList)
      .option('--interval <duration>', 'time between analysis measurements (default 10s)', durationText())
      .option('--initial-delay <duration>', 'wait before the first measurement after each step, so Prometheus has scraped the new traffic (default 30s)', durationText())
      .option('--count <n>', 'analysis measurements after each step (default 3)', wholeNumber({ min: 1 }))
      .option('--window <duration>', 'PromQL rate() window of the analysis (default 1m)', durationText())
      .option('--failure-limit <n>', 'failed measurements tolerated per metric, as Argo Rollouts (default 0)', wholeNumber())
      .option('--max-error-rate <0..1>', 'highest share of 5xx answers of the new color (default 0.01)', share())
      .option('--max-p99-ms <ms>', 'HAProxy: highest p99 order latency of the new color (default 500)', positiveNumber())
      .option('--no-smoke', 'skip the smoke load test against the new color')
      .option('--smoke-rate <n>', 'smoke test orders per second (default 20)', positiveNumber())
      .option('--smoke-duration <duration>', 'smoke test length (default 10s)', durationText())
      .option('--no-analysis', 'Kubernetes: no Prometheus analysis after the switch')
      .option('--scale-down-delay <duration>', 'how long the old color stays up after the switch, so --rollback stays instant (Argo Rollouts: 30s)', durationMs(), 30_000)
      .option('--dry-run', 'print every step with what it would change; touch nothing', false)
      .option('--journal <file>', 'where the journal goes (default .surgectl/runbooks/<runbook>-<time>.json)'),
  ).addHelpText(
    'after',
    `
Examples:
  $ surgectl cutover --to green --dry-run
  $ surgectl cutover --to green --weights 10,50,100 --prometheus http://127.0.0.1:9090 --reason "release 4.2"
  $ surgectl cutover --rollback                               # traffic back to blue at once
  $ surgectl cutover finish                                   # after the scale-down delay: blue out
  $ surgectl --yes cutover --target kubernetes -n shop --to green --to-deployment orders-green
`,
  );
  const progress = async () => {
    const { createStepProgress } = await import('../ui/runbook.js');
    return createStepProgress(ctx.runtime.stderr, ctx.stderrPaint(), () => ctx.runtime.now());
  };

  cmd.action(async (f: CutoverFlags) => {
    if (f.rollback && f.to !== undefined) throw new SurgeError('SRG_CLI_USAGE', '--rollback takes no --to: it moves traffic back as it was before the last cutover');
    const { cutover, cutoverRollback } = await import('../runbooks/cutover.js');
    const { renderPlan } = await import('../ui/runbook.js');
    if (f.rollback) {
      const p = await progress();
      const r = await cutoverRollback(await runContext(ctx, f, p)).finally(() => p.stop());
      return finishRun(ctx, r.journal, r.journalPath, { rollbackAsked: true });
    }
    if (f.to === undefined) throw new SurgeError('SRG_CLI_USAGE', 'cutover needs --to <color> (or --rollback)', { hint: 'e.g. surgectl cutover --to green --dry-run' });
    const other: Record<string, string> = { blue: 'green', green: 'blue' };
    const from = f.from ?? other[f.to];
    if (from === undefined) throw new SurgeError('SRG_CLI_USAGE', `--from is needed when --to is not blue or green (got '${f.to}')`);
    const p = f.dryRun ? undefined : await progress();
    const r = await cutover(await runContext(ctx, f, p), { target: f.target, to: f.to, from, params: paramsFrom(cmd), scaleDownDelayMs: f.scaleDownDelay, dryRun: f.dryRun, journalPath: f.journal }).finally(() => p?.stop());
    if (!r.journal || !r.journalPath) return ctx.print(r.plan, () => renderPlan(r.plan, ctx.paint()));
    await finishRun(ctx, r.journal, r.journalPath);
  });

  const finish = runFlags(
    cmd
      .command('finish')
      .description('after the scale-down delay: take the old color out (HAProxy: drain, then maint; Kubernetes: replicas 0)')
      .option('--force', 'do not wait for the scale-down delay', false)
      .option('--drain <duration>', 'HAProxy: time open connections get to finish (default 10s)', durationText())
      .option('--from-deployment <name>', "Kubernetes: the old color's Deployment (default orders-<the color traffic left>)")
      .option('--dry-run', 'print the steps; touch nothing', false),
  ).addHelpText('after', '\nExamples:\n  $ surgectl cutover finish\n  $ surgectl --yes cutover finish --force --reason "blue retired"\n');
  finish.action(async (f: RunFlags & { force: boolean; dryRun: boolean }) => {
    const { cutoverFinish } = await import('../runbooks/cutover.js');
    const { renderPlan } = await import('../ui/runbook.js');
    const p = f.dryRun ? undefined : await progress();
    const r = await cutoverFinish(await runContext(ctx, f, p), { force: f.force, dryRun: f.dryRun, params: paramsFrom(finish) }).finally(() => p?.stop());
    if (!r.journal || !r.journalPath) return ctx.print(r.plan, () => renderPlan(r.plan, ctx.paint()));
    await finishRun(ctx, r.journal, r.journalPath);
  });
}

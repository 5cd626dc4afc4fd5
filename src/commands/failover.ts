import { Option, type Command } from 'commander';
import { SurgeError } from '../errors.js';
import type { RegionConfig } from '../config/schema.js';
import type { FailbackResult, FailoverResult } from '../regions/failover.js';
import { durationText, httpUrl, wholeNumber } from './args.js';
import type { CommandContext } from './context.js';
import { runContext, runFlags, type RunFlags } from './runbook.js';

interface RegionRunFlags extends RunFlags, SwitchFlags {
  to?: string;
  from?: string;
  dryRun: boolean;
}

/** The flags of switchFlags, as the commands that take them read them. */
export interface SwitchFlags {
  target: 'haproxy' | 'kubernetes';
  namespace: string;
  service: string;
  label: string;
  haproxy: string;
  backend: string;
  frontUrl: string;
  workers: number;
  maxLagBytes: number;
  replayTimeout?: string | undefined;
}

/** The request fields of a region switch from its flags (failover, failback, drill failover). */
export function switchRequest(f: SwitchFlags & { from?: string | undefined }, regions: Readonly<Record<string, RegionConfig>>) {
  return {
    regions,
    from: f.from,
    target: f.target,
    haproxy: f.haproxy,
    backend: f.backend,
    kubernetes: { namespace: f.namespace, service: f.service, label: f.label },
    frontUrl: f.frontUrl,
    workers: f.workers,
    maxLagBytes: f.maxLagBytes,
    replayTimeout: f.replayTimeout,
  };
}

/** The request fields failover and failback share, from their shared flags. */
function requestOf(f: RegionRunFlags, regions: Readonly<Record<string, RegionConfig>>) {
  return { ...switchRequest(f, regions), to: f.to as string, dryRun: f.dryRun };
}

/** The flags failover and failback share. */
function regionRunFlags(cmd: Command): Command {
  return switchFlags(
    runFlags(cmd)
      .requiredOption('--to <region>', 'the region that takes the orders afterwards (a name under regions: in surgectl.yaml)')
      .option('--from <region>', 'the region that stops taking them (default: the other region)'),
  ).option('--dry-run', 'print every step with what it would change; touch nothing', false);
}

/** How a region switch reaches traffic and the new region (failover, failback, drill failover). */
export function switchFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--target <kind>', "where traffic moves: HAProxy weights, or a Kubernetes Service's selector (--context, -n, --service, --label)").choices(['haproxy', 'kubernetes']).default('haproxy'))
    .option('-n, --namespace <namespace>', 'Kubernetes: namespace of the Service', 'default')
    .option('--service <name>', 'Kubernetes: the Service clients use', 'orders')
    .option('--label <key>', "Kubernetes: the selector key whose value is the region's server name (regions.<name>.server, default the region's name)", 'region')
    .option('--haproxy <endpoint>', "HAProxy's runtime API in front of both regions: host:port or unix socket path", '127.0.0.1:9999')
    .option('--backend <name>', "the HAProxy backend holding both regions' servers (regions.<name>.server, default the region's name)", 'orders')
    .option('--front-url <url>', 'where clients send orders (the HAProxy frontend), for the synthetic order at the end', httpUrl('http://127.0.0.1:8000'), 'http://127.0.0.1:8000')
    .option('--workers <n>', "workers the new region's stack starts", wholeNumber({ min: 1 }), 64)
    .option('--max-lag-bytes <n>', 'refuse to start while the standby is more WAL bytes behind than this', wholeNumber(), 16 * 1024 * 1024)
    .option('--replay-timeout <duration>', 'how long the standby may take to replay what the fenced primary flushed (default 60s)', durationText());
}

export function registerFailover(program: Command, ctx: CommandContext): void {
  const progress = async () => {
    const { createStepProgress } = await import('../ui/runbook.js');
    return createStepProgress(ctx.runtime.stderr, ctx.stderrPaint(), () => ctx.runtime.now());
  };
  const regionsOf = async () => (await ctx.loadConfig()).config.regions;

  const failoverCmd = regionRunFlags(
    program
      .command('failover')
      .description('move the order stack to the standby region: fence the primary, wait for replay, promote, move traffic, verify; reports RTO and RPO')
      .option('--force', 'the primary is dead: promote at once, without fencing or waiting for replay (what it had not shipped is lost; asked first)', false),
  ).addHelpText(
    'after',
    `
Regions come from surgectl.yaml:
  regions:
    a: { store: postgres://postgres@10.0.0.5:5432/orders, intakeUrl: http://10.0.0.5:8080, rebuild: "ssh db-a /usr/local/bin/rebuild-replica" }
    b: { store: postgres://postgres@10.1.0.5:5432/orders, intakeUrl: http://10.1.0.5:8080 }
The standby region runs a stack on its replica (stack up --store <b's store> --workers 0): it takes
no orders until the failover opens it. Every step is journaled: an interrupted failover carries on
with surgectl runbook resume <journal>. Until the promotion a failure rolls back what ran; from the
promotion on nothing before it is undone (two primaries must never both take writes).
Exit 0 when it completed with no acknowledged order missing; 20 when a step failed or orders are
missing after a planned failover; 3 when a store or stack does not answer.

Examples:
  $ surgectl failover --to b --dry-run
  $ surgectl failover --to b --haproxy 127.0.0.1:9999 --front-url http://127.0.0.1:8000 --reason "region a disk failure"
  $ surgectl --yes failover --to b --force            # a is dead: promote b at once
  $ surgectl runbook resume .surgectl/runbooks/region-failover-2026-12-05T03-00-00-000Z.json
`,
  );
  failoverCmd.action(async (f: RegionRunFlags & { force: boolean }) => {
    const { failover, failoverParams, forcedLossEstimate } = await import('../regions/failover.js');
    const regions = await regionsOf();
    const req = { ...requestOf(f, regions), force: f.force };
    const { from, to } = failoverParams(req);
    if (f.force && !f.dryRun) {
      // a forced failover loses what the primary had not shipped: say what is known, and ask
      const estimate = await forcedLossEstimate(regions[to]!.store);
      ctx.reporter().notify(`forced failover from ${from} to ${to}: ${estimate}`, 'warn');
      if (!(await ctx.reporter().confirm(`Promote ${to} without fencing ${from}, accepting that loss?`, false))) {
        throw new SurgeError('SRG_CLI_ABORTED', 'Nothing changed: the forced failover was declined', { hint: 'Without --force the failover fences the primary first and loses nothing.' });
      }
    }
    const p = f.dryRun ? undefined : await progress();
    const r = await failover(await runContext(ctx, f, p), req).finally(() => p?.stop());
    await finish(ctx, r, f.force);
  });

  const failbackCmd = regionRunFlags(
    program
      .command('failback')
      .description("after a failover: rebuild the old primary as the new one's replica, switch back with the same fencing, and rebuild the other side")
      .option('--keep-old', 'do not rebuild the region traffic leaves as a replica afterwards', false),
  ).addHelpText(
    'after',
    `
Runs three journaled runbooks in turn, stopping at the first that does not complete:
region-rebuild (the --to region's regions.<name>.rebuild command, then a check that it streams),
region-failover back to --to (planned: fence, replay, promote, traffic, synthetic order), and
region-rebuild of the region traffic left (skipped with --keep-old or without its rebuild command).

Examples:
  $ surgectl failback --to a --dry-run
  $ surgectl --yes failback --to a --reason "region a repaired"
`,
  );
  failbackCmd.action(async (f: RegionRunFlags & { keepOld: boolean }) => {
    const { failback } = await import('../regions/failover.js');
    const p = f.dryRun ? undefined : await progress();
    const r = await failback(await runContext(ctx, f, p), { ...requestOf(f, await regionsOf()), keepOld: f.keepOld }).finally(() => p?.stop());
    await finishFailback(ctx, r);
  });
}

async function finish(ctx: CommandContext, r: FailoverResult, forced: boolean): Promise<void> {
  const { renderPlan } = await import('../ui/runbook.js');
  const { renderFailover } = await import('../ui/failover.js');
  if (!r.journal || !r.journalPath) return ctx.print(r.plan, () => renderPlan(r.plan, ctx.paint()));
  const doc = { from: r.from, to: r.to, status: r.journal.status, journal: r.journalPath, rtoMs: r.rtoMs ?? null, rpo: r.rpo ?? null };
  await ctx.print(doc, () => renderFailover(r, ctx.paint()));
  const { runbookOutcome } = await import('../runbooks/engine.js');
  const outcome = runbookOutcome(r.journal, r.journalPath, {});
  if (outcome) throw outcome;
  if (!forced && r.rpo !== undefined && r.rpo.missing.length > 0) {
    throw new SurgeError('SRG_RUNBOOK_STEP_FAILED', `${r.rpo.missing.length} acknowledged order(s) of ${r.from} are missing in ${r.to} after a planned failover`, {
      details: r.rpo.missing.slice(0, 20),
      hint: `The old primary still holds them (read-only): copy them over before anything else. Journal: ${r.journalPath}`,
    });
  }
}

async function finishFailback(ctx: CommandContext, r: FailbackResult): Promise<void> {
  const { renderPlan } = await import('../ui/runbook.js');
  const { renderFailback } = await import('../ui/failover.js');
  if (r.parts.every((p) => p.journal === undefined)) {
    return ctx.print(
      r.parts.map((p) => p.plan),
      () => r.parts.map((p) => renderPlan(p.plan, ctx.paint())).join('\n'),
    );
  }
  const doc = { from: r.from, to: r.to, parts: r.parts.map((p) => ({ part: p.part, region: p.region, status: p.journal?.status ?? 'not run', journal: p.journalPath ?? null })), rtoMs: r.rtoMs ?? null, rpo: r.rpo ?? null, todo: r.todo };
  await ctx.print(doc, () => renderFailback(r, ctx.paint()));
  const { runbookOutcome } = await import('../runbooks/engine.js');
  for (const p of r.parts) {
    const outcome = p.journal && p.journalPath ? runbookOutcome(p.journal, p.journalPath, {}) : undefined;
    if (outcome) throw outcome;
  }
}

import { Option, type Command } from 'commander';
import { durationMs, httpUrl } from './args.js';
import type { CommandContext } from './context.js';

/** Where the flags live: the provider flags every `flags` subcommand takes. */
interface ProviderFlags {
  provider?: 'local' | 'unleash';
  unleashUrl?: string;
  project?: string;
  /** Local provider: the stack URL(s); verify: the running stacks to ask. */
  stack?: string[];
  tokenEnv: string;
  env?: string;
}

const collectUrl = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), httpUrl()(v)];

function withProvider(cmd: Command): Command {
  return cmd
    .addOption(new Option('--provider <provider>', 'where the flags live (default flags.provider, else local)').choices(['local', 'unleash']))
    .option('--unleash-url <url>', 'Unleash base URL (default flags.unleashUrl); the admin token only from env UNLEASH_ADMIN_TOKEN or flags.credentialsFile', httpUrl('http://127.0.0.1:4242'))
    .option('--project <id>', 'Unleash project (default flags.project, else default)')
    .option('--stack <url>', 'the bundled stack (local provider; verify: each running stack to ask, repeatable) (default http://127.0.0.1:<stack.port>)', collectUrl)
    .option('--token-env <name>', 'environment variable holding the stack admin token', 'SURGECTL_STACK_ADMIN_TOKEN');
}

const provider = (ctx: CommandContext, f: ProviderFlags) =>
  ctx.adapters.flags({ provider: f.provider, unleashUrl: f.unleashUrl, project: f.project, stackUrl: f.stack?.[0], tokenEnv: f.tokenEnv });

export function registerFlags(program: Command, ctx: CommandContext): void {
  const flags = program
    .command('flags')
    .description('feature flags for the peak: list, switch, degrade a set, verify the fleet saw it, restore (Unleash or the bundled stack)')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl flags list --provider unleash --unleash-url http://127.0.0.1:4242 --env production
  $ surgectl --yes flags degrade --set peak                  # snapshot, then switch the set off
  $ surgectl flags verify --set peak --stack http://127.0.0.1:8080 --timeout 30s
  $ surgectl --yes flags restore .surgectl/snapshots/flags-20261127T080000Z.json
`,
    );

  withProvider(flags.command('list'))
    .description('every flag with its state per environment, its description and the sets it belongs to')
    .option('--env <name>', 'only this environment')
    .addHelpText('after', '\nExamples:\n  $ surgectl flags list\n  $ surgectl flags list --provider unleash --unleash-url http://127.0.0.1:4242 --env production -o json\n')
    .action(async (f: ProviderFlags) => {
      const { listFlags } = await import('../flags/flags.js');
      const { renderListing } = await import('../flags/render.js');
      const { config } = await ctx.loadConfig();
      const listing = await listFlags({ provider: await provider(ctx, f), environment: f.env, sets: config.flags.sets });
      await ctx.print(listing, () => renderListing(listing, ctx.paint()));
    });

  for (const [word, enabled] of [
    ['on', true],
    ['off', false],
  ] as const) {
    withProvider(flags.command(word))
      .description(`switch one flag ${word} in one environment (asks first; --dry-run shows the plan)`)
      .argument('<name>', 'the flag, e.g. recommendations')
      .option('--env <name>', 'environment (default flags.environment; the local provider has one, stack)')
      .option('--dry-run', 'print the plan and switch nothing', false)
      .addHelpText('after', `\nExamples:\n  $ surgectl flags ${word} recommendations --dry-run\n  $ surgectl --yes flags ${word} recommendations --provider unleash --env production\n`)
      .action(async (name: string, f: ProviderFlags & { dryRun: boolean }) => {
        const { switchFlag } = await import('../flags/flags.js');
        const { switchOutcome } = await import('../flags/outcome.js');
        const { renderSwitch } = await import('../flags/render.js');
        const result = await switchFlag({ provider: await provider(ctx, f), name, enabled, environment: f.env, dryRun: f.dryRun, reporter: ctx.reporter() });
        await ctx.print(result, () => renderSwitch(result, ctx.paint()));
        const outcome = switchOutcome(result);
        if (outcome) throw outcome;
      });
  }

  withProvider(flags.command('degrade'))
    .description('switch off every flag of a named set (flags.sets) in one operation; snapshots their state first and prints the path')
    .option('--set <name>', 'the flag set (flags.sets.<name>)', 'peak')
    .option('--env <name>', 'environment (default flags.environment)')
    .option('--snapshot-dir <dir>', 'where the snapshot goes (default .surgectl/snapshots)')
    .option('--dry-run', 'print the plan and switch nothing', false)
    .addHelpText('after', '\nExamples:\n  $ surgectl flags degrade --dry-run\n  $ surgectl --yes flags degrade --set peak --provider unleash --env production\n')
    .action(async (f: ProviderFlags & { set: string; snapshotDir?: string; dryRun: boolean }) => {
      const { degradeFlags } = await import('../flags/flags.js');
      const { switchOutcome } = await import('../flags/outcome.js');
      const { renderDegrade } = await import('../flags/render.js');
      const { config } = await ctx.loadConfig();
      const result = await degradeFlags({
        provider: await provider(ctx, f),
        setName: f.set,
        sets: config.flags.sets,
        environment: f.env,
        dryRun: f.dryRun,
        reporter: ctx.reporter(),
        cwd: ctx.runtime.cwd,
        snapshotDir: f.snapshotDir,
        now: () => ctx.runtime.now(),
      });
      await ctx.print(result, () => renderDegrade(result, ctx.paint()));
      const outcome = switchOutcome(result);
      if (outcome) throw outcome;
    });

  flags
    .command('restore')
    .description('put every flag of a snapshot back exactly as it was (same server, project and environment); a rerun is a no-op')
    .argument('<snapshot>', 'the file `flags degrade` printed')
    .option('--token-env <name>', 'environment variable holding the stack admin token (local provider)', 'SURGECTL_STACK_ADMIN_TOKEN')
    .option('--dry-run', 'print the plan and switch nothing', false)
    .addHelpText('after', '\nExamples:\n  $ surgectl flags restore .surgectl/snapshots/flags-20261127T080000Z.json --dry-run\n  $ surgectl --yes flags restore .surgectl/snapshots/flags-20261127T080000Z.json\n')
    .action(async (file: string, f: { tokenEnv: string; dryRun: boolean }) => {
      const { restoreFlags } = await import('../flags/flags.js');
      const { switchOutcome } = await import('../flags/outcome.js');
      const { renderRestore } = await import('../flags/render.js');
      const result = await restoreFlags({
        snapshotPath: file,
        connect: (from) =>
          ctx.adapters.flags(from.provider === 'unleash' ? { provider: 'unleash', unleashUrl: from.target, project: from.project, environment: from.environment } : { provider: 'local', stackUrl: from.target, tokenEnv: f.tokenEnv }),
        dryRun: f.dryRun,
        reporter: ctx.reporter(),
      });
      await ctx.print(result, () => renderRestore(result, ctx.paint()));
      const outcome = switchOutcome(result);
      if (outcome) throw outcome;
    });

  withProvider(flags.command('verify'))
    .description('ask each running stack which flag values it uses; wait until all use the flag server values of the set (exit 20 if one has not within --timeout)')
    .option('--set <name>', 'the flag set (flags.sets.<name>)', 'peak')
    .option('--env <name>', 'environment (default flags.environment)')
    .option('--timeout <duration>', 'how long to wait for every instance, e.g. 30s', durationMs({ minMs: 0 }), 30_000)
    .option('--interval <duration>', 'pause between polls', durationMs(), 500)
    .addHelpText('after', '\nExamples:\n  $ surgectl flags verify --stack http://127.0.0.1:8080\n  $ surgectl flags verify --set peak --provider unleash --stack http://10.0.0.5:8080 --stack http://10.0.0.6:8080 --timeout 45s\n')
    .action(async (f: ProviderFlags & { set: string; timeout: number; interval: number }) => {
      const { verifyFlags } = await import('../flags/flags.js');
      const { verifyOutcome } = await import('../flags/outcome.js');
      const { renderVerify } = await import('../flags/render.js');
      const { config } = await ctx.loadConfig();
      const urls = f.stack ?? [undefined];
      const result = await verifyFlags({
        provider: await provider(ctx, f),
        setName: f.set,
        sets: config.flags.sets,
        environment: f.env,
        stacks: await Promise.all(urls.map((url) => ctx.adapters.stackAdmin({ url, tokenEnv: f.tokenEnv }))),
        timeoutMs: f.timeout,
        intervalMs: f.interval,
        now: () => ctx.runtime.now(),
        signal: ctx.runtime.signal,
      });
      await ctx.print(result, () => renderVerify(result, ctx.paint()));
      const outcome = verifyOutcome(result);
      if (outcome) throw outcome;
    });
}

import type { Command } from 'commander';
import type { CommandContext } from './context.js';

export function registerRegion(program: Command, ctx: CommandContext): void {
  const region = program
    .command('region')
    .description('the regions of an active-passive pair (surgectl.yaml regions:): roles, replication, which one takes orders')
    .addHelpText('after', '\nExamples:\n  $ surgectl region status\n  $ surgectl region status -o json\n');
  region
    .command('status')
    .description("each region's PostgreSQL role, replication position and lag (pg_stat_replication), intake readiness, and which region takes orders")
    .addHelpText(
      'after',
      `
Regions come from surgectl.yaml:
  regions:
    a: { store: postgres://app@10.0.0.5:5432/orders, intakeUrl: http://10.0.0.5:8080 }
    b: { store: postgres://app@10.1.0.5:5432/orders, intakeUrl: http://10.1.0.5:8080 }

Examples:
  $ surgectl region status
  $ surgectl region status -o json | jq '.[] | select(.takesTraffic)'
`,
    )
    .action(async () => {
      const { config } = await ctx.loadConfig();
      const { regionStatus } = await import('../regions/status.js');
      const { renderRegionStatus } = await import('../ui/stack-status.js');
      const rows = await regionStatus(
        config.regions,
        {
          replication: async (url) => (await import('../adapters/postgres-replication/postgres-replication.js')).createPostgresReplication({ url }),
          readyz: async (intakeUrl, signal) => {
            const { request } = await import('undici');
            const r = await request(`${intakeUrl.replace(/\/+$/, '')}/readyz`, { signal: signal ?? AbortSignal.timeout(5_000), headersTimeout: 5_000, bodyTimeout: 5_000 });
            await r.body.dump();
            return r.statusCode;
          },
        },
        ctx.runtime.signal,
      );
      await ctx.print(rows, () => renderRegionStatus(rows, ctx.paint()));
    });
}

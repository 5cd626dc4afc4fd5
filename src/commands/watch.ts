import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { WatchConfig } from '../config/schema.js';
import { SurgeError } from '../errors.js';
import { durationMs, httpUrl } from './args.js';
import { givenFlags, type CommandContext } from './context.js';

const FLAGS: Record<string, keyof WatchConfig> = { interval: 'intervalMs', history: 'historyMs' };

interface WatchFlags {
  url?: string;
  tokenEnv: string;
  prometheus?: string;
  header: string[];
  bearerTokenFile?: string;
  rateWindow?: number;
  once?: boolean;
}

export function registerWatch(program: Command, ctx: CommandContext): void {
  program
    .command('watch')
    .description('a full-screen live view of a running stack (or of Prometheus): rates, latency, refusals, queue, workers, breaker, flags, stock')
    .option('--url <url>', 'the stack URL (default http://127.0.0.1:<stack.port>)', httpUrl())
    .option('--token-env <name>', 'environment variable holding the stack admin token', 'SURGECTL_STACK_ADMIN_TOKEN')
    .addOption(new Option('--prometheus <url>', 'read the same figures from this Prometheus instead of a stack').argParser(httpUrl('http://127.0.0.1:9090')).conflicts('url'))
    .option('--header <name: value>', 'extra HTTP header for Prometheus (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--bearer-token-file <file>', 'file holding a bearer token for Prometheus')
    .option('--rate-window <duration>', 'the PromQL rate() window with --prometheus, at least 1s (default 1m)', durationMs({ minMs: 1_000 }))
    .option('--interval <duration>', 'time between readings, e.g. 500ms, 2s (default 2s; watch.intervalMs)', durationMs({ minMs: 100 }))
    .option('--history <duration>', 'history the sparklines show (default 5m; watch.historyMs)', durationMs({ minMs: 1_000 }))
    .option('--once', 'print one snapshot and exit (from a stack: two readings --interval apart); for scripts, with -o json')
    .addHelpText(
      'after',
      `
Keys: q or Ctrl-C quits and restores the terminal. Red: past its SLO (surgectl.yaml "watch"); yellow: past 80% of it.
Off a terminal, use --once.

Examples:
  $ export SURGECTL_STACK_ADMIN_TOKEN=<token printed by stack up>
  $ surgectl watch                                    # the stack on 127.0.0.1:8080, every 2s
  $ surgectl watch --url http://127.0.0.1:9000 --interval 500ms
  $ surgectl watch --prometheus http://127.0.0.1:9090 --rate-window 30s
  $ surgectl watch --once -o json | jq .acceptedPerSec  # one snapshot for scripts
`,
    )
    .action(async (opts: WatchFlags, cmd: Command) => {
      const { runtime } = ctx;
      if (opts.once !== true && runtime.stdout.isTTY !== true) {
        throw new SurgeError('SRG_CLI_USAGE', 'surgectl watch draws a live screen, and stdout is not a terminal', {
          hint: 'use --once for one snapshot in scripts: surgectl watch --once -o json',
        });
      }
      const loaded = await ctx.loadConfig({ watch: givenFlags(cmd, FLAGS) });
      const { intervalMs, historyMs, ...thresholds } = loaded.config.watch;
      const { openWatchSource, watchOnce, watchViews } = await import('../watch/index.js');
      const source = await openWatchSource(
        opts.prometheus !== undefined
          ? { prometheus: opts.prometheus, headerLines: opts.header, bearerTokenFile: opts.bearerTokenFile && resolve(runtime.cwd, opts.bearerTokenFile), rateWindowMs: opts.rateWindow }
          : { stackAdmin: () => ctx.adapters.stackAdmin({ url: opts.url, tokenEnv: opts.tokenEnv }) },
        () => runtime.now(),
      );
      const loop = { intervalMs, historyMs, thresholds, signal: runtime.signal };
      const ui = await import('../ui/watch.js');
      if (opts.once === true) {
        const { view, snapshot } = await watchOnce(source, loop);
        await ctx.print(snapshot, () => ui.renderWatchLines(view, { width: runtime.stdout.columns ?? 100, height: 1_000, paint: ctx.paint() }).join('\n') + '\n');
        return;
      }
      const { runWatchScreen } = await import('../ui/watch-screen.js');
      await runWatchScreen({
        terminal: { stdout: runtime.stdout, stdin: runtime.stdin },
        views: (signal) => watchViews(source, { ...loop, signal }),
        signal: runtime.signal,
        paint: ctx.paint(),
        intervalMs,
      });
    });
}

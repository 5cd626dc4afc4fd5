import { InvalidArgumentError, Option, type Command } from 'commander';
import type { StackConfig } from '../config/schema.js';
import { SurgeError } from '../errors.js';
import type { StatusSample } from '../order-core/api/admin-client.js';
import { givenFlags, type CommandContext } from './context.js';

const UP_FLAGS: Record<string, keyof StackConfig> = {
  port: 'port',
  host: 'host',
  paymentPort: 'paymentPort',
  workers: 'workers',
  dataDir: 'dataDir',
  seedInventory: 'seedInventory',
  rateLimit: 'rateLimit',
  maxBacklog: 'maxBacklog',
  paymentFailureRate: 'paymentFailureRate',
  paymentLatencyMs: 'paymentLatencyMs',
  logLevel: 'logLevel',
};

const int = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number, got '${v}'`);
  return Number(v);
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${v}'`);
  return n;
};

/** `--seed-inventory`: N units per default sku, or a catalog file; a number that is not a whole one >= 0 is neither. */
const seedInventory = (v: string): number | string => {
  if (/^\d+$/.test(v)) return Number(v);
  if (v.trim() !== '' && Number.isFinite(Number(v))) throw new InvalidArgumentError(`--seed-inventory must be a whole number >= 0 or a file path, got '${v}'`);
  return v;
};

export function registerStack(program: Command, ctx: CommandContext): void {
  const stack = program
    .command('stack')
    .description('run and inspect the bundled order stack (intake API, workers, payment simulator)')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl stack up --workers 16 --seed-inventory 100   # run the stack in the foreground; prints its token
  $ export SURGECTL_STACK_ADMIN_TOKEN=<token it printed>
  $ surgectl stack status                                 # intake, workers, queue, orders, breaker
  $ surgectl stack status -w --interval 1                 # a row a second with accepted/s and confirmed/s
`,
    );

  stack
    .command('up')
    .description('run the order stack in the foreground until Ctrl+C / SIGTERM (drains in-flight orders, then exits 0)')
    .option('--port <port>', 'intake + admin API port, 0 = any free (default 8080)', int('--port'))
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--payment-port <port>', 'payment gateway simulator port, 0 = any free (default 8089)', int('--payment-port'))
    .option('--workers <n>', 'pipeline workers: orders processed at once (default 64)', int('--workers'))
    .option('--data-dir <dir>', 'where the order store, payment ledger and log live (default .surgectl/data)')
    .option('--seed-inventory <file|N>', 'catalog file (YAML/JSON/CSV) or N units of each default sku', seedInventory)
    .option('--rate-limit <n|off>', "requests per second per client (x-api-key, else IP), or 'off' (default off)", (v) => {
      if (v === 'off') return 'off';
      const n = Number(v);
      if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`--rate-limit must be a positive number or 'off', got '${v}'`);
      return n;
    })
    .option('--max-backlog <n>', 'waiting orders above which new orders get 503 + Retry-After (default 20000)', int('--max-backlog'))
    .option('--payment-failure-rate <0..1>', 'share of payment calls the simulator fails (default 0)', num('--payment-failure-rate'))
    .option('--payment-latency-ms <ms>', 'latency added to each payment call (default 5)', int('--payment-latency-ms'))
    .addOption(new Option('--log-level <level>', 'log level (default info)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .option('--log-file <path|->', "JSON log file, or '-' for stderr (default <data-dir>/stack.log)")
    .addHelpText(
      'after',
      `
Every flag can also be set in surgectl.yaml (section "stack") or as SURGECTL_STACK_<KEY>
(e.g. SURGECTL_STACK_MAX_BACKLOG=5000); flags win over env, env over the file.
The admin token comes from SURGECTL_STACK_ADMIN_TOKEN (or stack.adminToken); when unset a
random one is generated and printed.

Examples:
  $ surgectl stack up                                   # 127.0.0.1:8080, payments on :8089
  $ surgectl stack up --workers 16 --seed-inventory 100 # 100 units of each default sku
  $ surgectl stack up --port 0 --payment-port 0 -o json # free ports; one JSON object with the URLs
  $ surgectl stack up --rate-limit 50 --max-backlog 5000 --payment-failure-rate 0.2
`,
    )
    .action(async (opts: { logFile?: string }, cmd: Command) => {
      const loaded = await ctx.loadConfig({ stack: givenFlags(cmd, UP_FLAGS) });
      const { runStackForeground } = await import('../order-core/stack.js');
      const result = await runStackForeground({
        config: loaded.config.stack,
        cwd: ctx.runtime.cwd,
        logFile: opts.logFile,
        signal: ctx.runtime.signal,
        reporter: ctx.reporter(),
        onStarted: (info) =>
          ctx.print(info, () => {
            const p = ctx.paint();
            const row = (k: string, v: string) => `  ${p.dim(k.padEnd(9))} ${v}\n`;
            return (
              `${p.green('✓')} surgectl order stack is up (${info.workers} workers)\n` +
              row('intake', `${info.url}/v1/orders`) +
              row('status', `${info.url}/v1/orders/<id>   inventory: ${info.url}/v1/inventory`) +
              row('admin', `${info.url}/admin/status   (Authorization: Bearer <token>)`) +
              row('metrics', `${info.url}/metrics`) +
              row('payment', info.paymentUrl) +
              row('token', info.adminToken) +
              row('data dir', info.dataDir) +
              row('logs', info.logFile ?? 'stderr') +
              `Press Ctrl+C to stop: intake closes, in-flight orders finish, then it exits.\n`
            );
          }),
      });
      ctx.reporter().notify(
        result.drained ? 'order stack stopped cleanly' : `order stack stopped; ${result.inFlight} job(s) were still running and resume on the next start`,
        result.drained ? 'success' : 'warn',
      );
    });

  /** `stack status --watch`: a row per interval (kubectl get -w style) until the signal aborts. */
  async function watchStatus(o: { url: string; token: string | undefined; intervalS: number }): Promise<void> {
    const { fetchStackStatus, statusRates } = await import('../order-core/api/admin-client.js');
    const { runtime } = ctx;
    const format = ctx.globals().output;
    const p = ctx.paint();
    const cols = ['TIME', 'INTAKE', 'QUEUE', 'OLDEST', 'WORKERS', 'ACCEPTED/S', 'CONFIRMED/S', 'BREAKER', 'OVERSOLD'];
    const widths = [8, 8, 8, 8, 9, 11, 12, 9, 8];
    const line = (cells: string[], raw: string[] = cells) => cells.map((c, i) => c + ' '.repeat(Math.max(1, (widths[i] ?? 8) - (raw[i] ?? c).length + 1))).join('').trimEnd() + '\n';
    if (format === 'table') runtime.stdout.write(`${o.url}\n` + line(cols));
    let prev: { status: Awaited<ReturnType<typeof fetchStackStatus>>; at: number } | undefined;
    while (!runtime.signal.aborted) {
      let status;
      try {
        status = await fetchStackStatus({ url: o.url, token: o.token, signal: runtime.signal });
      } catch (err) {
        if (runtime.signal.aborted) return; // Ctrl+C while asking: the normal end of a watch
        throw err;
      }
      const at = runtime.now();
      const rates = statusRates(prev?.status, status, prev === undefined ? 0 : (at - prev.at) / 1000);
      prev = { status, at };
      const sample: StatusSample = { at: new Date(at).toISOString(), ...rates, status };
      if (format === 'json') runtime.stdout.write(JSON.stringify(sample) + '\n');
      else if (format === 'yaml') {
        const { stringify } = await import('yaml');
        runtime.stdout.write('---\n' + stringify(sample));
      } else {
        const intake = status.intake.draining ? 'draining' : status.intake.paused ? 'paused' : 'open';
        const rate = (r: number | null) => (r === null ? '-' : r.toFixed(1));
        const raw = [
          sample.at.slice(11, 19),
          intake,
          String(status.queue.depth),
          `${(status.queue.oldestWaitingMs / 1000).toFixed(1)}s`,
          `${status.workers.busy}/${status.workers.size}`,
          rate(rates.acceptedPerSec),
          rate(rates.confirmedPerSec),
          status.breaker,
          String(status.oversold),
        ];
        const shown = [...raw];
        if (intake !== 'open') shown[1] = p.yellow(intake);
        if (status.breaker !== 'closed') shown[7] = p.yellow(status.breaker);
        if (status.oversold !== 0) shown[8] = p.red(String(status.oversold));
        runtime.stdout.write(line(shown, raw));
      }
      await new Promise<void>((done) => {
        const t = setTimeout(finish, o.intervalS * 1000);
        runtime.signal.addEventListener('abort', finish, { once: true });
        function finish() {
          clearTimeout(t);
          runtime.signal.removeEventListener('abort', finish);
          done();
        }
      });
    }
  }

  stack
    .command('status')
    .description("show a running stack's intake, workers, queue, orders and faults (GET /admin/status)")
    .option('--url <url>', 'the stack URL (default http://127.0.0.1:<stack.port>)')
    .option('--token-env <name>', 'environment variable holding the admin token', 'SURGECTL_STACK_ADMIN_TOKEN')
    .option('-w, --watch', 'keep watching: a row per --interval with accepted/s and confirmed/s, until Ctrl+C (exit 0)')
    .option('--interval <seconds>', 'seconds between --watch rows (default 2)', (v) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || n < 0.2 || n > 3600) throw new InvalidArgumentError(`--interval must be a number of seconds from 0.2 to 3600, got '${v}'`);
      return n;
    })
    .addHelpText(
      'after',
      `
Examples:
  $ export SURGECTL_STACK_ADMIN_TOKEN=<token printed by stack up>
  $ surgectl stack status
  $ surgectl stack status --url http://127.0.0.1:9000 --token-env STAGING_ADMIN_TOKEN -o json
  $ surgectl stack status -w --interval 1          # a row a second during a surge; Ctrl+C ends it
  $ surgectl stack status -w -o json > status.ndjson # one JSON object per line, with the rates
`,
    )
    .action(async (opts: { url?: string; tokenEnv: string; watch?: boolean; interval?: number }) => {
      const { config } = await ctx.loadConfig();
      const { fetchStackStatus } = await import('../order-core/api/admin-client.js');
      const url = opts.url ?? `http://127.0.0.1:${config.stack.port}`;
      const token = ctx.runtime.env[opts.tokenEnv] ?? config.stack.adminToken;
      if (opts.watch === true) {
        await watchStatus({ url, token, intervalS: opts.interval ?? 2 });
        return;
      }
      if (opts.interval !== undefined) {
        throw new SurgeError('SRG_CLI_USAGE', '--interval needs --watch', { hint: 'surgectl stack status --watch --interval 1' });
      }
      const s = await fetchStackStatus({ url, token, signal: ctx.runtime.signal });
      await ctx.print(s, () => {
        const p = ctx.paint();
        const counts = Object.entries(s.orders.byStatus)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k}=${n}`)
          .join(' ');
        const intake = s.intake.draining ? p.yellow('draining') : s.intake.paused ? p.yellow('paused') : p.green('open');
        const rows: [string, string][] = [
          ['intake', intake],
          ['workers', `${s.workers.busy}/${s.workers.size} busy${s.workers.paused ? ' (consumer paused)' : ''}`],
          ['queue', `${s.queue.depth} waiting, oldest ${(s.queue.oldestWaitingMs / 1000).toFixed(1)} s`],
          ['orders', counts || 'none yet'],
          ['oversold', s.oversold === 0 ? '0' : p.red(String(s.oversold))],
          ['breaker', s.breaker === 'closed' ? s.breaker : p.yellow(s.breaker)],
          ['payment', s.payment ? `failure rate ${s.payment.failureRate}, latency ${s.payment.latencyMs} ms` : '-'],
          ['faults', s.faults.dropRatio > 0 ? p.yellow(`dropping ${Math.round(s.faults.dropRatio * 100)}% of intake`) : 'none'],
        ];
        return `${url}\n` + rows.map(([k, v]) => `  ${k.padEnd(9)} ${v}\n`).join('');
      });
    });
}

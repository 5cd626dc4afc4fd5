import { InvalidArgumentError, Option, type Command } from 'commander';
import type { StackConfig } from '../config/schema.js';
import { SurgeError } from '../errors.js';
import { durationMs, finiteNumber, httpUrl, orOff, positiveNumber, wholeNumber } from './args.js';
import { givenFlags, type CommandContext } from './context.js';
import { stackOptionsFromConfig } from './stack-options.js';
import { tracingFromEnv } from './stack-tracing.js';

const UP_FLAGS: Record<string, keyof StackConfig> = {
  port: 'port',
  host: 'host',
  paymentHost: 'paymentHost',
  paymentPort: 'paymentPort',
  workers: 'workers',
  intakeReplicas: 'intakeReplicas',
  workerProcesses: 'workerProcesses',
  dataDir: 'dataDir',
  store: 'store',
  storePool: 'storePool',
  readReplica: 'readReplica',
  readReplicaMaxLag: 'readReplicaMaxLagMs',
  queue: 'queue',
  cache: 'cache',
  seedInventory: 'seedInventory',
  rateLimit: 'rateLimit',
  maxBacklog: 'maxBacklog',
  headersTimeout: 'headersTimeoutMs',
  requestTimeout: 'requestTimeoutMs',
  keepAliveTimeout: 'keepAliveTimeoutMs',
  maxConnections: 'maxConnections',
  maxConnectionsPerIp: 'maxConnectionsPerIp',
  healthPort: 'healthPort',
  color: 'color',
  paymentFailureRate: 'paymentFailureRate',
  paymentLatencyMs: 'paymentLatencyMs',
  logLevel: 'logLevel',
  unleashUrl: 'unleashUrl',
  unleashRefresh: 'unleashRefreshIntervalMs',
};

// Flags check the shape of a value; the ranges (--workers 0..512, --port 0..65535, a failure rate
// 0..1) are the config schema's, which names the flag, so they are stated once.

/** `--seed-inventory`: N units per default sku, or a catalog file; a number that is not a whole one >= 0 is neither. */
const seedInventory = (v: string): number | string => {
  if (/^\d+$/.test(v)) return Number(v);
  // Worded like src/commands/args.ts, so src/cli.ts adds the flag and the value given.
  if (v.trim() !== '' && Number.isFinite(Number(v))) throw new InvalidArgumentError('must be a whole number >= 0 or a file path');
  return v;
};

/** `--color`: a side of a blue-green pair; worded like src/commands/args.ts, so src/cli.ts adds the flag and the value given. */
const stackColor = (v: string): 'blue' | 'green' => {
  if (v === 'blue' || v === 'green') return v;
  throw new InvalidArgumentError('must be blue or green');
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
  $ surgectl stack migrate --store postgres://app@db:5432/orders   # PostgreSQL: the schema, once
  $ surgectl stack up --store postgres://app@db:5432/orders        # then any number of stacks on it
`,
    );

  stack
    .command('up')
    .description('run the order stack in the foreground until Ctrl+C / SIGTERM (drains in-flight orders, then exits 0)')
    .option('--port <port>', 'intake + admin API port, 0 = any free (default 8080)', wholeNumber())
    .option('--host <host>', 'interface the intake + admin API listen on; beyond loopback it is reachable from other machines (default 127.0.0.1)')
    .option('--payment-host <host>', 'interface the payment gateway simulator listens on (default 127.0.0.1)')
    .option('--payment-port <port>', 'payment gateway simulator port, 0 = any free (default 8089)', wholeNumber())
    .option('--workers <n>', 'pipeline workers: orders processed at once (default 64)', wholeNumber())
    .option('--intake-replicas <n>', 'intake processes sharing --port (needs --store postgres://…); a supervisor restarts any that dies (default 1)', wholeNumber({ min: 1 }))
    .option('--worker-processes <n>', 'processes running --workers workers each, apart from the intake (needs --store postgres://…; default 0: the intake runs them)', wholeNumber())
    .option('--data-dir <dir>', 'where the SQLite order store, payment ledger and log live (default .surgectl/data)')
    .option('--store <sqlite|postgres://…>', "the order store: 'sqlite' (embedded, in --data-dir) or a PostgreSQL URL that several stacks share; migrated at start when behind (default sqlite)")
    .option('--store-pool <n>', 'connections this process keeps open to PostgreSQL (default 10)', wholeNumber({ min: 1 }))
    .option('--read-replica <postgres://…>', 'a streaming replica of --store for order status reads; reads go to the primary while its lag is above --read-replica-max-lag')
    .option('--read-replica-max-lag <duration>', 'replay lag above which status reads go back to the primary (default 1s)', durationMs({ minMs: 0 }))
    .option('--queue <amqp://…>', 'RabbitMQ carrying accepted orders to the workers (durable quorum queue, transactional outbox, dead-letter queue); needs --store postgres://…')
    .option('--cache <redis://…>', 'Redis for rate-limit buckets shared by every intake process and a cache of GET /v1/inventory')
    .option('--seed-inventory <file|N>', 'catalog file (YAML/JSON/CSV) or N units of each default sku', seedInventory)
    .option('--rate-limit <n|off>', "requests per second per client address, or 'off' (default off)", orOff(positiveNumber()))
    .option('--max-backlog <n>', 'waiting orders above which new orders get 503 + Retry-After (default 20000)', wholeNumber())
    .option('--headers-timeout <duration>', "longest wait for a request's headers, then 408 and close (default 10s)", durationMs({ minMs: 100 }))
    .option('--request-timeout <duration>', 'longest wait for a whole request, headers and body (default 30s)', durationMs({ minMs: 100 }))
    .option('--keep-alive-timeout <duration>', 'how long an idle keep-alive connection stays open (default 5s)', durationMs({ minMs: 100 }))
    .option('--max-connections <n>', 'open API connections in total; more get 503 + Retry-After (default 10000)', wholeNumber())
    .option('--max-connections-per-ip <n>', 'open API connections per client address; more get 503 + Retry-After (default 5000)', wholeNumber())
    .option('--health-port <port|off>', "a separate /healthz + /readyz listener on its own thread, answered even when the API is saturated; 0 = any free, 'off' = health on --port only (default off)", orOff(wholeNumber({ max: 65535 })))
    .option('--color <blue|green>', 'a side of a blue-green pair on one machine: shown in /healthz, /admin/status, the x-surgectl-color header and /metrics; green defaults to port 8081, payment port 8090, data dir .surgectl/data-green (blue: 8080, 8089, .surgectl/data-blue)', stackColor)
    .option('--payment-failure-rate <0..1>', 'share of payment calls the simulator fails (default 0)', finiteNumber())
    .option('--payment-latency-ms <ms>', 'latency added to each payment call (default 5)', wholeNumber())
    .addOption(new Option('--log-level <level>', 'log level (default info)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .option('--log-file <path|->', "JSON log file, or '-' for stderr (default <data-dir>/stack.log)")
    .option('--unleash-url <url>', 'read the feature flags from this Unleash (client token from UNLEASH_CLIENT_TOKEN); default: local flags', httpUrl('http://127.0.0.1:4242'))
    .option('--unleash-refresh <duration>', 'how often the flags are fetched from Unleash again, e.g. 5s (default 15s)', durationMs({ minMs: 100 }))
    .addHelpText(
      'after',
      `
Every flag can also be set in surgectl.yaml (section "stack") or as SURGECTL_STACK_<KEY>
(e.g. SURGECTL_STACK_MAX_BACKLOG=5000); flags win over env, env over the file.
The admin token comes from SURGECTL_STACK_ADMIN_TOKEN (or stack.adminToken) and is then not
printed; when unset a random one is generated and printed. With --unleash-url the flags come from Unleash (token from
UNLEASH_CLIENT_TOKEN, environment stack.unleashEnvironment, default development); until Unleash
answers the stack runs on the flags' defaults.
OpenTelemetry tracing (one trace per order) is off unless OTEL_TRACES_EXPORTER=otlp|console or
OTEL_EXPORTER_OTLP_ENDPOINT is set (OTLP/HTTP, http/protobuf or http/json; OTEL_SDK_DISABLED=true
turns it off); see docs/order-stack.md, Tracing.

Examples:
  $ surgectl stack up                                   # 127.0.0.1:8080, payments on :8089
  $ surgectl stack up --workers 16 --seed-inventory 100 # 100 units of each default sku
  $ surgectl stack up --port 0 --payment-port 0 -o json # free ports; one JSON object with the URLs
  $ surgectl stack up --rate-limit 50 --max-backlog 5000 --payment-failure-rate 0.2
  $ surgectl stack up --max-backlog 200 --health-port 8088   # probes on :8088, answered during a surge
  $ surgectl stack up --color blue & surgectl stack up --color green   # :8080 and :8081, one store each
  $ UNLEASH_CLIENT_TOKEN=<client token> surgectl stack up --unleash-url http://127.0.0.1:4242 --unleash-refresh 5s
  $ surgectl stack up --store postgres://app@db.internal:5432/orders --store-pool 20   # shared store
  $ PGPASSWORD=<secret> surgectl stack up --store postgres://app@db.internal:5432/orders --port 8081 --data-dir .surgectl/b
  $ surgectl stack up --rate-limit 50 --cache redis://127.0.0.1:6379/0   # one budget per client over every stack on that Redis

With --store postgres://… the orders, stock and flag overrides live in PostgreSQL: every stack
started on the same database takes orders and works the same queue. A database that is not
migrated yet is migrated at start (the log says which versions); one migrated by a newer surgectl
is refused (exit 10). Keep the password out of the command line: PGPASSWORD, or
SURGECTL_STACK_STORE; it is never printed or logged (shown as postgres://user@host:port/db).
`,
    )
    .action(async (opts: { logFile?: string }, cmd: Command) => {
      const loaded = await ctx.loadConfig({ stack: givenFlags(cmd, UP_FLAGS) });
      const { runStackForeground } = await import('../order-core/stack.js');
      const result = await runStackForeground({
        ...stackOptionsFromConfig(loaded.config.stack),
        // A secret: from the environment only, never a flag (shell history, ps) or the config file.
        unleashClientToken: ctx.runtime.env.UNLEASH_CLIENT_TOKEN,
        // OpenTelemetry is configured the standard way, by OTEL_* variables (docs/order-stack.md, Tracing).
        tracing: tracingFromEnv(ctx.runtime.env),
        cwd: ctx.runtime.cwd,
        logFile: opts.logFile,
        signal: ctx.runtime.signal,
        reporter: ctx.reporter(),
        onStarted: async (info) => {
          const { renderStackStarted } = await import('../ui/stack-status.js');
          await ctx.print(info, () => renderStackStarted(info, ctx.paint()));
        },
      });
      ctx.reporter().notify(
        result.drained ? 'order stack stopped cleanly' : `order stack stopped; ${result.inFlight} job(s) were still running and resume on the next start`,
        result.drained ? 'success' : 'warn',
      );
    });

  stack
    .command('migrate')
    .description('create or upgrade the schema of a PostgreSQL order store (idempotent; stack up does it too when needed)')
    .option('--store <postgres://…>', 'the database, postgres://user@host:port/database (default stack.store / SURGECTL_STACK_STORE)')
    .option('--partitions <n>', 'hash partitions of the orders table, 1..256, used only when this run creates it (default 8)', wholeNumber({ min: 1, max: 256 }))
    .option('--dry-run', 'print the SQL that would run and change nothing', false)
    .addHelpText(
      'after',
      `
Prints the schema versions applied (none when the database is current); -o json prints one object
{database, dryRun, from, current, latest, applied, sql}. A database migrated by a newer surgectl is
refused with exit 10 and left untouched; an unreachable server exits 3. The password (in the URL,
or PGPASSWORD) is never printed.

Examples:
  $ surgectl stack migrate --store postgres://app@db.internal:5432/orders             # apply what is missing
  $ surgectl stack migrate --store postgres://app@db.internal:5432/orders --dry-run   # the SQL only
  $ surgectl stack migrate --store postgres://app@db.internal:5432/orders --partitions 32 -o json
  $ SURGECTL_STACK_STORE=postgres://app:<secret>@db:5432/orders surgectl stack migrate
`,
    )
    .action(async (opts: { dryRun: boolean; partitions?: number }, cmd: Command) => {
      const loaded = await ctx.loadConfig({ stack: givenFlags(cmd, { store: 'store' }) });
      const store = loaded.config.stack.store;
      if (store === 'sqlite') {
        throw new SurgeError('SRG_CLI_USAGE', 'stack migrate needs a PostgreSQL store: --store postgres://user@host:port/database', {
          hint: 'The SQLite store migrates itself when stack up opens it; set --store (or stack.store / SURGECTL_STACK_STORE) to the PostgreSQL URL.',
        });
      }
      const { migrateOrderStore } = await import('../order-core/migrate-store.js');
      const result = await migrateOrderStore({ url: store, partitions: opts.partitions, dryRun: opts.dryRun });
      const { renderMigration } = await import('../ui/stack-status.js');
      await ctx.print(result, () => renderMigration(result));
    });

  const dlq = stack
    .command('dlq')
    .description("the RabbitMQ work queue's dead-letter queue: orders that failed every delivery (stack up --queue)")
    .addHelpText(
      'after',
      `
An order lands here after its worker failed it on every delivery (stack.queue's delivery limit,
default 5); it stays parked in the store (not retried) until it is redriven. list and show leave
the messages in place; redrive moves them back to the work queue, where the next delivery runs
the order again (it never reserves or charges twice).

Examples:
  $ surgectl stack dlq list --queue amqp://app@mq.internal:5672/orders
  $ surgectl stack dlq show ord_01J9Z6 -o json
  $ surgectl stack dlq redrive ord_01J9Z6
  $ surgectl --yes stack dlq redrive --all
`,
    );
  const queueOption = ['--queue <amqp://…>', 'the RabbitMQ of the stack, amqp://user@host:port/vhost (default stack.queue / SURGECTL_STACK_QUEUE)'] as const;
  const brokerOf = async (cmd: Command) => {
    const loaded = await ctx.loadConfig({ stack: givenFlags(cmd, { queue: 'queue' }) });
    const url = loaded.config.stack.queue;
    if (url === undefined) {
      throw new SurgeError('SRG_CLI_USAGE', 'stack dlq needs the RabbitMQ of the stack: --queue amqp://user@host:port/vhost', {
        hint: 'Pass --queue, or set stack.queue in surgectl.yaml or SURGECTL_STACK_QUEUE (the password from there, never printed).',
      });
    }
    return { url };
  };
  dlq
    .command('list')
    .description('the dead-lettered orders, oldest first, left in place')
    .option(...queueOption)
    .option('--limit <n>', 'show at most n (default 100)', wholeNumber({ min: 1 }))
    .addHelpText('after', '\nExamples:\n  $ surgectl stack dlq list\n  $ surgectl stack dlq list --queue amqp://app@mq.internal:5672/orders --limit 20 -o json\n')
    .action(async (opts: { limit?: number }, cmd: Command) => {
      const { listDeadLetters } = await import('../order-core/messaging/dlq.js');
      const list = await listDeadLetters(await brokerOf(cmd), opts.limit ?? 100);
      const { renderDeadLetters } = await import('../ui/stack-status.js');
      await ctx.print(list, () => renderDeadLetters(list));
    });
  dlq
    .command('show')
    .description('one dead-lettered order with the headers the broker keeps (why and when it died)')
    .argument('<orderId>', 'the order id, as stack dlq list shows it')
    .option(...queueOption)
    .addHelpText('after', '\nExamples:\n  $ surgectl stack dlq show ord_01J9Z6\n  $ surgectl stack dlq show ord_01J9Z6 -o yaml\n')
    .action(async (orderId: string, _opts: unknown, cmd: Command) => {
      const { showDeadLetter } = await import('../order-core/messaging/dlq.js');
      const letter = await showDeadLetter(await brokerOf(cmd), orderId);
      const { renderDeadLetter } = await import('../ui/stack-status.js');
      await ctx.print(letter, () => renderDeadLetter(letter));
    });
  dlq
    .command('redrive')
    .description('move dead-lettered orders back to the work queue: one, or --all')
    .argument('[orderId]', 'the order to move back')
    .option(...queueOption)
    .option('--all', 'every dead-lettered order', false)
    .option('--dry-run', 'list what would move and change nothing', false)
    .addHelpText(
      'after',
      `
Asks before moving anything on a terminal; off one it needs --yes. Each order is published to the
work queue and removed from the dead-letter queue only once the broker confirmed it.

Examples:
  $ surgectl stack dlq redrive ord_01J9Z6
  $ surgectl stack dlq redrive --all --dry-run
  $ surgectl --yes stack dlq redrive --all
`,
    )
    .action(async (orderId: string | undefined, opts: { all: boolean; dryRun: boolean }, cmd: Command) => {
      if ((orderId === undefined) === !opts.all) {
        throw new SurgeError('SRG_CLI_USAGE', orderId === undefined ? 'stack dlq redrive needs an order id or --all' : 'give an order id or --all, not both', {
          hint: 'surgectl stack dlq redrive <orderId>, or surgectl stack dlq redrive --all',
        });
      }
      const broker = await brokerOf(cmd);
      const { listDeadLetters, showDeadLetter, redriveDeadLetters } = await import('../order-core/messaging/dlq.js');
      // the plan: what is there now (an order id that is not there fails here, before any question)
      const planned = opts.all ? (await listDeadLetters(broker, Number.MAX_SAFE_INTEGER)).letters.map((l) => l.orderId) : [(await showDeadLetter(broker, orderId!)).orderId];
      const reporter = ctx.reporter();
      if (planned.length === 0) {
        await ctx.print({ dryRun: opts.dryRun, redriven: [] }, () => 'the dead-letter queue is empty: nothing to redrive\n');
        return;
      }
      reporter.notify(`would move ${planned.length} order(s) back to the work queue: ${planned.slice(0, 10).join(', ')}${planned.length > 10 ? ', …' : ''}`);
      if (opts.dryRun) {
        await ctx.print({ dryRun: true, redriven: [], planned }, () => `dry run: ${planned.length} order(s) would be redriven; nothing moved\n`);
        return;
      }
      if (!(await reporter.confirm(`Move ${planned.length} order(s) back to the work queue?`, false))) {
        throw new SurgeError('SRG_CLI_ABORTED', 'Nothing redriven: the operator declined', { hint: 'Use --dry-run to see the plan.' });
      }
      const result = await redriveDeadLetters(broker, opts.all ? 'all' : { orderId: orderId! });
      await ctx.print({ dryRun: false, ...result }, () => `redriven ${result.redriven.length} order(s) to the work queue${result.redriven.length > 0 ? `: ${result.redriven.join(', ')}` : ''}\n`);
    });

  stack
    .command('status')
    .description("show a running stack's intake, workers, queue, orders and faults (GET /admin/status)")
    .option('--url <url>', 'the stack URL (default http://127.0.0.1:<stack.port>)', httpUrl())
    .option('--token-env <name>', 'environment variable holding the admin token', 'SURGECTL_STACK_ADMIN_TOKEN')
    .option('-w, --watch', 'keep watching: a row per --interval with accepted/s and confirmed/s, until Ctrl+C (exit 0)')
    .option('--interval <seconds>', 'seconds between --watch rows, 0.2 to 3600 (default 2)', finiteNumber({ min: 0.2, max: 3600 }))
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
      if (opts.interval !== undefined && opts.watch !== true) {
        throw new SurgeError('SRG_CLI_USAGE', '--interval needs --watch', { hint: 'surgectl stack status --watch --interval 1' });
      }
      // No token required: without one the stack answers 401, which says how to give it.
      const admin = await ctx.adapters.stackAdmin({ url: opts.url, tokenEnv: opts.tokenEnv });
      const ui = await import('../ui/stack-status.js');
      const { runtime } = ctx;
      if (opts.watch === true) {
        const { watchStatus } = await import('../stack-status/watch.js');
        const format = ctx.globals().output;
        runtime.stdout.write(ui.renderWatchHeader(format, admin.url));
        for await (const sample of watchStatus(admin, { intervalMs: (opts.interval ?? 2) * 1000, signal: runtime.signal, now: () => runtime.now() })) {
          runtime.stdout.write(await ui.renderWatchSample(format, sample, ctx.paint()));
        }
        return;
      }
      const status = await admin.status({ signal: runtime.signal });
      await ctx.print(status, () => ui.renderStackStatus(admin.url, status, ctx.paint()));
    });
}

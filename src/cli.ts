import { Command, CommanderError, Option } from 'commander';
import { ExitCode } from './exit-codes.js';
import { isSurgeError } from './errors.js';
import type { Runtime } from './runtime.js';
import { colorEnabled, createPaint, type Paint } from './ui/color.js';
import { OUTPUT_FORMATS, type OutputFormat } from './ui/output.js';
import { createConsoleReporter, type Reporter } from './ui/reporter.js';
import { readVersion } from './version.js';
import type { CommandContext, GlobalOptions, RegisterCommand } from './commands/context.js';
import { registerConfig } from './commands/config.js';
import { registerStack } from './commands/stack.js';
import { registerForecast } from './commands/forecast.js';
import { registerCapacity } from './commands/capacity.js';
import { registerChaos } from './commands/chaos.js';
import { registerLoadtest } from './commands/loadtest.js';
import { registerRehearse } from './commands/rehearse.js';

/** Command files, in the order `surgectl --help` lists them. Each imports its domain lazily. */
const COMMANDS: readonly RegisterCommand[] = [registerRehearse, registerStack, registerForecast, registerCapacity, registerLoadtest, registerChaos, registerConfig];

/**
 * The only place that turns argv into work and errors into exit codes. Returns the exit code
 * instead of exiting so tests can run the CLI in-process with captured output.
 */
export async function main(argv: readonly string[], runtime: Runtime): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  let paint: Paint | undefined;
  let reporter: Reporter | undefined;

  const program = new Command('surgectl')
    .description('Get an e-commerce backend through order surges: forecast, pre-scale, shed load, load-test, drill and rehearse.')
    .version(readVersion(), '--version', 'print the surgectl version')
    .option('-c, --config <file>', 'surgectl.yaml to read (default: ./surgectl.yaml, or SURGECTL_CONFIG)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS as string[]).default('table'))
    .option('--no-color', 'disable colours (NO_COLOR is honoured too)')
    .option('-y, --yes', 'answer yes to confirmations (needed to change live systems off a terminal)', false)
    .option('-v, --verbose', 'debug messages and stack traces', false)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => runtime.stdout.write(s),
      writeErr: (s) => runtime.stderr.write(s),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl rehearse                      # the whole surge rehearsal on the bundled stack
  $ surgectl stack up --workers 8          # run the bundled order stack in the foreground
  $ surgectl config view -o yaml           # the configuration surgectl would use

Exit codes: 0 ok, 1 internal error, 2 usage, 10 invalid config, 20 gate/threshold failed,
21 steady state deviated, 30 rollback failed, 130 interrupted.`,
    );

  const globals = (): GlobalOptions => {
    const o = program.opts<{ config?: string; output: OutputFormat; color: boolean; yes: boolean; verbose: boolean }>();
    return { config: o.config, output: o.output, color: o.color, yes: o.yes, verbose: o.verbose };
  };
  const getPaint = () => (paint ??= createPaint(colorEnabled(runtime.env, runtime.stdout.isTTY === true, globals().color)));
  const ctx: CommandContext = {
    runtime,
    globals,
    paint: getPaint,
    reporter: () =>
      (reporter ??= createConsoleReporter({
        runtime,
        paint: createPaint(colorEnabled(runtime.env, runtime.stderr.isTTY === true, globals().color)),
        yes: globals().yes,
        verbose: globals().verbose,
      })),
    async loadConfig(flags) {
      const { loadConfig } = await import('./config/load.js');
      return loadConfig({ cwd: runtime.cwd, env: runtime.env, file: globals().config, flags });
    },
    async print(data, human) {
      const { writeResult } = await import('./ui/output.js');
      await writeResult(runtime.stdout, globals().output, data, human);
    },
    setExitCode(code) {
      exitCode = code;
    },
  };

  for (const register of COMMANDS) register(program, ctx);
  for (const cmd of program.commands) applyCommanderSettings(cmd, runtime);

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, runtime, getPaint(), isVerbose(argv));
  }
}

/** Sub-commands inherit output routing and error behaviour from the root. */
function applyCommanderSettings(cmd: Command, runtime: Runtime): void {
  cmd
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => runtime.stdout.write(s), writeErr: (s) => runtime.stderr.write(s) });
  for (const sub of cmd.commands) applyCommanderSettings(sub, runtime);
}

function isVerbose(argv: readonly string[]): boolean {
  return argv.includes('-v') || argv.includes('--verbose');
}

function reportError(err: unknown, runtime: Runtime, paint: Paint, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // commander has already printed help, the version or the usage error.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.Ok;
    if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
    return ExitCode.Usage;
  }
  if (isSurgeError(err)) {
    const lines = [`${paint.red('error')} ${paint.dim(`[${err.code}]`)} ${err.message}`];
    for (const d of err.details) lines.push(`  - ${d}`);
    if (err.hint) lines.push(`${paint.cyan('hint:')} ${err.hint}`);
    if (verbose && err.stack) lines.push(paint.dim(err.stack));
    runtime.stderr.write(lines.join('\n') + '\n');
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const lines = [
    `${paint.red('internal error')} ${paint.dim('[SRG_CLI_INTERNAL]')} ${e.message}`,
    'This is a bug in surgectl. Please report it with the command you ran and the output of --verbose.',
  ];
  if (verbose && e.stack) lines.push(paint.dim(e.stack));
  runtime.stderr.write(lines.join('\n') + '\n');
  return ExitCode.Internal;
}

import { Command, CommanderError, Option } from 'commander';
import { ExitCode } from './exit-codes.js';
import { isSurgeError, SurgeError } from './errors.js';
import type { Runtime } from './runtime.js';
import { colorEnabled, createPaint, type Paint } from './ui/color.js';
import { OUTPUT_FORMATS, type OutputFormat } from './ui/output.js';
import { createConsoleReporter } from './ui/reporter.js';
import type { Reporter } from './reporter.js';
import { readVersion } from './version.js';
import type { CommandContext, GlobalOptions, RegisterCommand } from './commands/context.js';
import { createAdapters } from './commands/adapters.js';
import { registerConfig } from './commands/config.js';
import { registerStack } from './commands/stack.js';
import { registerForecast } from './commands/forecast.js';
import { registerCapacity } from './commands/capacity.js';
import { registerChaos } from './commands/chaos.js';
import { registerLoadtest } from './commands/loadtest.js';
import { registerRehearse } from './commands/rehearse.js';
import { registerFlags } from './commands/flags.js';
import { registerScale } from './commands/scale.js';
import { registerRunbook } from './commands/runbook.js';
import { registerCutover } from './commands/cutover.js';
import { registerFailover } from './commands/failover.js';
import { registerDrill } from './commands/drill.js';
import { registerRegion } from './commands/region.js';
import { registerWatch } from './commands/watch.js';
import { registerPreflight } from './commands/preflight.js';

/** Command files, in the order `surgectl --help` lists them. Each imports its domain lazily. */
const COMMANDS: readonly RegisterCommand[] = [registerRehearse, registerStack, registerForecast, registerCapacity, registerScale, registerFlags, registerLoadtest, registerChaos, registerRunbook, registerCutover, registerFailover, registerDrill, registerRegion, registerWatch, registerPreflight, registerConfig];

/**
 * The only place that turns argv into work and errors into exit codes. Returns the exit code
 * instead of exiting so tests can run the CLI in-process with captured output.
 */
export async function main(argv: readonly string[], runtime: Runtime): Promise<number> {
  let paint: Paint | undefined;
  let reporter: Reporter | undefined;
  /** Where commander saw a usage error (it no longer prints it: reportError does, in our format). */
  const failed: { command?: Command; helpShownFor?: Command; helpWasError?: boolean } = {};

  const program = new Command('surgectl')
    .description('Get an e-commerce backend through order surges: forecast, pre-scale, shed load, load-test, drill and rehearse.')
    .version(readVersion(), '--version', 'print the surgectl version')
    .option('-c, --config <file>', 'surgectl.yaml to read (default: ./surgectl.yaml, or SURGECTL_CONFIG)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS as string[]).default('table'))
    .option('--no-color', 'disable colours (NO_COLOR is honoured too)')
    .option('-y, --yes', 'answer yes to confirmations (needed to change live systems off a terminal)', false)
    .option('-v, --verbose', 'debug messages and stack traces', false)
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl rehearse                      # the whole surge rehearsal on the bundled stack
  $ surgectl stack up --workers 8          # run the bundled order stack in the foreground
  $ surgectl config view -o yaml           # the configuration surgectl would use

Exit codes: 0 ok, 1 internal error, 2 usage, 3 a system could not be reached, 4 disk full, 10 invalid config, 20 gate/threshold failed,
21 steady state deviated, 30 rollback failed, 130 interrupted.`,
    );
  // Any command's help, on stdout (asked for) or on stderr (shown because the command line was incomplete).
  program.on('afterAllHelp', (c: { error: boolean; command: Command }) => {
    failed.helpShownFor = c.command;
    failed.helpWasError = c.error;
  });

  const globals = (): GlobalOptions => {
    const o = program.opts<{ config?: string; output: OutputFormat; color: boolean; yes: boolean; verbose: boolean }>();
    return { config: o.config, output: o.output, color: o.color, yes: o.yes, verbose: o.verbose };
  };
  const getPaint = () => (paint ??= createPaint(colorEnabled(runtime.env, runtime.stdout.isTTY === true, globals().color)));
  /** Colour of what goes to stderr (errors, messages) follows stderr, which may be a terminal when stdout is not. */
  const stderrPaint = () => createPaint(colorEnabled(runtime.env, runtime.stderr.isTTY === true, globals().color));
  const loadConfig: CommandContext['loadConfig'] = async (flags) => {
    const { loadConfig } = await import('./config/load.js');
    return loadConfig({ cwd: runtime.cwd, env: runtime.env, file: globals().config, flags });
  };
  const ctx: CommandContext = {
    runtime,
    adapters: createAdapters(runtime, () => loadConfig()),
    globals,
    paint: getPaint,
    stderrPaint,
    reporter: () =>
      (reporter ??= createConsoleReporter({
        runtime,
        paint: stderrPaint(),
        yes: globals().yes,
        verbose: globals().verbose,
      })),
    loadConfig,
    async print(data, human) {
      const { writeResult } = await import('./ui/output.js');
      await writeResult(runtime.stdout, globals().output, data, human);
    },
  };

  for (const register of COMMANDS) register(program, ctx);
  applyCommanderSettings(program, runtime, failed);

  try {
    // Commander shows the deepest known command's help for `surgectl scale plan --help` and exits 0;
    // a command that does not exist is a usage error, with --help as without it.
    if (argv.includes('--help') || argv.includes('-h')) {
      const unknown = unknownCommand(program, argv);
      if (unknown) throw unknown;
    }
    await program.parseAsync(argv as string[], { from: 'user' });
    return ExitCode.Ok;
  } catch (err) {
    const usage = usageError(err, program, failed);
    // -v as commander parsed it, so combined short flags (-yv) count too; a usage error has no useful stack.
    return reportError(usage ?? err, runtime, stderrPaint(), usage === undefined && globals().verbose);
  }
}

/** Every command routes output to the runtime and hands usage errors to reportError instead of printing them. */
function applyCommanderSettings(cmd: Command, runtime: Runtime, failed: { command?: Command }): void {
  cmd
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (s) => runtime.stdout.write(s),
      writeErr: (s) => runtime.stderr.write(s),
      outputError: () => {
        failed.command = cmd;
      },
    });
  for (const sub of cmd.commands) applyCommanderSettings(sub, runtime, failed);
}

/** `surgectl stack up` for the stack up command. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Commander's usage failures as SRG_CLI_USAGE errors (docs/errors.md format, hint naming the
 * command's --help); undefined for anything else, and for help or the version asked for.
 */
function usageError(err: unknown, program: Command, failed: { command?: Command; helpShownFor?: Command; helpWasError?: boolean }): SurgeError | undefined {
  if (!(err instanceof CommanderError)) return undefined;
  if (err.code === 'commander.help') {
    const cmd = failed.helpShownFor ?? program;
    if (failed.helpWasError !== true) return undefined; // `surgectl help [command]`: asked for
    // The help is already on stderr, so the user sees the choices; say what was wrong under it.
    const [first, name] = cmd.args;
    if (first === 'help' && name !== undefined) {
      const suggestion = suggest(name, cmd.commands.map((c) => c.name()));
      return new SurgeError('SRG_CLI_USAGE', `unknown command '${name}'${suggestion ? ` (Did you mean ${suggestion}?)` : ''}`, {
        hint: `run '${commandPath(cmd)} --help' for the commands`,
      });
    }
    const subs = cmd.commands.map((c) => c.name()).filter((n) => n !== 'help');
    const example = subs[0] === undefined ? '' : `, e.g. '${commandPath(cmd)} ${subs[0]} --help'`;
    return new SurgeError('SRG_CLI_USAGE', `${commandPath(cmd)} needs a command: ${subs.join(', ')}`, {
      hint: `run '${commandPath(cmd)} <command> --help' for a command's flags${example}`,
    });
  }
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.executeSubCommandAsync') return undefined;
  const cmd = failed.command ?? program;
  return new SurgeError('SRG_CLI_USAGE', commanderMessage(err.message), { hint: `run '${commandPath(cmd)} --help' for usage` });
}

/**
 * Commander's text without its `error: ` prefix, on one line; for a rejected flag value, the
 * parser's own explanation when it names the flag ("--workers must be a whole number, got 'x'").
 */
function commanderMessage(message: string): string {
  const text = message
    .replace(/^error:\s*/, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  const invalid = /^option '(?:-\w, )?(--[\w-]+)[^']*' argument '(.*?)' is invalid\. (.+)$/s.exec(text);
  const [, flag, value, reason] = invalid ?? [];
  if (flag === undefined || value === undefined || reason === undefined) return text;
  // The parsers of src/commands/args.ts say what was expected ("must be a whole number >= 1").
  if (reason.startsWith('must be ')) return `${flag} ${reason}, got '${value}'`;
  return reason.includes(flag) ? reason : text;
}

/**
 * The first word of `argv` that names no sub-command of a command that only has sub-commands, as
 * a usage error; undefined when the path exists. Values of options that take one are skipped.
 */
function unknownCommand(program: Command, argv: readonly string[]): SurgeError | undefined {
  let cmd = program;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') return undefined;
    if (word.startsWith('-')) {
      const option = [...cmd.options, ...program.options].find((o) => o.short === word || o.long === word);
      if (option && (option.required || option.optional) && !word.includes('=')) i++;
      continue;
    }
    if (cmd.commands.length === 0) return undefined; // an argument of a leaf command
    if (word === 'help') return undefined; // commander's own `help [command]`
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) {
      const suggestion = suggest(word, cmd.commands.map((c) => c.name()));
      const where = cmd === program ? '' : ` for '${commandPath(cmd)}'`;
      return new SurgeError('SRG_CLI_USAGE', `unknown command '${word}'${where}${suggestion ? ` (Did you mean ${suggestion}?)` : ''}`, {
        hint: `run '${commandPath(cmd)} --help' for the commands`,
      });
    }
    cmd = sub;
  }
  return undefined;
}

/** The closest of `names` to `word` when it looks like a typo of it. */
function suggest(word: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = editDistance(word, name);
    if (d <= Math.max(1, Math.floor(name.length / 3)) && (best === undefined || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function reportError(err: unknown, runtime: Runtime, paint: Paint, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // commander has already printed help or the version.
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

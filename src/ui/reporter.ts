import { SurgeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Paint } from './color.js';
import type { Reporter } from '../reporter.js';

export interface ConsoleReporterOptions {
  runtime: Runtime;
  paint: Paint;
  yes: boolean;
  verbose: boolean;
  /** Suppress info/progress lines (e.g. with -o json, stdout stays machine-readable; messages go to stderr anyway). */
  quiet?: boolean;
}

/** The reporter used by the CLI: messages on stderr so stdout stays clean for -o json/yaml. */
export function createConsoleReporter(opts: ConsoleReporterOptions): Reporter {
  const { runtime, paint } = opts;
  const out = runtime.stderr;
  return {
    notify(message, level = 'info') {
      if (level === 'debug' && !opts.verbose) return;
      if (opts.quiet && (level === 'info' || level === 'progress')) return;
      const prefix =
        level === 'warn' ? paint.yellow('warning: ') : level === 'success' ? paint.green('✓ ') : level === 'debug' ? paint.dim('debug: ') : '';
      out.write(prefix + message + '\n');
    },
    async confirm(question, defaultAnswer) {
      if (opts.yes) return true;
      const stdin = runtime.stdin;
      if (!stdin?.isTTY || !runtime.stderr.isTTY) {
        throw new SurgeError('SRG_CLI_NOT_A_TTY', `Refusing to go on without confirmation: ${question}`, {
          hint: 'Re-run with --yes to confirm non-interactively, or --dry-run to see the plan only.',
        });
      }
      // @inquirer/prompts on a terminal: arrow keys, y/n, and Ctrl-C as a clear "no".
      const { confirm } = await import('@inquirer/prompts');
      try {
        return await confirm({ message: question, default: defaultAnswer }, { input: stdin, output: runtime.stderr as NodeJS.WritableStream });
      } catch (err) {
        if ((err as Error).name === 'ExitPromptError') throw new SurgeError('SRG_CLI_ABORTED', `Not confirmed (prompt closed): ${question}`);
        throw err;
      }
    },
  };
}

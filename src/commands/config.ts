import type { Command } from 'commander';
import type { CommandContext } from './context.js';
import { withoutUrlCredentials } from '../util/url.js';

/** Keys whose values are secrets: shown as "<set>" and never printed. */
const SECRET_KEYS = new Set(['adminToken', 'token', 'apiToken', 'password']);

export function registerConfig(program: Command, ctx: CommandContext): void {
  const config = program
    .command('config')
    .description('show and validate the configuration surgectl would use')
    .addHelpText(
      'after',
      `
Layers: defaults < surgectl.yaml (or --config, SURGECTL_CONFIG) < SURGECTL_<SECTION>_<KEY> < flags.

Examples:
  $ surgectl config view                                  # the resolved configuration, secrets redacted
  $ SURGECTL_STACK_WORKERS=16 surgectl config view -o json
  $ surgectl config validate prod.yaml                    # exit 10 and every problem when invalid
`,
    );

  config
    .command('view')
    .description('print the resolved configuration (defaults < file < env < flags), secrets redacted')
    .addHelpText('after', '\nExamples:\n  $ surgectl config view\n  $ surgectl --config prod.yaml config view -o json\n')
    .action(async () => {
      const { config: resolved, file } = await ctx.loadConfig();
      const data = redact(resolved);
      await ctx.print(data, () => `# from ${file ?? 'defaults and environment'}\n${JSON.stringify(data, null, 2)}\n`);
    });

  config
    .command('validate')
    .description('check a configuration file; every problem is reported at once (exit 10 when invalid)')
    .argument('[file]', 'the file to check (default: --config or ./surgectl.yaml)')
    .addHelpText('after', '\nExamples:\n  $ surgectl config validate surgectl.yaml\n  $ SURGECTL_STACK_WORKERS=16 surgectl config validate\n')
    .action(async (file: string | undefined) => {
      const { loadConfig } = await import('../config/load.js');
      const { runtime } = ctx;
      const loaded = await loadConfig({ cwd: runtime.cwd, env: runtime.env, file: file ?? ctx.globals().config });
      for (const w of loaded.warnings) ctx.reporter().notify(w, 'warn');
      await ctx.print({ valid: true, file: loaded.file ?? null }, () => `${loaded.file ?? 'defaults'}: valid\n`);
    });
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.has(k) && v !== undefined ? '<set>' : redact(v)]));
  }
  if (typeof value === 'string') return withoutUrlCredentials(value, '<redacted>');
  return value;
}


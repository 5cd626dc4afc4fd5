import type { Command } from 'commander';
import { SurgeError } from '../errors.js';
import type { RunbookRunContext } from '../runbooks/run.js';
import type { ParamValue, RunbookJournal } from '../runbooks/types.js';
import type { CommandContext } from './context.js';
import { runbookPorts, runbookTargetFlags, type RunbookTargetFlags } from './runbook-ports.js';

/** `--param k=v`, repeatable; the value stays text until the runbook's type converts it. */
export const collectParam = (v: string, prev: Record<string, ParamValue>): Record<string, ParamValue> => {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new SurgeError('SRG_CLI_USAGE', `--param must be name=value, got '${v}'`, { hint: 'e.g. --param to=green --param weights=10,50,100' });
  return { ...prev, [v.slice(0, eq).trim()]: v.slice(eq + 1) };
};

/** Flags of every command that runs a runbook (run, resume, rollback, cutover). */
export interface RunFlags extends RunbookTargetFlags {
  reason?: string;
  autoRollback: boolean;
  auditLog?: string;
}

export function runFlags(cmd: Command): Command {
  return runbookTargetFlags(cmd)
    .option('--reason <text>', 'why this is being done, recorded in the journal and the audit log')
    .option('--auto-rollback', 'when a step fails, roll back the completed steps without asking', false)
    .option('--audit-log <file>', 'append-only audit log, one JSON line per step (default .surgectl/audit.log)');
}

/** The OS user, for the journal and the audit log (the sudo caller when run under sudo). */
async function osUser(env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const named = env.SUDO_USER || env.USER || env.LOGNAME;
  if (named) return named;
  const { userInfo } = await import('node:os');
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Everything a runbook run takes from the command line and the runtime. */
export async function runContext(ctx: CommandContext, f: RunFlags, observer: (NonNullable<RunbookRunContext['observer']> & { stop(): void }) | undefined): Promise<RunbookRunContext> {
  const { setTimeout: delay } = await import('node:timers/promises');
  const { runtime } = ctx;
  const { join } = await import('node:path');
  return {
    cwd: runtime.cwd,
    env: runtime.env,
    sources: { userDir: join(runtime.cwd, 'runbooks') },
    ports: runbookPorts(ctx, f),
    // A question waits on the terminal: the spinner stops first so its frames do not cross the prompt.
    reporter: { notify: (m, l) => ctx.reporter().notify(m, l), confirm: (q, d) => (observer?.stop(), ctx.reporter().confirm(q, d)) },
    yes: ctx.globals().yes,
    interactive: runtime.stdin?.isTTY === true && runtime.stderr.isTTY === true,
    autoRollback: f.autoRollback,
    user: await osUser(runtime.env),
    reason: f.reason,
    auditPath: f.auditLog,
    signal: runtime.signal,
    now: () => runtime.now(),
    sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : {}),
    ...(observer ? { observer } : {}),
  };
}

/** Prints how the run ended (the journal with -o json|yaml) and returns its outcome. */
export async function finishRun(ctx: CommandContext, journal: RunbookJournal, journalPath: string, opts: { rollbackAsked?: boolean } = {}): Promise<void> {
  const { renderJournal } = await import('../ui/runbook.js');
  const { runbookOutcome } = await import('../runbooks/engine.js');
  await ctx.print(journal, () => renderJournal(journal, journalPath, ctx.paint()));
  const outcome = runbookOutcome(journal, journalPath, opts);
  if (outcome) throw outcome;
}

export function registerRunbook(program: Command, ctx: CommandContext): void {
  const runbook = program
    .command('runbook')
    .description('runbooks as code: every step shown, confirmed, journaled, resumable and reversible')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl runbook list
  $ surgectl runbook show blue-green-haproxy
  $ surgectl runbook run blue-green-haproxy --param to=green --param weights=10,50,100 --dry-run
  $ surgectl runbook run ./runbooks/drain-eu.yaml --reason "INC-4711"
  $ surgectl runbook resume .surgectl/runbooks/blue-green-haproxy-2026-11-27T03-12-00-000Z.json
  $ surgectl runbook rollback .surgectl/runbooks/blue-green-haproxy-2026-11-27T03-12-00-000Z.json
`,
    );
  const progress = async () => {
    const { createStepProgress } = await import('../ui/runbook.js');
    return createStepProgress(ctx.runtime.stderr, ctx.stderrPaint(), () => ctx.runtime.now());
  };

  runbook
    .command('list')
    .description('the built-in runbooks and yours (*.yaml in ./runbooks)')
    .addHelpText('after', '\nExamples:\n  $ surgectl runbook list\n  $ surgectl runbook list -o json\n')
    .action(async () => {
      const { listOutcome, listRunbooks } = await import('../runbooks/load.js');
      const { renderRunbookList } = await import('../ui/runbook.js');
      const { join } = await import('node:path');
      const { runbooks, problems } = await listRunbooks({ userDir: join(ctx.runtime.cwd, 'runbooks') });
      await ctx.print(
        runbooks.map((r) => ({ name: r.spec.name, version: r.spec.version, steps: r.spec.steps.length, source: r.source, description: r.spec.description ?? '' })),
        () => renderRunbookList(runbooks),
      );
      const outcome = listOutcome(problems);
      if (outcome) throw outcome;
    });

  runbook
    .command('show')
    .description('a runbook: its parameters, then each step with what it would change (validates it; changes nothing)')
    .argument('<name|file>', 'a runbook name (surgectl runbook list) or a YAML file')
    .option('--param <name=value>', 'a parameter value (repeatable)', collectParam, {} as Record<string, ParamValue>)
    .addHelpText('after', '\nExamples:\n  $ surgectl runbook show blue-green-haproxy\n  $ surgectl runbook show ./runbooks/drain-eu.yaml --param region=eu-west-1 -o yaml\n')
    .action(async (name: string, f: { param: Record<string, ParamValue> }) => {
      const { findRunbook } = await import('../runbooks/load.js');
      const { previewRunbook } = await import('../runbooks/run.js');
      const { renderRunbookShow } = await import('../ui/runbook.js');
      const { join } = await import('node:path');
      const rb = await findRunbook(name, { userDir: join(ctx.runtime.cwd, 'runbooks'), cwd: ctx.runtime.cwd });
      const plan = previewRunbook(rb, f.param, ctx.runtime.env);
      await ctx.print({ name: rb.spec.name, version: rb.spec.version, digest: rb.digest, source: rb.source, description: rb.spec.description, params: rb.spec.params ?? {}, plan }, () => renderRunbookShow(rb, plan, ctx.paint()));
    });

  runFlags(
    runbook
      .command('run')
      .description('run a runbook: prechecks, confirmation per change on a terminal (--yes off one), journal after every step')
      .argument('<name|file>', 'a runbook name (surgectl runbook list) or a YAML file')
      .option('--param <name=value>', 'a parameter value (repeatable)', collectParam, {} as Record<string, ParamValue>)
      .option('--dry-run', 'print every step with what it would change; touch nothing', false)
      .option('--journal <file>', 'where the journal goes (default .surgectl/runbooks/<name>-<time>.json)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl runbook run blue-green-haproxy --param to=green --dry-run
  $ surgectl runbook run blue-green-haproxy --param to=green --reason "release 4.2"
  $ surgectl --yes runbook run blue-green-kubernetes --param namespace=shop -o json   # unattended
`,
    )
    .action(async (name: string, f: RunFlags & { param: Record<string, ParamValue>; dryRun: boolean; journal?: string }) => {
      const { startRunbook } = await import('../runbooks/run.js');
      const { renderPlan } = await import('../ui/runbook.js');
      const p = f.dryRun ? undefined : await progress();
      const r = await startRunbook(await runContext(ctx, f, p), { nameOrPath: name, params: f.param, dryRun: f.dryRun, journalPath: f.journal }).finally(() => p?.stop());
      if (!r.journal || !r.journalPath) return ctx.print(r.plan, () => renderPlan(r.plan, ctx.paint()));
      await finishRun(ctx, r.journal, r.journalPath);
    });

  runFlags(runbook.command('resume').description('carry on an interrupted run from its journal: the unfinished step is checked again, then run').argument('<journal>', 'the journal the run wrote'))
    .addHelpText('after', '\nExamples:\n  $ surgectl runbook resume .surgectl/runbooks/blue-green-haproxy-2026-11-27T03-12-00-000Z.json\n  $ surgectl --yes runbook resume journal.json --reason "terminal lost"\n')
    .action(async (journal: string, f: RunFlags) => {
      const { resumeRunbook } = await import('../runbooks/run.js');
      const p = await progress();
      const r = await resumeRunbook(await runContext(ctx, f, p), journal).finally(() => p.stop());
      await finishRun(ctx, r.journal, r.journalPath);
    });

  runFlags(runbook.command('rollback').description('undo what a run changed, newest step first, from its journal').argument('<journal>', 'the journal the run wrote'))
    .addHelpText('after', '\nExamples:\n  $ surgectl runbook rollback .surgectl/runbooks/blue-green-haproxy-2026-11-27T03-12-00-000Z.json\n')
    .action(async (journal: string, f: RunFlags) => {
      const { rollbackJournal } = await import('../runbooks/run.js');
      const p = await progress();
      const r = await rollbackJournal(await runContext(ctx, f, p), journal).finally(() => p.stop());
      await finishRun(ctx, r.journal, r.journalPath, { rollbackAsked: true });
    });
}

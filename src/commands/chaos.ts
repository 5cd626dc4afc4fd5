import { Option, type Command } from 'commander';
import { finiteNumber, httpUrl } from './args.js';
import type { CommandContext } from './context.js';

// The strategy names, repeated here so `--help` does not load the chaos module.
const ROLLBACK = ['default', 'always', 'deviated', 'never'] as const;
const HYPOTHESIS = ['default', 'before-method-only', 'after-method-only', 'during-method-only', 'continuously'] as const;

interface RunFlags {
  journalPath: string;
  dryRun: boolean;
  rollbackStrategy?: (typeof ROLLBACK)[number];
  hypothesisStrategy?: (typeof HYPOTHESIS)[number];
  /** Seconds. */
  hypothesisFrequency?: number;
  failFast?: boolean;
  python?: string;
  url?: string;
  tokenEnv: string;
  context?: string;
  namespace?: string;
  kubeconfig?: string;
}

export function registerChaos(program: Command, ctx: CommandContext): void {
  const chaos = program
    .command('chaos')
    .description("chaos drills in Chaos Toolkit's shape against the bundled stack or Kubernetes")
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl chaos validate scenarios/chaos/payment-outage.yaml
  $ surgectl chaos run scenarios/chaos/payment-outage.yaml --dry-run            # the plan; changes nothing
  $ surgectl --yes chaos run scenarios/chaos/payment-outage.yaml --journal-path journal.json
`,
    );

  chaos
    .command('run')
    .description('run a drill: steady state -> method -> steady state, rollbacks always; writes a JSON journal (exit 21 when the steady state deviated, 30 when a rollback failed)')
    .argument('<experiment>', 'experiment file (YAML/JSON), e.g. scenarios/chaos/payment-outage.yaml')
    .option('--journal-path <file>', 'where the journal is written', 'journal.json')
    .option('--dry-run', 'print the plan and change nothing', false)
    .addOption(new Option('--rollback-strategy <strategy>', "when rollbacks run (default: the experiment's runtime, else default = always)").choices(ROLLBACK))
    .addOption(new Option('--hypothesis-strategy <strategy>', "when the steady state is checked (default: the experiment's runtime, else default)").choices(HYPOTHESIS))
    .option('--hypothesis-frequency <seconds>', "pause between checks during the method (default: the experiment's runtime, else 1)", finiteNumber({ min: 0 }))
    .option('--fail-fast', 'with during-method-only/continuously: stop at the first deviation')
    .option('--python <path>', 'Python interpreter for python activities and controls (default python3)')
    .option('--url <url>', 'the bundled stack URL (default http://127.0.0.1:<stack.port>)', httpUrl())
    .option('--token-env <name>', 'environment variable holding the stack admin token', 'SURGECTL_STACK_ADMIN_TOKEN')
    .option('--context <name>', 'kubeconfig context (default: the current context)')
    .option('-n, --namespace <namespace>', 'default namespace for kubernetes and chaos-mesh activities')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl chaos run scenarios/chaos/payment-outage.yaml --dry-run
  $ surgectl --yes chaos run scenarios/chaos/payment-outage.yaml --journal-path out/journal.json
  $ surgectl --yes chaos run scenarios/chaos/worker-crash.yaml --hypothesis-strategy continuously --fail-fast
  $ surgectl --yes chaos run scenarios/chaos/pod-kill.yaml --context staging -n shop
`,
    )
    .action(async (file: string, flags: RunFlags) => {
      const { runDrill, drillError } = await import('../chaos/drill.js');
      const { renderDrill, drillData } = await import('../chaos/render.js');
      const result = await runDrill({
        experiment: file,
        journalPath: flags.journalPath,
        cwd: ctx.runtime.cwd,
        dryRun: flags.dryRun,
        rollbackStrategy: flags.rollbackStrategy,
        hypothesisStrategy: flags.hypothesisStrategy,
        failFast: flags.failFast,
        hypothesisFrequencyMs: flags.hypothesisFrequency === undefined ? undefined : flags.hypothesisFrequency * 1000,
        env: ctx.runtime.env,
        python: flags.python,
        connect: {
          stack: () => ctx.adapters.stackAdmin({ url: flags.url, tokenEnv: flags.tokenEnv, requireToken: true }),
          kubernetes: ctx.adapters.kubernetes({ kubeconfig: flags.kubeconfig, context: flags.context, namespace: flags.namespace }),
          kubernetesContext: flags.context,
          namespace: flags.namespace,
        },
        reporter: ctx.reporter(),
        signal: ctx.runtime.signal,
        now: () => ctx.runtime.now(),
      });
      await ctx.print(drillData(result), () => renderDrill(result, ctx.paint()));
      const outcome = drillError(result);
      if (outcome) throw outcome;
    });

  chaos
    .command('validate')
    .description('check an experiment file without running it; every problem is listed at once (exit 10 when invalid)')
    .argument('<experiment>', 'experiment file (YAML/JSON)')
    .option('--python <path>', 'Python interpreter that must import the python activities\' and controls\' modules (default python3)')
    .addHelpText('after', '\nExamples:\n  $ surgectl chaos validate scenarios/chaos/payment-outage.yaml\n  $ surgectl chaos validate my-drill.json --python .venv/bin/python -o json\n')
    .action(async (file: string, flags: { python?: string }) => {
      const { validateExperimentFile } = await import('../chaos/drill.js');
      const { renderValidation } = await import('../chaos/render.js');
      const summary = await validateExperimentFile(file, { cwd: ctx.runtime.cwd, env: ctx.runtime.env, python: flags.python });
      await ctx.print(summary, () => renderValidation(summary));
    });
}

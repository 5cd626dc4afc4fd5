import { Option, type Command } from 'commander';
import { SurgeError, isSurgeError } from '../errors.js';
import type { KubernetesPort } from '../adapters/kubernetes/port.js';
import type { ChaosTargets } from '../chaos/index.js';
import type { CommandContext } from './context.js';
import { isHttpUrl } from '../util/url.js';

const ROLLBACK = ['default', 'always', 'deviated', 'never'];
const HYPOTHESIS = ['default', 'before-method-only', 'after-method-only', 'during-method-only', 'continuously'];

interface RunFlags {
  journalPath: string;
  dryRun: boolean;
  rollbackStrategy: string;
  hypothesisStrategy: string;
  hypothesisFrequency: string;
  failFast: boolean;
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
    .addOption(new Option('--rollback-strategy <strategy>', 'when rollbacks run (default = always)').choices(ROLLBACK).default('default'))
    .addOption(new Option('--hypothesis-strategy <strategy>', 'when the steady state is checked').choices(HYPOTHESIS).default('default'))
    .option('--hypothesis-frequency <seconds>', 'pause between checks during the method', '1')
    .option('--fail-fast', 'with during-method-only/continuously: stop at the first deviation', false)
    .option('--url <url>', 'the bundled stack URL (default http://127.0.0.1:<stack.port>)')
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
      const { resolve } = await import('node:path');
      const { loadExperiment, planExperiment, runExperiment } = await import('../chaos/index.js');
      const { checkJournalPath, outcomeError, withJournalError, writeJournal } = await import('../chaos/outcome.js');
      const { renderPlan, renderJournal } = await import('../chaos/render.js');
      const { runtime } = ctx;
      // Every flag is checked before anything else, --dry-run included.
      const frequency = Number(flags.hypothesisFrequency);
      if (flags.hypothesisFrequency.trim() === '' || !Number.isFinite(frequency) || frequency < 0) {
        throw new SurgeError('SRG_CLI_USAGE', `--hypothesis-frequency must be seconds >= 0, got "${flags.hypothesisFrequency}"`);
      }
      if (flags.url !== undefined && !isHttpUrl(flags.url)) {
        throw new SurgeError('SRG_CLI_USAGE', `--url "${flags.url}" is not an http(s) URL: expected the bundled stack's address, e.g. http://127.0.0.1:8080`);
      }
      const experiment = await loadExperiment(resolve(runtime.cwd, file));
      const strategies = {
        rollbackStrategy: flags.rollbackStrategy as 'default',
        hypothesisStrategy: flags.hypothesisStrategy as 'default',
        failFast: flags.failFast,
      };
      if (flags.dryRun) {
        const plan = planExperiment(experiment, strategies);
        await ctx.print(plan, () => renderPlan(plan));
        return;
      }
      // A drill whose journal cannot be written does not start.
      const journalPath = resolve(runtime.cwd, flags.journalPath);
      await checkJournalPath(journalPath);
      const providers = new Set([...(experiment.hypothesis?.probes ?? []), ...experiment.method, ...experiment.rollbacks].map((a) => a.provider.type));
      const targets: ChaosTargets = {};
      const where: string[] = [];
      if (providers.has('stack')) {
        const { config } = await ctx.loadConfig();
        const url = flags.url ?? `http://127.0.0.1:${config.stack.port}`;
        const token = runtime.env[flags.tokenEnv] ?? config.stack.adminToken;
        if (!token) {
          throw new SurgeError('SRG_STACK_ADMIN', `No admin token for the stack at ${url}: ${flags.tokenEnv} is not set`, {
            hint: `export ${flags.tokenEnv}=<the token \`surgectl stack up\` printed>, or name another variable with --token-env.`,
          });
        }
        const { createStackAdmin } = await import('../adapters/stack-admin/stack-admin.js');
        targets.stack = createStackAdmin({ url, token });
        where.push(`the stack at ${url}`);
      }
      if (providers.has('kubernetes') || providers.has('chaos-mesh')) {
        const paths = kubeconfigPaths(flags.kubeconfig, runtime.env);
        let k8s: Promise<KubernetesPort> | undefined;
        targets.kubernetes = () =>
          (k8s ??= import('../adapters/kubernetes/kubernetes.js').then((m) => m.createKubernetes({ kubeconfigPaths: paths, context: flags.context, namespace: flags.namespace })));
        if (flags.namespace) targets.namespace = flags.namespace;
        where.push(`Kubernetes${flags.context ? ` context ${flags.context}` : ' (current context)'}`);
      }
      const reporter = ctx.reporter();
      const ok = await reporter.confirm(`Run the drill "${experiment.title}" against ${where.join(' and ') || 'the http targets it names'}?`, false);
      if (!ok) throw new SurgeError('SRG_CLI_ABORTED', 'Drill not started: the operator declined', { hint: 'Use --dry-run to see the plan.' });

      const journal = await runExperiment(experiment, {
        targets,
        signal: runtime.signal,
        reporter,
        ...strategies,
        hypothesisFrequencyMs: frequency * 1000,
        now: () => runtime.now(),
      });
      // A journal that cannot be written does not hide the drill: the results are printed and
      // the drill's own outcome (a failed rollback above all) keeps its exit status.
      let writeError: SurgeError | undefined;
      try {
        await writeJournal(journalPath, journal);
      } catch (err) {
        if (!isSurgeError(err)) throw err;
        writeError = err;
      }
      await ctx.print(journal, () => renderJournal(journal, ctx.paint(), writeError ? `${journalPath} (not written)` : journalPath));
      const err = outcomeError(journal, writeError ? undefined : journalPath);
      if (writeError) throw withJournalError(err, writeError);
      if (err) throw err;
    });

  chaos
    .command('validate')
    .description('check an experiment file without running it; every problem is listed at once (exit 10 when invalid)')
    .argument('<experiment>', 'experiment file (YAML/JSON)')
    .addHelpText('after', '\nExamples:\n  $ surgectl chaos validate scenarios/chaos/payment-outage.yaml\n  $ surgectl chaos validate my-drill.yaml -o json\n')
    .action(async (file: string) => {
      const { resolve } = await import('node:path');
      const { loadExperiment } = await import('../chaos/index.js');
      const e = await loadExperiment(resolve(ctx.runtime.cwd, file));
      const summary = {
        valid: true,
        file,
        title: e.title,
        probes: e.hypothesis?.probes.length ?? 0,
        method: e.method.length,
        rollbacks: e.rollbacks.length,
        load: e.load ? { rate: e.load.rate } : null,
      };
      await ctx.print(summary, () => `${file}: valid — "${e.title}": ${summary.probes} steady-state probe(s), ${summary.method} method activit${summary.method === 1 ? 'y' : 'ies'}, ${summary.rollbacks} rollback(s)\n`);
    });
}

/** kubectl's lookup: --kubeconfig, else every file in KUBECONFIG, else ~/.kube/config. */
function kubeconfigPaths(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string[] {
  if (flag) return [flag];
  const fromEnv = (env.KUBECONFIG ?? '').split(':').filter(Boolean);
  if (fromEnv.length > 0) return fromEnv;
  return [`${env.HOME ?? ''}/.kube/config`];
}

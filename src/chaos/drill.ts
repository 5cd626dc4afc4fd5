import { dirname, resolve } from 'node:path';
import type { KubernetesPort } from '../adapters/kubernetes/port.js';
import type { StackAdminPort } from '../adapters/stack-admin/port.js';
import { SurgeError, withWriteFailure } from '../errors.js';
import type { Reporter } from '../reporter.js';
import { redact } from './configuration.js';
import { allActivities, checkLocalProviders, declaredControls, loadExperiment, type Experiment } from './experiment.js';
import type { HypothesisStrategy, Journal, RollbackStrategy } from './journal.js';
import { checkJournalPath, outcomeError, tryWriteJournal } from './outcome.js';
import { planExperiment, type ExperimentPlan } from './plan.js';
import { createLocalRunner, type LocalRunner } from './providers/local.js';
import type { ChaosTargets } from './providers/types.js';
import { runExperiment } from './runner.js';

/**
 * `surgectl chaos run` as one library call: read the experiment, plan it (`--dry-run`) or check
 * the journal path, connect the targets it needs, ask before touching them, run it and write the
 * journal. The command only renders the result and throws {@link drillError}.
 */

/** How to reach each system a drill may act on; each is built only when the experiment needs it. */
export interface DrillConnections {
  /** The bundled stack's admin API; called only when an activity or the load uses the stack (it may throw, e.g. without an admin token). */
  stack: () => Promise<StackAdminPort>;
  /** A Kubernetes client factory, for kubernetes and chaos-mesh activities; the SDK loads on its first call. */
  kubernetes: () => Promise<KubernetesPort>;
  /** The kubeconfig context asked for, for the confirmation question. Default: the current context. */
  kubernetesContext?: string | undefined;
  /** Default namespace for kubernetes and chaos-mesh activities. Default: the context's namespace. */
  namespace?: string | undefined;
}

/** Options of {@link runDrill}. */
export interface RunDrillOptions {
  /** The experiment file (YAML/JSON), relative to `cwd`. */
  experiment: string;
  /** Where the journal is written, relative to `cwd`; checked before the drill starts. */
  journalPath: string;
  /** Directory relative paths are resolved against. */
  cwd: string;
  /** Return the plan and change nothing. Default false. */
  dryRun?: boolean;
  /** Default: the experiment's `runtime`, else `default` (= always). */
  rollbackStrategy?: RollbackStrategy | undefined;
  /** Default: the experiment's `runtime`, else `default` (before and after the method). */
  hypothesisStrategy?: HypothesisStrategy | undefined;
  /** Stop the method at the first deviation during it. Default: the experiment's `runtime`, else false. */
  failFast?: boolean | undefined;
  /** Pause between steady-state checks during the method, ms. Default: the experiment's `runtime`, else 1000. */
  hypothesisFrequencyMs?: number | undefined;
  /** Environment for `{type: env}` configuration and secrets, and for python and process activities. Default {}. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Python interpreter for python activities. Default `python3`. */
  python?: string | undefined;
  connect: DrillConnections;
  /** Progress, and the question before the drill (declined or refused: nothing runs). */
  reporter: Reporter;
  /** Interrupts the drill; rollbacks still run. */
  signal?: AbortSignal;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
}

/** What runDrill returns: the plan of a dry run, or the journal with where it went. */
export type DrillResult =
  | { kind: 'plan'; plan: ExperimentPlan }
  | {
      kind: 'journal';
      journal: Journal;
      /** Absolute path of the journal. */
      journalPath: string;
      /** Set when the journal could not be written (the drill's results stand). */
      writeError: SurgeError | undefined;
    };

/** The systems an experiment acts on: `stack` for stack activities and the load, `kubernetes` for kubernetes and chaos-mesh ones. Pure. */
export function targetsNeeded(e: Experiment): { stack: boolean; kubernetes: boolean } {
  const types = new Set([...(e.hypothesis?.probes ?? []), ...e.method, ...e.rollbacks].map((a) => a.provider.type));
  return { stack: types.has('stack') || e.load !== undefined, kubernetes: types.has('kubernetes') || types.has('chaos-mesh') };
}

/** Builds the targets an experiment needs, and says where they are, for the confirmation question. */
export async function connectTargets(e: Experiment, connect: DrillConnections): Promise<{ targets: ChaosTargets; where: string[] }> {
  const needed = targetsNeeded(e);
  const targets: ChaosTargets = {};
  const where: string[] = [];
  if (needed.stack) {
    targets.stack = await connect.stack();
    where.push(`the stack at ${targets.stack.url}`);
  }
  if (needed.kubernetes) {
    targets.kubernetes = connect.kubernetes;
    if (connect.namespace) targets.namespace = connect.namespace;
    where.push(`Kubernetes${connect.kubernetesContext ? ` context ${connect.kubernetesContext}` : ' (current context)'}`);
  }
  return { targets, where };
}

/**
 * Runs (or with dryRun plans) the drill in `experiment`. Every problem before the drill throws:
 * an invalid experiment, a journal path that cannot be written, a target that cannot be set up,
 * the operator declining (SRG_CLI_ABORTED). Once it ran, the result is returned even when the
 * journal could not be written; {@link drillError} turns it into the command's outcome.
 */
export async function runDrill(opts: RunDrillOptions): Promise<DrillResult> {
  const { experiment, local, controlHooks } = await readExperiment(opts.experiment, { cwd: opts.cwd, env: opts.env ?? {}, python: opts.python });
  const rt = experiment.runtime;
  const strategies = {
    rollbackStrategy: opts.rollbackStrategy ?? rt.rollbacks?.strategy ?? 'default',
    hypothesisStrategy: opts.hypothesisStrategy ?? rt.hypothesis?.strategy ?? 'default',
    failFast: opts.failFast ?? rt.hypothesis?.fail_fast ?? false,
  } as const;
  if (opts.dryRun) return { kind: 'plan', plan: redact(planExperiment(experiment, { ...strategies, controlHooks }), experiment.secretValues) };

  // A drill whose journal cannot be written does not start.
  const journalPath = resolve(opts.cwd, opts.journalPath);
  await checkJournalPath(journalPath);
  const { targets, where } = await connectTargets(experiment, opts.connect);
  if (local) {
    targets.local = local;
    where.push(`this machine (${declaredControls(experiment).length > 0 ? 'python and process activities, controls' : 'python and process activities'})`);
  }
  const ok = await opts.reporter.confirm(`Run the drill "${experiment.title}" against ${where.join(' and ') || 'the http targets it names'}?`, false);
  if (!ok) throw new SurgeError('SRG_CLI_ABORTED', 'Drill not started: the operator declined', { hint: 'Use --dry-run to see the plan.' });

  const journal = await runExperiment(experiment, {
    targets,
    reporter: opts.reporter,
    ...strategies,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.hypothesisFrequencyMs !== undefined ? { hypothesisFrequencyMs: opts.hypothesisFrequencyMs } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { kind: 'journal', journal, journalPath, writeError: await tryWriteJournal(journalPath, journal) };
}

/**
 * The error `chaos run` ends with, if any: the drill's outcome (outcomeError), and a journal that
 * could not be written added to it (or, after a drill that passed, the write error itself). Pure.
 */
export function drillError(result: DrillResult): SurgeError | undefined {
  if (result.kind === 'plan') return undefined;
  const { journal, journalPath, writeError } = result;
  return withWriteFailure(outcomeError(journal, writeError ? undefined : journalPath), writeError, 'the journal');
}

/** What `chaos validate` reports about a valid experiment. */
export interface ExperimentSummary {
  valid: true;
  /** The file as given. */
  file: string;
  title: string;
  /** Steady-state probes. */
  probes: number;
  /** Method activities. */
  method: number;
  rollbacks: number;
  /** The background load's rate (orders/s), when it has one. */
  load: { rate: number } | null;
}

/** What reading an experiment needs: where relative paths start, the environment, the Python interpreter. */
export interface ReadExperimentOptions {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Default `python3`. */
  python?: string | undefined;
}

/**
 * Loads and validates an experiment, then checks on this machine what Chaos Toolkit's validation
 * checks (python modules import, control modules too, programs exist). Returns the local runner
 * when the experiment has python or process activities or controls, and the hooks each control
 * module defines.
 */
async function readExperiment(
  file: string,
  o: ReadExperimentOptions,
): Promise<{ experiment: Experiment; local: LocalRunner | undefined; controlHooks: Record<string, string[]> }> {
  const path = resolve(o.cwd, file);
  const experiment = await loadExperiment(path, { env: o.env });
  const needsLocal = allActivities(experiment).some((a) => a.provider.type === 'python' || a.provider.type === 'process') || declaredControls(experiment).length > 0;
  if (!needsLocal) return { experiment, local: undefined, controlHooks: {} };
  const local = createLocalRunner({ python: o.python, env: o.env, cwd: dirname(path) });
  const { controlHooks } = await checkLocalProviders(experiment, local, path);
  return { experiment, local, controlHooks };
}

/** Reads and validates an experiment file (relative to `cwd`); throws SRG_CHAOS_EXPERIMENT listing every problem. */
export async function validateExperimentFile(file: string, o: ReadExperimentOptions): Promise<ExperimentSummary> {
  const { experiment: e } = await readExperiment(file, o);
  return {
    valid: true,
    file,
    title: e.title,
    probes: e.hypothesis?.probes.length ?? 0,
    method: e.method.length,
    rollbacks: e.rollbacks.length,
    load: e.load ? { rate: e.load.rate } : null,
  };
}

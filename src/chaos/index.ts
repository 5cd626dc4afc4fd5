/**
 * Chaos drills, programmatically (used by `surgectl chaos` and `surgectl rehearse`):
 *
 *   const experiment = await loadExperiment('scenarios/chaos/payment-outage.yaml');
 *   const journal = await runExperiment(experiment, { targets: { stack }, signal, reporter });
 *   if (journal.deviated) ...
 */
export { loadExperiment, parseExperiment, ExperimentSchema, type Activity, type Experiment } from './experiment.js';
export {
  runExperiment,
  HYPOTHESIS_STRATEGIES,
  ROLLBACK_STRATEGIES,
  type ActivityRun,
  type HypothesisStrategy,
  type Journal,
  type RollbackStrategy,
  type RunExperimentOptions,
  type RunStatus,
  type SteadyStateRun,
} from './runner.js';
export { planExperiment, type ExperimentPlan, type PlanStep } from './plan.js';
export { checkJournalPath, outcomeError, withJournalError, writeJournal } from './outcome.js';
export { startLoad, isLoopback, type LoadOptions, type LoadSummary, type RunningLoad } from './background-load.js';
export { PROVIDERS, type ChaosTargets, type FuncSpec, type ProviderContext } from './providers/index.js';

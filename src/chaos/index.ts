/**
 * Chaos drills, programmatically (used by `surgectl chaos` and `surgectl rehearse`):
 *
 *   const experiment = await loadExperiment('scenarios/chaos/payment-outage.yaml');
 *   const journal = await runExperiment(experiment, { targets: { stack }, signal, reporter });
 *   if (journal.deviated) ...
 */
export { loadExperiment, parseExperiment, ExperimentSchema, type Activity, type Experiment } from './experiment.js';
export { runExperiment, type RunExperimentOptions } from './runner.js';
export {
  HYPOTHESIS_STRATEGIES,
  ROLLBACK_STRATEGIES,
  assembleJournal,
  gateVerdict,
  hypothesisChecks,
  judge,
  rollbackDecision,
  type ActivityRun,
  type ControlCall,
  type DrillEvidence,
  type HypothesisStrategy,
  type Journal,
  type MethodEvidence,
  type RollbackStrategy,
  type RunStatus,
  type SteadyStateRun,
  type Verdict,
} from './journal.js';
export { runDrill, drillError, targetsNeeded, connectTargets, validateExperimentFile, type DrillConnections, type DrillResult, type ExperimentSummary, type RunDrillOptions } from './drill.js';
export { planExperiment, type ExperimentPlan, type PlanControl, type PlanStep } from './plan.js';
export { controlsAt, uniqueControls, type ControlLevel } from './controls.js';
export { checkJournalPath, outcomeError, tryWriteJournal, writeJournal } from './outcome.js';
export { startLoad, isLoopback, type LoadOptions, type LoadSummary, type RunningLoad } from './background-load.js';
export { PROVIDERS, type ChaosTargets, type FuncSpec, type ProviderContext } from './providers/index.js';

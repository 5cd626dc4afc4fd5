/**
 * `surgectl rehearse` as a library: the whole surge rehearsal on the bundled stack, returning a
 * readiness report (gates with figures and what to fix).
 */
export { runRehearsal, type RehearseOptions, type LoadProgress } from './run.js';
export { evaluateGates, allPassed, gateEvidence, DEFAULT_LIMITS, type GateEvidence, type GateLimits, type GateResult, type GateStatus, type RehearsalObservations } from './gates.js';
export { assembleReport, rehearsalOutcome } from './outcome.js';
export { planStages, scaleToMachine, givenMachineRate, localWorkers, phaseAt, scaleForecast, MIN_DURATION_MS, DEFAULT_DURATION_MS, type StageTimings, type LoadScaling, type MachineRate } from './plan.js';
export { runProbe, probeLadder, judgeStep, nextProbeRate, probeOutcome, SAFE_SHARE, type ProbeMeasurement, type ProbeResult, type ProbeStep } from './probe.js';
export { STAGES, type RehearsalReport, type StageRecord } from './report.js';
export { renderReportTable } from './render.js';
export { renderReportHtml } from './html.js';
export { writeReportFiles } from './write.js';
export { createRehearseProgress, progressLine, type RehearseProgress } from './progress.js';

/**
 * Load tests: scenarios (k6 executors and thresholds), the builtin open-model engine, the k6
 * engine (export, run, import) and reporters. `surgectl rehearse` uses {@link runLoadTest}.
 */
export { runLoadTest, fetchSkus, scrape, type RunLoadTestOptions } from './run.js';
export { parseScenario, loadScenarioFile, applyOverrides, totalMs, type LoadedScenario, type Scenario, type ScenarioInput, type ScenarioOverrides, type ParsedThreshold } from './scenario.js';
export type { Progress, TimelinePoint, ScenarioOutcome } from './engine.js';
export type { LoadTestResult, ThresholdResult, K6Summary, K6Metric } from './summary.js';
export { exportK6Script, exportK6Operator, importK6Summary, runK6, findK6, type K6OperatorOptions } from './k6.js';
export { renderText, renderJUnit, renderHtml, renderProgress } from './reporters.js';
export { checkReportPaths, writeReports, type ReportPaths } from './write.js';

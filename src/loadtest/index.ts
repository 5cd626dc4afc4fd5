/**
 * Load tests: scenarios (k6 executors and thresholds), the builtin open-model engine, the k6
 * engine (export, run, import) and reporters. `surgectl rehearse` uses {@link runLoadTest};
 * `surgectl loadtest` uses the file-level calls ({@link runScenarioFile}, {@link importSummaryFile},
 * {@link validateScenarioFile}, {@link exportScenarioFile}) and {@link loadTestOutcome}.
 */
export { runLoadTest, fetchSkus, scrape, type RunLoadTestOptions } from './run.js';
export { runEngine, type EngineOptions } from './engine.js';
export {
  parseScenario,
  loadScenarioFile,
  validateScenarioFile,
  applyOverrides,
  totalMs,
  activeMs,
  type LoadedScenario,
  type Scenario,
  type ScenarioInput,
  type ScenarioOverrides,
  type ScenarioFileCheck,
  type ParsedThreshold,
  isK6Script,
  mixFor,
  type LoadScenarioFileOptions,
  type ParseScenarioOptions,
} from './scenario.js';
export { readK6Script, type K6ScriptOptions } from './k6-script.js';
export { normaliseK6Options, K6_IGNORED_OPTIONS } from './k6-options.js';
export type { Progress, TimelinePoint, ScenarioOutcome, RawResult, LiveView } from './evidence.js';
export type { LoadTestResult, ThresholdResult, K6Summary, K6Metric } from './summary.js';
export {
  exportK6Script,
  exportK6Operator,
  exportScenarioFile,
  importK6Summary,
  readK6SummaryFile,
  runK6,
  runK6Script,
  fromSummaryExport,
  findK6,
  k6Duration,
  type K6OperatorOptions,
  type ExportScenarioFileOptions,
} from './k6.js';
export { renderText, renderJUnit, renderHtml, renderProgress } from './reporters.js';
export { checkReportPaths, writeReports, writeReportsOrError, type ReportPaths } from './write.js';
export { loadTestOutcome } from './outcome.js';
export { progressLine, type ProgressSink } from './progress.js';
export { runScenarioFile, importSummaryFile, type RunScenarioFileOptions, type ImportSummaryFileOptions, type FinishedLoadTest } from './run-file.js';

/**
 * surgectl as a library: the same entry points the CLI commands call. Each area is also its own
 * module (`surgectl/forecast`). Importing this file loads the order stack, the load generator and
 * the chaos runner; import the area you need to stay lean.
 */
export { SurgeError, ERROR_CODES, type ErrorCode } from './errors.js';
export { ExitCode } from './exit-codes.js';
export { loadConfig, type LoadedConfig, type LoadConfigOptions } from './config/load.js';
export { ConfigSchema, StackConfigSchema, type Config, type StackConfig } from './config/schema.js';
export { startStack, type RunningStack, type StartStackOptions } from './order-core/stack.js';
export type { StackOptions } from './order-core/stack-options.js';
export { parseScenario, loadScenarioFile, applyOverrides } from './loadtest/scenario.js';
export { runLoadTest } from './loadtest/run.js';
export { runExperiment, loadExperiment, parseExperiment, type Experiment, type Journal } from './chaos/index.js';
export * as probes from './probes/index.js';
export { runRehearsal } from './rehearse/run.js';

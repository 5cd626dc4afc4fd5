import { ExitCode } from './exit-codes.js';

/**
 * The one table of user-facing error codes. Every entry is documented in docs/errors.md
 * (src/errors.test.ts fails when the two disagree). Codes are `SRG_<AREA>_<NAME>`.
 */
export const ERROR_CODES = {
  // CLI and usage
  SRG_CLI_USAGE: { exitCode: ExitCode.Usage, summary: 'The command line was not understood.' },
  SRG_CLI_NOT_A_TTY: { exitCode: ExitCode.Usage, summary: 'A change needs confirmation but there is no terminal to ask on; pass --yes.' },
  SRG_CLI_ABORTED: { exitCode: ExitCode.Usage, summary: 'The operator declined the confirmation.' },
  SRG_CLI_INTERRUPTED: { exitCode: ExitCode.Interrupted, summary: 'Interrupted by a signal before the work finished.' },
  // Configuration
  SRG_CONFIG_NOT_FOUND: { exitCode: ExitCode.InvalidConfig, summary: 'The configuration file does not exist or cannot be read.' },
  SRG_CONFIG_PARSE: { exitCode: ExitCode.InvalidConfig, summary: 'The configuration file is not valid YAML/JSON.' },
  SRG_CONFIG_INVALID: { exitCode: ExitCode.InvalidConfig, summary: 'The configuration failed validation; every problem is listed with its key path.' },
  SRG_CONFIG_ENV: { exitCode: ExitCode.InvalidConfig, summary: 'An environment variable holds a value of the wrong shape.' },
  // Order stack
  SRG_STACK_PORT_IN_USE: { exitCode: ExitCode.Usage, summary: 'A port the stack needs is already taken.' },
  SRG_STACK_DATA_DIR: { exitCode: ExitCode.InvalidConfig, summary: 'The data directory cannot be created, opened or locked.' },
  SRG_STACK_LOCKED: { exitCode: ExitCode.Usage, summary: 'Another stack process holds the data directory.' },
  SRG_STACK_DISK_FULL: { exitCode: ExitCode.DiskFull, summary: 'The disk of the data directory or the log file is full: the stack cannot start.' },
  SRG_STACK_SEED: { exitCode: ExitCode.InvalidConfig, summary: 'The seed inventory file or count is invalid.' },
  SRG_STACK_UNREACHABLE: { exitCode: ExitCode.Unreachable, summary: 'The stack admin API did not answer.' },
  SRG_STACK_STORE_UNREACHABLE: { exitCode: ExitCode.Unreachable, summary: 'The stack\'s database (PostgreSQL) did not answer: at start-up, for a migration or for a replication call.' },
  SRG_STACK_QUEUE_UNREACHABLE: { exitCode: ExitCode.Unreachable, summary: "The stack's message broker (RabbitMQ) did not answer." },
  SRG_STACK_REPLICA_FAILED: { exitCode: ExitCode.Internal, summary: 'A process of a replicated stack (--intake-replicas, --worker-processes) exited before it answered; its log says why.' },
  SRG_STACK_QUEUE_MISMATCH: { exitCode: ExitCode.InvalidConfig, summary: 'A work queue exists on the broker with other arguments (delivery limit, type) than the stack declares.' },
  SRG_STACK_DLQ_NOT_FOUND: { exitCode: ExitCode.Usage, summary: 'No dead letter carries that order id.' },
  SRG_PG_REFUSED: { exitCode: ExitCode.Usage, summary: 'PostgreSQL refused a replication statement: no permission, or the server has the wrong role for the call.' },
  SRG_STACK_STORE_VERSION: { exitCode: ExitCode.InvalidConfig, summary: 'The database was migrated by a newer surgectl, or its schema cannot be migrated as asked.' },
  SRG_STACK_ADMIN: { exitCode: ExitCode.Usage, summary: 'The stack admin API refused the request.' },
  SRG_STACK_UNKNOWN_FLAG: { exitCode: ExitCode.Usage, summary: 'The feature flag is not one the stack knows.' },
  SRG_STACK_FLAG_READONLY: { exitCode: ExitCode.Usage, summary: 'The stack reads its flags from Unleash; switch them there, not on the stack.' },
  // Input data (forecast sources, CSV, Prometheus)
  SRG_DATA_EMPTY: { exitCode: ExitCode.InvalidConfig, summary: 'The input series has no usable points.' },
  SRG_DATA_FORMAT: { exitCode: ExitCode.InvalidConfig, summary: 'The input file has an unknown column, a non-numeric value or an unreadable timestamp.' },
  SRG_DATA_TOO_SHORT: { exitCode: ExitCode.InvalidConfig, summary: 'The history is too short for the asked horizon or seasonality.' },
  SRG_DATA_GAP: { exitCode: ExitCode.InvalidConfig, summary: 'The series has a hole longer than --max-gap.' },
  SRG_DATA_NEGATIVE: { exitCode: ExitCode.InvalidConfig, summary: 'The series has negative values and --allow-negative was not given.' },
  SRG_DATA_SOURCE: { exitCode: ExitCode.Usage, summary: 'A data source (file, Prometheus) could not be read or refused the query.' },
  SRG_PROMETHEUS_UNREACHABLE: { exitCode: ExitCode.Unreachable, summary: 'Prometheus did not answer (connection refused, unknown host, timeout).' },
  // Forecast and capacity
  SRG_FORECAST_MODEL: { exitCode: ExitCode.Usage, summary: 'Unknown model or a model could not be fitted.' },
  SRG_CAPACITY_INPUT: { exitCode: ExitCode.InvalidConfig, summary: 'The capacity plan input (forecast or load-test result) is invalid.' },
  // Load tests
  SRG_LOADTEST_SCENARIO: { exitCode: ExitCode.InvalidConfig, summary: 'The load-test scenario failed validation.' },
  SRG_LOADTEST_THRESHOLD: { exitCode: ExitCode.GateFailed, summary: 'One or more load-test thresholds failed.' },
  SRG_LOADTEST_K6_MISSING: { exitCode: ExitCode.Usage, summary: 'The k6 engine was asked for but the k6 binary is not on PATH.' },
  SRG_LOADTEST_K6_FAILED: { exitCode: ExitCode.Internal, summary: 'k6 ended with an error other than failed thresholds.' },
  SRG_LOADTEST_TARGET: { exitCode: ExitCode.Usage, summary: 'The load-test target answered, but its inventory could not be used.' },
  SRG_LOADTEST_UNREACHABLE: { exitCode: ExitCode.Unreachable, summary: 'The load-test target did not answer.' },
  SRG_LOADTEST_EXPORT: { exitCode: ExitCode.Usage, summary: 'The scenario cannot be exported as asked (e.g. the k6-operator ConfigMap would exceed 1 MiB).' },
  // Conditions (thresholds, tolerances, gates)
  SRG_CONDITION_SYNTAX: { exitCode: ExitCode.InvalidConfig, summary: 'A threshold or tolerance expression is not valid.' },
  // Chaos
  SRG_CHAOS_EXPERIMENT: { exitCode: ExitCode.InvalidConfig, summary: 'The chaos experiment failed validation.' },
  SRG_CHAOS_DEVIATED: { exitCode: ExitCode.SteadyStateDeviated, summary: 'The steady-state hypothesis deviated.' },
  SRG_CHAOS_ROLLBACK: { exitCode: ExitCode.RollbackFailed, summary: 'A rollback action failed; the target may be left changed.' },
  SRG_CHAOS_CRD_MISSING: { exitCode: ExitCode.Usage, summary: 'Chaos Mesh CRDs are not installed in the target cluster.' },
  SRG_CHAOS_NOT_STEADY: { exitCode: ExitCode.SteadyStateDeviated, summary: 'The steady state was not met before the method, so nothing was injected.' },
  SRG_CHAOS_ACTION: { exitCode: ExitCode.Usage, summary: 'A chaos action failed (the target refused or did not answer); the fault may not have been injected.' },
  SRG_CHAOS_HTTP: { exitCode: ExitCode.Unreachable, summary: 'An http probe or action could not reach its URL.' },
  // Kubernetes
  SRG_K8S_API: { exitCode: ExitCode.Usage, summary: 'The Kubernetes API refused or failed a request.' },
  SRG_K8S_UNREACHABLE: { exitCode: ExitCode.Unreachable, summary: 'The Kubernetes API server did not answer.' },
  SRG_K8S_CONFIG: { exitCode: ExitCode.InvalidConfig, summary: 'No usable kubeconfig/context.' },
  // Scale (surgectl scale)
  SRG_SCALE_PLAN: { exitCode: ExitCode.InvalidConfig, summary: 'The ScalePlan file failed validation; every problem is listed with its path.' },
  SRG_SCALE_TARGET: { exitCode: ExitCode.Usage, summary: 'An object the plan names (deployment, HPA, namespace, ASG, stack) does not exist or cannot be scaled as asked.' },
  SRG_SCALE_SNAPSHOT: { exitCode: ExitCode.InvalidConfig, summary: 'The scale snapshot file is missing, unreadable or not a surgectl snapshot.' },
  SRG_SCALE_PARTIAL: { exitCode: ExitCode.Usage, summary: 'The apply stopped part way: some objects were changed, others not; restore from the snapshot.' },
  SRG_SCALE_NOT_READY: { exitCode: ExitCode.GateFailed, summary: 'The targets did not become ready within --timeout.' },
  SRG_SCALE_RESTORE: { exitCode: ExitCode.RollbackFailed, summary: 'A restore did not complete: some objects are not back as they were.' },
  // AWS
  SRG_AWS_CONFIG: { exitCode: ExitCode.InvalidConfig, summary: 'No usable AWS region or credentials.' },
  SRG_AWS_API: { exitCode: ExitCode.Usage, summary: 'The AWS API refused the request (validation, access denied).' },
  SRG_AWS_UNREACHABLE: { exitCode: ExitCode.Unreachable, summary: 'The AWS API did not answer.' },
  SRG_AWS_NOT_FOUND: { exitCode: ExitCode.Usage, summary: 'The Auto Scaling group (or scheduled action) the request names does not exist in that region.' },
  // Feature flags (surgectl flags)
  SRG_FLAGS_UNREACHABLE: { exitCode: ExitCode.Unreachable, summary: 'The flag server did not answer.' },
  SRG_FLAGS_AUTH: { exitCode: ExitCode.Usage, summary: 'The flag server refused the token (401/403).' },
  SRG_FLAGS_API: { exitCode: ExitCode.Usage, summary: 'The flag server refused the request.' },
  SRG_FLAGS_UNKNOWN: { exitCode: ExitCode.Usage, summary: 'A flag, project or environment named does not exist; nothing was switched.' },
  SRG_FLAGS_SET: { exitCode: ExitCode.InvalidConfig, summary: 'The flag set is not defined in surgectl.yaml (flags.sets).' },
  SRG_FLAGS_SNAPSHOT: { exitCode: ExitCode.InvalidConfig, summary: 'The flags snapshot file is missing, unreadable or not a surgectl snapshot.' },
  SRG_FLAGS_PARTIAL: { exitCode: ExitCode.Usage, summary: 'A switch stopped part way: some flags were switched, others not; restore from the snapshot.' },
  SRG_FLAGS_NOT_PROPAGATED: { exitCode: ExitCode.GateFailed, summary: 'A running instance has not seen the flag change within --timeout.' },
  // HAProxy (cutover traffic)
  SRG_HAPROXY_UNREACHABLE: { exitCode: ExitCode.Unreachable, summary: "HAProxy's runtime API (stats socket) did not answer." },
  SRG_HAPROXY_COMMAND: { exitCode: ExitCode.Usage, summary: "HAProxy's runtime API refused a command (unknown backend or server, socket not at level admin)." },
  // Runbooks (surgectl runbook, cutover)
  SRG_RUNBOOK_INVALID: { exitCode: ExitCode.InvalidConfig, summary: 'The runbook failed validation; every problem is listed with its path.' },
  SRG_RUNBOOK_NOT_FOUND: { exitCode: ExitCode.Usage, summary: 'No built-in or user runbook has that name.' },
  SRG_RUNBOOK_PARAM: { exitCode: ExitCode.Usage, summary: 'A runbook parameter is missing, unknown or of the wrong type.' },
  SRG_RUNBOOK_JOURNAL: { exitCode: ExitCode.Usage, summary: 'The runbook journal is unreadable, from another runbook version, or has nothing left to resume.' },
  SRG_RUNBOOK_PRECONDITION: { exitCode: ExitCode.GateFailed, summary: "A step's precondition did not hold; the step was not run." },
  SRG_RUNBOOK_STEP_FAILED: { exitCode: ExitCode.GateFailed, summary: 'A step failed or its verify (an analysis gate, a check) did not pass; completed steps were rolled back.' },
  SRG_RUNBOOK_ROLLBACK: { exitCode: ExitCode.RollbackFailed, summary: 'Rolling back a runbook failed; the journal names what is left to do by hand.' },
  // Rehearsal
  SRG_REHEARSE_GATE: { exitCode: ExitCode.GateFailed, summary: 'One or more readiness gates failed.' },
  SRG_REHEARSE_REPORT: { exitCode: ExitCode.Usage, summary: 'The rehearsal report could not be written to the report directory.' },
  SRG_DRILL_GATE: { exitCode: ExitCode.GateFailed, summary: 'One or more gates of a failover drill failed (RTO, lost orders, a part that did not complete).' },
  SRG_DRILL_REPORT: { exitCode: ExitCode.Usage, summary: 'The failover drill report could not be written to the report directory.' },
  // Preflight (surgectl preflight)
  SRG_PREFLIGHT_FAILED: { exitCode: ExitCode.GateFailed, summary: 'One or more preflight checks failed.' },
  // Internal
  SRG_CLI_INTERNAL: { exitCode: ExitCode.Internal, summary: 'An unexpected failure: a bug in surgectl.' },
} as const satisfies Record<string, { exitCode: ExitCode; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The one user-facing error type. Only src/cli.ts turns it into an exit code. */
export class SurgeError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  /** Extra lines (e.g. one per invalid config key) shown under the message. */
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, opts: { hint?: string; details?: readonly string[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SurgeError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details ?? [];
    this.exitCode = ERROR_CODES[code].exitCode;
  }
}

export function isSurgeError(e: unknown): e is SurgeError {
  return e instanceof SurgeError;
}

/**
 * The error a finished run (drill, load test, rehearsal) ends the command with when some of its
 * files (journal, reports) could not be written: the run's own outcome keeps its code and exit
 * status and gains a line saying what was not written; a run that passed ends with the write
 * error itself. A failed write is reported with the outcome, never instead of it.
 * @param what the files, for the added line: 'the journal', 'the reports'.
 */
export function withWriteFailure(outcome: SurgeError | undefined, writeError: SurgeError | undefined, what: string): SurgeError | undefined {
  if (!writeError) return outcome;
  if (!outcome) return writeError;
  return new SurgeError(outcome.code, outcome.message, {
    details: [...outcome.details, `${what} ${what.endsWith('s') ? 'were' : 'was'} not written: ${writeError.message}`],
    ...(outcome.hint ?? writeError.hint ? { hint: outcome.hint ?? writeError.hint } : {}),
    cause: writeError,
  });
}

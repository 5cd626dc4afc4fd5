/**
 * The documented process exit codes of surgectl. README.md and docs/errors.md list the same table;
 * `src/errors.test.ts` keeps them in sync.
 */
export const ExitCode = {
  /** Everything asked for was done and every gate passed. */
  Ok: 0,
  /** An unexpected failure: a bug in surgectl. */
  Internal: 1,
  /** The command line was wrong: unknown flag, missing argument, bad value. */
  Usage: 2,
  /** A system surgectl needs (stack, cluster, Prometheus, flag server, cloud API, load target) could not be reached. */
  Unreachable: 3,
  /** The machine has no room: the disk (data directory or log file) is full. */
  DiskFull: 4,
  /** A configuration, scenario, experiment or data file is invalid. */
  InvalidConfig: 10,
  /** A load-test threshold or a readiness gate failed. */
  GateFailed: 20,
  /** A chaos drill's steady-state hypothesis deviated. */
  SteadyStateDeviated: 21,
  /** A rollback or restore did not complete: the system may be left changed. */
  RollbackFailed: 30,
  /** Interrupted by SIGINT/SIGTERM before the work finished. */
  Interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

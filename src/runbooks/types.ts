/**
 * A runbook is data: typed parameters and steps `{name, kind, precondition?, action, verify?,
 * rollback?, timeout}`. Runbooks are read from YAML (built-ins in scenarios/runbooks/, a user's own
 * in ./runbooks/), validated with every problem listed, and then resolved: parameters substituted
 * and `each` steps expanded, so the engine only ever sees {@link ResolvedStep}s.
 */

/** The types a parameter may have. `list` takes a comma-separated value on the command line. */
export const PARAM_TYPES = ['string', 'number', 'boolean', 'duration', 'url', 'list'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface ParamSpec {
  type: ParamType;
  description?: string;
  /** Used when the parameter is not given; a parameter with neither default nor `env` is required. */
  default?: ParamValue;
  /** Allowed values (strings and numbers). */
  enum?: (string | number)[];
  /** Never printed, journaled or logged: shown as `***`. */
  secret?: boolean;
  /** Environment variable the value is read from when not given with --param (secrets should use this). */
  env?: string;
}

export type ParamValue = string | number | boolean | (string | number)[];

/**
 * One action of a step, precondition, verify or rollback: a step kind and its fields, e.g.
 * `{kind: 'haproxy-weight', endpoint: '127.0.0.1:9999', backend: 'orders', weights: {green: 10}}`.
 * Fields are checked by the kind when the runbook is resolved.
 */
export interface ActionSpec {
  kind: string;
  [field: string]: unknown;
}

/** A step as written in the runbook file (strings may hold `${param}` references). */
export interface StepSpec {
  name: string;
  /** The kind of the main action. */
  kind: string;
  /** The action's fields. */
  action: Record<string, unknown>;
  /** A check that must hold before the action runs (re-checked on resume). */
  precondition?: ActionSpec;
  /** A check run after the action; when it fails the step fails. */
  verify?: ActionSpec;
  /** `auto` (default): undo what the action changed, from what it recorded; `none`; or an action. */
  rollback?: 'auto' | 'none' | ActionSpec;
  /** Longest the action (and, separately, its verify) may take, e.g. `30s`. Default 5m. */
  timeout?: string;
  /** Run the step only when this is true, e.g. `${smoke}` (a boolean parameter). */
  when?: string | boolean;
  /** Repeat the step once per item of a list parameter (or literal list); `${item}` is the item. */
  each?: string | (string | number)[];
}

export interface RunbookSpec {
  apiVersion: 'surgectl/v1';
  kind: 'Runbook';
  name: string;
  /** Bumped when the steps change meaning; a journal of another version is not resumed. */
  version: number;
  description?: string;
  /** Roll back completed steps without asking when a step fails (cutovers: traffic goes back at once). */
  autoRollback?: boolean;
  params?: Record<string, ParamSpec>;
  steps: StepSpec[];
}

/** A loaded runbook: its definition, where it came from and the digest a journal is checked against. */
export interface Runbook {
  spec: RunbookSpec;
  /** `builtin` or the file path. */
  source: string;
  /** sha256 of the definition (canonical JSON), first 16 hex digits. */
  digest: string;
}

/** A step after parameters were substituted and `each` expanded. */
export interface ResolvedStep {
  name: string;
  kind: string;
  action: ActionSpec;
  precondition?: ActionSpec;
  verify?: ActionSpec;
  rollback: 'auto' | 'none' | ActionSpec;
  timeoutMs: number;
  /** True when the action changes a live system (asks for confirmation on a TTY). */
  mutating: boolean;
  /** False when its `when:` resolved to false: journaled as skipped, not run. */
  enabled: boolean;
}

/** Closed set of step statuses in a journal. */
export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'rolled-back' | 'rollback-failed';

/** Closed set of run statuses. */
export type RunStatus = 'running' | 'completed' | 'failed' | 'rolled-back' | 'rollback-failed' | 'interrupted' | 'aborted';

/** One check (precondition, verify) or rollback as it ran. */
export interface PhaseRecord {
  status: 'passed' | 'failed' | 'completed';
  output?: unknown;
  error?: string;
  /** The surgectl error code when the failure was one (e.g. SRG_K8S_UNREACHABLE). */
  code?: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
}

/** One step in the journal. */
export interface StepRecord {
  step: string;
  kind: string;
  status: StepStatus;
  /** What the action returned (redacted). */
  output?: unknown;
  /** What the action changed, recorded before changing it: the input of an `auto` rollback. */
  undo?: unknown;
  error?: string;
  /** The surgectl error code of the failure, when it was one: an unreachable system ends the run with exit 3. */
  errorCode?: string;
  precondition?: PhaseRecord;
  verify?: PhaseRecord;
  rollback?: PhaseRecord;
  /** How the step was confirmed: `tty`, `--yes`, or absent when it did not need confirming. */
  confirmedBy?: 'tty' | '--yes';
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
}

/** The journal: written atomically after every step; the deliverable and the resume point. */
export interface RunbookJournal {
  kind: 'surgectl.runbook.journal';
  schemaVersion: 1;
  runbook: { name: string; version: number; digest: string; source: string };
  /** Parameters as resolved; secrets as `***` (re-read from their env variable on resume). */
  params: Record<string, ParamValue>;
  user: string;
  reason?: string;
  status: RunStatus;
  /** Why the run ended as it did, in words. */
  message?: string;
  /** What an operator must still do by hand after a failed rollback. */
  manual?: string[];
  startedAt: string;
  endedAt?: string;
  /** Every resume of this run. */
  resumes: { at: string; user: string; reason?: string }[];
  steps: StepRecord[];
}

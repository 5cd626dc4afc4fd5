import type { HaproxyPort } from '../adapters/haproxy/port.js';
import type { KubernetesPort } from '../adapters/kubernetes/port.js';
import type { PrometheusPort } from '../adapters/prometheus/port.js';
import type { StackAdminPort } from '../adapters/stack-admin/port.js';
import type { FlagsProvider, FlagsProviderKind } from '../flags/provider.js';
import type { PostgresRunbookPorts } from './kinds-postgres.js';

/**
 * Everything a runbook step may reach, built by the command (the composition root) and passed
 * in. Each factory is called only by a step that needs it, so a dry run builds none and a
 * runbook that never names Kubernetes never loads its SDK.
 */
export interface RunbookPorts extends PostgresRunbookPorts {
  haproxy(endpoint: string): HaproxyPort | Promise<HaproxyPort>;
  prometheus(url: string): PrometheusPort | Promise<PrometheusPort>;
  kubernetes(opts: { context?: string | undefined; namespace?: string | undefined }): Promise<KubernetesPort>;
  stackAdmin(url: string): Promise<StackAdminPort>;
  flags(opts: { provider?: FlagsProviderKind | undefined; stackUrl?: string | undefined }): Promise<FlagsProvider>;
  /** The flags of a named set in surgectl.yaml (flags.sets); SRG_FLAGS_SET when there is none. */
  flagSet(name: string): Promise<readonly string[]>;
  /** One HTTP request; never throws for an HTTP status (only for a transport failure). */
  http(req: { url: string; method: string; headers: Record<string, string>; body?: string | undefined; signal: AbortSignal }): Promise<{ status: number; body: string }>;
  /** Runs a program (argv) or a shell line; never throws for a non-zero exit. */
  shell(cmd: { command: string | string[]; env: Record<string, string>; signal: AbortSignal }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** A short open-model load test (the loadtest engine) against `target`. */
  loadtest(opts: { target: string; rate: number; durationMs: number; thresholds: Record<string, string[]>; signal: AbortSignal }): Promise<SmokeResult>;
  /** `surgectl scale apply` of a ScalePlan file, snapshot first; and the restore from that snapshot. */
  scale: {
    apply(opts: { file: string; timeoutMs: number; signal: AbortSignal }): Promise<{ snapshot?: string; changes: number; ready: boolean }>;
    restore(opts: { snapshot: string; signal: AbortSignal }): Promise<{ restored: boolean; problems: string[] }>;
  };
}

/** What a smoke load test reports back to the step. */
export interface SmokeResult {
  passed: boolean;
  /** Each threshold as written, whether it held and the observed value. */
  thresholds: { metric: string; threshold: string; ok: boolean; value?: number | undefined }[];
  requests: number;
  failed: number;
}

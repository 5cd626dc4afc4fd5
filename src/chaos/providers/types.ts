import type { z } from 'zod';
import type { KubernetesPort } from '../../adapters/kubernetes/port.js';
import type { StackAdminPort } from '../../adapters/stack-admin/port.js';
import type { Reporter } from '../../reporter.js';
import type { LocalRunner } from './local.js';

/** The systems a drill may act on. Each is optional; an activity that needs a missing one fails clearly. */
export interface ChaosTargets {
  /** The bundled order stack's admin API. */
  stack?: StackAdminPort;
  /** A Kubernetes API; a factory so the client library loads only when a drill uses it. */
  kubernetes?: () => Promise<KubernetesPort>;
  /** Default namespace for Kubernetes and Chaos Mesh activities (else the context's namespace). */
  namespace?: string;
  /** Runs python functions and processes on this machine (Chaos Toolkit's python and process providers). */
  local?: LocalRunner;
}

/** What a provider function gets besides its arguments. */
export interface ProviderContext {
  readonly targets: ChaosTargets;
  /** Aborted on interrupt or when the activity's timeout passes. */
  readonly signal: AbortSignal;
  readonly reporter: Reporter;
  /** Abortable wait, ms. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** ms since the epoch. */
  now(): number;
  /** 0 <= x < 1; injected so tests can pick a pod deterministically. */
  random(): number;
  /** A DNS-1123 name derived from the experiment and the activity, for objects the drill creates. */
  readonly objectName: string;
}

/** One function of a provider, e.g. `stack` `payment-fault`. */
export interface FuncSpec<A = Record<string, unknown>> {
  /** Whether the function may be used as an action, a probe or both. */
  readonly kinds: readonly ('action' | 'probe')[];
  /** One line for `chaos validate` and docs. */
  readonly summary: string;
  readonly args: z.ZodType<A, unknown>;
  /** Extra time the activity needs beyond the default timeout (e.g. its `duration`), ms. */
  extraTimeMs?(args: A): number;
  /** What the function will do, for `--dry-run`. */
  describe(args: A): string;
  run(args: A, ctx: ProviderContext): Promise<unknown>;
}

// Each FuncSpec has its own argument type; the registry erases it because arguments are validated by `args` first.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FuncTable = Readonly<Record<string, FuncSpec<any>>>;

export function defineFunc<A>(spec: FuncSpec<A>): FuncSpec<A> {
  return spec;
}

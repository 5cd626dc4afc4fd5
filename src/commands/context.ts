import type { Command } from 'commander';
import type { AutoScalingPort } from '../adapters/aws-autoscaling/port.js';
import type { HaproxyPort } from '../adapters/haproxy/port.js';
import type { KubernetesPort } from '../adapters/kubernetes/port.js';
import type { PrometheusPort } from '../adapters/prometheus/port.js';
import type { StackAdminPort } from '../adapters/stack-admin/port.js';
import type { FlagsProvider, FlagsProviderKind } from '../flags/provider.js';
import type { LoadConfigOptions, LoadedConfig } from '../config/load.js';
import type { Runtime } from '../runtime.js';
import type { Paint } from '../ui/color.js';
import type { OutputFormat } from '../ui/output.js';
import type { Reporter } from '../reporter.js';

/** Flags every command understands (see `surgectl --help`). */
export interface GlobalOptions {
  config: string | undefined;
  output: OutputFormat;
  color: boolean;
  yes: boolean;
  verbose: boolean;
}

/**
 * The composition root: every adapter to an outside system is built here, from flags, config and
 * env, and nowhere else. Each SDK is imported on first use, so `surgectl --help` loads none.
 */
export interface Adapters {
  /**
   * The bundled stack's admin API at `url` (default `http://127.0.0.1:<stack.port>` from config),
   * with `token`, else the token in the env variable `tokenEnv` (default SURGECTL_STACK_ADMIN_TOKEN),
   * else `stack.adminToken`.
   * @throws SurgeError SRG_STACK_ADMIN when `requireToken` and there is no token.
   */
  stackAdmin(opts: { url?: string | undefined; tokenEnv?: string; token?: string; requireToken?: boolean }): Promise<StackAdminPort>;
  /**
   * Kubernetes through kubectl's lookup (--kubeconfig, else KUBECONFIG, else ~/.kube/config),
   * built on the first call of the returned function.
   */
  kubernetes(opts: { kubeconfig?: string | undefined; context?: string | undefined; namespace?: string | undefined }): () => Promise<KubernetesPort>;
  /**
   * AWS EC2 Auto Scaling in `region` (default: AWS_REGION / AWS_DEFAULT_REGION / the profile's),
   * credentials from the standard chain (env, `profile` or AWS_PROFILE, SSO, instance role).
   */
  autoScaling(opts: { region?: string | undefined; profile?: string | undefined }): Promise<AutoScalingPort>;
  /**
   * The flag provider of `surgectl flags` (default `flags.provider`): `unleash` at `unleashUrl`
   * (default `flags.unleashUrl`), project `project` (default `flags.project`), with the admin token
   * from env UNLEASH_ADMIN_TOKEN, else the first line of `flags.credentialsFile` (never printed);
   * `local`: the bundled stack's admin API at `stackUrl`, as `stackAdmin` builds it.
   * @throws SurgeError SRG_FLAGS_AUTH when Unleash has no token; SRG_CLI_USAGE when it has no URL.
   */
  flags(opts: { provider?: FlagsProviderKind | undefined; unleashUrl?: string | undefined; project?: string | undefined; environment?: string | undefined; stackUrl?: string | undefined; tokenEnv?: string | undefined }): Promise<FlagsProvider>;
  /** HAProxy's runtime API at `endpoint` (`host:port` or a unix socket path). */
  haproxy(endpoint: string): Promise<HaproxyPort>;
  /** Prometheus instant queries at `url` (user:pass@ becomes Basic auth; never printed). */
  prometheus(url: string): Promise<PrometheusPort>;
}

/** What src/cli.ts hands each command file: no command touches process.* itself. */
export interface CommandContext {
  readonly runtime: Runtime;
  /** Global flags, resolved after parsing. */
  globals(): GlobalOptions;
  /** Colours for stdout (follows stdout being a terminal, NO_COLOR and --no-color). */
  paint(): Paint;
  /** Colours for stderr (live progress lines, messages): follows stderr being a terminal. */
  stderrPaint(): Paint;
  /** Messages go to stderr, so stdout stays clean for -o json|yaml. */
  reporter(): Reporter;
  /** Adapters to outside systems (the one place they are wired). */
  readonly adapters: Adapters;
  /** Loads surgectl.yaml (or --config) layered with env and the given flags. */
  loadConfig(flags?: LoadConfigOptions['flags']): Promise<LoadedConfig>;
  /** Prints a result in the -o format; `human` renders the table form. */
  print(data: unknown, human: () => string): Promise<void>;
}

/** Each file in src/commands/ exports one of these. It must import domain code lazily. */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

/**
 * The flags of `cmd` that the user actually gave (not commander defaults), so config layering
 * keeps defaults < file < env < flags.
 */
export function givenFlags<T extends Record<string, unknown>>(cmd: Command, map: Record<string, keyof T>): Partial<T> {
  const out: Partial<T> = {};
  const opts = cmd.opts();
  for (const [flag, key] of Object.entries(map)) {
    const source = cmd.getOptionValueSource(flag);
    if (source === 'cli' || source === 'env') (out as Record<string, unknown>)[key as string] = opts[flag];
  }
  return out;
}

import { SurgeError } from '../errors.js';
import type { StackAdminPort } from '../adapters/stack-admin/port.js';
import type { UnleashPort } from '../adapters/unleash/port.js';

export type FlagsProviderKind = 'unleash' | 'local';

/** The environment name of the local provider: a bundled stack has exactly one. */
export const LOCAL_ENVIRONMENT = 'stack';

/** A flag's state in one environment. */
export interface FlagEnvironmentState {
  enabled: boolean;
  /** Local provider: an override set through the admin API is in force (else the stack's default is in use). */
  overridden?: boolean;
  /** Unleash: the flag has activation strategies there (switching a flag never changes them). */
  hasStrategies?: boolean;
}

/** One flag of a provider, with its state per environment. */
export interface FlagInfo {
  name: string;
  description: string;
  /** environment name -> state. */
  environments: Record<string, FlagEnvironmentState>;
}

/**
 * One interface over the flag providers surgectl drives: an Unleash project, or the bundled
 * stack's own flags. Errors are SurgeErrors of the underlying port (SRG_FLAGS_* for Unleash,
 * SRG_STACK_* for the stack).
 */
export interface FlagsProvider {
  readonly kind: FlagsProviderKind;
  /** Where the flags live: the Unleash URL or the stack URL (never carries a token). */
  readonly target: string;
  /** Unleash project; undefined for the local provider. */
  readonly project: string | undefined;
  /** The environment used when none is named (config `flags.environment`; local: `stack`). */
  readonly environment: string;
  /** Every flag with its state in every environment. */
  list(): Promise<FlagInfo[]>;
  /** The environments a flag can be switched in. */
  environments(): Promise<string[]>;
  /** Switches one flag in one environment. */
  set(name: string, environment: string, enabled: boolean): Promise<void>;
  /** Local only: drops the override, so the stack's default is in use again (restore of a flag that had none). */
  reset(name: string): Promise<void>;
  /** Unleash only: names of the strategies of a flag in an environment (kept in the snapshot, for the record). */
  strategies(name: string, environment: string): Promise<string[]>;
}

/** The flags of an Unleash project through its Admin API. */
export function createUnleashFlagsProvider(port: UnleashPort, opts: { project: string; environment: string }): FlagsProvider {
  return {
    kind: 'unleash',
    target: port.url,
    project: opts.project,
    environment: opts.environment,
    async list() {
      const features = await port.listFeatures(opts.project);
      return features.map((f) => ({
        name: f.name,
        description: f.description,
        environments: Object.fromEntries(f.environments.map((e) => [e.name, { enabled: e.enabled, hasStrategies: e.hasStrategies }])),
      }));
    },
    environments: () => port.environments(),
    set: (name, environment, enabled) => port.toggle(opts.project, name, environment, enabled),
    async reset(name) {
      throw new SurgeError('SRG_FLAGS_API', `Unleash flag '${name}' has no local override to drop`);
    },
    async strategies(name, environment) {
      return (await port.strategies(opts.project, name, environment)).map((s) => (s.disabled ? `${s.name} (disabled)` : s.name));
    },
  };
}

/** The bundled stack's own flags through its admin API (GET/PUT/DELETE /admin/flags). */
export function createLocalFlagsProvider(stack: StackAdminPort): FlagsProvider {
  return {
    kind: 'local',
    target: stack.url,
    project: undefined,
    environment: LOCAL_ENVIRONMENT,
    async list() {
      return (await stack.flags()).map((f) => ({ name: f.name, description: f.description, environments: { [LOCAL_ENVIRONMENT]: { enabled: f.enabled, overridden: f.overridden } } }));
    },
    environments: async () => [LOCAL_ENVIRONMENT],
    async set(name, _environment, enabled) {
      await stack.setFlag(name, enabled);
    },
    async reset(name) {
      await stack.clearFlag(name);
    },
    strategies: async () => [],
  };
}

import { SurgeError } from '../errors.js';
import type { FlagProvider } from './engine.js';

/** A flag the stack knows, with its default. */
export interface FlagDefinition {
  name: string;
  /** Value when no override is set. */
  defaultEnabled: boolean;
  description: string;
}

/**
 * The stack's flags. All default to on; each is a non-essential feature that an operator (or
 * `surgectl flags`/a runbook) can shed during a surge to save work per order.
 */
export const DEFAULT_FLAGS: readonly FlagDefinition[] = [
  { name: 'order-notifications', defaultEnabled: true, description: 'Write an order-confirmed notification to the outbox after confirm.' },
  { name: 'recommendations', defaultEnabled: true, description: 'Add best-selling in-stock skus to the order-confirmed notification.' },
  { name: 'loyalty-points', defaultEnabled: true, description: 'Credit loyalty points (one per whole currency unit) when an order is confirmed.' },
];

/** Where overrides survive a restart (the SQLite store implements it). */
export interface FlagOverrideStore {
  flagOverrides(): Map<string, boolean>;
  setFlagOverride(name: string, enabled: boolean | undefined): void;
}

/**
 * Local flags: defaults from `definitions`, run-time overrides kept in memory for fast reads
 * (isEnabled is on the hot path of every order) and written through to `store`.
 */
export function createLocalFlags(store: FlagOverrideStore, definitions: readonly FlagDefinition[] = DEFAULT_FLAGS): FlagProvider & { reload(): void } {
  const defs = new Map(definitions.map((d) => [d.name, d]));
  let overrides = new Map<string, boolean>();
  const reload = () => {
    // Overrides for flags this version no longer knows are ignored, not fatal.
    overrides = new Map([...store.flagOverrides()].filter(([name]) => defs.has(name)));
  };
  reload();
  const known = (name: string) => {
    const def = defs.get(name);
    if (def === undefined) {
      throw new SurgeError('SRG_STACK_UNKNOWN_FLAG', `unknown flag "${name}"`, { hint: `known flags: ${[...defs.keys()].join(', ')}` });
    }
    return def;
  };
  return {
    reload,
    isEnabled(name) {
      return overrides.get(name) ?? defs.get(name)?.defaultEnabled ?? false;
    },
    list() {
      return [...defs.values()].map((d) => ({ name: d.name, enabled: overrides.get(d.name) ?? d.defaultEnabled, overridden: overrides.has(d.name), description: d.description }));
    },
    set(name, enabled) {
      known(name);
      store.setFlagOverride(name, enabled);
      overrides.set(name, enabled);
    },
    clear(name) {
      known(name);
      store.setFlagOverride(name, undefined);
      overrides.delete(name);
    },
  };
}

import type { Logger } from 'pino';
import { SurgeError } from '../errors.js';
import type { FlagProvider, FlagSource } from './engine.js';

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

/**
 * Where overrides survive a restart: the order store (SQLite: this process; PostgreSQL: every
 * process on the database, read at its start). Async because a networked store serves it.
 */
export interface FlagOverrideStore {
  flagOverrides(): Promise<Map<string, boolean>>;
  /** Resolves once the override is durable; `undefined` removes it. */
  setFlagOverride(name: string, enabled: boolean | undefined): Promise<void>;
}

/** Called with every flag's value in use whenever the values may have changed (and once at start). */
export type FlagValuesListener = (values: ReadonlyMap<string, boolean>) => void;

/** Options shared by the flag providers. */
export interface FlagProviderOptions {
  /** Clock for refreshedAt, epoch ms. Default Date.now. */
  now?: () => number;
  /** See FlagValuesListener; watchFlagValues() turns these calls into a gauge and change logs. */
  onValues?: FlagValuesListener;
}

/**
 * Turns the providers' value reports into what an operator watches: the gauge
 * `surgectl_flag_enabled{flag}` (1/0) and one log line per flag whose value really changed
 * (a refresh that brings the same values logs nothing). The first report logs the values in use.
 */
export function watchFlagValues(deps: { source: FlagSource; logger: Logger; gauge?: { set(labels: { flag: string }, value: number): void } }): FlagValuesListener {
  let last: Map<string, boolean> | undefined;
  return (values) => {
    for (const [flag, enabled] of values) deps.gauge?.set({ flag }, enabled ? 1 : 0);
    if (last === undefined) {
      deps.logger.info({ source: deps.source, flags: Object.fromEntries(values) }, 'feature flags in use');
    } else {
      for (const [flag, enabled] of values) {
        const before = last.get(flag);
        if (before !== enabled) deps.logger.info({ flag, from: before, to: enabled, source: deps.source }, 'feature flag changed');
      }
    }
    last = new Map(values);
  };
}

/**
 * Local flags: defaults from `definitions`, run-time overrides kept in memory for fast reads
 * (isEnabled is on the hot path of every order) and written through to `store`.
 */
export async function createLocalFlags(
  store: FlagOverrideStore,
  definitions: readonly FlagDefinition[] = DEFAULT_FLAGS,
  opts: FlagProviderOptions = {},
): Promise<FlagProvider & { reload(): Promise<void> }> {
  const now = opts.now ?? Date.now;
  const defs = new Map(definitions.map((d) => [d.name, d]));
  let overrides = new Map<string, boolean>();
  // Local values are "fetched" when read from the store or changed: the start, then each switch.
  let refreshedAt = now();
  const report = () => {
    refreshedAt = now();
    opts.onValues?.(new Map([...defs.values()].map((d) => [d.name, overrides.get(d.name) ?? d.defaultEnabled])));
  };
  const reload = async () => {
    // Overrides for flags this version no longer knows are ignored, not fatal.
    overrides = new Map([...(await store.flagOverrides())].filter(([name]) => defs.has(name)));
    report();
  };
  await reload();
  const known = (name: string) => {
    const def = defs.get(name);
    if (def === undefined) {
      throw new SurgeError('SRG_STACK_UNKNOWN_FLAG', `unknown flag "${name}"`, { hint: `known flags: ${[...defs.keys()].join(', ')}` });
    }
    return def;
  };
  return {
    source: 'local',
    refreshedAt: () => refreshedAt,
    reload,
    isEnabled(name) {
      return overrides.get(name) ?? defs.get(name)?.defaultEnabled ?? false;
    },
    list() {
      return [...defs.values()].map((d) => ({ name: d.name, enabled: overrides.get(d.name) ?? d.defaultEnabled, overridden: overrides.has(d.name), description: d.description }));
    },
    // In use only once stored: an override the store refused must not steer this process alone.
    async set(name, enabled) {
      known(name);
      await store.setFlagOverride(name, enabled);
      overrides.set(name, enabled);
      report();
    },
    async clear(name) {
      known(name);
      await store.setFlagOverride(name, undefined);
      overrides.delete(name);
      report();
    },
  };
}

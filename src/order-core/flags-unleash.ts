import type { Logger } from 'pino';
import { InMemStorageProvider, Unleash, UnleashEvents, type ClientFeaturesResponse } from 'unleash-client';
import { SurgeError } from '../errors.js';
import type { FlagProvider } from './engine.js';
import { DEFAULT_FLAGS, type FlagDefinition, type FlagProviderOptions } from './flags.js';

/** How the stack connects to Unleash (see docs/flags.md). */
export interface UnleashFlagsOptions extends FlagProviderOptions {
  /** Base URL of the Unleash server, e.g. http://127.0.0.1:4242; the client API is `${url}/api/`. */
  url: string;
  /** A client (backend) API token. Sent as the Authorization header only; never logged. */
  clientToken: string;
  /** Unleash environment the token is for. Default 'development'. */
  environment?: string;
  /** How often the values are fetched again, ms. Default 15 000 (unleash-client's default). */
  refreshIntervalMs?: number;
  /** This process in Unleash's list of instances (GET /admin/flags shows the same id). */
  instanceId?: string;
  /** Application name Unleash sees. Default 'surgectl-stack'. */
  appName?: string;
  logger: Logger;
  /** The flags the stack uses, with the defaults in force until Unleash answers. Default DEFAULT_FLAGS. */
  definitions?: readonly FlagDefinition[];
}

/**
 * Marks the bootstrap copies of the flags: a 'changed' event whose data still carries it came
 * from the bootstrap, not from Unleash (a full fetch replaces every definition), so it must not
 * count as a refresh.
 */
const BOOTSTRAP_MARK = 'surgectl-bootstrap-default';

/**
 * Flags read from Unleash with unleash-client (the official Node SDK). Startup never waits for
 * Unleash: the bootstrap holds the definitions' defaults, so a stack whose Unleash is down starts
 * and serves with them, and the SDK's events ('changed', 'unchanged', 'error') update the values
 * as fetches succeed. Each flag is evaluated once per fetch with the stack's static context
 * (appName, environment) and kept in a Map, so isEnabled on the order path is one lookup rather
 * than an SDK evaluation (which builds a context object and counts metrics per call).
 * set()/clear() refuse: the values belong to Unleash.
 */
export function createUnleashFlags(opts: UnleashFlagsOptions): FlagProvider & { close(): void } {
  const now = opts.now ?? Date.now;
  const definitions = opts.definitions ?? DEFAULT_FLAGS;
  const log = opts.logger;
  const values = new Map(definitions.map((d) => [d.name, d.defaultEnabled]));
  let refreshedAt: number | undefined;
  // Logs "unreachable" once per outage and "connected" once per recovery, not once per refresh.
  let failing = false;
  const bootstrap: ClientFeaturesResponse['features'] = definitions.map((d) => ({
    name: d.name,
    enabled: d.defaultEnabled,
    description: BOOTSTRAP_MARK,
    strategies: [{ name: 'default', parameters: {}, constraints: [] }],
  }));

  const client = new Unleash({
    url: `${opts.url.replace(/\/+$/, '')}/api/`,
    appName: opts.appName ?? 'surgectl-stack',
    environment: opts.environment ?? 'development',
    ...(opts.instanceId !== undefined ? { instanceId: opts.instanceId } : {}),
    refreshInterval: opts.refreshIntervalMs ?? 15_000,
    customHeaders: { Authorization: opts.clientToken },
    // Usage counts would count our evaluations per fetch, not per order: meaningless, so off.
    disableMetrics: true,
    bootstrap: { data: bootstrap },
    // No file backup in the OS temp dir: a stack that cannot reach Unleash runs on the documented
    // defaults, not on whatever an earlier process (or another stack) left behind.
    storageProvider: new InMemStorageProvider<ClientFeaturesResponse>(),
    // Tests and rehearsals run several stacks in one process; each has its own client.
    skipInstanceCountWarning: true,
  });

  const connected = () => {
    refreshedAt = now();
    if (failing) log.info({ unleash: opts.url }, 'Unleash answers again; flags follow it');
    failing = false;
  };
  const evaluate = () => {
    for (const d of definitions) {
      // A flag Unleash does not define keeps its default: nobody switched it.
      values.set(d.name, client.isEnabled(d.name, {}, d.defaultEnabled));
    }
    opts.onValues?.(values);
  };
  const trouble = (level: 'warn' | 'error', message: string) => {
    if (failing) return;
    failing = true;
    log[level]({ unleash: opts.url, reason: message, flags: Object.fromEntries(values) }, 'cannot read flags from Unleash; keeping the values in use');
  };

  client.on(UnleashEvents.Changed, (features: { description?: string }[]) => {
    if (!features.some((f) => f.description === BOOTSTRAP_MARK)) connected();
    evaluate();
  });
  // 304: Unleash answered and nothing changed; the values in use are fresh as of now.
  client.on(UnleashEvents.Unchanged, () => connected());
  client.on(UnleashEvents.Error, (err: unknown) => trouble('error', err instanceof Error ? err.message : String(err)));
  // The SDK reports 404/429/5xx answers (it backs off) as warnings.
  client.on(UnleashEvents.Warn, (msg: unknown) => {
    if (typeof msg === 'string' && /Backing off|retrying/i.test(msg)) trouble('warn', msg);
  });
  opts.onValues?.(values);

  const readonly = (name: string): never => {
    throw new SurgeError('SRG_STACK_FLAG_READONLY', `flag "${name}" comes from Unleash (${opts.url}); the stack cannot switch it`, {
      hint: `Switch it in Unleash, e.g. surgectl flags off ${name} (with the unleash provider).`,
    });
  };
  return {
    source: 'unleash',
    refreshedAt: () => refreshedAt,
    isEnabled: (name) => values.get(name) ?? false,
    list: () => definitions.map((d) => ({ name: d.name, enabled: values.get(d.name) ?? d.defaultEnabled, overridden: false, description: d.description })),
    set: async (name) => readonly(name),
    clear: async (name) => readonly(name),
    close() {
      client.removeAllListeners();
      // destroy() leaves an 'error' from a fetch in flight without a listener; keep one.
      client.on(UnleashEvents.Error, () => {});
      client.destroy();
    },
  };
}

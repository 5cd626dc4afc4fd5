import { SurgeError, isSurgeError } from '../errors.js';
import type { RawResult } from '../loadtest/engine.js';
import { parseScenario, type LoadedScenario } from '../loadtest/scenario.js';
import type { Experiment } from './experiment.js';

/**
 * A drill's background load: a modest open-model order stream at the stack while the drill runs,
 * so windowed probes have traffic to measure. It is a load test like any other: one
 * constant-arrival-rate profile run by the loadtest engine (src/loadtest/engine.ts), with the
 * loadtest's payloads; this module only shapes the drill's `load` section into that scenario and
 * the engine's result into the journal's `load` figures.
 */
export interface LoadOptions {
  /** Base URL of the stack's intake API; must be loopback. */
  url: string;
  /** Orders per second. */
  rate: number;
  /** Upper bound on requests in total (arrivals, dropped ones included). */
  maxRequests: number;
  /** Upper bound on the time load runs, ms. */
  maxDurationMs: number;
  /** Requests in flight at once; an arrival that finds none free is dropped (counted, not queued). */
  maxInFlight: number;
  /** Stops the load early (the drill's interrupt); stop() does the same. */
  signal?: AbortSignal;
}

/** What the background load did: the journal's `load`. */
export interface LoadSummary {
  /** Orders per second asked for. */
  rate: number;
  sent: number;
  /** 2xx answers. */
  accepted: number;
  /** 3xx and 4xx answers (e.g. 429 rate-limited, 422 sold-out sku). */
  rejected: number;
  /** 5xx answers (shed, dropped by a fault, store down). */
  errors: number;
  /** Requests that got no HTTP answer (refused, timed out, or still unanswered when the load stopped). */
  failed: number;
  /** Arrivals not sent because maxInFlight requests were already waiting. */
  dropped: number;
  /** How long the load ran, ms. */
  durationMs: number;
}

export interface RunningLoad {
  /** Stops sending, gives requests in flight a moment to finish and returns the summary. */
  stop(): Promise<LoadSummary>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True when the URL points at this machine; the built-in load never leaves it. */
export function isLoopback(url: string): boolean {
  try {
    return LOOPBACK.has(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** The load options of an experiment's `load` section against the stack at `url`. Pure. */
export function loadOptionsFor(load: NonNullable<Experiment['load']>, url: string, signal?: AbortSignal): LoadOptions {
  return {
    url,
    rate: load.rate,
    maxRequests: load.maxRequests ?? Math.ceil((load.rate * load.maxDuration) / 1000),
    maxDurationMs: load.maxDuration,
    maxInFlight: load.maxInFlight,
    ...(signal ? { signal } : {}),
  };
}

/**
 * The drill's load as a load-test scenario: single-line, single-unit orders at `rate`/s. The
 * engine has no request cap, so maxRequests becomes a shorter duration: at a constant rate the
 * schedule reaches exactly maxRequests arrivals at maxRequests / rate seconds (rounded up to the
 * ms, which adds less than one arrival at the schema's rate <= 500/s, and the engine floors).
 * `name` names the scenario in results (the failover drill's load is `failover-drill-load`). Pure.
 */
export function drillLoadScenario(opts: LoadOptions, skus: readonly string[], name = 'chaos-drill-load'): LoadedScenario {
  const durationMs = Math.max(1, Math.ceil(Math.min(opts.maxDurationMs, (opts.maxRequests * 1000) / opts.rate)));
  const slots = Math.min(opts.maxInFlight, 16);
  return parseScenario(
    {
      name,
      target: opts.url,
      scenarios: {
        drill: {
          executor: 'constant-arrival-rate',
          rate: opts.rate,
          timeUnit: '1s',
          duration: `${durationMs}ms`,
          preAllocatedVUs: slots,
          maxVUs: opts.maxInFlight,
          // The drill stops the load itself; at the end of its schedule answers get as long as a request may take.
          gracefulStop: '10s',
        },
      },
      requests: [{ kind: 'create-order', name: 'drill_order', items: { min: 1, max: 1 }, qty: { min: 1, max: 1 } }],
      payload: { skus: [...skus], customers: 50 },
      http: { connections: slots, timeout: '10s' },
      scrapeMetrics: false,
    },
    { defaultName: 'chaos-drill-load' },
  );
}

/**
 * The journal's `load` figures from the engine's result. Every arrival is sent or dropped; a sent
 * request is accepted (2xx), rejected (3xx/4xx), an error (5xx) or failed (no answer, status 0 in
 * the engine's series, or not yet answered when the load stopped). Pure.
 */
export function summarizeLoad(raw: RawResult, rate: number): LoadSummary {
  let accepted = 0;
  let rejected = 0;
  let errors = 0;
  for (const s of raw.series) {
    const status = Number(s.tags.status);
    if (status >= 200 && status < 300) accepted += s.count;
    else if (status >= 300 && status < 500) rejected += s.count;
    else if (status >= 500) errors += s.count;
  }
  const arrivals = raw.scenarios.reduce((a, sc) => a + sc.arrivals, 0);
  const sent = arrivals - raw.dropped;
  return { rate, sent, accepted, rejected, errors, failed: sent - (accepted + rejected + errors), dropped: raw.dropped, durationMs: Math.round(raw.durationMs) };
}

/**
 * Starts the drill's load at the stack: skus in stock from its inventory, then the loadtest
 * engine. Bounded by maxRequests and maxDurationMs whatever happens; stop() or the signal end it
 * earlier.
 * @throws SurgeError SRG_CHAOS_EXPERIMENT for a stack that is not on this machine,
 *   SRG_STACK_UNREACHABLE when its inventory cannot be read, SRG_STACK_SEED when nothing is in stock.
 */
export async function startLoad(opts: LoadOptions): Promise<RunningLoad> {
  if (!isLoopback(opts.url)) {
    throw new SurgeError('SRG_CHAOS_EXPERIMENT', `load: the built-in drill load only targets a stack on this machine, not ${opts.url}`, {
      hint: 'Drive remote targets with `surgectl loadtest run` alongside the drill, and drop the `load` section.',
    });
  }
  const [{ runEngine }, { fetchSkus }, { randomBytes }] = await Promise.all([import('../loadtest/engine.js'), import('../loadtest/run.js'), import('node:crypto')]);
  const skus = await fetchSkus(opts.url, opts.signal, { inStockOnly: true }).catch((err: unknown) => {
    throw stackError(err, opts.url);
  });
  const stopper = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stopper.signal]) : stopper.signal;
  const { scenario } = drillLoadScenario(opts, skus);
  const done = runEngine(scenario, { skus, runId: `chaos-${randomBytes(6).toString('hex')}`, signal });
  // stop() reports a failure of the engine; until then it must not surface as an unhandled rejection.
  done.catch(() => undefined);
  return {
    async stop() {
      stopper.abort();
      return summarizeLoad(await done, opts.rate);
    },
  };
}

/** The loadtest's inventory errors, in the drill's words: the load's target is the stack. */
function stackError(err: unknown, url: string): unknown {
  if (!isSurgeError(err)) return err;
  if (err.code === 'SRG_LOADTEST_UNREACHABLE') {
    return new SurgeError('SRG_STACK_UNREACHABLE', `load: ${err.message}`, { hint: 'Is the stack running? Start it with `surgectl stack up`.', cause: err });
  }
  if (err.code === 'SRG_LOADTEST_TARGET') {
    return new SurgeError('SRG_STACK_SEED', `load: the stack at ${url} has no sku in stock to order`, { hint: 'Seed inventory with `surgectl stack up --seed-inventory N`.', cause: err });
  }
  return err;
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { SurgeError } from '../errors.js';

/** A modest open-model order stream at the stack while a drill runs, so probes have traffic to measure. */
export interface LoadOptions {
  /** Base URL of the stack's intake API; must be loopback. */
  url: string;
  /** Orders per second. */
  rate: number;
  /** Upper bound on requests in total. */
  maxRequests: number;
  /** Upper bound on the time load runs, ms. */
  maxDurationMs: number;
  /** Requests in flight at once; an arrival that finds none free is dropped (counted, not queued). */
  maxInFlight: number;
  now?: () => number;
}

/** What the background load did. */
export interface LoadSummary {
  /** Orders per second asked for. */
  rate: number;
  sent: number;
  /** 2xx answers. */
  accepted: number;
  /** 4xx answers (e.g. 429 rate-limited, 422 sold-out sku). */
  rejected: number;
  /** 5xx answers (shed, dropped by a fault, store down). */
  errors: number;
  /** Requests that got no HTTP answer. */
  failed: number;
  /** Arrivals not sent because maxInFlight requests were already waiting. */
  dropped: number;
  /** How long the load ran, ms. */
  durationMs: number;
}

export interface RunningLoad {
  /** Stops sending, waits for requests in flight and returns the summary. */
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

/**
 * Starts sending POST /v1/orders at `rate` per second (arrivals scheduled by the clock, not by
 * answers) with skus drawn from the stack's own inventory. Bounded by maxRequests and
 * maxDurationMs whatever happens; stop() ends it earlier.
 */
export async function startLoad(opts: LoadOptions): Promise<RunningLoad> {
  if (!isLoopback(opts.url)) {
    throw new SurgeError('SRG_CHAOS_EXPERIMENT', `load: the built-in drill load only targets a stack on this machine, not ${opts.url}`, {
      hint: 'Drive remote targets with `surgectl loadtest run` alongside the drill, and drop the `load` section.',
    });
  }
  const now = opts.now ?? Date.now;
  const base = opts.url.replace(/\/+$/, '');
  const dispatcher = new Agent({ connections: Math.min(opts.maxInFlight, 16), keepAliveTimeout: 5_000 });
  const skus = await inventorySkus(base, dispatcher);
  const summary: LoadSummary = { rate: opts.rate, sent: 0, accepted: 0, rejected: 0, errors: 0, failed: 0, dropped: 0, durationMs: 0 };
  const inFlight = new Set<Promise<void>>();
  const stopper = new AbortController();
  const started = now();
  const deadline = started + opts.maxDurationMs;
  let n = 0;

  const fire = () => {
    const i = n++;
    const sku = skus[i % skus.length] as string;
    const p = request(`${base}/v1/orders`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', 'idempotency-key': `chaos-${randomUUID()}` },
      body: JSON.stringify({ customerId: `chaos-drill-${i % 50}`, items: [{ sku, qty: 1 }] }),
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode < 300) summary.accepted++;
        else if (res.statusCode < 500) summary.rejected++;
        else summary.errors++;
      })
      .catch(() => {
        summary.failed++;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    summary.sent++;
  };

  const loop = (async () => {
    const tickMs = Math.max(5, Math.min(50, 1000 / opts.rate));
    while (!stopper.signal.aborted) {
      const t = now();
      if (t >= deadline) break;
      const due = Math.min(opts.maxRequests, Math.floor(((t - started) * opts.rate) / 1000));
      while (summary.sent + summary.dropped < due) {
        if (inFlight.size < opts.maxInFlight) fire();
        else summary.dropped++;
      }
      if (summary.sent + summary.dropped >= opts.maxRequests) break;
      await sleep(tickMs, undefined, { signal: stopper.signal }).catch(() => undefined);
    }
  })();

  return {
    async stop() {
      stopper.abort();
      await loop;
      await Promise.allSettled([...inFlight]);
      summary.durationMs = now() - started;
      await dispatcher.close();
      return { ...summary };
    },
  };
}

/** Skus with stock, most available first, from GET /v1/inventory. */
async function inventorySkus(base: string, dispatcher: Agent): Promise<string[]> {
  let items: { sku: string; available: number }[];
  try {
    const res = await request(`${base}/v1/inventory`, { dispatcher, signal: AbortSignal.timeout(10_000) });
    const body = (await res.body.json()) as { items?: { sku: string; available: number }[] };
    items = body.items ?? [];
  } catch (cause) {
    throw new SurgeError('SRG_STACK_UNREACHABLE', `load: cannot read the stack's inventory at ${base}/v1/inventory: ${(cause as Error).message}`, {
      hint: 'Is the stack running? Start it with `surgectl stack up`.',
      cause,
    });
  }
  const skus = items.filter((i) => i.available > 0).sort((a, b) => b.available - a.available).map((i) => i.sku);
  if (skus.length === 0) {
    throw new SurgeError('SRG_STACK_SEED', 'load: the stack has no sku in stock to order', { hint: 'Seed inventory with `surgectl stack up --seed-inventory N`.' });
  }
  return skus;
}

import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { SurgeError } from '../errors.js';
import { parsePromText, type PromExposition } from '../util/prom-text.js';
import type { Reporter } from '../reporter.js';
import { runEngine, type Progress } from './engine.js';
import { needsSkus } from './requests.js';
import { applyOverrides, type LoadedScenario, type ScenarioOverrides } from './scenario.js';
import { abortReason, buildSummary, evaluateThresholds, inputFromRaw, type LoadTestResult } from './summary.js';

/** Options of {@link runLoadTest}. Every field is optional. */
export interface RunLoadTestOptions {
  /** Cancels the run; the result so far is returned with `aborted: 'interrupted'`. */
  signal?: AbortSignal;
  /** Notices (skus fetched, /metrics not scraped, ...). */
  reporter?: Reporter;
  /** About once per second while the run goes. */
  onProgress?: (p: Progress) => void;
  /** Target URL, peak rate, duration, extra thresholds. */
  overrides?: ScenarioOverrides;
  /** Whether stdout/stderr are terminals (recorded in the summary's `state`, as k6 does). */
  tty?: { stdout: boolean; stderr: boolean };
  /** Prefix of Idempotency-Keys; default random per run. */
  runId?: string;
  /** Test seam for the payload generators. Returns [0, 1). */
  random?: () => number;
}

/**
 * Runs a load test with the builtin engine and returns k6's summary shape plus threshold
 * verdicts. Never prints; never throws for failed thresholds (`passed: false` says so).
 * Throws SurgeError SRG_LOADTEST_TARGET when the target's inventory cannot be read.
 */
export async function runLoadTest(loaded: LoadedScenario, opts: RunLoadTestOptions = {}): Promise<LoadTestResult> {
  const ls = opts.overrides ? applyOverrides(loaded, opts.overrides) : loaded;
  const { scenario, thresholds } = ls;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.reporter?.notify(m, 'warn');
  };
  for (const w of ls.warnings ?? []) warn(w);

  let skus: readonly string[] = [];
  if (needsSkus(scenario)) {
    skus = scenario.payload.skus === 'inventory' ? await fetchSkus(scenario.target, opts.signal) : scenario.payload.skus;
    opts.reporter?.notify(`${skus.length} sku(s) for order payloads${scenario.payload.skus === 'inventory' ? ` from ${scenario.target}/v1/inventory` : ''}`, 'debug');
  }

  const scrapeBefore = scenario.scrapeMetrics ? await scrape(scenario.target, opts.signal) : undefined;
  if (scenario.scrapeMetrics && !scrapeBefore) warn(`could not read ${scenario.target}/metrics; thresholds on target metrics will fail`);

  const createsOrders = needsSkus(scenario);
  const abortThresholds = thresholds.filter((t) => t.abortOnFail);
  const raw = await runEngine(scenario, {
    skus,
    runId: opts.runId ?? randomBytes(6).toString('hex'),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    ...(abortThresholds.length > 0
      ? {
          checkAbort: (live) => abortReason(abortThresholds, live, createsOrders),
        }
      : {}),
  });

  const scrapeAfter = scrapeBefore ? await scrape(scenario.target) : undefined;
  const input = inputFromRaw(raw, { createsOrders, ...(scrapeBefore ? { scrapeBefore } : {}), ...(scrapeAfter ? { scrapeAfter } : {}) });
  const results = evaluateThresholds(input, thresholds);
  const summary = buildSummary(input, results, opts.tty);
  return {
    engine: 'builtin',
    scenario: scenario.name ?? 'loadtest',
    target: scenario.target,
    passed: results.every((r) => r.ok) && (raw.aborted === undefined || raw.aborted === 'interrupted'),
    thresholds: results,
    summary,
    ...(raw.aborted === undefined ? {} : { aborted: raw.aborted }),
    scenarios: raw.scenarios,
    timeline: raw.timeline,
    durationMs: raw.durationMs,
    warnings,
  };
}

/**
 * Skus of the target's seeded inventory (GET /v1/inventory). With `inStockOnly`, only skus with
 * `available > 0` (chaos drill load: an order for a sold-out sku measures nothing the probes want).
 */
export async function fetchSkus(target: string, signal?: AbortSignal, opts: { inStockOnly?: boolean } = {}): Promise<string[]> {
  const url = `${target.replace(/\/$/, '')}/v1/inventory`;
  let status: number;
  let body: unknown;
  try {
    const res = await request(url, { signal: signal ?? null, headersTimeout: 10_000, bodyTimeout: 10_000 });
    status = res.statusCode;
    body = await res.body.json().catch(() => undefined);
  } catch (cause) {
    throw new SurgeError('SRG_LOADTEST_UNREACHABLE', `Cannot reach ${url}: ${(cause as Error).message}`, {
      cause,
      hint: 'Start the bundled stack (surgectl stack up) or pass --target <url>; or list skus in the scenario (payload.skus).',
    });
  }
  const items = (body as { items?: { sku?: unknown; available?: unknown }[] } | undefined)?.items;
  const inStock = (i: { available?: unknown }) => !opts.inStockOnly || (typeof i.available === 'number' && i.available > 0);
  const skus = Array.isArray(items) ? items.filter(inStock).map((i) => i.sku).filter((s): s is string => typeof s === 'string' && s !== '') : [];
  if (status !== 200 || skus.length === 0) {
    throw new SurgeError('SRG_LOADTEST_TARGET', `${url} answered ${status} without any sku; order payloads need at least one`, {
      hint: 'Seed the stack inventory, or list skus in the scenario (payload.skus).',
    });
  }
  return skus;
}

/** The target's Prometheus metrics, or undefined when it has none. */
export async function scrape(target: string, signal?: AbortSignal): Promise<PromExposition | undefined> {
  try {
    const res = await request(`${target.replace(/\/$/, '')}/metrics`, { signal: signal ?? null, headersTimeout: 5_000, bodyTimeout: 5_000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) return undefined;
    const parsed = parsePromText(text);
    return parsed.samples.length > 0 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

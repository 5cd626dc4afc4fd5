import type { InventoryItem, StackAdminPort, StackFlag, StackStatus } from '../adapters/stack-admin/port.js';
import { bucketIncrease, histogramBuckets, histogramQuantile, increase, parsePromText, sumSamples, type PromSample } from '../util/prom-text.js';
import type { StockReading, WatchSample, WatchSource } from './types.js';

/** Everything read from the stack at one moment. */
export interface StackScrape {
  /** ms since the epoch. */
  at: number;
  metrics: readonly PromSample[];
  status: StackStatus;
  flags: readonly StackFlag[];
  /** null when the inventory could not be read (stock is then left out, not the whole screen). */
  inventory: readonly InventoryItem[] | null;
}

const INTAKE_ROUTES = ['/v1/orders', '/v1/orders/batch'];
const DURATION = 'surgectl_http_request_duration_seconds';

/** Answers to order submissions by status code, summed over the intake routes (cumulative). */
function intakeCounts(metrics: readonly PromSample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of metrics) {
    if (s.name !== `${DURATION}_count` || s.labels.method !== 'POST' || !INTAKE_ROUTES.includes(s.labels.route ?? '')) continue;
    const code = s.labels.status_code ?? '';
    out.set(code, (out.get(code) ?? 0) + s.value);
  }
  return out;
}

function intakeBuckets(metrics: readonly PromSample[]): Map<number, number> {
  // The single-order route: batch latencies grow with the batch and would blur the quantiles.
  return histogramBuckets(metrics, DURATION, { route: '/v1/orders', method: 'POST' });
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * A sample from two scrapes of the bundled stack: rates are counter increases over the time
 * between them (a restarted stack counts from zero, as PromQL's increase() does); p50/p99 come
 * from the intake histogram's bucket increases. Gauges, flags and stock are as of `cur`.
 */
export function stackSample(prev: StackScrape | undefined, cur: StackScrape): WatchSample {
  const seconds = prev === undefined ? 0 : (cur.at - prev.at) / 1000;
  const rated = prev !== undefined && seconds > 0;
  const rate = (before: number | undefined, after: number | undefined): number | null => (rated ? round(increase(before, after) / seconds) : null);
  const accepted = (m: readonly PromSample[]) => sumSamples(m, 'surgectl_orders_accepted_total') ?? 0;
  const confirmed = (m: readonly PromSample[]) => sumSamples(m, 'surgectl_orders_completed_total', { status: 'confirmed' }) ?? 0;

  const before = prev === undefined ? new Map<string, number>() : intakeCounts(prev.metrics);
  const after = intakeCounts(cur.metrics);
  const answered = (pick: (code: string) => boolean) => {
    let b = 0;
    let a = 0;
    for (const [code, n] of after) if (pick(code)) a += n;
    for (const [code, n] of before) if (pick(code)) b += n;
    return rate(b, a);
  };
  let p50: number | null = null;
  let p99: number | null = null;
  if (prev !== undefined) {
    const delta = bucketIncrease(intakeBuckets(prev.metrics), intakeBuckets(cur.metrics));
    const q = (x: number) => {
      const v = histogramQuantile(x, delta);
      return v === undefined ? null : round(v * 1000);
    };
    p50 = q(0.5);
    p99 = q(0.99);
  }

  const prevStock = new Map((prev?.inventory ?? []).map((i) => [i.sku, i]));
  const stock: StockReading[] | null =
    cur.inventory === null
      ? null
      : cur.inventory.map((i) => {
          const p = prevStock.get(i.sku);
          return { sku: i.sku, available: i.available, takenPerSec: p === undefined ? null : rate(p.reserved + p.sold, i.reserved + i.sold) };
        });

  return {
    at: cur.at,
    acceptedPerSec: rate(prev && accepted(prev.metrics), accepted(cur.metrics)),
    confirmedPerSec: rate(prev && confirmed(prev.metrics), confirmed(cur.metrics)),
    intakePerSec: answered(() => true),
    intakeP50Ms: p50,
    intakeP99Ms: p99,
    errorsPerSec: answered((c) => c.startsWith('5') && c !== '503'),
    rateLimitedPerSec: answered((c) => c === '429'),
    unavailablePerSec: answered((c) => c === '503'),
    queueDepth: cur.status.queue.depth,
    oldestWaitMs: cur.status.queue.oldestWaitingMs,
    workersBusy: cur.status.workers.busy,
    workersSize: cur.status.workers.size,
    breaker: cur.status.breaker,
    flags: cur.flags.map((f) => ({ name: f.name, enabled: f.enabled })),
    stock,
    totals: { accepted: accepted(cur.metrics), confirmed: confirmed(cur.metrics) },
  };
}

/**
 * The bundled stack as a watch source: GET /metrics, /admin/status and /admin/flags through the
 * admin port, and the stock through `inventory`. It keeps the previous scrape to compute rates.
 */
export function createStackWatchSource(admin: StackAdminPort, now: () => number): WatchSource {
  let prev: StackScrape | undefined;
  return {
    describe: admin.url,
    needsTwoReadings: true,
    async read(opts = {}) {
      const [text, status, flags, items] = await Promise.all([
        admin.metricsText(),
        admin.status({ signal: opts.signal }),
        admin.flagList({ signal: opts.signal }),
        admin.inventory({ signal: opts.signal }).catch(() => null),
      ]);
      const cur: StackScrape = { at: now(), metrics: parsePromText(text).samples, status, flags: flags.flags, inventory: items };
      const sample = stackSample(prev, cur);
      prev = cur;
      return sample;
    },
  };
}

import { build, type Histogram } from 'hdr-histogram-js';
import type { MetricObservation, MetricType } from '../probes/index.js';

/**
 * Client-side metrics of a run, under k6's names so thresholds read the same in both engines.
 * Requests are recorded per series (scenario × request name × method × status) so tagged
 * thresholds like `http_req_duration{scenario:checkout}` merge exactly the matching histograms.
 */

/** Types and units of the metrics the builtin engine records (k6's built-ins plus order metrics). */
export const BUILTIN_METRICS: Readonly<Record<string, { type: MetricType; contains: 'time' | 'data' | 'default' }>> = {
  http_reqs: { type: 'counter', contains: 'default' },
  http_req_duration: { type: 'trend', contains: 'time' },
  http_req_failed: { type: 'rate', contains: 'default' },
  iterations: { type: 'counter', contains: 'default' },
  dropped_iterations: { type: 'counter', contains: 'default' },
  data_received: { type: 'counter', contains: 'data' },
  vus: { type: 'gauge', contains: 'default' },
  vus_max: { type: 'gauge', contains: 'default' },
  orders_accepted: { type: 'counter', contains: 'default' },
  orders_rejected: { type: 'counter', contains: 'default' },
  orders_confirmed: { type: 'counter', contains: 'default' },
  inventory_oversold_units: { type: 'gauge', contains: 'default' },
};

/** The percentiles shown in summaries (k6's summaryTrendStats plus p(99)). */
export const TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'] as const;

/** Latencies are recorded in microseconds (integers for HDR) and reported in milliseconds, as k6 does. */
export function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, bitBucketSize: 32, useWebAssembly: false });
}

/** One combination of tags and what was recorded under it. */
export interface Series {
  readonly tags: Readonly<Record<string, string>>;
  count: number;
  failed: number;
  sumUs: number;
  minUs: number;
  maxUs: number;
  readonly hist: Histogram;
  /**
   * Every duration (µs) while the series holds at most {@link EXACT_SAMPLES}; dropped beyond that.
   * Small samples get k6's exact, interpolated percentiles instead of HDR bucket edges.
   */
  samples: number[] | undefined;
}

/**
 * Up to this many durations per series are kept exactly. An HDR percentile is the upper edge of
 * a bucket, so on a few requests it can exceed the largest one (250 ms every time gives p(95) =
 * 250.111) and it never interpolates between samples as k6 does (med of 100 and 300 ms is 200).
 */
export const EXACT_SAMPLES = 10_000;

export function newSeries(tags: Record<string, string>): Series {
  return { tags, count: 0, failed: 0, sumUs: 0, minUs: Number.POSITIVE_INFINITY, maxUs: 0, hist: newHistogram(), samples: [] };
}

/** Counts an answered (or failed) request; `us` is its duration in microseconds. */
export function recordInto(s: Series, us: number, failed: boolean): void {
  const v = us < 1 ? 1 : Math.round(us);
  s.count++;
  if (failed) s.failed++;
  s.sumUs += v;
  if (v < s.minUs) s.minUs = v;
  if (v > s.maxUs) s.maxUs = v;
  s.hist.recordValue(v);
  if (s.samples !== undefined) {
    if (s.samples.length < EXACT_SAMPLES) s.samples.push(v);
    else s.samples = undefined;
  }
}

/** k6's percentile of sorted values: linear interpolation between the two nearest ranks. */
export function interpolatedPercentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const i = (Math.min(100, Math.max(0, p)) / 100) * (n - 1);
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  const a = sorted[lo]!;
  return a + (sorted[hi]! - a) * (i - lo);
}

/**
 * A trend observation over merged series, in ms. Percentiles are exact with k6's interpolation
 * while the merged series hold at most {@link EXACT_SAMPLES} requests, and come from the merged
 * HDR histogram (3 significant digits, kept within min..max) beyond that.
 */
export function trendOf(series: readonly Series[]): MetricObservation | undefined {
  const withData = series.filter((s) => s.count > 0);
  if (withData.length === 0) return undefined;
  const count = withData.reduce((a, s) => a + s.count, 0);
  const sum = withData.reduce((a, s) => a + s.sumUs, 0);
  const min = Math.min(...withData.map((s) => s.minUs));
  const max = Math.max(...withData.map((s) => s.maxUs));
  let pct: (p: number) => number;
  if (count <= EXACT_SAMPLES && withData.every((s) => s.samples !== undefined && s.samples.length === s.count)) {
    // Small sample: exact values and k6's interpolation, sorted once on first use.
    let sorted: Float64Array | undefined;
    pct = (p) => {
      if (!sorted) {
        sorted = new Float64Array(count);
        let at = 0;
        for (const s of withData) for (const v of s.samples!) sorted[at++] = v;
        sorted.sort();
      }
      return interpolatedPercentile(sorted, p) / 1000;
    };
  } else {
    let hist: Histogram;
    if (withData.length === 1) hist = withData[0]!.hist;
    else {
      hist = newHistogram();
      for (const s of withData) hist.add(s.hist);
    }
    // HDR answers with a bucket's upper edge, which may lie just above the largest sample.
    pct = (p) => (p >= 100 ? max : p <= 0 ? min : Math.min(max, Math.max(min, hist.getValueAtPercentile(p)))) / 1000;
  }
  const values: Record<string, number> = { avg: sum / count / 1000, min: min / 1000, med: pct(50), max: max / 1000 };
  for (const p of [90, 95, 99]) values[`p(${p})`] = pct(p);
  // JS (not WASM) histograms are garbage-collected, so the merged copy may live as long as the observation.
  const observation: MetricObservation = { type: 'trend', values, percentile: pct };
  return observation;
}

import { SurgeError } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import type { HygieneReport, RawSeries, Series } from './types.js';

/** How a raw series is put on a regular grid. */
export interface RegulariseOptions {
  /** Grid step, ms. Default: the median gap between consecutive timestamps. */
  stepMs?: number;
  /**
   * The values are a monotonically increasing counter (e.g. orders_accepted_total): they are
   * turned into a per-second rate, and drops (process restarts) are treated as resets. Default false.
   */
  counter?: boolean;
  /** Refuse (SRG_DATA_GAP) a series with a run of missing grid slots longer than this, ms. Default: any hole is filled. */
  maxGapMs?: number;
  /** Accept negative values (refunds netted out, a signed metric). Default false: SRG_DATA_NEGATIVE names them. */
  allowNegative?: boolean;
}

/**
 * Sorts, de-duplicates, resamples onto a regular grid and fills gaps. Throws SRG_DATA_* with the
 * series name when nothing usable is left.
 */
export function regularise(raw: RawSeries, opts: RegulariseOptions = {}): Series {
  // A row with a time and an empty value cell is a hole in the export, filled like a missing row.
  const input = raw.points.filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
  const emptyValues = raw.points.filter((p) => Number.isFinite(p.t) && Number.isNaN(p.v)).length;
  if (opts.allowNegative === false) refuseNegative(raw.name, input);
  if (input.length === 0) {
    throw new SurgeError('SRG_DATA_EMPTY', `series "${raw.name}" has no usable points`, {
      hint: 'Check the file or query: at least two points with a timestamp and a numeric value are needed.',
    });
  }
  let unsorted = 0;
  for (let i = 1; i < input.length; i++) if ((input[i] as { t: number }).t < (input[i - 1] as { t: number }).t) unsorted++;
  const sorted = unsorted > 0 ? [...input].sort((a, b) => a.t - b.t) : input;

  // Same timestamp twice: a re-sent scrape or a merged export; averaging keeps both honest.
  let ts: number[] = [];
  const vs: number[] = [];
  let duplicates = 0;
  for (let i = 0; i < sorted.length; ) {
    const t = (sorted[i] as { t: number }).t;
    let sum = 0;
    let n = 0;
    while (i < sorted.length && (sorted[i] as { t: number }).t === t) {
      sum += (sorted[i] as { v: number }).v;
      n++;
      i++;
    }
    duplicates += n - 1;
    ts.push(t);
    vs.push(sum / n);
  }
  if (ts.length < 2) {
    throw new SurgeError('SRG_DATA_TOO_SHORT', `series "${raw.name}" has only ${ts.length} distinct point; at least 2 are needed`, {
      hint: 'Give a longer history (--lookback, or more rows in the file).',
    });
  }

  let counterResets = 0;
  let values = vs;
  if (opts.counter) {
    // A counter becomes a per-second rate; a drop means the process restarted and counted from 0.
    const rate: number[] = [];
    const rts: number[] = [];
    for (let i = 1; i < vs.length; i++) {
      const dv = (vs[i] as number) - (vs[i - 1] as number);
      const dt = ((ts[i] as number) - (ts[i - 1] as number)) / 1000;
      let inc = dv;
      if (dv < 0) {
        counterResets++;
        inc = vs[i] as number;
      }
      rate.push(inc / dt);
      rts.push(ts[i] as number);
    }
    ts = rts;
    values = rate;
    if (ts.length < 2) {
      throw new SurgeError('SRG_DATA_TOO_SHORT', `counter series "${raw.name}" gives fewer than 2 rate points`);
    }
  }

  // Rows with an empty value still tell the step and phase of the export (hourly rows with one blank are hourly).
  const gridTs = emptyValues > 0 && !opts.counter ? [...new Set(raw.points.filter((p) => Number.isFinite(p.t)).map((p) => p.t))].sort((a, b) => a - b) : ts;
  const stepMs = opts.stepMs ?? medianGap(gridTs);
  if (!(stepMs > 0)) throw new SurgeError('SRG_DATA_FORMAT', `series "${raw.name}": cannot infer a step from its timestamps`);
  // The grid keeps the timestamps' own phase: hourly rows at :30 (a +05:30 export) or weekly rows on
  // Mondays stay there, instead of every row being moved to a multiple of the step since 1970.
  const phase = gridPhase(gridTs, stepMs);
  const start = Math.round(((ts[0] as number) - phase) / stepMs) * stepMs + phase;
  const last = Math.round(((ts[ts.length - 1] as number) - phase) / stepMs) * stepMs + phase;
  const n = Math.round((last - start) / stepMs) + 1;
  if (n > 5_000_000) {
    throw new SurgeError('SRG_DATA_TOO_SHORT', `series "${raw.name}" would need ${n} points at a ${stepMs / 1000}s step`, {
      hint: 'Use a coarser --step.',
    });
  }
  const sum = new Float64Array(n);
  const cnt = new Uint32Array(n);
  let resampled = 0;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] as number;
    const slot = Math.round((t - start) / stepMs);
    if (start + slot * stepMs !== t) resampled++;
    sum[slot] = (sum[slot] as number) + (values[i] as number);
    cnt[slot] = (cnt[slot] as number) + 1;
  }
  const out = new Float64Array(n);
  let gapsFilled = 0;
  for (let i = 0; i < n; i++) {
    if (cnt[i] === 0) {
      out[i] = NaN;
      gapsFilled++;
    } else {
      out[i] = (sum[i] as number) / (cnt[i] as number);
    }
  }
  const hole = longestHole(cnt);
  if (opts.maxGapMs !== undefined && hole.steps * stepMs > opts.maxGapMs) {
    const from = start + hole.at * stepMs;
    const to = from + (hole.steps - 1) * stepMs;
    throw new SurgeError('SRG_DATA_GAP', `series "${raw.name}" has no data from ${isoTime(from)} to ${isoTime(to)} (${hole.steps} steps, ${formatDuration(hole.steps * stepMs)}), longer than --max-gap ${formatDuration(opts.maxGapMs)}`, {
      hint: 'Fill the hole in the export, cut the history after it, or raise --max-gap to accept an interpolated line across it.',
    });
  }
  interpolateGaps(out);
  const hygiene: HygieneReport = { inputPoints: raw.points.length, unsorted, duplicates, gapsFilled, resampled, counterResets, emptyValues, longestGapSteps: hole.steps };
  return { name: raw.name, start, stepMs, values: out, hygiene };
}

/** Longest run of empty grid slots: its first slot and length. */
function longestHole(cnt: Uint32Array): { at: number; steps: number } {
  let best = { at: 0, steps: 0 };
  let runAt = -1;
  for (let i = 0; i <= cnt.length; i++) {
    const empty = i < cnt.length && cnt[i] === 0;
    if (empty && runAt < 0) runAt = i;
    if (!empty && runAt >= 0) {
      if (i - runAt > best.steps) best = { at: runAt, steps: i - runAt };
      runAt = -1;
    }
  }
  return best;
}

/** Negative order counts are refunds netted out or a broken export; refuse them naming the first few. */
export function refuseNegative(name: string, points: readonly { t: number; v: number }[], where?: (i: number) => string): void {
  const bad: string[] = [];
  let count = 0;
  points.forEach((p, i) => {
    if (p.v < 0) {
      count++;
      if (bad.length < 5) bad.push(`${where ? where(i) : isoTime(p.t)} (${p.v})`);
    }
  });
  if (count > 0) {
    throw new SurgeError('SRG_DATA_NEGATIVE', `series "${name}" has ${count} negative value${count === 1 ? '' : 's'}: ${bad.join(', ')}${count > bad.length ? ', ...' : ''}`, {
      hint: 'Demand is a count of orders: export gross orders, or pass --allow-negative if the values are meant to go below zero.',
    });
  }
}

/**
 * Offset of the grid from multiples of the step since the epoch, ms: the offset that most timestamps
 * share exactly, when more than half do (rows exported on a regular grid); else 0, so jittered
 * scrapes are put on whole multiples of the step as before.
 */
function gridPhase(ts: readonly number[], stepMs: number): number {
  const count = new Map<number, number>();
  let best = 0;
  let bestCount = 0;
  for (const t of ts) {
    const phase = ((t % stepMs) + stepMs) % stepMs;
    const c = (count.get(phase) ?? 0) + 1;
    count.set(phase, c);
    if (c > bestCount) {
      best = phase;
      bestCount = c;
    }
  }
  return 2 * bestCount > ts.length ? best : 0;
}

function medianGap(ts: readonly number[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < ts.length; i++) gaps.push((ts[i] as number) - (ts[i - 1] as number));
  gaps.sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)] as number;
  // Scrapes and exports jitter by a few seconds; a 61 s median gap means a 1 minute step.
  const nice = NICE_STEPS.find((n) => Math.abs(median - n) <= 0.1 * n);
  return nice ?? Math.max(1000, Math.round(median / 1000) * 1000);
}

const NICE_STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800].map((s) => s * 1000);

/** Linear interpolation over NaN runs (the ends are never NaN after regularise). */
export function interpolateGaps(y: Float64Array): void {
  let i = 0;
  while (i < y.length) {
    if (!Number.isNaN(y[i])) {
      i++;
      continue;
    }
    const a = i - 1;
    let b = i;
    while (b < y.length && Number.isNaN(y[b])) b++;
    const va = a >= 0 ? (y[a] as number) : (y[b] as number);
    const vb = b < y.length ? (y[b] as number) : va;
    for (let k = i; k < b; k++) y[k] = a < 0 || b >= y.length ? (a < 0 ? vb : va) : va + ((vb - va) * (k - a)) / (b - a);
    i = b;
  }
}

/** Means over consecutive blocks of `k` points (a trailing partial block is dropped from the front). */
export function aggregate(y: Float64Array, k: number): { values: Float64Array; offset: number } {
  if (k <= 1) return { values: y, offset: 0 };
  const m = Math.floor(y.length / k);
  const offset = y.length - m * k;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += y[offset + i * k + j] as number;
    out[i] = s / k;
  }
  return { values: out, offset };
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

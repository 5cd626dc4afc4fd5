import { maseScale, type BacktestRun } from './backtest.js';
import type { Model } from './models/index.js';
import type { Prediction } from './types.js';

/**
 * Prediction intervals of the chosen model, calibrated on its backtest errors (split conformal):
 *
 * - **more origins than the selection uses**: choosing a model needs a few origins, calibrating its
 *   intervals needs many, because the errors of one origin share its level error and 3 origins are 3
 *   samples of it. The chosen model (only it) is re-run at up to {@link CALIBRATION_ORIGINS} origins,
 *   as far back as the history allows ({@link HEAVY_CALIBRATION_ORIGINS} with an augurs member).
 * - **errors relative to the local level**: an error at the daily peak of a multiplicative season is
 *   larger than one at night, and a band of one width for both is too wide at night and too narrow at
 *   the peak, where a capacity plan reads it. Each error is divided by the forecast at that step
 *   relative to the window's mean (see {@link levelWeights}), and the band is multiplied back.
 * - **lead time**: quantiles per lead-time block (up to 4), so the band grows as the errors do.
 * - **counting noise** ({@link countNoiseBounds}): a series of whole counts is never given a band
 *   narrower than the Poisson noise of its point forecast.
 */

/** Origins the chosen model is calibrated on when the history holds them (selection origins included). */
export const CALIBRATION_ORIGINS = 12;
/**
 * The same when a member is an augurs (heavy) model, whose fits cost 50-100 ms each: 6 origins cover
 * the bench's heavy runs as 12 do within 2 points, for 0.3 s more than 3 on a call of 10 series.
 */
export const HEAVY_CALIBRATION_ORIGINS = 6;

const QUANTILES = [0.025, 0.1, 0.9, 0.975] as const;

/** Backtest forecasts of the chosen model with their actuals, for calibration. */
export interface CalibrationSet {
  /** Steps ahead of each window. */
  horizon: number;
  /** Per origin, oldest first: the held-out actuals. */
  actuals: Float64Array[];
  /** Per origin: the chosen model's forecast (the mean of the members for a combination). */
  forecasts: Float64Array[];
  /** Per origin: the in-sample MASE scale of its training data. */
  scales: number[];
}

/**
 * The selection backtest of the chosen model, extended to earlier origins (spaced one horizon apart,
 * each with at least `minTrain` steps to fit on) up to `maxOrigins` in all (default
 * {@link CALIBRATION_ORIGINS}; {@link HEAVY_CALIBRATION_ORIGINS} when a member is heavy), never fewer
 * than the selection used.
 */
export function calibrationSet(
  y: Float64Array,
  members: readonly Model[],
  run: BacktestRun,
  fc: readonly Float64Array[],
  opts: { minTrain: number; scalePeriod: number; maxOrigins?: number },
): CalibrationSet {
  const h = run.horizon;
  const set: CalibrationSet = { horizon: h, actuals: [...run.actuals], forecasts: [...fc], scales: [...run.scales] };
  const max = Math.max(members.some((m) => m.heavy) ? HEAVY_CALIBRATION_ORIGINS : (opts.maxOrigins ?? CALIBRATION_ORIGINS), run.origins);
  for (let o = run.origins; o < max; o++) {
    const end = y.length - h - o * h;
    if (end < opts.minTrain) break;
    const train = y.subarray(0, end);
    const f = new Float64Array(h);
    try {
      for (const m of members) {
        const part = m.forecast(train, h);
        for (let i = 0; i < h; i++) f[i] = (f[i] as number) + (part[i] as number) / members.length;
      }
    } catch {
      break; // a member that cannot fit this short a history: calibrate on what we have
    }
    if (!f.every(Number.isFinite)) break;
    set.actuals.unshift(y.slice(end, end + h));
    set.forecasts.unshift(f);
    set.scales.unshift(maseScale(train, opts.scalePeriod));
  }
  return set;
}

/**
 * Per-step spread of a forecast window: its level relative to the window's mean level (the spread of
 * order counts grows with the level: a multiplicative season, over-dispersed noise), the level
 * floored at a tenth of the mean so a step forecast at zero keeps some width. 1 everywhere when the
 * forecast is not positive on average (an additive series around zero has no level to scale by).
 */
export function levelWeights(f: Float64Array): Float64Array {
  const w = new Float64Array(f.length).fill(1);
  let mean = 0;
  for (const v of f) mean += Math.max(0, v);
  mean /= f.length || 1;
  if (!(mean > 0)) return w;
  for (let i = 0; i < f.length; i++) w[i] = Math.max(Math.max(0, f[i] as number), 0.1 * mean) / mean;
  return w;
}

/** Score quantiles [q2.5, q10, q90, q97.5] per lead-time block (scores: error / (MASE scale x level weight)). */
export interface CalibratedIntervals {
  blocks: number[][];
  /** Steps per block. */
  blockLen: number;
}

/** Score quantiles in up to 4 lead-time blocks, over the given origins (default all). */
export function calibrate(set: CalibrationSet, useOrigins?: readonly number[]): CalibratedIntervals {
  const h = set.horizon;
  const nBlocks = Math.min(4, h);
  const blockLen = Math.ceil(h / nBlocks);
  const origins = useOrigins ?? [...set.actuals.keys()];
  const weights = new Map(origins.map((o) => [o, levelWeights(set.forecasts[o] as Float64Array)]));
  const blocks: number[][] = [];
  for (let b = 0; b < nBlocks; b++) {
    const errs: number[] = [];
    for (const o of origins) {
      const a = set.actuals[o] as Float64Array;
      const f = set.forecasts[o] as Float64Array;
      const w = weights.get(o) as Float64Array;
      const s = set.scales[o] as number;
      for (let i = b * blockLen; i < Math.min(h, (b + 1) * blockLen); i++) errs.push(((a[i] as number) - (f[i] as number)) / (s * (w[i] as number)));
    }
    errs.sort((x, y) => x - y);
    blocks.push(QUANTILES.map((q) => conformalQuantile(errs, q)));
  }
  return { blocks, blockLen };
}

/** Empirical quantile with the (n+1) finite-sample correction, so small samples widen rather than shrink. */
function conformalQuantile(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const k = q < 0.5 ? Math.floor((n + 1) * q) - 1 : Math.ceil((n + 1) * q) - 1;
  return sorted[Math.max(0, Math.min(n - 1, k))] as number;
}

/** Applies calibrated quantiles to a point forecast; the interval always holds the point. */
export function intervalsFor(point: Float64Array, ci: CalibratedIntervals, scale: number): Prediction {
  const h = point.length;
  const w = levelWeights(point);
  const out: Prediction = { point, lo95: new Float64Array(h), lo80: new Float64Array(h), hi80: new Float64Array(h), hi95: new Float64Array(h) };
  for (let i = 0; i < h; i++) {
    const q = (ci.blocks[Math.min(ci.blocks.length - 1, Math.floor(i / ci.blockLen))] ?? [0, 0, 0, 0]) as number[];
    const p = point[i] as number;
    const s = scale * (w[i] as number);
    out.lo95[i] = p + Math.min(0, q[0] as number) * s;
    out.lo80[i] = p + Math.min(0, q[1] as number) * s;
    out.hi80[i] = p + Math.max(0, q[2] as number) * s;
    out.hi95[i] = p + Math.max(0, q[3] as number) * s;
  }
  return out;
}

/**
 * Leave-one-origin-out coverage of {@link calibrate} + {@link intervalsFor} on a calibration set:
 * each origin scored with intervals calibrated on the others.
 */
export function calibratedCoverage(set: CalibrationSet): { coverage80: number; coverage95: number } {
  let in80 = 0;
  let in95 = 0;
  let total = 0;
  const n = set.actuals.length;
  for (let o = 0; o < n; o++) {
    const others = n > 1 ? [...Array(n).keys()].filter((x) => x !== o) : [o];
    const iv = intervalsFor(set.forecasts[o] as Float64Array, calibrate(set, others), set.scales[o] as number);
    const a = set.actuals[o] as Float64Array;
    for (let i = 0; i < a.length; i++) {
      const v = a[i] as number;
      if (v >= (iv.lo80[i] as number) && v <= (iv.hi80[i] as number)) in80++;
      if (v >= (iv.lo95[i] as number) && v <= (iv.hi95[i] as number)) in95++;
      total++;
    }
  }
  return { coverage80: total ? in80 / total : 0, coverage95: total ? in95 / total : 0 };
}

/**
 * The Poisson interval of a count with mean `mu` (inclusive bounds: P(X < lo) <= a/2, P(X > hi) <= a/2).
 * A series of whole counts can never be forecast more tightly than its counting noise, whatever the
 * backtest says: a backtest of a quiet series can hold a few dozen zeros and ones and miss the 3
 * that the next hour brings. Over-dispersion (a busy day, a bot) is left to the calibrated part.
 */
export function countNoiseBounds(mu: number): { lo80: number; hi80: number; lo95: number; hi95: number } {
  if (!(mu > 0)) return { lo80: 0, hi80: 0, lo95: 0, hi95: 0 };
  if (mu > 200) {
    // normal approximation with the Cornish-Fisher skew term of the Poisson, rounded outwards
    const sd = Math.sqrt(mu);
    const q = (z: number) => mu + z * sd + (z * z - 1) / 6;
    return { lo80: Math.floor(q(-1.2816)), hi80: Math.ceil(q(1.2816)), lo95: Math.floor(q(-1.96)), hi95: Math.ceil(q(1.96)) };
  }
  const cuts = [0.025, 0.1, 0.9, 0.975];
  const found: number[] = [];
  let k = 0;
  let p = Math.exp(-mu);
  let cdf = p;
  for (const c of cuts) {
    const lower = c < 0.5;
    // lower bound: first k whose CDF passes c; upper bound: first k whose CDF reaches 1 - (1 - c)
    while (lower ? cdf <= c : cdf < c) {
      k++;
      p *= mu / k;
      cdf += p;
    }
    found.push(k);
  }
  const [lo95, lo80, hi80, hi95] = found as [number, number, number, number];
  return { lo80, hi80, lo95, hi95 };
}

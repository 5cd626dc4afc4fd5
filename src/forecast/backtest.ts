import { calibratedCoverage } from './intervals.js';
import type { CandidateScore } from './types.js';
import type { Model } from './models/index.js';

/** Options of a rolling-origin backtest. */
export interface BacktestOptions {
  /** Steps ahead each origin forecasts (the asked horizon on the fitting grid). */
  horizon: number;
  /** Forecast origins, spaced one horizon apart and ending at the last possible one. Default 3. */
  origins?: number;
  /** Smallest training length allowed for the first origin, in steps. */
  minTrain: number;
  /** MASE scaling period (the shortest seasonal period; 1 without seasonality). */
  scalePeriod: number;
}

/** Forecasts of every model at every origin, with the actuals they are scored against. */
export interface BacktestRun {
  origins: number;
  horizon: number;
  /** Per origin: the held-out actuals. */
  actuals: Float64Array[];
  /** Per origin: the in-sample MASE scale of its training data. */
  scales: number[];
  /** model name -> per origin forecasts. */
  forecasts: Map<string, Float64Array[]>;
}

/** How many origins fit in n points; 0 when even one does not. */
export function originsThatFit(n: number, horizon: number, minTrain: number, wanted: number): number {
  return Math.max(0, Math.min(wanted, Math.floor((n - minTrain - horizon) / horizon) + 1));
}

/** Runs every model at every origin. Models that throw are dropped (an unfit model is not a candidate). */
export function runBacktest(y: Float64Array, models: readonly Model[], opts: BacktestOptions): BacktestRun {
  const h = opts.horizon;
  const origins = originsThatFit(y.length, h, opts.minTrain, opts.origins ?? 3);
  const actuals: Float64Array[] = [];
  const scales: number[] = [];
  const forecasts = new Map<string, Float64Array[]>();
  const failed = new Set<string>();
  for (let o = 0; o < origins; o++) {
    const end = y.length - h - (origins - 1 - o) * h;
    const train = y.subarray(0, end);
    actuals.push(y.slice(end, end + h));
    scales.push(maseScale(train, opts.scalePeriod));
    for (const m of models) {
      if (failed.has(m.name)) continue;
      try {
        const f = m.forecast(train, h);
        if (!f.every(Number.isFinite)) throw new Error('non-finite forecast');
        let list = forecasts.get(m.name);
        if (!list) forecasts.set(m.name, (list = []));
        list.push(f);
      } catch {
        failed.add(m.name);
        forecasts.delete(m.name);
      }
    }
  }
  return { origins, horizon: h, actuals, scales, forecasts };
}

/** Mean absolute seasonal difference of the training data (the MASE denominator). */
export function maseScale(y: Float64Array, m: number): number {
  const p = y.length > m ? m : 1;
  let s = 0;
  let c = 0;
  for (let i = p; i < y.length; i++) {
    s += Math.abs((y[i] as number) - (y[i - p] as number));
    c++;
  }
  const scale = c > 0 ? s / c : 0;
  return scale > 0 ? scale : 1e-9;
}

/** MASE and sMAPE (percent) of per-origin forecasts. */
export function score(run: BacktestRun, fc: readonly Float64Array[]): { mase: number; smape: number } {
  let mase = 0;
  let smape = 0;
  let count = 0;
  for (let o = 0; o < run.origins; o++) {
    const a = run.actuals[o] as Float64Array;
    const f = fc[o] as Float64Array;
    let ae = 0;
    for (let i = 0; i < a.length; i++) {
      const e = Math.abs((a[i] as number) - (f[i] as number));
      ae += e;
      const den = Math.abs(a[i] as number) + Math.abs(f[i] as number);
      smape += den > 0 ? (200 * e) / den : 0;
      count++;
    }
    mase += ae / a.length / (run.scales[o] as number);
  }
  return { mase: mase / run.origins, smape: smape / count };
}

/** Element-wise mean of several models' per-origin forecasts. */
export function combine(parts: readonly (readonly Float64Array[])[]): Float64Array[] {
  const first = parts[0] as readonly Float64Array[];
  return first.map((_, o) => {
    const out = new Float64Array((first[o] as Float64Array).length);
    for (const p of parts) {
      const f = p[o] as Float64Array;
      for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (f[i] as number) / parts.length;
    }
    return out;
  });
}

/**
 * Empirical coverage of the 80% and 95% intervals (built as the forecast builds them, intervals.ts):
 * each origin is scored with intervals calibrated on the other origins (leave-one-origin-out), so
 * coverage is not measured on the data that set it. With a single origin there is nothing to hold
 * out and the in-sample coverage is reported.
 */
export function coverage(run: BacktestRun, fc: readonly Float64Array[]): { coverage80: number; coverage95: number } {
  return calibratedCoverage({ horizon: run.horizon, actuals: run.actuals, forecasts: [...fc], scales: run.scales });
}

/** A scored candidate, including combinations (`combo(a+b)`). */
export interface ScoredCandidate extends CandidateScore {
  members: string[];
  forecasts: Float64Array[];
}

/** Scores every model and the means of the best 2 and 3 distinct models. Sorted best first by MASE. */
export function scoreCandidates(run: BacktestRun): ScoredCandidate[] {
  const singles: ScoredCandidate[] = [...run.forecasts].map(([model, fc]) => ({
    model,
    members: [model],
    forecasts: fc,
    ...score(run, fc),
    ...coverage(run, fc),
  }));
  singles.sort((a, b) => a.mase - b.mase);
  const combos: ScoredCandidate[] = [];
  for (const k of [2, 3]) {
    if (singles.length < k) continue;
    const top = singles.slice(0, k);
    const fc = combine(top.map((s) => s.forecasts));
    const members = top.map((s) => s.model);
    combos.push({ model: `combo(${members.join('+')})`, members, forecasts: fc, ...score(run, fc), ...coverage(run, fc) });
  }
  return [...singles, ...combos].sort((a, b) => a.mase - b.mase);
}

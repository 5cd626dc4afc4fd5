import { centredMovingAverage } from './models/baselines.js';

/** A seasonal period in steps of a grid, with a human name. */
export interface Period {
  steps: number;
  name: string;
}

/**
 * Daily and weekly periods for a grid step, where they are whole numbers of steps >= 2; for daily and
 * weekly rows also `yearly` (365 days, 52 weeks: a year is not a whole number of either, and the
 * drift of a day or so a year is small next to the shape of a peak season).
 */
export function calendarPeriods(stepMs: number): Period[] {
  const out: Period[] = [];
  for (const [name, ms] of [['daily', 86_400_000], ['weekly', 604_800_000]] as const) {
    const p = ms / stepMs;
    if (Number.isInteger(p) && p >= 2) out.push({ steps: p, name });
  }
  if (stepMs === 86_400_000) out.push({ steps: 365, name: 'yearly' });
  if (stepMs === 604_800_000) out.push({ steps: 52, name: 'yearly' });
  return out;
}

/**
 * Picks which calendar periods the data shows: a period is kept when its phase means explain a real
 * share of the detrended variance, after a degrees-of-freedom correction so a weekly profile fitted
 * to two weeks of noise is not mistaken for a pattern.
 */
export function detectSeasonality(y: Float64Array, candidates: readonly Period[]): Period[] {
  const usable = candidates.filter((c) => y.length >= 2 * c.steps + 1);
  if (usable.length === 0) return [];
  const pMax = Math.max(...usable.map((c) => c.steps));
  const w = Math.min(y.length, 8 * pMax);
  const tail = y.subarray(y.length - w);
  const trend = centredMovingAverage(tail, pMax);
  const d = new Float64Array(w);
  let v0 = 0;
  let mean = 0;
  for (let i = 0; i < w; i++) mean += (d[i] = (tail[i] as number) - (trend[i] as number));
  mean /= w;
  for (let i = 0; i < w; i++) v0 += ((d[i] as number) - mean) ** 2;
  v0 /= w - 1;
  if (!(v0 > 0)) return [];
  const chosen: Period[] = [];
  let best = v0;
  for (const c of [...usable].sort((a, b) => a.steps - b.steps)) {
    const r = residualVariance(d, c.steps);
    // Keep a period when it removes at least 20% of what is left after the shorter ones.
    if (r < 0.8 * best) {
      chosen.push(c);
      best = r;
    }
  }
  return chosen;
}

/** Variance left after removing phase means of period p, corrected for the p fitted means. */
function residualVariance(d: Float64Array, p: number): number {
  const sum = new Float64Array(p);
  const cnt = new Float64Array(p);
  for (let i = 0; i < d.length; i++) {
    sum[i % p] = (sum[i % p] as number) + (d[i] as number);
    cnt[i % p] = (cnt[i % p] as number) + 1;
  }
  let ss = 0;
  for (let i = 0; i < d.length; i++) ss += ((d[i] as number) - (sum[i % p] as number) / (cnt[i % p] as number)) ** 2;
  const dof = d.length - p;
  return dof > 0 ? ss / dof : Infinity;
}

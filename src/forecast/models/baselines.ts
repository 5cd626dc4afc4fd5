/**
 * Fast models written here rather than taken from augurs: seasonal naive, seasonal mean and a
 * decomposition (phase means per season + damped Holt on the rest). They fit in well under a
 * millisecond per thousand points, which is what lets hundreds of series be backtested in one call.
 */

/** Repeats the last full cycle of period `p`. */
export function seasonalNaive(y: Float64Array, p: number, h: number): Float64Array {
  const n = y.length;
  const out = new Float64Array(h);
  const period = Math.max(1, Math.min(p, n));
  for (let i = 0; i < h; i++) out[i] = y[n - period + (i % period)] as number;
  return out;
}

/** Mean of the last `cycles` cycles of period `p` at the same phase. */
export function seasonalMean(y: Float64Array, p: number, h: number, cycles = 4): Float64Array {
  const n = y.length;
  const k = Math.max(1, Math.min(cycles, Math.floor(n / p)));
  const out = new Float64Array(h);
  for (let i = 0; i < h; i++) {
    let s = 0;
    for (let c = 1; c <= k; c++) s += y[n - c * p + (i % p)] as number;
    out[i] = s / k;
  }
  return out;
}

/**
 * Seasonal components by phase means (shortest period first, each on what the previous ones left),
 * estimated on the last `cycles` cycles of the longest period after removing a moving-average trend.
 */
export function seasonalComponents(y: Float64Array, periods: readonly number[], cycles = 6): Float64Array[] {
  const sorted = [...periods].sort((a, b) => a - b);
  const pMax = sorted[sorted.length - 1] ?? 1;
  const n = y.length;
  const w = Math.min(n, cycles * pMax);
  const from = n - w;
  const trend = centredMovingAverage(y, pMax);
  const rest = new Float64Array(w);
  for (let i = 0; i < w; i++) rest[i] = (y[from + i] as number) - (trend[from + i] as number);
  const comps: Float64Array[] = [];
  for (const p of sorted) {
    const sum = new Float64Array(p);
    const cnt = new Float64Array(p);
    for (let i = 0; i < w; i++) {
      const ph = (from + i) % p;
      sum[ph] = (sum[ph] as number) + (rest[i] as number);
      cnt[ph] = (cnt[ph] as number) + 1;
    }
    let mean = 0;
    for (let ph = 0; ph < p; ph++) {
      sum[ph] = (cnt[ph] as number) > 0 ? (sum[ph] as number) / (cnt[ph] as number) : 0;
      mean += sum[ph] as number;
    }
    mean /= p;
    for (let ph = 0; ph < p; ph++) sum[ph] = (sum[ph] as number) - mean;
    for (let i = 0; i < w; i++) rest[i] = (rest[i] as number) - (sum[(from + i) % p] as number);
    comps.push(sum);
  }
  return comps;
}

/** Centred moving average of length `p` (2x MA for even p); the ends repeat the nearest value. */
export function centredMovingAverage(y: Float64Array, p: number): Float64Array {
  const n = y.length;
  const out = new Float64Array(n);
  if (p <= 1 || n < p + 1) {
    let m = 0;
    for (let i = 0; i < n; i++) m += y[i] as number;
    out.fill(n > 0 ? m / n : 0);
    return out;
  }
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = (prefix[i] as number) + (y[i] as number);
  const half = Math.floor(p / 2);
  const even = p % 2 === 0;
  for (let i = half; i < n - half; i++) {
    if (even) {
      // 2xp MA: average of the two p-windows around i.
      const a = ((prefix[i + half] as number) - (prefix[i - half] as number)) / p;
      const b = ((prefix[i + half + 1] as number) - (prefix[i - half + 1] as number)) / p;
      out[i] = (a + b) / 2;
    } else {
      out[i] = ((prefix[i + half + 1] as number) - (prefix[i - half] as number)) / p;
    }
  }
  const lastI = n - half - 1;
  for (let i = 0; i < half; i++) out[i] = out[half] as number;
  for (let i = lastI + 1; i < n; i++) out[i] = out[lastI] as number;
  return out;
}

/**
 * Damped-trend Holt on `y`, parameters chosen by a small grid over one-step squared error on the
 * last `window` points. Returns the h-step forecast.
 */
export function dampedHolt(y: Float64Array, h: number, window = 2000): Float64Array {
  const n = y.length;
  const from = Math.max(0, n - window);
  let best = { sse: Infinity, alpha: 0.3, beta: 0, phi: 0.9 };
  for (const alpha of [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9]) {
    for (const beta of [0, 0.01, 0.05, 0.15]) {
      for (const phi of beta === 0 ? [1] : [0.8, 0.9, 0.98]) {
        let level = y[from] as number;
        let trend = 0;
        let sse = 0;
        for (let i = from + 1; i < n; i++) {
          const f = level + phi * trend;
          const e = (y[i] as number) - f;
          sse += e * e;
          const nl = f + alpha * e;
          trend = phi * trend + alpha * beta * e;
          level = nl;
        }
        if (sse < best.sse) best = { sse, alpha, beta, phi };
      }
    }
  }
  const { alpha, beta, phi } = best;
  let level = y[from] as number;
  let trend = 0;
  for (let i = from + 1; i < n; i++) {
    const f = level + phi * trend;
    const e = (y[i] as number) - f;
    level = f + alpha * e;
    trend = phi * trend + alpha * beta * e;
  }
  const out = new Float64Array(h);
  let damp = 0;
  let pw = 1;
  for (let i = 0; i < h; i++) {
    pw *= phi;
    damp += pw;
    out[i] = level + damp * trend;
  }
  return out;
}

/** Seasonal decomposition + damped Holt on the seasonally adjusted series. */
export function decompHolt(y: Float64Array, periods: readonly number[], h: number): Float64Array {
  const n = y.length;
  if (periods.length === 0) return dampedHolt(y, h);
  const sorted = [...periods].sort((a, b) => a - b);
  const comps = seasonalComponents(y, sorted);
  const adj = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    comps.forEach((c, k) => (s += c[i % (sorted[k] as number)] as number));
    adj[i] = (y[i] as number) - s;
  }
  const base = dampedHolt(adj, h, 4 * (sorted[sorted.length - 1] as number));
  for (let i = 0; i < h; i++) {
    let s = 0;
    comps.forEach((c, k) => (s += c[(n + i) % (sorted[k] as number)] as number));
    base[i] = (base[i] as number) + s;
  }
  return base;
}

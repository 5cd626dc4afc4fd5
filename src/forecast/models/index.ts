import { SurgeError } from '../../errors.js';
import { dampedHolt, decompHolt, seasonalMean, seasonalNaive } from './baselines.js';
import { loadEts, loadMstl, loadProphet } from './augurs.js';

/** What a model needs to know about the series it is fitted to. */
export interface ModelContext {
  /** Seasonal periods in steps of the fitting grid, ascending. */
  periods: readonly number[];
  /** Named periods for model names: `daily`, `weekly` or the number of steps. */
  periodNames: readonly string[];
}

/** A forecasting method: fits `y` and returns `h` point forecasts. */
export interface Model {
  name: string;
  /** True for augurs WASM models: slower, used when the call is small enough (see heavyModels). */
  heavy: boolean;
  forecast(y: Float64Array, h: number): Float64Array;
}

/** Every model name `--model` accepts. */
export const MODEL_NAMES = [
  'naive',
  'snaive-daily',
  'snaive-weekly',
  'seasonal-mean',
  'decomp-holt',
  'decomp-holt-log',
  'mstl',
  'mstl-log',
  'ets',
  'prophet',
] as const;

/** Prophet is fitted on this much recent history at most (like the other heavy models). */
const PROPHET_MAX_POINTS = 4_000;

/**
 * History augurs models are fitted on: 6 cycles of the longest period, at most ~4,000 points (but
 * always two cycles). Older data adds fitting time, not accuracy.
 */
const HEAVY_CYCLES = 6;
const HEAVY_MAX_POINTS = 4_000;

function logWrap(name: string, inner: (y: Float64Array, h: number) => Float64Array, heavy: boolean): Model {
  return {
    name,
    heavy,
    forecast(y, h) {
      const ly = new Float64Array(y.length);
      for (let i = 0; i < y.length; i++) ly[i] = Math.log(y[i] as number);
      const f = inner(ly, h);
      for (let i = 0; i < h; i++) f[i] = Math.exp(f[i] as number);
      return f;
    },
  };
}

/**
 * The candidate models for a series. augurs is loaded here (async) so the model functions can be
 * synchronous inside tight backtest loops.
 */
export async function candidateModels(ctx: ModelContext, opts: { positive: boolean; heavy: boolean; only?: string }): Promise<Model[]> {
  const { periods, periodNames } = ctx;
  const pMax = periods[periods.length - 1];
  const models: Model[] = [];
  const want = (name: string) => opts.only === undefined || opts.only === name;
  if (want('naive')) models.push({ name: 'naive', heavy: false, forecast: (y, h) => new Float64Array(h).fill(y[y.length - 1] as number) });
  periods.forEach((p, i) => {
    const name = `snaive-${periodNames[i]}`;
    if (want(name)) models.push({ name, heavy: false, forecast: (y, h) => seasonalNaive(y, p, h) });
  });
  if (pMax !== undefined) {
    if (want('seasonal-mean')) models.push({ name: 'seasonal-mean', heavy: false, forecast: (y, h) => seasonalMean(y, pMax, h) });
    if (want('decomp-holt')) models.push({ name: 'decomp-holt', heavy: false, forecast: (y, h) => decompHolt(y, periods, h) });
    if (opts.positive && want('decomp-holt-log')) models.push(logWrap('decomp-holt-log', (y, h) => decompHolt(y, periods, h), false));
  } else if (want('decomp-holt')) {
    models.push({ name: 'decomp-holt', heavy: false, forecast: (y, h) => dampedHolt(y, h) });
  }
  const heavyWanted = opts.heavy || (opts.only !== undefined && ['mstl', 'mstl-log', 'ets'].includes(opts.only));
  if (heavyWanted) {
    if (pMax !== undefined && (want('mstl') || want('mstl-log'))) {
      const { MSTL } = await loadMstl();
      const window = Math.max(2 * pMax + 1, Math.min(Math.max(HEAVY_CYCLES * pMax, 672), HEAVY_MAX_POINTS));
      const fit = (y: Float64Array, h: number) => {
        const tail = y.length > window ? y.subarray(y.length - window) : y;
        const m = MSTL.ets([...periods]);
        try {
          m.fit(tail);
          return Float64Array.from(m.predict(h).point);
        } finally {
          m.free();
        }
      };
      if (want('mstl')) models.push({ name: 'mstl', heavy: true, forecast: fit });
      if (opts.positive && want('mstl-log')) models.push(logWrap('mstl-log', fit, true));
    }
    if (pMax === undefined && want('ets')) {
      const { AutoETS } = await loadEts();
      models.push({
        name: 'ets',
        heavy: true,
        forecast(y, h) {
          const m = new AutoETS(1, 'ZZN');
          try {
            m.fit(y.length > 2000 ? y.subarray(y.length - 2000) : y);
            return Float64Array.from(m.predict(h).point);
          } finally {
            m.free();
          }
        },
      });
    }
  }
  // Prophet runs only when `--model prophet` names it: a Stan fit of a few thousand points takes
  // about a second, too slow to backtest against every series of a large call.
  if (opts.only === 'prophet') {
    const { mod, optimizer } = await loadProphet();
    models.push({
      name: 'prophet',
      heavy: true,
      forecast(y, h) {
        // The grid is regular, so time is counted in steps, written as days: a seasonality of p
        // steps is then Prophet's period p (in days). Its built-in daily/weekly/yearly terms assume
        // real timestamps and are replaced by the detected periods.
        const tail = y.length > PROPHET_MAX_POINTS ? y.subarray(y.length - PROPHET_MAX_POINTS) : y;
        const ds = Array.from({ length: tail.length }, (_, i) => i * 86_400);
        const off = { type: 'manual', enabled: false } as const;
        const m = new mod.Prophet({ optimizer, dailySeasonality: off, weeklySeasonality: off, yearlySeasonality: off, uncertaintySamples: 0 });
        try {
          for (const [i, p] of periods.entries()) m.addSeasonality(periodNames[i] ?? `p${p}`, { period: p, fourierOrder: Math.max(1, Math.min(10, Math.floor(p / 2))) });
          m.fit({ ds, y: Array.from(tail) });
          const future = { ds: Array.from({ length: h }, (_, i) => (tail.length + i) * 86_400) };
          return Float64Array.from(m.predict(future).yhat.point);
        } finally {
          m.free();
        }
      },
    });
  }
  if (models.length === 0) {
    throw new SurgeError('SRG_FORECAST_MODEL', `model "${opts.only}" does not apply to this series`, {
      hint:
        opts.only?.startsWith('snaive') || opts.only === 'seasonal-mean' || opts.only === 'mstl'
          ? 'It needs a seasonality the data has (see --seasonality); `auto` picks from the models that fit.'
          : `Known models: auto, ${MODEL_NAMES.join(', ')}. Log variants need strictly positive values.`,
    });
  }
  return models;
}

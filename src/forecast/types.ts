import type { HolidayEffect } from './holidays.js';
import type { RegressorEffect } from './regressors.js';
import type { ForecastUnit } from './units.js';

/**
 * Shared shapes of the forecasting library. Times are epoch milliseconds inside the library and
 * ISO-8601 strings in serialised results.
 */

/** One observation as read from a source, before hygiene. */
export interface RawPoint {
  /** Epoch milliseconds. */
  t: number;
  v: number;
}

/** A named, possibly messy series straight from a file or Prometheus. */
export interface RawSeries {
  name: string;
  points: RawPoint[];
}

/** What hygiene did to a raw series; all counts are in points. */
export interface HygieneReport {
  /** Points read from the source. */
  inputPoints: number;
  /** Rows that were out of time order (they are sorted). */
  unsorted: number;
  /** Rows sharing a timestamp with another row (they are averaged). */
  duplicates: number;
  /** Grid slots with no observation, filled by linear interpolation. */
  gapsFilled: number;
  /** Points that were moved or averaged onto the regular grid because of irregular steps. */
  resampled: number;
  /** Counter resets compensated (only when the input is a counter). */
  counterResets: number;
  /** Rows with a timestamp but an empty value cell (treated as gaps, so included in gapsFilled when on the grid). */
  emptyValues?: number;
  /** Longest run of grid slots with no observation, in steps (0: no hole). */
  longestGapSteps?: number;
}

/** A clean series on a regular grid: `values[i]` is the value at `start + i * stepMs`. */
export interface Series {
  name: string;
  /** Epoch ms of the first value. */
  start: number;
  /** Grid step, ms. */
  stepMs: number;
  values: Float64Array;
  hygiene: HygieneReport;
}

/** A point forecast with 80% and 95% prediction intervals, all the same length. */
export interface Prediction {
  point: Float64Array;
  lo80: Float64Array;
  hi80: Float64Array;
  lo95: Float64Array;
  hi95: Float64Array;
}

/** Backtest scores of one candidate model. */
export interface CandidateScore {
  model: string;
  /** Mean absolute scaled error over all origins (lower is better; seasonal naive in-sample = 1). */
  mase: number;
  /** Symmetric MAPE in percent (0..200). */
  smape: number;
  /** Share of backtest actuals inside the 80% interval (calibrated leave-one-origin-out), 0..1. */
  coverage80: number;
  /** Share of backtest actuals inside the 95% interval, 0..1. */
  coverage95: number;
}

/** A campaign window from the calendar, resolved against the history. */
export interface ResolvedCampaign {
  name: string;
  start: number;
  end: number;
  /** Multiplier applied to the baseline forecast (future) or observed over the baseline (past). */
  uplift: number;
  /**
   * `past`: inside the history (excluded from fitting; when it runs past the end of the history, its
   * observed uplift also multiplies the rest of its window); `future`: applied to the forecast.
   */
  kind: 'past' | 'future' | 'outside';
  /** Where the uplift came from: the calendar value, or the past window it was observed in. */
  source: string;
  /**
   * `like:` campaigns: the multiplier step by step as observed in the past window (its ramp, peak and
   * decay), stretched over this window; `uplift` is its overall ratio. Absent: a constant `uplift`.
   */
  shape?: number[];
}

/** One forecast step as serialised. */
export interface ForecastPoint {
  /** ISO-8601 time of the step. */
  t: string;
  value: number;
  lo80: number;
  hi80: number;
  lo95: number;
  hi95: number;
  /** Campaign active at this step, if any. */
  campaign?: string;
  /** Holiday whose effect multiplies this step (`us:thanksgiving`), if any. */
  holiday?: string;
}

/** The forecast of one series. */
export interface SeriesForecast {
  name: string;
  /** Step of the forecast, seconds. */
  stepSeconds: number;
  /**
   * What the values (history, forecast, intervals) count: `per-hour` = orders per hour. Absent in
   * files written before units existed, which were per-second. `capacity plan` converts to per second.
   */
  unit?: ForecastUnit;
  /** True when no unit was given (--unit / forecast.unit) and per-second was assumed. */
  unitAssumed?: boolean;
  /** When assumed: the unit the values look like they are in (whole numbers on an hourly step: per-hour). */
  likelyUnit?: ForecastUnit;
  /** Model used for the final forecast (`combo(a+b)` for combinations). */
  model: string;
  /** Seasonal periods used, in steps of the series. */
  seasonality: number[];
  history: { start: string; end: string; points: number; hygiene: HygieneReport };
  backtest: {
    /** Forecast origins of the rolling-origin evaluation. */
    origins: number;
    /** Horizon each origin forecasts, in steps of the fitting grid. */
    horizon: number;
    /** Steps per fitting-grid step (1 = fitted at the input step; 12 = 5m data fitted hourly). */
    aggregation: number;
    candidates: CandidateScore[];
    /** Why this model was chosen. */
    selected: string;
  };
  campaigns: ResolvedCampaign[];
  /** With --holidays: each holiday met in the history or the horizon, its estimated effect and whether it is applied. */
  holidays?: HolidayEffect[];
  /** With --regressor: each regressor's coefficient and whether the backtest kept it. */
  regressors?: RegressorEffect[];
  peak: ForecastPoint;
  points: ForecastPoint[];
  /** The last history points (up to 3 days worth or 500 points), for charts. */
  tail: { t: string; value: number }[];
}

/** The document `surgectl forecast --out f.json` writes and `capacity plan --forecast` reads. */
export interface ForecastResult {
  apiVersion: 'surgectl/v1';
  kind: 'Forecast';
  generatedAt: string;
  /** Horizon asked for, ms. */
  horizonMs: number;
  series: SeriesForecast[];
}

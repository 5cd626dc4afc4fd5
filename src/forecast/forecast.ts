import { SurgeError } from '../errors.js';
import type { Reporter } from '../reporter.js';
import { maseScale, runBacktest, scoreCandidates } from './backtest.js';
import { calibrate, calibrationSet, countNoiseBounds, intervalsFor, type CalibrationSet } from './intervals.js';
import { adjustForCampaigns, type Campaign } from './campaigns.js';
import { planHolidays, UNKNOWN_HOLIDAY, type Holiday } from './holidays.js';
import { alignRegressor, prophetWithRegressors, type Regressor, type RegressorEffect, type RegressorModel } from './regressors.js';
import { formatDuration } from '../util/duration.js';
import { candidateModels, MODEL_NAMES } from './models/index.js';
import { calendarPeriods, detectSeasonality, type Period } from './seasonality.js';
import { aggregate, isoTime, regularise } from './series.js';
import { likelyCountUnit, type ForecastUnit } from './units.js';
import type { ForecastPoint, ForecastResult, Prediction, RawSeries, Series, SeriesForecast } from './types.js';

/** Options of {@link forecast}. Durations are milliseconds. */
export interface ForecastOptions {
  /** Series to forecast, each separately. Raw series are cleaned (sorted, de-duplicated, resampled, gaps filled). */
  series: readonly (RawSeries | Series)[];
  /** How far ahead to forecast, ms. */
  horizonMs: number;
  /** Grid step for raw series, ms. Default: the median gap between timestamps. */
  stepMs?: number;
  /** The raw values are a counter to be turned into a per-second rate. Default false. */
  counter?: boolean;
  /**
   * What the values count (`per-hour`: orders per hour). Default: per-second, flagged as assumed, with
   * a warning when the values look like counts per step (see {@link likelyCountUnit}). A counter is per-second.
   */
  unit?: ForecastUnit;
  /** Refuse a series with a hole (missing rows or empty cells) longer than this, ms. Default: fill any hole. */
  maxGapMs?: number;
  /** Accept negative values in raw series. Default true for library callers; the CLI passes false (--allow-negative turns it on) so SRG_DATA_NEGATIVE names them. */
  allowNegative?: boolean;
  /** `auto` (default) selects by backtest; any name from MODEL_NAMES forces that model. */
  model?: string;
  /**
   * `auto` (default) detects daily/weekly from the data, `none` disables seasonality; otherwise a list of
   * `daily`, `weekly` or periods in steps of the input grid (e.g. `['daily','weekly']`, `['24','168']`).
   */
  seasonality?: 'auto' | 'none' | readonly string[];
  /** Campaign calendar: past windows are replaced by a baseline for fitting; future windows multiply the forecast. */
  campaigns?: readonly Campaign[];
  /**
   * Holidays (see loadHolidays): each one's effect is estimated from its past occurrences and applied
   * to its dates in the horizon when a backtest on those occurrences says it helps.
   */
  holidays?: readonly Holiday[];
  /**
   * Leading indicators known for the history and the horizon: a Prophet model fitted with them joins
   * the backtest, which decides whether the forecast uses them.
   */
  regressors?: readonly Regressor[];
  /**
   * Rolling-origin backtest origins the model is chosen on. Default 3. The chosen model's intervals
   * are calibrated on more when the history holds them (up to 12; 6 with an augurs model; never fewer than these).
   */
  origins?: number;
  /**
   * Whether the augurs (WASM) MSTL/ETS models are candidates: `auto` (default) uses them when at most
   * 10 series are forecast in one call, which keeps big batches fast; `on`/`off` force it.
   */
  heavyModels?: 'auto' | 'on' | 'off';
  /**
   * Sub-hourly data with a horizon of at least a day is fitted on hourly means and the intra-hour
   * shape put back from recent days (`auto`, default); `off` fits at the input step.
   */
  aggregate?: 'auto' | 'off';
  /** Clock for `generatedAt`, epoch ms. Default Date.now. */
  now?: () => number;
  signal?: AbortSignal;
  reporter?: Reporter;
}

const Z80 = 1.2816;
const Z95 = 1.96;
const MAX_TAIL = 500;

/**
 * Forecasts each series `horizonMs` ahead: cleans the data, detects seasonality, backtests the
 * candidate models on rolling origins, picks the best model or combination by MASE, calibrates
 * 80%/95% intervals on the backtest errors, and applies campaign uplifts.
 */
export async function forecast(opts: ForecastOptions): Promise<ForecastResult> {
  if (!(opts.horizonMs > 0)) throw new SurgeError('SRG_CLI_USAGE', 'the horizon must be a positive duration');
  if (opts.series.length === 0) throw new SurgeError('SRG_DATA_EMPTY', 'no series to forecast');
  const model = opts.model ?? 'auto';
  if (model !== 'auto' && !(MODEL_NAMES as readonly string[]).includes(model)) {
    throw new SurgeError('SRG_FORECAST_MODEL', `unknown model "${model}"`, { hint: `Known models: auto, ${MODEL_NAMES.join(', ')}` });
  }
  if (opts.counter && opts.unit !== undefined && opts.unit !== 'per-second') {
    throw new SurgeError('SRG_CLI_USAGE', `--counter gives a per-second rate; it cannot be read as --unit ${opts.unit}`, { hint: 'Drop --unit, or drop --counter if the values are already counts per interval.' });
  }
  const heavy = opts.heavyModels === 'on' || (opts.heavyModels !== 'off' && opts.series.length <= 10);
  const out: SeriesForecast[] = [];
  for (const s of opts.series) {
    if (opts.signal?.aborted) throw new SurgeError('SRG_CLI_INTERRUPTED', 'forecast interrupted');
    const clean =
      'values' in s
        ? s
        : regularise(s, {
            ...(opts.stepMs ? { stepMs: opts.stepMs } : {}),
            counter: opts.counter ?? false,
            allowNegative: opts.allowNegative ?? true,
            ...(opts.maxGapMs !== undefined ? { maxGapMs: opts.maxGapMs } : {}),
          });
    const unit: ForecastUnit = opts.counter ? 'per-second' : (opts.unit ?? 'per-second');
    const assumed = !opts.counter && opts.unit === undefined;
    // Judged on the values as read (interpolated gaps are not whole numbers even when every count is).
    const likely = assumed ? likelyCountUnit('values' in s ? s.values : s.points.map((p) => p.v), clean.stepMs / 1000) : undefined;
    if (likely) {
      opts.reporter?.notify(
        `series "${s.name}": ${formatDuration(clean.stepMs)} rows of ${describeValues(clean.values)} look like counts ${likely === 'per-step' ? 'per row' : likely.replace('per-', 'per ')}, not orders per second; they are read as per-second rates unless you pass --unit ${likely} (--unit per-second keeps rates and silences this)`,
        'warn',
      );
    }
    const f = await forecastOne(clean, { ...opts, model, heavy });
    // unit next to stepSeconds in the JSON, where a reader looks for what the numbers mean
    const { name, stepSeconds, ...rest } = f;
    out.push({ name, stepSeconds, unit, ...(assumed ? { unitAssumed: true } : {}), ...(likely ? { likelyUnit: likely } : {}), ...rest });
    if (opts.series.length > 20 && out.length % 50 === 0) opts.reporter?.notify(`forecast ${out.length}/${opts.series.length} series`, 'progress');
  }
  return {
    apiVersion: 'surgectl/v1',
    kind: 'Forecast',
    generatedAt: new Date((opts.now ?? Date.now)()).toISOString(),
    horizonMs: opts.horizonMs,
    series: out,
  };
}

async function forecastOne(s: Series, opts: ForecastOptions & { model: string; heavy: boolean }): Promise<SeriesForecast> {
  const { stepMs } = s;
  const n = s.values.length;
  const hFine = Math.ceil(opts.horizonMs / stepMs);
  const asked = resolveSeasonality(opts.seasonality ?? 'auto', stepMs, s.name);

  const hourSteps = 3_600_000 / stepMs;
  let k = 1;
  if (opts.aggregate !== 'off' && Number.isInteger(hourSteps) && hourSteps > 1 && hFine / hourSteps >= 24 && (asked === 'auto' || asked.every((p) => p.steps % hourSteps === 0))) {
    k = hourSteps;
  }

  // Past campaigns must not teach the baseline that every Friday is Black Friday.
  // The fill is "the same phase one to four weeks away": weekly when the data has it (never yearly,
  // which would put a moving holiday or sale on another weekday).
  const fine = calendarPeriods(stepMs).filter((p) => n >= 2 * p.steps && p.name !== 'yearly');
  const fillPeriod = (fine.find((p) => p.name === 'weekly') ?? fine[fine.length - 1])?.steps ?? 1;
  const hol = opts.holidays?.length ? planHolidays(s.values, s.start, stepMs, hFine * stepMs, fillPeriod, opts.holidays, opts.campaigns ?? []) : undefined;
  const adj = adjustForCampaigns(s.values, s.start, stepMs, fillPeriod, opts.campaigns ?? []);
  // Past holidays kept out of the baseline only when they are applied (a rejected one leaves the plain forecast).
  const baseline = hol?.past.length ? adjustForCampaigns(adj.baseline, s.start, stepMs, fillPeriod, hol.past).baseline : adj.baseline;

  const { values: y, offset } = aggregate(baseline, k);
  const h = Math.ceil(hFine / k);
  // Regressors on the fitting grid, history then horizon (refused here when they do not cover both).
  const xs = (opts.regressors ?? []).map((r) => toFitGrid(alignRegressor(r, s.name, s.start, stepMs, n + hFine, s.start + n * stepMs), n, k, h));
  const fitStep = stepMs * k;
  let periods: Period[];
  if (asked === 'auto') {
    periods = detectSeasonality(y, calendarPeriods(fitStep));
    // Keep only periods the history can hold twice next to a backtest window.
    while (periods.length > 0 && y.length < h + 2 * (periods[periods.length - 1] as Period).steps) periods = periods.slice(0, -1);
  } else {
    periods = asked.map((p) => ({ steps: p.steps / k, name: p.name }));
    for (const p of periods) {
      if (y.length < h + 2 * p.steps) {
        throw new SurgeError('SRG_DATA_TOO_SHORT', `series "${s.name}": ${describe(n, stepMs)} of history is too short for ${p.name} seasonality with a ${formatDuration(opts.horizonMs)} horizon`, {
          hint: `Needs at least ${formatDuration((h + 2 * p.steps) * fitStep)} of history; fetch more or use --seasonality auto.`,
        });
      }
    }
  }
  const pMax = periods[periods.length - 1]?.steps ?? 0;
  const minTrain = Math.max(2 * pMax, 10);
  if (y.length < h + minTrain) {
    throw new SurgeError('SRG_DATA_TOO_SHORT', `series "${s.name}": ${describe(n, stepMs)} of history is too short for a ${formatDuration(opts.horizonMs)} horizon`, {
      hint: `Needs at least ${formatDuration((h + minTrain) * fitStep)} of history (the horizon plus ${minTrain} steps to fit on); shorten --horizon or fetch more history.`,
    });
  }
  const positive = y.every((v) => v > 0);
  const scalePeriod = periods[0]?.steps ?? 1;
  const models = await candidateModels(
    { periods: periods.map((p) => p.steps), periodNames: periods.map((p) => p.name) },
    { positive, heavy: opts.heavy, ...(opts.model !== 'auto' ? { only: opts.model } : {}) },
  );
  let regModel: RegressorModel | undefined;
  if (xs.length && opts.model === 'auto') {
    const pSteps = periods.map((p) => p.steps);
    const pNames = periods.map((p) => p.name);
    regModel = await prophetWithRegressors(pSteps, pNames, (opts.regressors ?? []).map((r) => r.name), xs);
    // The same Prophet without the regressors, so the backtest measures what the regressors add.
    models.push(regModel, await prophetWithRegressors(pSteps, pNames, [], []));
  }
  const run = runBacktest(y, models, { horizon: h, origins: opts.origins ?? 3, minTrain, scalePeriod });
  const scoredAll = scoreCandidates(run);
  // A regressor earns its place by beating the same Prophet fit without it by REGRESSOR_MARGIN.
  const regVerdict = regModel ? judgeRegressors(scoredAll, regModel.name) : undefined;
  // Without it the selection is exactly the one without --regressor (the plain Prophet was only the yardstick).
  const plainRun = regModel ? { ...run, forecasts: new Map([...run.forecasts].filter(([name]) => name !== regModel.name && name !== 'prophet')) } : run;
  const scored = !regModel || regVerdict?.earns ? scoredAll : scoreCandidates(plainRun);
  // The best candidate whose final fit on the whole history works (a model can fit every backtest
  // origin and still fail on the full data, e.g. a WASM fit that does not converge).
  const ranked = opts.model === 'auto' ? scored : scored.filter((c) => c.model === opts.model);
  let chosen: (typeof scored)[number] | undefined;
  let point: Float64Array | undefined;
  let calib: CalibrationSet | undefined;
  for (const c of ranked) {
    try {
      const members = c.members.map((name) => models.find((m) => m.name === name) as (typeof models)[number]);
      // Intervals from the candidate's errors over as many origins as the history holds (intervals.ts),
      // fitted before the final fit so a model's last fit (the regressor coefficients) is the full history's.
      const cs = calibrationSet(y, members, run, c.forecasts, { minTrain, scalePeriod });
      const p = new Float64Array(h);
      for (const m of members) {
        const f = m.forecast(y, h);
        for (let i = 0; i < h; i++) p[i] = (p[i] as number) + (f[i] as number) / c.members.length;
      }
      if (!p.every(Number.isFinite)) continue;
      chosen = c;
      point = p;
      calib = cs;
      break;
    } catch {
      // try the next candidate
    }
  }
  if (!chosen || !point || !calib) throw new SurgeError('SRG_FORECAST_MODEL', `series "${s.name}": no model could be fitted (${models.map((m) => m.name).join(', ')})`);
  let pred: Prediction = intervalsFor(point, calibrate(calib), maseScale(y, scalePeriod));
  if (k > 1) pred = disaggregate(pred, baseline, offset, k, hFine, 86_400_000 / stepMs);

  const end = s.start + n * stepMs;
  // A campaign still under way when the history ends (kind past: its start is measured) goes on
  // multiplying the rest of its window by the uplift observed so far.
  const future = adj.campaigns.filter((c) => c.kind === 'future' || (c.kind === 'past' && c.end > end));
  const nonNegative = s.values.every((v) => v >= 0);
  // Whole counts per step (orders per hour as exported): the band is at least the Poisson noise of its point.
  const counts = nonNegative && s.values.every((v) => Number.isInteger(v));
  const points: ForecastPoint[] = [];
  for (let i = 0; i < hFine; i++) {
    const t = end + i * stepMs;
    const c = future.find((x) => t >= x.start && t < x.end);
    const hd = hol?.future.find((x) => t >= x.start && t < x.end);
    // A shape learned from a past window is stretched over this one (a 2-day sale like a 1-day one).
    const m =
      (c?.shape ? (c.shape[Math.min(c.shape.length - 1, Math.floor(((t - c.start) / (c.end - c.start)) * c.shape.length))] as number) : (c?.uplift ?? 1)) * (hd?.uplift ?? 1);
    const clamp = (v: number, widen = 1) => (nonNegative ? Math.max(0, v * m * widen) : v * m);
    // A holiday the history cannot size leaves the point alone and widens the band (nonnegative data only).
    const u = !hd && hol?.unknown.some((x) => t >= x.start && t < x.end) ? UNKNOWN_HOLIDAY : undefined;
    const value = clamp(pred.point[i] as number);
    const noise = counts ? countNoiseBounds(value) : undefined;
    points.push({
      t: isoTime(t),
      value: round(value),
      lo80: round(Math.min(clamp(pred.lo80[i] as number, u?.lo80), noise?.lo80 ?? Infinity)),
      hi80: round(Math.max(clamp(pred.hi80[i] as number, u?.hi80), noise?.hi80 ?? -Infinity)),
      lo95: round(Math.min(clamp(pred.lo95[i] as number, u?.lo95), noise?.lo95 ?? Infinity)),
      hi95: round(Math.max(clamp(pred.hi95[i] as number, u?.hi95), noise?.hi95 ?? -Infinity)),
      ...(c ? { campaign: c.name } : {}),
      ...(hd ? { holiday: hd.name } : {}),
    });
  }
  const peak = points.reduce((a, b) => (b.value > a.value ? b : a), points[0] as ForecastPoint);
  const tailLen = Math.min(n, MAX_TAIL, Math.ceil((3 * 86_400_000) / stepMs));
  const tail = Array.from({ length: tailLen }, (_, i) => ({ t: isoTime(s.start + (n - tailLen + i) * stepMs), value: round(s.values[n - tailLen + i] as number) }));
  const strip = ({ model, mase, smape, coverage80, coverage95 }: (typeof scored)[number]) => ({
    model,
    mase: round(mase),
    smape: round(smape),
    coverage80: round(coverage80),
    coverage95: round(coverage95),
  });
  return {
    name: s.name,
    stepSeconds: stepMs / 1000,
    model: chosen.model,
    seasonality: periods.map((p) => p.steps * k),
    history: { start: isoTime(s.start), end: isoTime(end - stepMs), points: n, hygiene: s.hygiene },
    backtest: {
      origins: run.origins,
      horizon: h,
      aggregation: k,
      // every candidate scored, the yardsticks of a rejected regressor included
      candidates: (regModel && !regVerdict?.earns ? [...scored, ...scoredAll.filter((c) => c.members.includes(regModel.name) || c.members.includes('prophet'))].sort((a, b) => a.mase - b.mase) : scored).map(strip),
      selected:
        (opts.model === 'auto' ? `lowest backtest MASE of ${scored.length} candidates` : `forced with --model ${opts.model}`) +
        (chosen !== ranked[0] ? ` (${ranked[0]?.model} could not be fitted on the full history)` : ''),
    },
    campaigns: adj.campaigns,
    ...(hol ? { holidays: hol.report } : {}),
    ...(xs.length ? { regressors: regressorReport(opts, regVerdict, chosen, regModel, unitOf(opts)) } : {}),
    peak,
    points,
    tail,
  };
}

/** The unit of the series values, for the regressor coefficient. */
function unitOf(opts: ForecastOptions): string {
  return opts.counter ? 'per-second' : (opts.unit ?? 'per-second');
}

/** Regressor values on the fine grid (history n, then horizon) -> on the fitting grid (means of k steps). */
function toFitGrid(x: Float64Array, n: number, k: number, h: number): Float64Array {
  if (k <= 1) return x;
  const hist = aggregate(x.subarray(0, n), k).values;
  const out = new Float64Array(hist.length + h);
  out.set(hist);
  for (let b = 0; b < h; b++) {
    let sum = 0;
    let c = 0;
    for (let j = n + b * k; j < Math.min(x.length, n + (b + 1) * k); j++, c++) sum += x[j] as number;
    out[hist.length + b] = c ? sum / c : (x[x.length - 1] as number);
  }
  return out;
}

/** Backtest MASE a forecast with the regressors must beat the same Prophet fit without them by (5% lower). */
const REGRESSOR_MARGIN = 0.95;

interface RegressorVerdict {
  earns: boolean;
  /** Prophet with the regressors, the best candidate using them (a combination may hold it), the plain Prophet, the best candidate without them. */
  single?: { model: string; mase: number };
  withIt?: { model: string; mase: number };
  prophet?: { model: string; mase: number };
  without?: { model: string; mase: number };
}

function judgeRegressors(scored: readonly { model: string; members: string[]; mase: number }[], regName: string): RegressorVerdict {
  const single = scored.find((c) => c.model === regName);
  const withIt = scored.find((c) => c.members.includes(regName));
  const without = scored.find((c) => !c.members.includes(regName));
  const prophet = scored.find((c) => c.model === 'prophet');
  // Judged on Prophet with vs without (what the regressor adds), then on the whole field (whether it is worth using).
  const earns = !!single && !!withIt && (!prophet || single.mase <= REGRESSOR_MARGIN * prophet.mase) && (!without || withIt.mase < without.mase);
  return { earns, ...(single ? { single } : {}), ...(withIt ? { withIt } : {}), ...(prophet ? { prophet } : {}), ...(without ? { without } : {}) };
}

/** Whether the backtest took the regressors, with the MASE with and without them and the coefficients. */
function regressorReport(
  opts: ForecastOptions & { model: string },
  v: RegressorVerdict | undefined,
  chosen: { model: string; members: string[] },
  regModel: RegressorModel | undefined,
  unit: string,
): RegressorEffect[] {
  const regs = opts.regressors ?? [];
  const names = regs.map((r) => r.name).join(', ');
  const used = !!regModel && chosen.members.includes(regModel.name);
  const coef = regModel?.coefficients() ?? [];
  const withIt = v?.withIt;
  const single = v?.single;
  const pro = v?.prophet ? `${round(v.prophet.mase)} for Prophet without it` : undefined;
  const best = v?.without ? `${round(v.without.mase)} for the best without it (${v.without.model})` : undefined;
  const helps = !!single && !!v?.prophet && single.mase <= REGRESSOR_MARGIN * v.prophet.mase;
  const reason = !regModel
    ? `not used: --model ${opts.model} forces a model without regressors`
    : !withIt || !single
      ? 'not used: Prophet with the regressors could not be fitted at every backtest origin; plain forecast kept'
      : used
        ? `used: backtest MASE ${round(single.mase)} with ${names}${withIt !== single ? ` (${withIt.model}: ${round(withIt.mase)})` : ''} vs ${[pro, best].filter(Boolean).join(' and ') || 'no other candidate'}`
        : !helps && v?.prophet
          ? `not used: backtest MASE ${round(single.mase)} with ${names} vs ${pro}, not the 5% better a regressor must be; plain forecast kept (${chosen.model})`
          : `not used: backtest MASE ${round(withIt.mase)} with ${names} (${withIt.model}) vs ${best}; plain forecast kept (${chosen.model})`;
  return regs.map((r, i) => ({
    name: r.name,
    ...(r.file ? { file: r.file } : {}),
    coefficient: Number.isFinite(coef[i]) ? Number((coef[i] as number).toPrecision(4)) : 0,
    unit: `${unit} per unit of ${r.name}`,
    used,
    backtest: {
      ...(single ? { withRegressor: round(single.mase) } : {}),
      ...(v?.prophet ? { prophetWithout: round(v.prophet.mase) } : {}),
      ...(v?.without ? { without: round(v.without.mase) } : {}),
    },
    reason,
  }));
}

/**
 * Puts the intra-hour shape back onto an hourly forecast: the ratio of each fine step to its hour's
 * mean, averaged by time of day over the last two weeks; the spread around that shape widens the
 * intervals (added in quadrature).
 */
function disaggregate(pred: Prediction, fine: Float64Array, offset: number, k: number, hFine: number, dayFine: number): Prediction {
  const n = fine.length;
  const from = Math.max(offset, n - 14 * dayFine);
  const start = from + ((k - ((from - offset) % k)) % k);
  const multiplicative = fine.subarray(start).every((v) => v > 0);
  const sum = new Float64Array(dayFine);
  const cnt = new Float64Array(dayFine);
  const bucketMean = (b0: number) => {
    let m = 0;
    for (let j = 0; j < k; j++) m += fine[b0 + j] as number;
    return m / k;
  };
  for (let b0 = start; b0 + k <= n; b0 += k) {
    const m = bucketMean(b0);
    for (let j = 0; j < k; j++) {
      const ph = (b0 + j) % dayFine;
      sum[ph] = (sum[ph] as number) + (multiplicative ? (fine[b0 + j] as number) / m : (fine[b0 + j] as number) - m);
      cnt[ph] = (cnt[ph] as number) + 1;
    }
  }
  const shape = (ph: number) => ((cnt[ph] as number) > 0 ? (sum[ph] as number) / (cnt[ph] as number) : multiplicative ? 1 : 0);
  // Residual spread of the fine data around bucket mean x shape, relative to the level when multiplicative.
  let ss = 0;
  let c = 0;
  for (let b0 = start; b0 + k <= n; b0 += k) {
    const m = bucketMean(b0);
    for (let j = 0; j < k; j++) {
      const ph = (b0 + j) % dayFine;
      const e = multiplicative ? (fine[b0 + j] as number) / m - shape(ph) : (fine[b0 + j] as number) - m - shape(ph);
      ss += e * e;
      c++;
    }
  }
  const sd = c > 1 ? Math.sqrt(ss / (c - 1)) : 0;
  const out: Prediction = {
    point: new Float64Array(hFine),
    lo80: new Float64Array(hFine),
    hi80: new Float64Array(hFine),
    lo95: new Float64Array(hFine),
    hi95: new Float64Array(hFine),
  };
  for (let b = 0; b * k < hFine; b++) {
    let norm = 0;
    for (let j = 0; j < k; j++) norm += shape((n + b * k + j) % dayFine);
    norm /= k;
    for (let j = 0; j < k && b * k + j < hFine; j++) {
      const i = b * k + j;
      const r = shape((n + i) % dayFine);
      const p = pred.point[b] as number;
      const lift = (v: number) => (multiplicative ? v * (r / norm) : v + (r - norm));
      const noise = multiplicative ? sd * p : sd;
      const widen = (edge: number, z: number, sign: number) => {
        const base = lift(edge) - lift(p);
        return lift(p) + sign * Math.sqrt(base * base + (z * noise) ** 2);
      };
      out.point[i] = lift(p);
      out.lo80[i] = widen(pred.lo80[b] as number, Z80, -1);
      out.hi80[i] = widen(pred.hi80[b] as number, Z80, 1);
      out.lo95[i] = widen(pred.lo95[b] as number, Z95, -1);
      out.hi95[i] = widen(pred.hi95[b] as number, Z95, 1);
    }
  }
  return out;
}

function resolveSeasonality(spec: 'auto' | 'none' | readonly string[], stepMs: number, name: string): 'auto' | Period[] {
  if (spec === 'auto') return 'auto';
  if (spec === 'none') return [];
  const cal = calendarPeriods(stepMs);
  return spec.map((raw) => {
    const word = raw.trim().toLowerCase();
    const hit = cal.find((c) => c.name === word);
    if (hit) return hit;
    const steps = Number(word);
    if (Number.isInteger(steps) && steps >= 2) return { steps, name: `${steps}` };
    throw new SurgeError('SRG_CLI_USAGE', `series "${name}": seasonality "${raw}" is not daily, weekly or a whole number of steps >= 2 at a ${formatDuration(stepMs)} step`, {
      hint: 'Use --seasonality auto, none, daily, weekly, daily,weekly or periods in steps (e.g. 24,168).',
    });
  });
}

/** `whole numbers around 1200` for the unit warning: the median, rounded. */
function describeValues(v: Float64Array): string {
  const sorted = Float64Array.from(v).sort();
  return `values around ${Math.round(sorted[Math.floor(sorted.length / 2)] as number)}`;
}

function describe(n: number, stepMs: number): string {
  return `${n} points (${formatDuration(Math.round((n * stepMs) / 60_000) * 60_000)})`;
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

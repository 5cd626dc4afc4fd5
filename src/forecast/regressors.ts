import { SurgeError } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import { loadProphet } from './models/augurs.js';
import type { Model } from './models/index.js';
import { isoTime, regularise } from './series.js';
import type { RawSeries, Series } from './types.js';

/** A leading indicator given with `--regressor name=file.csv`: known for the history and the horizon. */
export interface Regressor {
  name: string;
  /** Where it was read from (reported). */
  file?: string;
  series: RawSeries | Series;
}

/** What the forecast did with one regressor (`regressors[]` in the forecast JSON). */
export interface RegressorEffect {
  name: string;
  file?: string;
  /** Change of the forecast per unit of the regressor (Prophet's fitted linear term), in `unit`. */
  coefficient: number;
  /** `per-hour orders per unit of emails`. */
  unit: string;
  /** Whether the forecast uses it: the backtest chose a model fitted with it. */
  used: boolean;
  /** Backtest MASE of Prophet with the regressors, of the same Prophet without them, and of the best candidate without them. */
  backtest: { withRegressor?: number; prophetWithout?: number; without?: number };
  reason: string;
}

/** `emails=emails.csv` -> {name, file}; a usage error otherwise. */
export function parseRegressorSpec(text: string): { name: string; file: string } {
  const m = /^([A-Za-z][\w-]*)=(.+)$/.exec(text.trim());
  if (!m) throw new SurgeError('SRG_CLI_USAGE', `--regressor "${text}" is not name=file`, { hint: 'e.g. --regressor emails=emails-sent.csv (a CSV of timestamp,value covering the history and the horizon)' });
  return { name: m[1] as string, file: m[2] as string };
}

/**
 * The regressor's values at `start + i * stepMs` for i < count (history then horizon), linearly
 * interpolated between its own rows (the last row holds for its own step). A regressor that does not cover the whole range is refused,
 * naming the missing part: a leading indicator must be known for every forecast step.
 */
export function alignRegressor(reg: Regressor, seriesName: string, start: number, stepMs: number, count: number, historyEnd: number): Float64Array {
  const s = 'values' in reg.series ? reg.series : regularise(reg.series, { allowNegative: true });
  const first = s.start;
  // A row stands for its own step: an hourly row at 23:00 covers 5-minute steps up to 23:55.
  const coverEnd = s.start + s.values.length * s.stepMs;
  const lastNeeded = start + (count - 1) * stepMs;
  const where = reg.file ? ` (${reg.file})` : '';
  if (first > start || coverEnd <= lastNeeded) {
    const firstMissing = start + Math.ceil((coverEnd - start) / stepMs) * stepMs;
    const missing = [
      ...(first > start ? [`${isoTime(start)} .. ${isoTime(Math.min(first, historyEnd) - stepMs)} (history)`] : []),
      ...(coverEnd <= lastNeeded ? [`${isoTime(Math.max(firstMissing, historyEnd))} .. ${isoTime(lastNeeded)}${firstMissing >= historyEnd ? ' (horizon)' : ''}`] : []),
    ];
    throw new SurgeError('SRG_DATA_TOO_SHORT', `regressor "${reg.name}"${where} does not cover series "${seriesName}": missing ${missing.join(' and ')}`, {
      hint: `A regressor needs a value for every step of the history and of the horizon (${isoTime(start)} .. ${isoTime(lastNeeded)}, every ${formatDuration(stepMs)}): planned values for the future, e.g. emails scheduled.`,
    });
  }
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const pos = (start + i * stepMs - s.start) / s.stepMs;
    const j = Math.min(s.values.length - 1, Math.floor(pos));
    const f = pos - j;
    out[i] = f > 0 && j + 1 < s.values.length ? (s.values[j] as number) * (1 - f) + (s.values[j + 1] as number) * f : (s.values[j] as number);
  }
  return out;
}

/** A Prophet model fitted with the regressors (none: plain Prophet, for the comparison) as extra linear terms; `coefficients()` gives those of its last fit. */
export interface RegressorModel extends Model {
  coefficients(): number[];
}

const PROPHET_MAX_POINTS = 4_000;

/**
 * augurs' Prophet (Stan optimizer) with the detected seasons as Fourier terms and each regressor as
 * an additive term. `xs[r]` holds regressor r on the fitting grid for the history and the horizon, so a
 * fit on the first `y.length` steps forecasts with the regressor's values after them.
 */
export async function prophetWithRegressors(periods: readonly number[], periodNames: readonly string[], names: readonly string[], xs: readonly Float64Array[]): Promise<RegressorModel> {
  const { mod, optimizer } = await loadProphet();
  let coef: number[] = names.map(() => NaN);
  return {
    name: names.length ? `prophet(${names.join(',')})` : 'prophet',
    heavy: true,
    coefficients: () => coef,
    forecast(y, h) {
      const end = y.length;
      const from = Math.max(0, end - PROPHET_MAX_POINTS);
      const tail = y.subarray(from);
      // Time counted in steps written as days, as for plain Prophet (models/index.ts).
      const ds = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => (a - from + i) * 86_400);
      const x = (a: number, b: number) => new Map(names.map((nm, r) => [nm, Array.from((xs[r] as Float64Array).subarray(a, b))]));
      const off = { type: 'manual', enabled: false } as const;
      const m = new mod.Prophet({ optimizer, dailySeasonality: off, weeklySeasonality: off, yearlySeasonality: off, uncertaintySamples: 0 });
      try {
        for (const [i, p] of periods.entries()) m.addSeasonality(periodNames[i] ?? `p${p}`, { period: p, fourierOrder: Math.max(1, Math.min(10, Math.floor(p / 2))) });
        for (const nm of names) m.addRegressor(nm);
        m.fit({ ds: ds(from, end), y: Array.from(tail), x: x(from, end) });
        const pred = m.predict({ ds: ds(from, end + h), x: x(from, end + h) });
        // The regressor term is linear in x: its slope over history and horizon is the coefficient.
        coef = names.map((nm, r) => slope((xs[r] as Float64Array).subarray(from, end + h), pred.regressors.get(nm)?.point ?? []));
        return Float64Array.from(pred.yhat.point.slice(end - from));
      } finally {
        m.free();
      }
    },
  };
}

function slope(x: Float64Array, y: readonly number[]): number {
  const n = Math.min(x.length, y.length);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += ((x[i] as number) - mx) * ((y[i] as number) - my);
    sxx += ((x[i] as number) - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}

import { formatDuration } from '../util/duration.js';

/**
 * What one value of a series counts. BI exports give orders per hour or per day; Prometheus `rate()`
 * gives orders per second. `per-step` means "per row": a count over one grid step, whatever it is.
 */
export const FORECAST_UNITS = ['per-second', 'per-minute', 'per-hour', 'per-day', 'per-step'] as const;

export type ForecastUnit = (typeof FORECAST_UNITS)[number];

const SECONDS: Record<Exclude<ForecastUnit, 'per-step'>, number> = { 'per-second': 1, 'per-minute': 60, 'per-hour': 3600, 'per-day': 86_400 };

/** Seconds one unit spans: a value in `unit` divided by this is a per-second rate. */
export function unitSeconds(unit: ForecastUnit, stepSeconds: number): number {
  return unit === 'per-step' ? stepSeconds : SECONDS[unit];
}

/** Short label for tables: `/s`, `/min`, `/h`, `/day`, `/step (1h)`. */
export function unitLabel(unit: ForecastUnit, stepSeconds: number): string {
  switch (unit) {
    case 'per-second':
      return '/s';
    case 'per-minute':
      return '/min';
    case 'per-hour':
      return '/h';
    case 'per-day':
      return '/day';
    case 'per-step':
      return `/step (${formatDuration(stepSeconds * 1000)})`;
  }
}

/** The unit that names one step of this length, if there is one (60 s -> per-minute), else per-step. */
export function unitOfStep(stepSeconds: number): ForecastUnit {
  if (stepSeconds === 60) return 'per-minute';
  if (stepSeconds === 3600) return 'per-hour';
  if (stepSeconds === 86_400) return 'per-day';
  return 'per-step';
}

/**
 * Whether values read as per-second rates look implausible: on a step of a minute or more, values that
 * are all whole numbers (counts; rates from `rate()` almost never are) or an hourly-or-coarser step
 * with a median in the thousands (thousands of orders a second is rare; thousands an hour is common).
 * Returns the unit the values most likely are in, or undefined when per-second is plausible.
 */
export function likelyCountUnit(values: ArrayLike<number>, stepSeconds: number): ForecastUnit | undefined {
  if (stepSeconds < 60 || values.length === 0) return undefined;
  let whole = 0;
  let nonZero = 0;
  const sorted: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    sorted.push(v);
    if (v !== 0) {
      nonZero++;
      if (Number.isInteger(v)) whole++;
    }
  }
  if (sorted.length === 0) return undefined;
  sorted.sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const counts = nonZero >= 10 && whole === nonZero && median >= 1;
  const large = stepSeconds >= 3600 && median >= 1000;
  return counts || large ? unitOfStep(stepSeconds) : undefined;
}

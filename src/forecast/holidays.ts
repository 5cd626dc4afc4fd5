import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SurgeError } from '../errors.js';
import { shippedPath } from '../version.js';
import { adjustForCampaigns, type Campaign } from './campaigns.js';
import { isoTime } from './series.js';

const DAY = 86_400_000;

/** One holiday of a country calendar (scenarios/holidays/<cc>.yaml): its dates, one local calendar day each. */
export interface Holiday {
  /** Country code of the calendar, e.g. `us`. */
  country: string;
  /** Id within the calendar, e.g. `thanksgiving`. */
  name: string;
  title: string;
  /** Epoch ms of each date's UTC midnight. */
  dates: number[];
}

const Day = z.union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/), z.date()]);
const CalendarSchema = z
  .object({
    country: z.string().regex(/^[a-z]{2}$/),
    holidays: z.array(z.object({ name: z.string().min(1), title: z.string().min(1), dates: z.array(Day).min(1) }).strict()).min(1),
  })
  .strict();

/** The folder of the shipped calendars: scenarios/holidays in the package. */
const calendarDir = async (): Promise<string> => shippedPath('scenarios', 'holidays');

/** Country codes with a shipped calendar, sorted. */
export async function knownHolidayCountries(): Promise<string[]> {
  const files = await readdir(await calendarDir());
  return files.filter((f) => /^[a-z]{2}\.yaml$/.test(f)).map((f) => f.slice(0, 2)).sort();
}

/** `us,de` or ['us','de'] -> the holidays of those calendars. An unknown code is a usage error naming the known ones. */
export async function loadHolidays(codes: string | readonly string[]): Promise<Holiday[]> {
  const list = (typeof codes === 'string' ? codes.split(',') : [...codes]).map((c) => c.trim().toLowerCase()).filter((c) => c !== '');
  const known = await knownHolidayCountries();
  const unknown = list.filter((c) => !known.includes(c));
  if (unknown.length) {
    throw new SurgeError('SRG_CLI_USAGE', `--holidays: no holiday calendar for ${unknown.map((c) => `"${c}"`).join(', ')}`, { hint: `Known country codes: ${known.join(', ')}` });
  }
  const dir = await calendarDir();
  const out: Holiday[] = [];
  for (const cc of [...new Set(list)]) {
    const file = join(dir, `${cc}.yaml`);
    const parsed = CalendarSchema.safeParse(parseYaml(await readFile(file, 'utf8')));
    if (!parsed.success) {
      throw new SurgeError('SRG_DATA_FORMAT', `${file}: invalid holiday calendar`, { details: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    }
    for (const h of parsed.data.holidays) {
      out.push({ country: cc, name: h.name, title: h.title, dates: h.dates.map((d) => (d instanceof Date ? d.getTime() : Date.parse(`${d}T00:00:00Z`))) });
    }
  }
  return out;
}

/** What the forecast found and did for one holiday (`holidays[]` in the forecast JSON). */
export interface HolidayEffect {
  /** `us:thanksgiving`. */
  name: string;
  title: string;
  /** Occurrences inside the history with the ratio actual / baseline observed on each. */
  inHistory: { date: string; effect: number }[];
  /** Multiplier on the baseline: the median of the observed effects (1 when none). */
  effect: number;
  /** Dates in the forecast horizon. */
  inHorizon: string[];
  /** Whether the effect multiplies the forecast on the dates in the horizon. */
  applied: boolean;
  /** Why (not) applied, with the backtest errors. */
  reason: string;
}

/** The outcome of {@link planHolidays}: what to clean from the history, what to apply, what to report. */
export interface HolidayPlan {
  /** Past occurrences of accepted holidays, as campaign windows (kept out of the baseline, like past campaigns). */
  past: Campaign[];
  /** Future occurrences of accepted holidays with their multiplier. */
  future: { name: string; start: number; end: number; uplift: number }[];
  /**
   * Occurrences in the horizon whose effect the history cannot tell (no past occurrence, or one that
   * cannot be checked): the point forecast is left alone and the interval widened by {@link UNKNOWN_HOLIDAY}.
   */
  unknown: { name: string; start: number; end: number }[];
  report: HolidayEffect[];
}

/**
 * The spread of a holiday's effect when the history cannot estimate it: the day's actual demand is
 * taken as the usual demand times a factor in [lo, hi] (80%: x0.5 to x2, 95%: x0.25 to x3), a prior
 * from retail calendars (a closed or quiet day at x0.2..x0.6, a sales day up to x3), not fitted to any
 * data set. The interval's bounds are multiplied by it; the point forecast is not.
 */
export const UNKNOWN_HOLIDAY = { lo80: 0.5, hi80: 2, lo95: 0.25, hi95: 3 } as const;

/** Hours of a holiday that must be observed before the history ends to carry its effect over the rest of the day. */
const UNDER_WAY_MIN_MS = 6 * 3_600_000;

/**
 * Estimates each holiday's effect from its past occurrences and decides, by a backtest on those
 * occurrences, whether it is applied: each past occurrence is "forecast" as its baseline (the same
 * phase one to four weeks away, the campaign machinery) times the median effect of the *other*
 * occurrences, and compared with the baseline alone. A holiday is applied to its dates in the horizon
 * when that lowers the absolute error summed over its occurrences; it needs two past occurrences to be
 * checked. Occurrences overlapping a calendar campaign are left to the campaign.
 */
export function planHolidays(
  values: Float64Array,
  start: number,
  stepMs: number,
  horizonMs: number,
  fillPeriod: number,
  holidays: readonly Holiday[],
  campaigns: readonly Campaign[],
): HolidayPlan {
  const n = values.length;
  const end = start + n * stepMs;
  const stop = end + horizonMs;
  const overlapsCampaign = (a: number, b: number) => campaigns.some((c) => c.start < b && c.end > a);
  const occ = holidays.map((h) => ({
    h,
    // a whole day inside the history, or any part of it in the horizon
    past: h.dates.filter((d) => d >= start && d + DAY <= end && !overlapsCampaign(d, d + DAY)),
    future: h.dates.filter((d) => d + DAY > end && d < stop && !overlapsCampaign(d, d + DAY)),
    // Started at least UNDER_WAY_MIN_MS before the history ends: its effect so far is measured, as a
    // campaign under way is.
    underWay: h.dates.find((d) => d >= start && d + UNDER_WAY_MIN_MS <= end && d + DAY > end && !overlapsCampaign(d, d + DAY)),
  }));
  const windows: Campaign[] = occ.flatMap(({ h, past, underWay }) =>
    [...past, ...(underWay !== undefined ? [underWay] : [])].map((d) => ({ name: `${h.country}:${h.name}@${isoTime(d)}`, start: d, end: d + DAY })),
  );
  // Every past occurrence measured against a baseline with all holiday and campaign windows out of it.
  const adj = adjustForCampaigns(values, start, stepMs, fillPeriod, [...campaigns, ...windows]);
  const idx = (t: number) => Math.max(0, Math.min(n, Math.ceil((t - start) / stepMs)));
  const plan: HolidayPlan = { past: [], future: [], unknown: [], report: [] };
  for (const { h, past, future, underWay } of occ) {
    if (past.length === 0 && future.length === 0) continue;
    const name = `${h.country}:${h.name}`;
    const inHistory = past.map((d) => {
      const r = adj.campaigns.find((c) => c.name === `${name}@${isoTime(d)}`);
      return { date: isoTime(d).slice(0, 10), effect: r?.uplift ?? 1 };
    });
    const effect = median(inHistory.map((o) => o.effect));
    let applied = false;
    let reason: string;
    if (past.length === 0) reason = 'not in the history: no effect to estimate';
    else if (past.length < 2) reason = 'one past occurrence: its effect cannot be checked in a backtest, not applied';
    else {
      let plainErr = 0;
      let awareErr = 0;
      past.forEach((d, o) => {
        const loo = median(inHistory.filter((_, j) => j !== o).map((x) => x.effect));
        for (let i = idx(d); i < idx(d + DAY); i++) {
          const a = values[i] as number;
          const b = adj.baseline[i] as number;
          plainErr += Math.abs(a - b);
          awareErr += Math.abs(a - b * loo);
        }
      });
      applied = awareErr < plainErr;
      const ratio = plainErr > 0 ? awareErr / plainErr : 1;
      reason = applied
        ? `backtest on ${past.length} past occurrences: error ${round(ratio * 100, 1)}% of the plain forecast's`
        : `backtest on ${past.length} past occurrences: no better than the plain forecast (error ${round(ratio * 100, 1)}% of it), plain forecast kept`;
    }
    if (underWay !== undefined) {
      // The day has started: what it did so far beats any estimate from other years, and its first
      // hours are kept out of the fit so they do not drag the level of the days after it.
      const win = `${name}@${isoTime(underWay)}`;
      const so = adj.campaigns.find((c) => c.name === win)?.uplift ?? 1;
      const hours = Math.round((end - underWay) / 3_600_000);
      plan.past.push(...windows.filter((w) => w.name === win || (applied && w.name.startsWith(`${name}@`))));
      for (const d of future) {
        if (d === underWay || applied) plan.future.push({ name, start: d, end: d + DAY, uplift: d === underWay ? so : effect });
        else if (past.length < 2) plan.unknown.push({ name, start: d, end: d + DAY });
      }
      const rest = past.length ? `; ${reason}` : '';
      plan.report.push({
        name,
        title: h.title,
        inHistory,
        effect: round(so, 4),
        inHorizon: future.map((d) => isoTime(d).slice(0, 10)),
        applied: true,
        reason: `under way when the history ends: x${round(so, 2)} observed over its first ${hours} h, carried over the rest of the day${rest}`,
      });
      continue;
    }
    if (applied) {
      plan.past.push(...windows.filter((w) => w.name.startsWith(`${name}@`)));
      for (const d of future) plan.future.push({ name, start: d, end: d + DAY, uplift: effect });
    } else if (future.length && past.length < 2) {
      for (const d of future) plan.unknown.push({ name, start: d, end: d + DAY });
      reason += `; its day in the horizon gets the interval of an unknown effect (x${UNKNOWN_HOLIDAY.lo80}..x${UNKNOWN_HOLIDAY.hi80} at 80%, x${UNKNOWN_HOLIDAY.lo95}..x${UNKNOWN_HOLIDAY.hi95} at 95%)`;
    }
    plan.report.push({ name, title: h.title, inHistory, effect: round(effect, 4), inHorizon: future.map((d) => isoTime(d).slice(0, 10)), applied, reason });
  }
  return plan;
}

/** The median: one odd year (a burst of orders from another cause) does not move a holiday's effect. */
function median(xs: readonly number[]): number {
  if (xs.length === 0) return 1;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

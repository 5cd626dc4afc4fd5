import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SurgeError } from '../errors.js';
import { parseTime } from './sources/file.js';
import { interpolateGaps } from './series.js';
import type { ResolvedCampaign } from './types.js';

const When = z.union([z.string(), z.number(), z.date()]);
const Window = z.object({ start: When, end: When }).strict();

/** One entry of a campaign calendar (scenarios/campaigns/*.yaml). */
export const CampaignSchema = z
  .object({
    name: z.string().min(1),
    /** Start of the window (ISO-8601 or unix seconds), inclusive. */
    start: When,
    /** End of the window, exclusive. */
    end: When,
    /** Demand multiplier over the baseline during the window (e.g. 3.5). */
    uplift: z.number().positive().optional(),
    /** Reuse the uplift observed in a past window: the name of a past campaign, or {start, end}. */
    like: z.union([z.string().min(1), Window]).optional(),
  })
  .strict();

export const CampaignCalendarSchema = z.object({ campaigns: z.array(CampaignSchema) }).strict();

/** A calendar entry with its times parsed (epoch ms). */
export interface Campaign {
  name: string;
  start: number;
  end: number;
  uplift?: number;
  like?: string | { start: number; end: number };
}

/** Reads and validates a campaign calendar file; every problem is listed. */
export async function readCampaigns(path: string): Promise<Campaign[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SurgeError('SRG_DATA_SOURCE', `cannot read campaign calendar ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseCampaigns(text, path);
}

export function parseCampaigns(text: string, where = 'campaigns'): Campaign[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new SurgeError('SRG_DATA_FORMAT', `${where} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = CampaignCalendarSchema.safeParse(doc);
  if (!parsed.success) {
    throw new SurgeError('SRG_DATA_FORMAT', `${where}: invalid campaign calendar`, {
      details: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      hint: 'Expected `campaigns:` with entries {name, start, end, uplift: 3.5 | like: <past campaign name or {start, end}>}.',
    });
  }
  const problems: string[] = [];
  const time = (v: unknown, path: string): number => {
    const t = v instanceof Date ? v.getTime() : parseTime(v);
    if (t === undefined) problems.push(`${path}: "${String(v)}" is not a time`);
    return t ?? NaN;
  };
  const out = parsed.data.campaigns.map((c, i): Campaign => {
    const start = time(c.start, `campaigns.${i}.start`);
    const end = time(c.end, `campaigns.${i}.end`);
    if (end <= start) problems.push(`campaigns.${i} (${c.name}): end must be after start`);
    if (c.uplift === undefined && c.like === undefined) problems.push(`campaigns.${i} (${c.name}): give either uplift or like`);
    if (c.uplift !== undefined && c.like !== undefined) problems.push(`campaigns.${i} (${c.name}): give uplift or like, not both`);
    const like =
      c.like === undefined || typeof c.like === 'string' ? c.like : { start: time(c.like.start, `campaigns.${i}.like.start`), end: time(c.like.end, `campaigns.${i}.like.end`) };
    return { name: c.name, start, end, ...(c.uplift !== undefined ? { uplift: c.uplift } : {}), ...(like !== undefined ? { like } : {}) };
  });
  if (problems.length) throw new SurgeError('SRG_DATA_FORMAT', `${where}: invalid campaign calendar`, { details: problems });
  return out;
}

/** The history with past campaign windows replaced by a baseline estimate, and every campaign resolved. */
export interface CampaignAdjustment {
  /** History values to fit on: past campaign windows hold the ordinary demand expected there. */
  baseline: Float64Array;
  campaigns: ResolvedCampaign[];
}

/**
 * Replaces past campaign windows with what an ordinary period looked like (the same phase one to four
 * `period`s away, outside any campaign), measures each past uplift as actual / baseline, and
 * resolves `like:` references. `period` is in steps (weekly when the data has it).
 */
export function adjustForCampaigns(values: Float64Array, start: number, stepMs: number, period: number, campaigns: readonly Campaign[]): CampaignAdjustment {
  const n = values.length;
  const end = start + n * stepMs;
  const idx = (t: number) => Math.max(0, Math.min(n, Math.ceil((t - start) / stepMs)));
  const inCampaign = new Uint8Array(n);
  const past = campaigns.filter((c) => c.start < end && c.end > start);
  for (const c of past) inCampaign.fill(1, idx(c.start), idx(c.end));
  const baseline = values.slice();
  const p = Math.max(1, period);
  for (let i = 0; i < n; i++) {
    if (!inCampaign[i]) continue;
    let fill = NaN;
    for (let k = 1; k <= 4 && Number.isNaN(fill); k++) {
      for (const j of [i - k * p, i + k * p]) {
        if (j >= 0 && j < n && !inCampaign[j]) {
          fill = values[j] as number;
          break;
        }
      }
    }
    baseline[i] = fill;
  }
  interpolateGaps(baseline);

  const observed = (a: number, b: number): number | undefined => {
    const i0 = idx(a);
    const i1 = idx(b);
    if (i1 <= i0) return undefined;
    let act = 0;
    let base = 0;
    for (let i = i0; i < i1; i++) {
      act += values[i] as number;
      base += baseline[i] as number;
    }
    return base > 0 ? act / base : undefined;
  };

  // The shape of a past window (ramp, peak, decay): actual / baseline per step, over sums of about an
  // hour either side so a quiet night step with a baseline near 0 does not make a spike of its own.
  const shapeOf = (a: number, b: number): number[] | undefined => {
    const i0 = idx(a);
    const i1 = idx(b);
    if (i1 - i0 < 3) return undefined;
    const w = Math.max(1, Math.round(3_600_000 / stepMs));
    const out: number[] = [];
    for (let i = i0; i < i1; i++) {
      let act = 0;
      let base = 0;
      for (let j = Math.max(i0, i - w); j <= Math.min(i1 - 1, i + w); j++) {
        act += values[j] as number;
        base += baseline[j] as number;
      }
      if (!(base > 0)) return undefined;
      out.push(Math.round((act / base) * 1000) / 1000);
    }
    return out;
  };

  const resolved: ResolvedCampaign[] = campaigns.map((c) => {
    const kind: ResolvedCampaign['kind'] = c.end <= start ? 'outside' : c.start < end ? 'past' : 'future';
    if (kind === 'past') {
      const u = observed(c.start, c.end);
      return { name: c.name, start: c.start, end: c.end, uplift: u ?? c.uplift ?? 1, kind, source: u !== undefined ? 'observed' : 'calendar' };
    }
    if (c.uplift !== undefined) return { name: c.name, start: c.start, end: c.end, uplift: c.uplift, kind, source: 'calendar' };
    const like = c.like as string | { start: number; end: number };
    const win = typeof like === 'string' ? campaigns.find((o) => o.name === like) : like;
    if (!win) {
      throw new SurgeError('SRG_DATA_FORMAT', `campaign "${c.name}": like "${String(like)}" names no campaign in the calendar`, {
        hint: `Known campaigns: ${campaigns.map((o) => o.name).join(', ')}`,
      });
    }
    const u = win.start >= start && win.end <= end ? observed(win.start, win.end) : undefined;
    if (u === undefined) {
      throw new SurgeError('SRG_DATA_TOO_SHORT', `campaign "${c.name}": the window it is like (${typeof like === 'string' ? like : 'given window'}) is not inside the history`, {
        hint: 'Fetch a longer history (--lookback) or give `uplift:` instead.',
      });
    }
    const shape = shapeOf(win.start, win.end);
    return { name: c.name, start: c.start, end: c.end, uplift: u, kind, source: typeof like === 'string' ? `like ${like}` : 'like window', ...(shape ? { shape } : {}) };
  });
  return { baseline, campaigns: resolved };
}

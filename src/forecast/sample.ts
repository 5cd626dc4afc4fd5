import type { RawSeries } from './types.js';
import { mulberry32 } from '../util/prng.js';

export { mulberry32 };

/** Options of {@link generateSample}. */
export interface SampleOptions {
  /** Days of history. Default 365. */
  days?: number;
  /** Step, ms. Default 5 minutes. */
  stepMs?: number;
  /** PRNG seed; the same seed gives the same series. Default 42. */
  seed?: number;
  /** Epoch ms the history ends at (exclusive), aligned down to the step. Default 2026-11-20T00:00Z. */
  end?: number;
  /** Mean order rate at the start, orders per second. Default 20. */
  baseRate?: number;
  /** Relative growth over a year (0.3 = +30%). Default 0.3. */
  yearlyGrowth?: number;
  /** Noise as a share of the level (multiplicative, Gaussian). Default 0.08. */
  noise?: number;
}

/** A past campaign spike the generator put into the data. */
export interface SampleCampaign {
  name: string;
  start: number;
  end: number;
  uplift: number;
}

/** The generated history and the campaign windows it contains (for a calendar and for tests). */
export interface Sample {
  series: RawSeries;
  campaigns: SampleCampaign[];
}

const DAY = 86_400_000;

/**
 * A year (by default) of order rates with an intraday shape (night trough, lunch and evening peaks),
 * a weekly shape (busier weekends), a trend, multiplicative noise and campaign spikes.
 * Deterministic by seed: the demo, `rehearse` and the tests all see the same data.
 */
export function generateSample(opts: SampleOptions = {}): Sample {
  const days = opts.days ?? 365;
  const stepMs = opts.stepMs ?? 300_000;
  const end = Math.floor((opts.end ?? Date.UTC(2026, 10, 20)) / stepMs) * stepMs;
  const n = Math.floor((days * DAY) / stepMs);
  const start = end - n * stepMs;
  const rand = mulberry32(opts.seed ?? 42);
  const gauss = () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const base = opts.baseRate ?? 20;
  const growth = opts.yearlyGrowth ?? 0.3;
  const noise = opts.noise ?? 0.08;

  // Campaigns every ~7 weeks, plus the previous Black Friday when the year holds it.
  const campaigns: SampleCampaign[] = [];
  for (let d = 20 + Math.floor(rand() * 10); d < days - 3; d += 45 + Math.floor(rand() * 20)) {
    const s = start + d * DAY + 8 * 3_600_000;
    campaigns.push({ name: `promo-${campaigns.length + 1}`, start: s, end: s + 12 * 3_600_000, uplift: 1.8 + rand() * 1.2 });
  }
  const bf = Date.UTC(new Date(end).getUTCFullYear() - 1, 10, 28);
  if (bf >= start && bf + DAY <= end) campaigns.push({ name: 'black-friday-last-year', start: bf, end: bf + DAY, uplift: 3.5 });

  const points = new Array<{ t: number; v: number }>(n);
  for (let i = 0; i < n; i++) {
    const t = start + i * stepMs;
    const hour = ((t % DAY) / 3_600_000) as number;
    const dow = new Date(t).getUTCDay();
    const daily = 0.35 + 0.45 * bump(hour, 12.5, 2.5) + 0.75 * bump(hour, 20, 2.2) + 0.25 * bump(hour, 9, 1.5);
    const weekly = dow === 0 || dow === 6 ? 1.25 : dow === 5 ? 1.1 : 1;
    const trend = 1 + (growth * (t - start)) / (365 * DAY);
    const c = campaigns.find((x) => t >= x.start && t < x.end);
    const level = base * daily * weekly * trend * (c ? c.uplift : 1);
    points[i] = { t, v: Math.max(0, Math.round(level * (1 + noise * gauss()) * 1000) / 1000) };
  }
  return { series: { name: 'orders', points }, campaigns };
}

/** Renders a sample as `timestamp,value` CSV. */
export function sampleToCsv(sample: Sample): string {
  const lines = ['timestamp,value'];
  for (const p of sample.series.points) lines.push(`${new Date(p.t).toISOString()},${p.v}`);
  return lines.join('\n') + '\n';
}

/** Renders the campaigns of a sample as a campaign calendar (YAML text). */
export function sampleCampaignsYaml(sample: Sample): string {
  const rows = sample.campaigns.map(
    (c) => `  - name: ${c.name}\n    start: ${new Date(c.start).toISOString()}\n    end: ${new Date(c.end).toISOString()}\n    uplift: ${Math.round(c.uplift * 100) / 100}`,
  );
  return `campaigns:\n${rows.join('\n')}\n`;
}

function bump(hour: number, centre: number, width: number): number {
  const d = Math.min(Math.abs(hour - centre), 24 - Math.abs(hour - centre));
  return Math.exp(-0.5 * (d / width) ** 2);
}

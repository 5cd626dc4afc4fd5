import { mulberry32 } from '../src/forecast/sample.js';
import type { RawSeries } from '../src/forecast/types.js';

const HOUR = 3_600_000;

/**
 * Differently shaped synthetic demand series (not tuned to any one): daily and weekly shapes with
 * random phase and sharpness, additive or multiplicative seasonality, trends, level shifts, spikes,
 * and noise from 2% to 25%. Deterministic by seed.
 */
export function syntheticHourly(count: number, length: number, seed: number, stepMs = HOUR): RawSeries[] {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const perDay = Math.round(86_400_000 / stepMs);
  const out: RawSeries[] = [];
  const t0 = Date.UTC(2026, 0, 5);
  for (let k = 0; k < count; k++) {
    const level = 10 + 990 * rand() ** 2;
    const peaks = 1 + Math.floor(rand() * 3);
    const centres = Array.from({ length: peaks }, () => rand() * 24);
    const widths = Array.from({ length: peaks }, () => 1 + rand() * 4);
    const heights = Array.from({ length: peaks }, () => 0.3 + rand());
    const weekly = Array.from({ length: 7 }, () => 1 + (rand() - 0.5) * (rand() < 0.6 ? 0.6 : 0.05));
    const multiplicative = rand() < 0.7;
    const trend = (rand() - 0.4) * 0.6; // relative change over the series
    const noise = 0.02 + 0.23 * rand() ** 2;
    const shiftAt = rand() < 0.3 ? Math.floor(length * (0.3 + 0.6 * rand())) : -1;
    const shift = 1 + (rand() - 0.5) * 0.6;
    const points = [];
    let ar = 0;
    for (let i = 0; i < length; i++) {
      const hour = ((i % perDay) * 24) / perDay;
      let day = 0.3;
      for (let p = 0; p < peaks; p++) {
        const d = Math.min(Math.abs(hour - (centres[p] as number)), 24 - Math.abs(hour - (centres[p] as number)));
        day += (heights[p] as number) * Math.exp(-0.5 * (d / (widths[p] as number)) ** 2);
      }
      const w = weekly[Math.floor(i / perDay) % 7] as number;
      const lvl = level * (1 + (trend * i) / length) * (shiftAt >= 0 && i >= shiftAt ? shift : 1);
      ar = 0.6 * ar + gauss() * noise;
      const base = multiplicative ? lvl * day * w : lvl * (1 + (day - 1) * 0.8 + (w - 1));
      const spike = rand() < 0.003 ? 1 + 2 * rand() : 1;
      points.push({ t: t0 + i * stepMs, v: Math.max(0, base * (1 + ar) * spike) });
    }
    out.push({ name: `synthetic-${seed}-${k}`, points });
  }
  return out;
}

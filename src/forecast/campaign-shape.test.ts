import { describe, expect, it } from 'vitest';
import { forecast } from './forecast.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('like: campaigns take the shape of the window they are like', () => {
  it('a sale that ramped to x4 at noon and decayed is forecast with its ramp, peak and decay, not a flat factor', async () => {
    const t0 = Date.UTC(2026, 8, 7);
    // Flat 100 orders/h with a mild daily wave; the sale day ramps 1 -> 4 at 12:00 -> 1.5 at midnight.
    const lift = (h: number) => (h <= 12 ? 1 + (3 * h) / 12 : 4 - (2.5 * (h - 12)) / 12);
    const saleDay = 21;
    const points = Array.from({ length: 42 * 24 }, (_, i) => {
      const h = i % 24;
      const base = 100 * (1 + 0.2 * Math.sin((2 * Math.PI * h) / 24));
      return { t: t0 + i * HOUR, v: base * (Math.floor(i / 24) === saleDay ? lift(h) : 1) };
    });
    const end = t0 + 42 * DAY;
    const campaigns = [
      { name: 'sale-1', start: t0 + saleDay * DAY, end: t0 + (saleDay + 1) * DAY, uplift: 2 },
      { name: 'sale-2', start: end + DAY, end: end + 2 * DAY, like: 'sale-1' },
    ];
    const r = await forecast({ series: [{ name: 's', points }], horizonMs: 3 * DAY, unit: 'per-hour', campaigns, heavyModels: 'off', now: () => 0 });
    const s = r.series[0]!;
    const c = s.campaigns.find((x) => x.name === 'sale-2')!;
    expect(c.shape).toHaveLength(24);
    const inSale = s.points.filter((p) => p.campaign === 'sale-2');
    const dayBefore = s.points.slice(0, 24);
    const ratio = (h: number) => (inSale[h]!.value as number) / (dayBefore[h]!.value as number);
    // the smoothing over an hour either side blunts the peak a little, but the ramp is there
    expect(ratio(1)).toBeLessThan(1.6);
    expect(ratio(12)).toBeGreaterThan(3.5);
    expect(ratio(23)).toBeLessThan(2.2);
    expect(ratio(12)).toBeGreaterThan(2 * ratio(1));
  });
});

/**
 * `npm run bench:forecast`: the speed targets of issue #3 and an honest accuracy check.
 *
 * Speed: (1) a year of 5-minute orders (105,120 points), 7 days ahead with model selection;
 * (2) 400 hourly series of ~1,000 points in one call, 48 h ahead.
 * Accuracy: the last horizon of each series is held out, `forecast()` runs with default settings on
 * the rest (its own backtest picks the model), and the held-out truth is scored: MASE, sMAPE and
 * interval coverage, next to seasonal naive (daily) on the same windows. OWA here is relative to
 * seasonal naive: 0.5 x (sMAPE / sMAPE_snaive + MASE / MASE_snaive).
 */
import { forecast } from '../src/forecast/forecast.js';
import { generateSample } from '../src/forecast/sample.js';
import { regularise } from '../src/forecast/series.js';
import type { RawSeries } from '../src/forecast/types.js';
import { syntheticHourly } from './forecast-series.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

interface Scores {
  mase: number;
  smape: number;
  naiveMase: number;
  naiveSmape: number;
  cover80: number;
  cover95: number;
  models: Map<string, number>;
}

async function holdout(series: RawSeries[], horizonMs: number, seasonalSteps: (stepMs: number) => number): Promise<Scores> {
  const clean = series.map((s) => regularise(s));
  let mase = 0;
  let smape = 0;
  let naiveMase = 0;
  let naiveSmape = 0;
  let in80 = 0;
  let in95 = 0;
  let count = 0;
  const models = new Map<string, number>();
  const train = clean.map((s) => {
    const h = Math.round(horizonMs / s.stepMs);
    return { ...s, values: s.values.slice(0, s.values.length - h) };
  });
  const res = await forecast({ series: train, horizonMs, now: () => 0 });
  clean.forEach((s, k) => {
    const f = res.series[k];
    if (!f) return;
    models.set(f.model.replace(/\(.*\)/, '(...)'), (models.get(f.model.replace(/\(.*\)/, '(...)')) ?? 0) + 1);
    const h = f.points.length;
    const y = s.values;
    const n = y.length - h;
    const m = seasonalSteps(s.stepMs);
    let scale = 0;
    for (let i = m; i < n; i++) scale += Math.abs((y[i] as number) - (y[i - m] as number));
    scale /= n - m;
    let ae = 0;
    let aeN = 0;
    for (let i = 0; i < h; i++) {
      const a = y[n + i] as number;
      const p = f.points[i] as (typeof f.points)[number];
      const sn = y[n - m + (i % m)] as number;
      ae += Math.abs(a - p.value);
      aeN += Math.abs(a - sn);
      smape += Math.abs(a) + Math.abs(p.value) > 0 ? (200 * Math.abs(a - p.value)) / (Math.abs(a) + Math.abs(p.value)) / h : 0;
      naiveSmape += Math.abs(a) + Math.abs(sn) > 0 ? (200 * Math.abs(a - sn)) / (Math.abs(a) + Math.abs(sn)) / h : 0;
      if (a >= p.lo80 && a <= p.hi80) in80++;
      if (a >= p.lo95 && a <= p.hi95) in95++;
      count++;
    }
    mase += ae / h / scale;
    naiveMase += aeN / h / scale;
  });
  const n = clean.length;
  return { mase: mase / n, smape: smape / n, naiveMase: naiveMase / n, naiveSmape: naiveSmape / n, cover80: in80 / count, cover95: in95 / count, models };
}

function line(name: string, s: Scores): string {
  const owa = 0.5 * (s.smape / s.naiveSmape + s.mase / s.naiveMase);
  const top = [...s.models].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([m, c]) => `${m} x${c}`).join(', ');
  return `${name.padEnd(38)} MASE ${s.mase.toFixed(3)} (snaive ${s.naiveMase.toFixed(3)})  sMAPE ${s.smape.toFixed(2)}% (snaive ${s.naiveSmape.toFixed(2)}%)  OWA ${owa.toFixed(3)}  cover80 ${(100 * s.cover80).toFixed(0)}%  cover95 ${(100 * s.cover95).toFixed(0)}%  [${top}]`;
}

async function main(): Promise<void> {
  const only = process.argv[2];
  const year = generateSample({ days: 365, seed: 42 }).series;
  if (!only || only === 'speed') {
    const [, cold] = await time(() => forecast({ series: [year], horizonMs: 7 * DAY, now: () => 0 }));
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push((await time(() => forecast({ series: [year], horizonMs: 7 * DAY, now: () => 0 })))[1]);
    runs.sort((a, b) => a - b);
    console.log(`speed: 105,120 x 5m points, 7d ahead with model selection: cold ${(cold / 1000).toFixed(2)} s, warm median ${((runs[1] as number) / 1000).toFixed(2)} s (target <= 2 s)`);

    const many = syntheticHourly(400, 1000, 2026);
    const [res, ms] = await time(() => forecast({ series: many, horizonMs: 48 * HOUR, now: () => 0 }));
    console.log(`speed: ${res.series.length} hourly series x 1,000 points, 48h ahead, one call: ${(ms / 1000).toFixed(2)} s (target <= 15 s)`);
  }
  if (!only || only === 'accuracy') {
    console.log('\naccuracy on held-out last horizon (default settings; model chosen by the backtest inside forecast()):');
    console.log(line('generator sample (5m, 7d ahead)', await holdout([year], 7 * DAY, (s) => DAY / s)));
    console.log(line('generator, 4 seeds hourly (48h ahead)', await holdout([1, 2, 3, 4].map((seed) => toHourly(generateSample({ days: 60, seed }).series)), 48 * HOUR, (s) => DAY / s)));
    console.log(line('100 synthetic hourly, 1000 pts (48h)', await holdout(syntheticHourly(100, 1000, 7), 48 * HOUR, (s) => DAY / s)));
    console.log(line('100 synthetic hourly, 700 pts (48h)', await holdout(syntheticHourly(100, 700, 8), 48 * HOUR, (s) => DAY / s)));
    console.log(line('30 synthetic 30-min, 3000 pts (48h)', await holdout(syntheticHourly(30, 3000, 9, 1_800_000), 48 * HOUR, (s) => DAY / s)));
  }
}

function toHourly(s: RawSeries): RawSeries {
  const out: RawSeries = { name: s.name, points: [] };
  for (let i = 0; i + 12 <= s.points.length; i += 12) {
    let v = 0;
    for (let j = 0; j < 12; j++) v += (s.points[i + j] as { v: number }).v;
    out.points.push({ t: (s.points[i] as { t: number }).t, v: v / 12 });
  }
  return out;
}

await main();

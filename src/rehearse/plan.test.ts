import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import type { ForecastPoint, ForecastResult } from '../forecast/types.js';
import { BREAKER_RESET_MS, givenMachineRate, localWorkers, MIN_DURATION_MS, phaseAt, planStages, scaleForecast, scaleToMachine } from './plan.js';

describe('stage timings', () => {
  it.each([18_000, 20_000, 30_000, 90_000, 600_000])('fit the outage, the breaker reset and both steady-state checks inside a %d ms load test', (loadMs) => {
    const t = planStages(loadMs);
    const outageStart = t.chaosStartMs + t.probeWindowMs;
    const afterCheckEnd = outageStart + t.outageMs + t.recoveryMs + t.probeWindowMs;
    expect(t.rampMs).toBeLessThan(t.chaosStartMs);
    expect(t.recoveryMs).toBeGreaterThan(BREAKER_RESET_MS);
    expect(afterCheckEnd).toBeLessThanOrEqual(loadMs);
    expect(t.drainBudgetMs).toBeGreaterThanOrEqual(30_000);
  });

  it('scale with the duration', () => {
    const short = planStages(20_000);
    const long = planStages(120_000);
    expect(long.outageMs / short.outageMs).toBeCloseTo(6);
    expect(long.chaosStartMs / short.chaosStartMs).toBeCloseTo(6);
  });

  it('refuse a load test too short for the drill, naming the minimum', () => {
    expect(() => planStages(MIN_DURATION_MS - 1)).toThrow(SurgeError);
    expect(() => planStages(10_000)).toThrow(/--duration must be at least 18s, got 10s/);
  });
});

describe('scaling the forecast peak to the machine', () => {
  const probed = (maxPerSec: number) => ({ maxPerSec, basis: `probed: ${maxPerSec}/s sustained at p99 4 ms`, share: 0.75 });

  it('rehearses min(peak, share x probed rate): a peak above it is scaled down, with both rates and the factor said', () => {
    const s = scaleToMachine(80, probed(40));
    expect(s).toMatchObject({ peakPerSec: 80, machineMaxPerSec: 40, share: 0.75, ceilingPerSec: 30, factor: 0.375, targetPerSec: 30 });
    expect(s.statement).toBe('forecast peak 4,800 orders/min = 80/s; scaled to 30/s for this machine (75% of 40/s; probed: 40/s sustained at p99 4 ms): factor 0.375');
  });

  it('never scales a peak below the ceiling up, and takes one at the ceiling (the probe top rung, up to rounding) at full size', () => {
    const s = scaleToMachine(12.5, probed(1840));
    expect(s).toMatchObject({ factor: 1, targetPerSec: 12.5, ceilingPerSec: 1380 });
    expect(s.statement).toBe('forecast peak 750 orders/min = 12.5/s; this machine takes it at full size (75% of 1,840/s; probed: 1840/s sustained at p99 4 ms): factor 1');
    // 91.89 / 0.75 = 122.52 after rounding; 75% of it is the peak again.
    expect(scaleToMachine(91.89, probed(122.52))).toMatchObject({ factor: 1, targetPerSec: 91.89 });
  });

  it('uses --max-rate as it is: no probe, no share', () => {
    expect(givenMachineRate(300)).toEqual({ maxPerSec: 300, basis: '--max-rate 300/s', share: 1 });
    const s = scaleToMachine(400, givenMachineRate(300));
    expect(s).toMatchObject({ machineMaxPerSec: 300, share: 1, ceilingPerSec: 300, factor: 0.75, targetPerSec: 300 });
    expect(s.statement).toBe('forecast peak 24,000 orders/min = 400/s; scaled to 300/s for this machine (--max-rate 300/s): factor 0.75');
  });

  it('refuses a peak or a machine rate that is not a positive rate', () => {
    expect(() => scaleToMachine(0, givenMachineRate(50))).toThrow(/positive rate/);
    expect(() => scaleToMachine(Number.NaN, givenMachineRate(50))).toThrow(SurgeError);
    expect(() => scaleToMachine(10, { maxPerSec: 0, basis: 'probed: nothing' })).toThrow(/the machine rate must be a positive rate, got 0 orders\/s \(probed: nothing\)/);
  });
});

describe('local workers', () => {
  it('scale the planned replicas by the load factor, at least one', () => {
    expect(localWorkers(7, 0.625)).toEqual({ count: 5, basis: 'ceil(7 planned x factor 0.625) = 5' });
    expect(localWorkers(1, 0.01).count).toBe(1);
    expect(localWorkers(4, 1).count).toBe(4);
  });

  it('honour --workers', () => {
    expect(localWorkers(7, 0.5, 3)).toEqual({ count: 3, basis: '--workers 3' });
  });
});

describe('load phases by the plan clock', () => {
  const t = planStages(20_000);
  const outageStart = t.chaosStartMs + t.probeWindowMs;
  it.each([
    [0, 'ramp'],
    [t.rampMs - 1, 'ramp'],
    [t.rampMs, 'peak'],
    [outageStart - 1, 'peak'],
    [outageStart, 'outage'],
    [outageStart + t.outageMs - 1, 'outage'],
    [outageStart + t.outageMs, 'recovery'],
    [outageStart + t.outageMs + t.recoveryMs - 1, 'recovery'],
    [outageStart + t.outageMs + t.recoveryMs, 'peak'],
  ])('at %d ms: %s', (ms, phase) => {
    expect(phaseAt(ms, t, true)).toBe(phase);
  });

  it('has no outage or recovery without chaos', () => {
    expect(phaseAt(0, t, false)).toBe('ramp');
    expect(phaseAt(outageStart, t, false)).toBe('peak');
    expect(phaseAt(outageStart + t.outageMs, t, false)).toBe('peak');
  });
});

describe('--peak-rate scaling of the forecast', () => {
  const point = (value: number): ForecastPoint => ({ t: '2026-11-27T12:00:00.000Z', value, lo80: value - 1, hi80: value + 1, lo95: value - 2, hi95: value + 2 });
  const forecast: ForecastResult = {
    apiVersion: 'surgectl/v1',
    kind: 'Forecast',
    generatedAt: '2026-11-23T00:00:00.000Z',
    horizonMs: 7 * 86_400_000,
    series: [
      {
        name: 'orders',
        stepSeconds: 300,
        model: 'ets',
        seasonality: [288],
        history: { start: '2026-10-01T00:00:00.000Z', end: '2026-11-23T00:00:00.000Z', points: 100, hygiene: { inputPoints: 100, unsorted: 0, duplicates: 0, gapsFilled: 0, resampled: 0, counterResets: 0 } },
        backtest: { origins: 0, horizon: 0, aggregation: 1, candidates: [], selected: 'ets' },
        campaigns: [],
        peak: { ...point(10), campaign: 'black-friday' },
        points: [point(4), point(10)],
        tail: [{ t: '2026-11-22T23:55:00.000Z', value: 3 }],
      },
    ],
  };

  it('multiplies every value and bound, keeping times and campaigns, and leaves the input alone', () => {
    const scaled = scaleForecast(forecast, 3);
    const s = scaled.series[0]!;
    expect(s.peak).toEqual({ t: '2026-11-27T12:00:00.000Z', value: 30, lo80: 27, hi80: 33, lo95: 24, hi95: 36, campaign: 'black-friday' });
    expect(s.points.map((p) => [p.value, p.lo95, p.hi95])).toEqual([
      [12, 6, 18],
      [30, 24, 36],
    ]);
    expect(s.model).toBe('ets');
    expect(forecast.series[0]!.peak.value).toBe(10);
  });
});

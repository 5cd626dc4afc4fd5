import { describe, expect, it } from 'vitest';
import { evaluateCondition, parseCondition } from '../probes/index.js';
import { EXACT_SAMPLES, newSeries, recordInto, trendOf, type Series } from './metrics.js';

/** A series holding these durations, in ms. */
function seriesOf(ms: readonly number[], tags: Record<string, string> = {}): Series {
  const s = newSeries(tags);
  for (const v of ms) recordInto(s, v * 1000, false);
  return s;
}

describe('trend percentiles follow k6 on small samples', () => {
  it('never reports a percentile above the largest request: 250 ms every time passes p(95)<=250', () => {
    const t = trendOf([seriesOf([250, 250, 250])])!;
    expect(t.values['p(95)']).toBe(250);
    expect(t.values.med).toBe(250);
    expect(t.percentile!(99.9)).toBe(250);
    expect(evaluateCondition(parseCondition('p(95)<=250'), t).phase).toBe('pass');
    expect(evaluateCondition(parseCondition('p(99.9)<=250'), t).phase).toBe('pass');
  });

  it("interpolates between the nearest ranks as k6's trend sink does", () => {
    const two = trendOf([seriesOf([100, 300])])!;
    expect(two.values.med).toBe(200);
    expect(two.values['p(95)']).toBeCloseTo(290, 9);
    // med<150 fails in k6 (the median is 200), whatever the HDR bucket of the lower sample says.
    expect(evaluateCondition(parseCondition('med<150'), two).phase).toBe('fail');
    const ten = trendOf([seriesOf([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])])!;
    expect(ten.values.med).toBeCloseTo(55, 9);
    expect(ten.values['p(90)']).toBeCloseTo(91, 9);
    expect(ten.values['p(95)']).toBeCloseTo(95.5, 9);
    expect(ten.percentile!(99.9)).toBeCloseTo(99.91, 9);
    expect(ten.values.min).toBe(10);
    expect(ten.values.max).toBe(100);
  });

  it('merges the exact samples of several series (a tag filter over statuses)', () => {
    const merged = trendOf([seriesOf([30, 10], { status: '200' }), seriesOf([20, 40], { status: '500' })])!;
    expect(merged.values.med).toBe(25);
    expect(merged.values.min).toBe(10);
    expect(merged.values.max).toBe(40);
  });

  it('past the exact limit, HDR percentiles stay within min..max', () => {
    const big = seriesOf(new Array<number>(EXACT_SAMPLES + 5).fill(250));
    expect(big.samples).toBeUndefined();
    const t = trendOf([big])!;
    expect(t.values['p(95)']).toBe(250);
    expect(t.values['p(99)']).toBe(250);
    expect(t.percentile!(99.9)).toBe(250);
    expect(evaluateCondition(parseCondition('p(99)<=250'), t).phase).toBe('pass');
  });
});

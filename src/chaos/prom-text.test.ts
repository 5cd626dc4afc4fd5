import { describe, expect, it } from 'vitest';
import { isLoopback, startLoad } from './background-load.js';
import { bucketIncrease, histogramBuckets, histogramQuantile, increase, parsePromText, sumSamples } from './prom-text.js';

describe('Prometheus text parsing', () => {
  it('reads samples with escaped label values, skips comments and malformed lines', () => {
    const s = parsePromText(
      [
        '# HELP x_total A counter.',
        '# TYPE x_total counter',
        'x_total{path="/a\\"b",code="200"} 3',
        'x_total{path="/c",code="500"} 2 1700000000000',
        'up 1',
        'broken{',
        'nan_metric NaN',
        'h_bucket{le="+Inf"} 7',
      ].join('\n'),
    );
    expect(s).toEqual([
      { name: 'x_total', labels: { path: '/a"b', code: '200' }, value: 3 },
      { name: 'x_total', labels: { path: '/c', code: '500' }, value: 2 },
      { name: 'up', labels: {}, value: 1 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 7 },
    ]);
    expect(sumSamples(s, 'x_total')).toBe(5);
    expect(sumSamples(s, 'x_total', { code: '500' })).toBe(2);
    expect(sumSamples(s, 'missing')).toBeUndefined();
  });

  it('computes increases across a counter reset like PromQL', () => {
    expect(increase(10, 15)).toBe(5);
    expect(increase(10, 4)).toBe(4);
    expect(increase(undefined, 4)).toBe(4);
  });

  it('interpolates quantiles inside buckets like histogram_quantile()', () => {
    const text = (n: [number, number, number]) =>
      [`d_bucket{le="0.1"} ${n[0]}`, `d_bucket{le="0.2"} ${n[1]}`, `d_bucket{le="+Inf"} ${n[2]}`].join('\n');
    const before = histogramBuckets(parsePromText(text([10, 10, 10])), 'd', {});
    const after = histogramBuckets(parsePromText(text([60, 110, 110])), 'd', {});
    const window = bucketIncrease(before, after);
    expect(histogramQuantile(0.5, window)).toBeCloseTo(0.1, 9);
    expect(histogramQuantile(0.75, window)).toBeCloseTo(0.15, 9);
    expect(histogramQuantile(0.25, window)).toBeCloseTo(0.05, 9);
    // Above the highest finite bound Prometheus answers that bound.
    const overflow = histogramBuckets(parsePromText(text([0, 0, 5])), 'd', {});
    expect(histogramQuantile(0.99, overflow)).toBe(0.2);
    expect(histogramQuantile(0.99, histogramBuckets(parsePromText(text([0, 0, 0])), 'd', {}))).toBeUndefined();
  });
});

describe('background load guard', () => {
  it('only targets loopback', async () => {
    expect(isLoopback('http://127.0.0.1:8080')).toBe(true);
    expect(isLoopback('http://[::1]:8080')).toBe(true);
    expect(isLoopback('http://localhost:8080')).toBe(true);
    expect(isLoopback('http://shop.example.com')).toBe(false);
    await expect(startLoad({ url: 'http://10.0.0.5:8080', rate: 1, maxRequests: 1, maxDurationMs: 1000, maxInFlight: 1 })).rejects.toMatchObject({
      code: 'SRG_CHAOS_EXPERIMENT',
      message: expect.stringContaining('only targets a stack on this machine'),
    });
  });
});

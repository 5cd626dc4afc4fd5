import { describe, expect, it } from 'vitest';
import { bucketIncrease, histogramBuckets, histogramQuantile, increase, labelsMatch, parsePromText, sumSamples } from './prom-text.js';

describe('parsePromText', () => {
  it('reads samples with escaped label values, skips comments and malformed lines', () => {
    const { samples } = parsePromText(
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
    expect(samples).toEqual([
      { name: 'x_total', labels: { path: '/a"b', code: '200' }, value: 3 },
      { name: 'x_total', labels: { path: '/c', code: '500' }, value: 2, timestampMs: 1_700_000_000_000 },
      { name: 'up', labels: {}, value: 1 },
      { name: 'nan_metric', labels: {}, value: NaN },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 7 },
    ]);
    expect(sumSamples(samples, 'x_total')).toBe(5);
    expect(sumSamples(samples, 'x_total', { code: '500' })).toBe(2);
    expect(sumSamples(samples, 'missing')).toBeUndefined();
  });

  it('keeps what # TYPE and # HELP declare, per family', () => {
    const p = parsePromText(
      [
        '# HELP x',
        '# TYPE surgectl_orders_completed_total counter',
        '# HELP surgectl_queue_depth Orders waiting.\\nOne line per queue, C:\\\\q.',
        '# TYPE surgectl_queue_depth gauge',
        '# TYPE d histogram',
        '# TYPE q summary',
        '# TYPE odd nonsense',
        '#TYPE tight untyped',
        '# just a comment',
        '# EOF',
      ].join('\n'),
    );
    expect(Object.fromEntries(p.types)).toEqual({ surgectl_orders_completed_total: 'counter', surgectl_queue_depth: 'gauge', d: 'histogram', q: 'summary', tight: 'untyped' });
    expect(p.help.get('x')).toBe('');
    expect(p.help.get('surgectl_queue_depth')).toBe('Orders waiting.\nOne line per queue, C:\\q.');
    expect(p.samples).toEqual([]);
  });

  it('unescapes \\\\, \\" and \\n in one pass, so an escaped backslash before n stays a backslash', () => {
    const { samples } = parsePromText('m{a="x\\\\ny",b="line\\nbreak",c="say \\"hi\\"",d="br{a}ce"} 1');
    expect(samples[0]?.labels).toEqual({ a: 'x\\ny', b: 'line\nbreak', c: 'say "hi"', d: 'br{a}ce' });
  });

  it('reads spacing, a trailing comma, an empty label set, exponents and infinities', () => {
    const { samples } = parsePromText(
      ['a{ x = "1" , y="2", } 1e3', 'b{} -2.5', 'c +Inf', 'd -Inf', 'e{le="0.5"} .25', 'f\t7\t1700000000001', 'g:rule_total 4'].join('\n'),
    );
    expect(samples.map((s) => [s.name, s.labels, s.value])).toEqual([
      ['a', { x: '1', y: '2' }, 1000],
      ['b', {}, -2.5],
      ['c', {}, Infinity],
      ['d', {}, -Infinity],
      ['e', { le: '0.5' }, 0.25],
      ['f', {}, 7],
      ['g:rule_total', {}, 4],
    ]);
    expect(samples[5]?.timestampMs).toBe(1_700_000_000_001);
  });

  it('skips lines that are not samples rather than guessing', () => {
    const { samples } = parsePromText(
      ['m', 'm{a="1"', 'm{a=1} 2', 'm{1a="x"} 2', 'm 0x10', 'm abc', 'm 1 2 3', 'm 1 soon', '9m 1', 'ok 1'].join('\n'),
    );
    expect(samples).toEqual([{ name: 'ok', labels: {}, value: 1 }]);
  });

  it('histogram and summary series are plain samples: buckets, sums, counts and quantiles', () => {
    const { samples, types } = parsePromText(
      [
        '# TYPE d histogram',
        'd_bucket{le="0.1"} 1',
        'd_bucket{le="+Inf"} 2',
        'd_sum 0.3',
        'd_count 2',
        '# TYPE q summary',
        'q{quantile="0.5"} NaN',
        'q{quantile="0.9"} 0.2',
        'q_sum 1',
        'q_count 5',
      ].join('\n'),
    );
    expect(types.get('d')).toBe('histogram');
    expect(sumSamples(samples, 'd_count')).toBe(2);
    expect(sumSamples(samples, 'q', { quantile: '0.9' })).toBe(0.2);
    // A quantile with no observations is NaN: no value, not a poisoned sum.
    expect(sumSamples(samples, 'q', { quantile: '0.5' })).toBeUndefined();
    expect(sumSamples(samples, 'q')).toBe(0.2);
  });

  it('matches labels by filter', () => {
    expect(labelsMatch({ a: '1', b: '2' }, { a: '1' })).toBe(true);
    expect(labelsMatch({ a: '1' }, {})).toBe(true);
    expect(labelsMatch({ a: '1' }, { a: '2' })).toBe(false);
    expect(labelsMatch({ a: '1' }, { b: '1' })).toBe(false);
  });
});

describe('windowed figures', () => {
  it('computes increases across a counter reset like PromQL', () => {
    expect(increase(10, 15)).toBe(5);
    expect(increase(10, 4)).toBe(4);
    expect(increase(undefined, 4)).toBe(4);
  });

  it('interpolates quantiles inside buckets like histogram_quantile()', () => {
    const text = (n: [number, number, number]) => [`d_bucket{le="0.1"} ${n[0]}`, `d_bucket{le="0.2"} ${n[1]}`, `d_bucket{le="+Inf"} ${n[2]}`].join('\n');
    const buckets = (n: [number, number, number]) => histogramBuckets(parsePromText(text(n)).samples, 'd', {});
    const window = bucketIncrease(buckets([10, 10, 10]), buckets([60, 110, 110]));
    expect(histogramQuantile(0.5, window)).toBeCloseTo(0.1, 9);
    expect(histogramQuantile(0.75, window)).toBeCloseTo(0.15, 9);
    expect(histogramQuantile(0.25, window)).toBeCloseTo(0.05, 9);
    // Above the highest finite bound Prometheus answers that bound.
    expect(histogramQuantile(0.99, buckets([0, 0, 5]))).toBe(0.2);
    expect(histogramQuantile(0.99, buckets([0, 0, 0]))).toBeUndefined();
  });

  it('sums buckets over every series matching the filter', () => {
    const { samples } = parsePromText(
      ['d_bucket{route="/a",le="1"} 2', 'd_bucket{route="/a",le="+Inf"} 3', 'd_bucket{route="/b",le="1"} 5', 'd_bucket{route="/b",le="+Inf"} 5', 'd_bucket{route="/b",le="x"} 9'].join('\n'),
    );
    expect([...histogramBuckets(samples, 'd', {})]).toEqual([
      [1, 7],
      [Infinity, 8],
    ]);
    expect([...histogramBuckets(samples, 'd', { route: '/a' })]).toEqual([
      [1, 2],
      [Infinity, 3],
    ]);
  });
});

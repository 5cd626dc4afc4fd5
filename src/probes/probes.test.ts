import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import {
  evaluateCondition,
  parseCondition,
  parseMetricSelector,
  parseThreshold,
  type MetricObservation,
  type ThresholdCondition,
} from './index.js';

const trend: MetricObservation = {
  type: 'trend',
  values: { avg: 120, min: 3, med: 100, max: 900, 'p(90)': 180, 'p(95)': 210, 'p(99)': 480 },
  // A linear stand-in for an HDR histogram: p(N) = N * 5.
  percentile: (p) => p * 5,
};
const failedRate: MetricObservation = { type: 'rate', values: { rate: 0.02, passes: 20, fails: 980 } };
const dropped: MetricObservation = { type: 'counter', values: { count: 0, rate: 0 } };
const vus: MetricObservation = { type: 'gauge', values: { value: 50, min: 1, max: 50 } };

function syntaxErrorOf(fn: () => unknown): SurgeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SurgeError);
    expect((e as SurgeError).code).toBe('SRG_CONDITION_SYNTAX');
    return e as SurgeError;
  }
  throw new Error('expected a SurgeError');
}

describe('parseCondition (k6 thresholds)', () => {
  it.each([
    ['p(95)<200', { aggregation: 'p', percentile: 95, operator: '<', target: 200 }],
    ['p(99.9)<=500', { aggregation: 'p', percentile: 99.9, operator: '<=', target: 500 }],
    ['avg<100', { aggregation: 'avg', operator: '<', target: 100 }],
    ['med >= 1.5', { aggregation: 'med', operator: '>=', target: 1.5 }],
    ['min>0', { aggregation: 'min', operator: '>', target: 0 }],
    ['max<=2e3', { aggregation: 'max', operator: '<=', target: 2000 }],
    ['rate<0.01', { aggregation: 'rate', operator: '<', target: 0.01 }],
    ['count<1', { aggregation: 'count', operator: '<', target: 1 }],
    ['value>0', { aggregation: 'value', operator: '>', target: 0 }],
    ['count==0', { aggregation: 'count', operator: '==', target: 0 }],
    ['count===0', { aggregation: 'count', operator: '===', target: 0 }],
    ['value!=-1', { aggregation: 'value', operator: '!=', target: -1 }],
  ])('%s', (text, expected) => {
    expect(parseCondition(text)).toMatchObject({ kind: 'threshold', source: text, ...expected });
  });

  it('reads the k6 object form with abortOnFail and delayAbortEval', () => {
    const spec = parseThreshold({ threshold: 'p(95)<300', abortOnFail: true, delayAbortEval: '10s' });
    expect(spec).toMatchObject({ abortOnFail: true, delayAbortEvalMs: 10_000, condition: { aggregation: 'p', percentile: 95, target: 300 } });
    expect(parseThreshold('rate<0.01')).toMatchObject({ abortOnFail: false, delayAbortEvalMs: 0 });
    expect(parseCondition({ threshold: 'avg<5' })).toMatchObject({ aggregation: 'avg', target: 5 });
  });

  it.each([
    ['p95<200', /not a threshold expression/],
    ['p(95)<', /not a threshold expression/],
    ['p(101)<200', /percentile "101" must be a number from 0 to 100/],
    ['p()<200', /percentile "" must be/],
    ['avg<fast', /value "fast" is not a number/],
    ['average<100', /not a threshold expression/],
    ['avg=>100', /not a number|not a threshold/],
  ])('rejects %s with a clear message', (text, message) => {
    const err = syntaxErrorOf(() => parseCondition(text, { where: 'thresholds.http_req_duration[0]' }));
    expect(err.message).toMatch(message);
    expect(err.message).toContain('thresholds.http_req_duration[0]');
  });

  it('rejects non-strings and bad object options in threshold context', () => {
    expect(syntaxErrorOf(() => parseCondition(5)).message).toMatch(/expected a threshold string/);
    expect(syntaxErrorOf(() => parseThreshold({ threshold: 'avg<1', abortOnFial: true })).message).toMatch(/unknown threshold option\(s\) abortOnFial/);
    expect(syntaxErrorOf(() => parseThreshold({ threshold: 'avg<1', delayAbortEval: 'soon' })).message).toMatch(/delayAbortEval/);
    expect(syntaxErrorOf(() => parseThreshold({ threshold: 'avg<1', abortOnFail: 'yes' })).message).toMatch(/abortOnFail/);
  });
});

describe('parseMetricSelector', () => {
  it('splits tagged metric keys', () => {
    expect(parseMetricSelector('http_req_duration{scenario:checkout}')).toEqual({
      source: 'http_req_duration{scenario:checkout}',
      metric: 'http_req_duration',
      tags: { scenario: 'checkout' },
    });
    expect(parseMetricSelector('http_reqs{ method : POST , name:create }').tags).toEqual({ method: 'POST', name: 'create' });
    expect(parseMetricSelector('dropped_iterations')).toMatchObject({ metric: 'dropped_iterations', tags: {} });
  });
  it('rejects malformed keys', () => {
    expect(syntaxErrorOf(() => parseMetricSelector('http_req_duration{scenario}')).message).toMatch(/must be tag:value/);
    expect(syntaxErrorOf(() => parseMetricSelector('9lives')).message).toMatch(/not a metric name/);
  });
});

describe('delayAbortEval', () => {
  // k6 reads a duration without a unit as milliseconds, in a string as in a number (lib/types ParseExtendedDuration).
  it.each([
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['1h', 3_600_000],
    ['2500', 2500],
    [2500, 2500],
    [0, 0],
  ])('%j = %d ms, as in k6', (delay, ms) => expect(parseThreshold({ threshold: 'avg<1', delayAbortEval: delay }).delayAbortEvalMs).toBe(ms));
  it.each(['', '10x', 's10', '1m-', -1])('%j is not a delay', (delay) =>
    expect(syntaxErrorOf(() => parseThreshold({ threshold: 'avg<1', delayAbortEval: delay })).message).toMatch(/"delayAbortEval" must be a duration/),
  );
});

describe('evaluateCondition on k6 metrics', () => {
  const t = (s: string) => parseCondition(s) as ThresholdCondition;

  it('compares trend aggregations from the summary values', () => {
    expect(evaluateCondition(t('p(95)<200'), trend)).toMatchObject({ phase: 'fail', value: 210 });
    expect(evaluateCondition(t('p(95)<=210'), trend)).toMatchObject({ phase: 'pass', value: 210 });
    expect(evaluateCondition(t('p(99)<500'), trend)).toMatchObject({ phase: 'pass', value: 480 });
    expect(evaluateCondition(t('avg<100'), trend)).toMatchObject({ phase: 'fail', value: 120 });
    expect(evaluateCondition(t('med<=100'), trend)).toMatchObject({ phase: 'pass', value: 100 });
    expect(evaluateCondition(t('min>3'), trend)).toMatchObject({ phase: 'fail', value: 3 });
    expect(evaluateCondition(t('max<1000'), trend)).toMatchObject({ phase: 'pass', value: 900 });
  });

  it('asks the histogram for percentiles the summary does not hold', () => {
    expect(evaluateCondition(t('p(99.9)<=500'), trend)).toMatchObject({ phase: 'pass', value: 499.5 });
    expect(evaluateCondition(t('p(99.9)<499'), trend)).toMatchObject({ phase: 'fail', value: 499.5 });
  });

  it('names the observed aggregate in a failure', () => {
    const r = evaluateCondition(t('p(95)<200'), trend);
    expect(r.message).toBe('observed p(95)=210, wanted p(95)<200');
  });

  it('evaluates rates, counters and gauges', () => {
    expect(evaluateCondition(t('rate<0.01'), failedRate)).toMatchObject({ phase: 'fail', value: 0.02 });
    expect(evaluateCondition(t('rate<0.05'), failedRate)).toMatchObject({ phase: 'pass' });
    expect(evaluateCondition(t('count<1'), dropped)).toMatchObject({ phase: 'pass', value: 0 });
    expect(evaluateCondition(t('count<1'), { type: 'counter', values: { count: 3, rate: 0.1 } })).toMatchObject({ phase: 'fail', value: 3 });
    expect(evaluateCondition(t('value>0'), vus)).toMatchObject({ phase: 'pass', value: 50 });
    expect(evaluateCondition(t('value!=50'), vus)).toMatchObject({ phase: 'fail' });
    expect(evaluateCondition(t('count==0'), dropped)).toMatchObject({ phase: 'pass' });
  });

  it('errors (not fails) when the aggregation does not fit the metric type, as k6 refuses it', () => {
    const r = evaluateCondition(t('p(95)<1'), dropped);
    expect(r.phase).toBe('error');
    expect(r.message).toMatch(/p\(95\) does not apply to a counter metric; use count, rate/);
    expect(evaluateCondition(t('rate<1'), trend).phase).toBe('error');
  });

  it('errors when there is no data to evaluate', () => {
    expect(evaluateCondition(t('avg<1'), undefined)).toMatchObject({ phase: 'error', message: 'no avg observed (the metric has no samples)' });
    expect(evaluateCondition(t('p(99)<1'), { type: 'trend', values: {} })).toMatchObject({ phase: 'error' });
  });

  it('takes a plain number as the aggregate itself (a probe that already computed p99)', () => {
    expect(evaluateCondition(t('p(99)<500'), 430)).toMatchObject({ phase: 'pass', value: 430 });
    expect(evaluateCondition(t('p(99)<500'), 730)).toMatchObject({ phase: 'fail', value: 730 });
  });
});

describe('Chaos Toolkit tolerances', () => {
  const tol = (spec: unknown) => parseCondition(spec, { context: 'tolerance' });

  it('booleans, numbers and strings mean equality', () => {
    expect(evaluateCondition(tol(true), true).phase).toBe('pass');
    expect(evaluateCondition(tol(true), false)).toMatchObject({ phase: 'fail', message: 'expected true, observed false' });
    expect(evaluateCondition(tol(0), 0).phase).toBe('pass');
    expect(evaluateCondition(tol(0), 2).phase).toBe('fail');
    expect(evaluateCondition(tol(200), '200').phase).toBe('pass');
    expect(evaluateCondition(tol('closed'), 'closed').phase).toBe('pass');
    expect(evaluateCondition(tol('closed'), 'open').phase).toBe('fail');
  });

  it('a string that starts like a k6 expression is a threshold, so typos are errors', () => {
    expect(tol('p(99)<500')).toMatchObject({ kind: 'threshold', percentile: 99 });
    expect(evaluateCondition(tol('rate<0.01'), 0.001).phase).toBe('pass');
    syntaxErrorOf(() => tol('p(99) < fast'));
  });

  it('a two-item list against a plain value is an inclusive range (Chaos Toolkit)', () => {
    const r = tol([0, 0.01]);
    expect(evaluateCondition(r, 0).phase).toBe('pass');
    expect(evaluateCondition(r, 0.01).phase).toBe('pass');
    expect(evaluateCondition(r, 0.0100001)).toMatchObject({ phase: 'fail', message: '0.0100001 is outside [0, 0.01]' });
    expect(evaluateCondition(r, 'n/a').phase).toBe('fail');
    expect(syntaxErrorOf(() => tol([])).message).toMatch(/at least one value/);
    expect(syntaxErrorOf(() => tol([{ a: 1 }])).message).toMatch(/plain values/);
  });

  it('a list against an HTTP output means "the status is one of these", never a range', () => {
    const r = tol([200, 503]);
    expect(evaluateCondition(r, { status: 200, body: '' }).phase).toBe('pass');
    expect(evaluateCondition(r, { status: 503, body: '' }).phase).toBe('pass');
    // The old reading as a range let these through as steady.
    expect(evaluateCondition(r, { status: 404 })).toMatchObject({ phase: 'fail', message: 'status 404 is not one of [200,503]' });
    expect(evaluateCondition(r, { status: 500 }).phase).toBe('fail');
    expect(evaluateCondition(tol([200]), { status: 200 }).phase).toBe('pass');
    expect(evaluateCondition(tol(200), { status: 200 }).phase).toBe('pass');
    expect(evaluateCondition(tol(200), { status: 201 }).phase).toBe('fail');
  });

  it('a list of another length against a plain value means membership', () => {
    expect(evaluateCondition(tol(['Running', 'Succeeded', 'Pending']), 'Pending').phase).toBe('pass');
    expect(evaluateCondition(tol(['Running', 'Succeeded', 'Pending']), 'Failed').phase).toBe('fail');
    expect(evaluateCondition(tol([1, 2, 3]), 2).phase).toBe('pass');
    expect(evaluateCondition(tol([1, 2, 3]), 2.5).phase).toBe('fail');
  });

  it('range objects with a target key', () => {
    const r = tol({ type: 'range', range: [200, 299], target: 'status' });
    expect(evaluateCondition(r, { status: 204 }).phase).toBe('pass');
    expect(evaluateCondition(r, { status: 503 }).phase).toBe('fail');
    expect(evaluateCondition(r, { body: 'x' }).phase).toBe('fail');
  });

  it('regex', () => {
    const r = tol({ type: 'regex', pattern: '^ok|ready$', target: 'body' });
    expect(evaluateCondition(r, { body: 'ok' }).phase).toBe('pass');
    expect(evaluateCondition(r, { body: 'draining' }).phase).toBe('fail');
    expect(syntaxErrorOf(() => tol({ type: 'regex', pattern: '(' })).message).toMatch(/regex "\(" is invalid/);
  });

  it('jsonpath with expect and count', () => {
    const status = { breaker: 'closed', queue: { depth: 0 }, workers: [{ state: 'idle' }, { state: 'idle' }] };
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.queue.depth', expect: 0 }), status)).toMatchObject({ phase: 'pass', value: 0 });
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.breaker', expect: 'open' }), status)).toMatchObject({
      phase: 'fail',
      message: '$.breaker = "closed", expected "open"',
    });
    // Chaos Toolkit: a scalar expect means the matches are exactly [expect]; a list expect is compared as the list of matches.
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.workers[*].state', expect: 'idle', count: 2 }), status).phase).toBe('fail');
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.workers[*].state', expect: ['idle', 'idle'] }), status).phase).toBe('pass');
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.workers[*].state', count: 2 }), status).phase).toBe('pass');
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.workers[*]', count: 3 }), status).phase).toBe('fail');
    expect(evaluateCondition(tol({ type: 'jsonpath', path: "$['queue'].depth" }), status).phase).toBe('pass');
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.workers[5]' }), status).phase).toBe('fail');
    expect(syntaxErrorOf(() => tol({ type: 'jsonpath', path: '$..depth' })).message).toMatch(/recursive descent/);
    expect(syntaxErrorOf(() => tol({ type: 'jsonpath', path: 'queue' })).message).toMatch(/must start with \$/);
  });

  it('jsonpath filters, and a JSON text body parsed first', () => {
    const pods = { items: [{ name: 'a', phase: 'Running', restarts: 0 }, { name: 'b', phase: 'Pending', restarts: 3 }] };
    expect(evaluateCondition(tol({ type: 'jsonpath', path: "$.items[?(@.phase == 'Running')].name", expect: 'a' }), pods).phase).toBe('pass');
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.items[?(@.phase = "Failed")]', count: 0 }), pods).phase).toBe('pass');
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.items[?(@.restarts > 2)].name', expect: ['b'] }), pods).phase).toBe('pass');
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.items[?(@.restarts)]', count: 1 }), pods).phase).toBe('pass');
    expect(evaluateCondition(tol({ type: 'jsonpath', path: '$.status', expect: 'ok', target: 'body' }), { status: 200, body: '{"status":"ok"}' }).phase).toBe('pass');
    expect(syntaxErrorOf(() => tol({ type: 'jsonpath', path: '$.items[?(@.phase ~ x)]' })).message).toMatch(/filter/);
  });

  it('rejects unknown tolerance shapes', () => {
    expect(syntaxErrorOf(() => tol({ type: 'probe' })).message).toMatch(/only a chaos experiment can do/);
    expect(syntaxErrorOf(() => tol({ type: 'between' })).message).toMatch(/unknown tolerance type string "between"/);
    expect(syntaxErrorOf(() => tol(null)).message).toMatch(/a tolerance must be/);
  });
});

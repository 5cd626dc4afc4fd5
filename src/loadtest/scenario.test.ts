import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { arrivalsBy } from './schedule.js';
import { applyOverrides, loadScenarioFile, parseScenario, totalMs } from './scenario.js';

const SCENARIOS = resolve(import.meta.dirname, '../../scenarios/load');

function scenarioError(fn: () => unknown): SurgeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SurgeError);
    expect((e as SurgeError).code).toBe('SRG_LOADTEST_SCENARIO');
    return e as SurgeError;
  }
  throw new Error('expected SRG_LOADTEST_SCENARIO');
}

const minimal = {
  target: 'http://127.0.0.1:8080',
  requests: [{ kind: 'create-order' }],
  scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, duration: '10s' } },
};

describe('shipped scenarios', () => {
  const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.yaml'));
  it('includes flash-sale.yaml', () => expect(files).toContain('flash-sale.yaml'));
  it.each(files)('%s is valid', async (f) => {
    const loaded = await loadScenarioFile(join(SCENARIOS, f));
    expect(loaded.scenario.name).toBeTruthy();
    expect(loaded.thresholds.length).toBeGreaterThan(0);
  });
});

describe('parseScenario', () => {
  it('applies k6 defaults', () => {
    const { scenario, thresholds } = parseScenario(minimal);
    expect(scenario.scenarios.s).toMatchObject({ timeUnit: 1000, preAllocatedVUs: 10, startTime: 0, gracefulStop: 30_000 });
    expect(scenario.http).toMatchObject({ timeout: 10_000, pipelining: 1 });
    expect(scenario.requests?.[0]).toMatchObject({ kind: 'create-order', weight: 1, items: { min: 1, max: 3 } });
    expect(scenario.payload).toEqual({ skus: 'inventory', customers: 10_000, declineRatio: 0 });
    expect(thresholds).toEqual([]);
  });

  it('parses thresholds with tags and abortOnFail', () => {
    const { thresholds } = parseScenario({
      ...minimal,
      thresholds: { 'http_req_duration{scenario:s}': ['p(95)<200', { threshold: 'p(99)<500', abortOnFail: true, delayAbortEval: '10s' }] },
    });
    expect(thresholds).toHaveLength(2);
    expect(thresholds[1]).toMatchObject({ selector: { metric: 'http_req_duration', tags: { scenario: 's' } }, abortOnFail: true, delayAbortEvalMs: 10_000 });
  });

  it('reports every bad field at once, one line each with its path', () => {
    const err = scenarioError(() =>
      parseScenario(
        {
          target: 'ftp://x',
          requests: [{ kind: 'create-order', weight: -1 }, { kind: 'teleport' }],
          scenarios: {
            a: { executor: 'constant-arrival-rate', rate: 0, duration: 'soon' },
            b: { executor: 'ramping-arrival-rate', stages: [], preAllocatedVUs: 10, maxVUs: 5 },
          },
          thresholds: { http_req_duration: ['p95<200', 'rate<1'], 'bad{tag}': ['count<1'] },
          surprise: true,
        },
        { file: 'x.yaml' },
      ),
    );
    expect(err.message).toMatch(/^Invalid load-test scenario x\.yaml: \d+ problem\(s\)$/);
    const d = err.details.join('\n');
    expect(d).toMatch(/^target: must be an http:\/\/ or https:\/\/ URL$/m);
    expect(d).toMatch(/^requests\.0\.weight: /m);
    expect(d).toMatch(/^requests\.1\.kind: /m);
    expect(d).toMatch(/^scenarios\.a\.rate: /m);
    expect(d).toMatch(/^scenarios\.a\.duration: must be a duration/m);
    expect(d).toMatch(/^scenarios\.b\.stages: /m);
    expect(d).toMatch(/thresholds\.http_req_duration\.0: "p95<200" is not a threshold expression/);
    expect(d).toMatch(/thresholds\.http_req_duration\.1: rate does not apply to http_req_duration \(a trend\); use avg, min, max, med, p\(N\)/);
    expect(d).toMatch(/thresholds\.bad\{tag\}: tag filter "tag"/);
    expect(d).toMatch(/surprise/);
    expect(err.details.length).toBeGreaterThanOrEqual(8);
  });

  it('reads every duration once, at load, as milliseconds; a plain number is milliseconds, as in k6', () => {
    const { scenario } = parseScenario({
      ...minimal,
      http: { timeout: '1500ms' },
      scenarios: {
        a: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1m', duration: '1m30s', startTime: '.5s', gracefulStop: 0 },
        b: { executor: 'ramping-arrival-rate', timeUnit: 2000, stages: [{ target: 5, duration: '250' }, { target: 0, duration: 750 }] },
        c: { executor: 'constant-vus', duration: '2h' },
      },
    });
    expect(scenario.http.timeout).toBe(1500);
    expect(scenario.scenarios.a).toMatchObject({ timeUnit: 60_000, duration: 90_000, startTime: 500, gracefulStop: 0 });
    expect(scenario.scenarios.b).toMatchObject({ timeUnit: 2000, stages: [{ target: 5, duration: 250 }, { target: 0, duration: 750 }], startTime: 0, gracefulStop: 30_000 });
    expect(scenario.scenarios.c).toMatchObject({ duration: 7_200_000 });
    expect(Object.values(scenario.scenarios).map(totalMs)).toEqual([90_500, 1000, 7_200_000]);
  });

  it('refuses durations that are not durations, and lengths of zero, naming each key', () => {
    const err = scenarioError(() =>
      parseScenario({
        ...minimal,
        http: { timeout: '0s' },
        scenarios: {
          a: { executor: 'constant-arrival-rate', rate: 10, duration: 0, startTime: '-1s', timeUnit: 'soon' },
          b: { executor: 'constant-vus', duration: true, gracefulStop: -5 },
        },
      }),
    );
    const d = err.details.join('\n');
    for (const key of ['http.timeout', 'scenarios.a.duration', 'scenarios.a.startTime', 'scenarios.a.timeUnit', 'scenarios.b.duration', 'scenarios.b.gracefulStop']) {
      expect(d).toMatch(new RegExp(`^${key.replace(/\./g, '\\.')}: must be a duration such as`, 'm'));
    }
    expect(d).toMatch(/^scenarios\.a\.duration: must be a duration such as "30s", "2m" or "1m30s", more than zero/m);
  });

  it('takes the target from outside when given (scenario files need not hard-code URLs)', () => {
    const { target: _drop, ...noTarget } = minimal;
    expect(parseScenario(noTarget, { target: 'http://127.0.0.1:9000' }).scenario.target).toBe('http://127.0.0.1:9000');
    expect(parseScenario(minimal, { target: 'http://127.0.0.1:9000' }).scenario.target).toBe('http://127.0.0.1:9000');
    expect(scenarioError(() => parseScenario(noTarget)).details).toEqual(['target: required: the base URL of the system under test, e.g. http://127.0.0.1:8080 (or pass --target)']);
  });

  it('rejects maxVUs below preAllocatedVUs', () => {
    const err = scenarioError(() =>
      parseScenario({ ...minimal, scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 10, maxVUs: 2 } } }),
    );
    expect(err.details).toContain('scenarios.s.maxVUs: 2 is below preAllocatedVUs (10)');
  });

  it('names a missing file', async () => {
    await expect(loadScenarioFile('/nonexistent/flash.yaml')).rejects.toMatchObject({ code: 'SRG_LOADTEST_SCENARIO', message: expect.stringContaining('ENOENT') });
  });
});

describe('applyOverrides', () => {
  it('scales a ramp to a peak rate and a duration, keeping its shape', async () => {
    const loaded = await loadScenarioFile(join(SCENARIOS, 'flash-sale.yaml'));
    const o = applyOverrides(loaded, { rate: 100, durationMs: 12_000, target: 'http://127.0.0.1:9999' });
    expect(o.scenario.target).toBe('http://127.0.0.1:9999');
    const sale = o.scenario.scenarios.sale!;
    expect(sale.executor).toBe('ramping-arrival-rate');
    if (sale.executor !== 'ramping-arrival-rate') return;
    expect(Math.max(...sale.stages.map((s) => s.target))).toBeCloseTo(100);
    expect(sale.startRate).toBeCloseTo(10);
    expect(Math.max(...Object.values(o.scenario.scenarios).map(totalMs))).toBeCloseTo(12_000, -1);
    // The original is untouched.
    expect(loaded.scenario.target).toBe('http://127.0.0.1:8080');
  });

  it('scales every duration to the asked length in whole milliseconds, start offsets included', () => {
    const loaded = parseScenario({
      ...minimal,
      scenarios: {
        warm: { executor: 'constant-arrival-rate', rate: 10, duration: '30s' },
        peak: { executor: 'ramping-arrival-rate', startTime: '30s', stages: [{ target: 10, duration: '20s' }, { target: 0, duration: '10s' }] },
      },
    });
    const o = applyOverrides(loaded, { durationMs: 10_000 });
    expect(o.scenario.scenarios.warm).toMatchObject({ duration: 5000, startTime: 0 });
    expect(o.scenario.scenarios.peak).toMatchObject({ startTime: 5000, stages: [{ duration: 3333 }, { duration: 1667 }] });
    expect(Math.max(...Object.values(o.scenario.scenarios).map(totalMs))).toBe(10_000);
  });

  it('sets a constant rate per timeUnit', () => {
    const o = applyOverrides(parseScenario({ ...minimal, scenarios: { s: { executor: 'constant-arrival-rate', rate: 60, timeUnit: '1m', duration: '10s' } } }), {
      rate: 5,
    });
    expect(arrivalsBy(o.scenario.scenarios.s!, 1000)).toBeCloseTo(5);
  });
});

import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { normaliseK6Options } from './k6-options.js';
import { parseScenario } from './scenario.js';

const base = { target: 'http://127.0.0.1:1', requests: [{ kind: 'http', path: '/' }] };

function problems(input: Record<string, unknown>): string[] {
  try {
    parseScenario({ ...base, ...input });
  } catch (e) {
    expect(e).toBeInstanceOf(SurgeError);
    return [...((e as SurgeError).details ?? [])];
  }
  throw new Error('expected the scenario to be refused');
}

describe("k6's execution shortcuts", () => {
  it('derive one default scenario with k6 defaults', () => {
    const s = (input: Record<string, unknown>) => parseScenario({ ...base, ...input }).scenario.scenarios.default;
    expect(s({ vus: 5, duration: '30s' })).toEqual({ executor: 'constant-vus', vus: 5, duration: 30_000, startTime: 0, gracefulStop: 30_000 });
    expect(s({ duration: '1m' })).toMatchObject({ executor: 'constant-vus', vus: 1, duration: 60_000 });
    expect(s({ vus: 4, iterations: 40 })).toEqual({ executor: 'shared-iterations', vus: 4, iterations: 40, maxDuration: 600_000, startTime: 0, gracefulStop: 30_000 });
    expect(s({ stages: [{ duration: '10s', target: 5 }] })).toEqual({
      executor: 'ramping-vus',
      startVUs: 1,
      stages: [{ target: 5, duration: 10_000 }],
      gracefulRampDown: 30_000,
      startTime: 0,
      gracefulStop: 30_000,
    });
    expect(s({ vus: 3, stages: [{ duration: '10s', target: 0 }] })).toMatchObject({ startVUs: 3 });
    expect(s({})).toMatchObject({ executor: 'shared-iterations', vus: 1, iterations: 1 });
  });

  it('are refused where k6 refuses them', () => {
    expect(problems({ duration: '1s', iterations: 3 })).toEqual(['duration, iterations: k6 refuses both shortcuts at once; give one (or use scenarios)']);
    expect(problems({ stages: [{ duration: '1s', target: 1 }], duration: '1s' })).toEqual(['stages, duration: k6 refuses "stages" with another duration shortcut; give one']);
    expect(problems({ vus: 2, scenarios: { a: { executor: 'constant-vus', duration: '1s' } } })).toEqual([
      'vus: k6 refuses execution shortcuts next to "scenarios"; move them into a scenario',
    ]);
    expect(problems({ vus: 10 })).toEqual(['scenarios.default.iterations: 1 is below vus (10); k6 needs at least one iteration per VU']);
  });
});

describe("k6's other options", () => {
  it('are accepted with one warning naming them; unknown keys stay errors', () => {
    const n = normaliseK6Options({ hosts: { 'a.test': '127.0.0.1' }, batch: 10, tlsVersion: { min: 'tls1.2' }, vus: 1 });
    expect(n.warnings).toEqual(['k6 options accepted but not acted on by surgectl: batch, hosts, tlsVersion']);
    const loaded = parseScenario({ ...base, insecureSkipTLSVerify: true, teardownTimeout: '1m', batchPerHost: 2, systemTags: ['status'] });
    expect(loaded.warnings).toEqual(['k6 options accepted but not acted on by surgectl: batchPerHost, insecureSkipTLSVerify, systemTags, teardownTimeout']);
    expect(problems({ vuz: 1 })).toEqual(['(root): Unrecognized key: "vuz"']);
  });

  it('global tags go onto every scenario; a scenario tag wins', () => {
    const { scenarios } = parseScenario({
      ...base,
      tags: { team: 'shop', env: 'ci' },
      scenarios: { a: { executor: 'constant-vus', duration: '1s', tags: { env: 'canary' } }, b: { executor: 'constant-vus', duration: '1s' } },
    }).scenario;
    expect(scenarios.a!.tags).toEqual({ team: 'shop', env: 'canary' });
    expect(scenarios.b!.tags).toEqual({ team: 'shop', env: 'ci' });
  });
});

describe('numbers and durations as k6 reads them', () => {
  it('takes numeric strings where numbers go, without a warning', () => {
    const loaded = parseScenario({
      ...base,
      scenarios: { a: { executor: 'constant-arrival-rate', rate: '50', duration: '10000', preAllocatedVUs: ' 5 ', maxVUs: '20' } },
      payload: { customers: '100', declineRatio: '0.5' },
    });
    expect(loaded.scenario.scenarios.a).toMatchObject({ rate: 50, duration: 10_000, preAllocatedVUs: 5, maxVUs: 20 });
    expect(loaded.scenario.payload).toMatchObject({ customers: 100, declineRatio: 0.5 });
    expect(loaded.warnings).toBeUndefined();
    expect(problems({ scenarios: { a: { executor: 'constant-vus', vus: 'ten', duration: '.5m' } } })).toEqual(['scenarios.a.vus: must be a number (or a numeric string such as "50")']);
    expect(problems({ scenarios: { a: { executor: 'constant-vus', vus: '1.5', duration: '1s' } } })).toEqual(['scenarios.a.vus: Invalid input: expected int, received number']);
  });

  it("reads k6's duration grammar: units ms to d, fractions, compounds, bare numbers as ms", () => {
    const d = (duration: unknown) => (parseScenario({ ...base, scenarios: { a: { executor: 'constant-vus', duration } } }).scenario.scenarios.a as { duration: number }).duration;
    expect([d('1h30m'), d('.5m'), d('2d'), d('1m30s'), d('250ms'), d('1.5s'), d(1500), d('1500')]).toEqual([5_400_000, 30_000, 172_800_000, 90_000, 250, 1500, 1500, 1500]);
    expect(problems({ scenarios: { a: { executor: 'constant-vus', duration: '10 seconds' } } })[0]).toMatch(/^scenarios\.a\.duration: must be a duration such as "30s"/);
  });
});

describe('executors', () => {
  it('validate their keys and refuse an unknown executor naming the supported ones', () => {
    expect(problems({ scenarios: { a: { executor: 'ramping-vus', startVUs: 0, stages: [{ target: 0, duration: '1s' }] } } })).toEqual([
      "scenarios.a: startVUs or a stage's target must be above 0",
    ]);
    expect(problems({ scenarios: { a: { executor: 'per-vu-iterations', vus: 2, iterations: 0 } } })).toEqual(['scenarios.a.iterations: Too small: expected number to be >=1']);
    expect(problems({ scenarios: { a: { executor: 'looping' } } })).toEqual([
      'scenarios.a.executor: executor must be one of constant-arrival-rate, ramping-arrival-rate, constant-vus, ramping-vus, per-vu-iterations, shared-iterations',
    ]);
    expect(problems({ scenarios: { a: { executor: 'shared-iterations', iterations: 5, duration: '1s' } } })).toEqual(['scenarios.a: Unrecognized key: "duration"']);
  });
});

describe('threshold aggregations against metric types, as k6 checks them', () => {
  it('refuses an aggregation that does not fit a built-in or a declared metric', () => {
    expect(
      problems({
        metrics: { cart_value: 'trend', payment_ok: 'rate' },
        thresholds: {
          http_req_duration: ['rate<1'],
          http_req_failed: ['p(95)<1'],
          http_reqs: ['avg<1'],
          vus: ['count<1'],
          checks: ['count>1'],
          iteration_duration: ['value<1'],
          cart_value: ['count>0'],
          payment_ok: ['avg<1'],
        },
      }),
    ).toEqual([
      'thresholds.http_req_duration.0: rate does not apply to http_req_duration (a trend); use avg, min, max, med, p(N)',
      'thresholds.http_req_failed.0: p(95) does not apply to http_req_failed (a rate); use rate',
      'thresholds.http_reqs.0: avg does not apply to http_reqs (a counter); use count, rate',
      'thresholds.vus.0: count does not apply to vus (a gauge); use value',
      'thresholds.checks.0: count does not apply to checks (a rate); use rate',
      'thresholds.iteration_duration.0: value does not apply to iteration_duration (a trend); use avg, min, max, med, p(N)',
      'thresholds.cart_value.0: count does not apply to cart_value (a trend); use avg, min, max, med, p(N)',
      'thresholds.payment_ok.0: avg does not apply to payment_ok (a rate); use rate',
    ]);
    expect(problems({ metrics: { http_reqs: 'trend' } })).toEqual(['metrics.http_reqs: a built-in counter metric cannot be redeclared as a trend']);
    // A custom metric of unknown type is judged at run time ("was not recorded" when nothing records it).
    expect(parseScenario({ ...base, thresholds: { my_metric: ['p(95)<1'] } }).thresholds).toHaveLength(1);
  });
});

describe('exec and request mixes', () => {
  it('resolves each exec to a named mix and requests to the default', () => {
    const loaded = parseScenario({
      target: base.target,
      requests: [{ kind: 'http', path: '/' }],
      mixes: { browse: [{ kind: 'http', path: '/p' }] },
      scenarios: { a: { executor: 'constant-vus', duration: '1s', exec: 'browse' }, b: { executor: 'constant-vus', duration: '1s' } },
    });
    expect(loaded.scenario.scenarios.a!.exec).toBe('browse');
    expect(problems({ requests: undefined, mixes: { browse: [{ kind: 'http', path: '/p' }] }, scenarios: { a: { executor: 'constant-vus', duration: '1s' } } })).toEqual([
      'scenarios.a: no request mix to run; add "requests" (the default mix) or set exec to one of: browse',
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { createFakePrometheus } from '../adapters/prometheus/fake.js';
import type { PromSample, PrometheusPort } from '../adapters/prometheus/port.js';
import { createPrometheus } from '../adapters/prometheus/prometheus.js';
import { startScrapingPrometheus, type TestPrometheus } from '../../test/support/prometheus.js';
import { parseAnalysisMetric, runAnalysis, type AnalysisMetric, type AnalysisRun, type Measurement } from './analysis.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

/**
 * A virtual clock: `sleep` parks the caller until `drive` moves time to its wake-up, which it does
 * only when everything else waits, so concurrent metrics interleave exactly as timed. `drive`
 * is bounded in steps and fails when the analysis waits for something that never comes.
 */
function virtualTime() {
  let now = T0;
  const timers: { at: number; resolve: () => void }[] = [];
  const sleeps: number[] = [];
  let abortedSleeps = 0;
  return {
    now: () => now,
    sleeps,
    abortedSleeps: () => abortedSleeps,
    pending: () => timers.length,
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      sleeps.push(ms);
      return new Promise<void>((resolve, reject) => {
        const t = { at: now + ms, resolve };
        timers.push(t);
        signal?.addEventListener(
          'abort',
          () => {
            const i = timers.indexOf(t);
            if (i >= 0) {
              timers.splice(i, 1);
              abortedSleeps++;
            }
            reject(new Error('sleep aborted'));
          },
          { once: true },
        );
      });
    },
    async drive<T>(p: Promise<T>): Promise<T> {
      let done = false;
      p.then(
        () => (done = true),
        () => (done = true),
      );
      for (let step = 0; step < 10_000; step++) {
        await new Promise((r) => setImmediate(r));
        if (done) return p;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift();
        if (!next) throw new Error('stuck: the analysis waits for something other than a sleep');
        now = next.at;
        next.resolve();
      }
      throw new Error('the analysis did not end within 10 000 steps');
    },
  };
}

/** A metric with Argo's defaults and a condition, overridden by `over`. */
const metric = (over: Partial<AnalysisMetric> = {}): AnalysisMetric => ({
  name: 'error-rate',
  query: 'error_rate',
  intervalMs: 10_000,
  count: 1,
  successCondition: 'value<0.01',
  failureLimit: 0,
  inconclusiveLimit: 0,
  consecutiveErrorLimit: 4,
  ...over,
});

/** What a query answers at each measurement, in turn: a number, `empty`, `NaN` or `down` (unreachable). */
type Step = number | 'empty' | 'down' | 'refused';

/** A fake Prometheus answering each query with its own script of answers, one per call (the last one repeats). */
function scripted(scripts: Record<string, Step[]>) {
  const calls = new Map<string, number>();
  return createFakePrometheus((q) => {
    const script = scripts[q];
    if (!script) return new Error(`no script for ${q}`);
    const i = calls.get(q) ?? 0;
    calls.set(q, i + 1);
    const step = script[Math.min(i, script.length - 1)] as Step;
    if (step === 'empty') return [];
    if (step === 'down') return new SurgeError('SRG_PROMETHEUS_UNREACHABLE', 'Prometheus at http://prometheus.fake did not answer: connection refused');
    if (step === 'refused') return new Error('bad_data: parse error');
    return [{ metric: {}, value: step }];
  });
}

async function analyse(metrics: AnalysisMetric[], prometheus: PrometheusPort, opts: { signal?: AbortSignal } = {}) {
  const clock = virtualTime();
  const seen: [string, Measurement][] = [];
  const run = await clock.drive(
    runAnalysis(metrics, { prometheus, now: clock.now, sleep: clock.sleep, ...opts, onMeasurement: (name, m) => seen.push([name, m]) }),
  );
  return { run, clock, seen };
}

const phases = (run: AnalysisRun, name: string) => run.metrics.find((m) => m.name === name)?.measurements.map((m) => m.phase);

describe('parseAnalysisMetric', () => {
  it('applies the defaults and turns durations into ms', () => {
    expect(parseAnalysisMetric({ name: 'p99', query: 'histogram_quantile(0.99, x)', successCondition: 'value<0.5' }, 'metrics[0]')).toEqual({
      metric: { name: 'p99', query: 'histogram_quantile(0.99, x)', intervalMs: 10_000, count: 1, successCondition: 'value<0.5', failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 },
      problems: [],
    });
    const { metric } = parseAnalysisMetric(
      { name: 'e', query: 'q', interval: '1m30s', count: 5, failureCondition: 'value>0.05', successCondition: 'value<0.01', failureLimit: 1, inconclusiveLimit: 2, consecutiveErrorLimit: 0, initialDelay: '30s' },
      'm',
    );
    expect(metric).toMatchObject({ intervalMs: 90_000, count: 5, failureLimit: 1, inconclusiveLimit: 2, consecutiveErrorLimit: 0, initialDelayMs: 30_000, failureCondition: 'value>0.05' });
  });

  it('lists every problem at once, each under its key path', () => {
    const where = 'steps[2].analysis.metrics[0]';
    const r = parseAnalysisMetric(
      { name: '', query: 3, interval: '10', count: 0, failureLimit: -1, inconclusiveLimit: 1.5, consecutiveErrorLimit: 'four', initialDelay: 5, successCondition: 'value<<1', provider: { prometheus: {} } },
      where,
    );
    expect(r.metric).toBeUndefined();
    for (const key of ['name', 'query', 'interval', 'count', 'failureLimit', 'inconclusiveLimit', 'consecutiveErrorLimit', 'initialDelay', 'successCondition']) {
      expect(r.problems.filter((p) => p.startsWith(`${where}.${key}: `)), key).toHaveLength(1);
    }
    expect(r.problems.find((p) => p.startsWith(`${where}.interval`))).toContain('got "10"');
    expect(r.problems.find((p) => p.startsWith(`${where}.count`))).toContain('>= 1');
    expect(r.problems).toContain(`${where}: unknown key(s) "provider"; expected name, query, interval, count, successCondition, failureCondition, failureLimit, inconclusiveLimit, consecutiveErrorLimit, initialDelay`);
    expect(r.problems).toHaveLength(10);
  });

  it('needs a condition, a valid one, and an object', () => {
    expect(parseAnalysisMetric({ name: 'a', query: 'q' }, 'metrics[1]').problems).toEqual(['metrics[1]: needs a successCondition, a failureCondition or both, e.g. successCondition: value<0.01']);
    expect(parseAnalysisMetric({ name: 'a', query: 'q', failureCondition: 'errors above 1' }, 'metrics[1]').problems).toEqual([
      expect.stringMatching(/^metrics\[1\]\.failureCondition: "errors above 1" is not a threshold expression/),
    ]);
    expect(parseAnalysisMetric({ name: 'a', query: 'q', interval: '0s', successCondition: 'value<1' }, 'm').problems).toEqual([expect.stringMatching(/^m\.interval: expected a positive duration/)]);
    expect(parseAnalysisMetric(['name'], 'metrics[2]').problems).toEqual(['metrics[2]: expected a metric: an object with name, query and successCondition and/or failureCondition']);
  });
});

describe('runAnalysis: one measurement, judged as Argo Rollouts does', () => {
  const cases: { what: string; success?: string; failure?: string; value: Step; phase: string; message?: RegExp }[] = [
    { what: 'only successCondition, true', success: 'value<0.01', value: 0.005, phase: 'successful' },
    { what: 'only successCondition, false', success: 'value<0.01', value: 0.02, phase: 'failed', message: /0\.02 does not meet successCondition value<0\.01/ },
    { what: 'only failureCondition, true', failure: 'value>0.05', value: 0.07, phase: 'failed', message: /0\.07 meets failureCondition value>0\.05/ },
    { what: 'only failureCondition, false', failure: 'value>0.05', value: 0.02, phase: 'successful' },
    { what: 'both, success holds', success: 'value<0.01', failure: 'value>0.05', value: 0.005, phase: 'successful' },
    { what: 'both, failure holds', success: 'value<0.01', failure: 'value>0.05', value: 0.07, phase: 'failed', message: /0\.07 meets failureCondition value>0\.05/ },
    { what: 'both hold: failure wins', success: 'value<1', failure: 'value>0.5', value: 0.7, phase: 'failed', message: /0\.7 meets failureCondition value>0\.5/ },
    { what: 'both, neither holds', success: 'value<0.01', failure: 'value>0.05', value: 0.03, phase: 'inconclusive', message: /neither successCondition value<0\.01 nor failureCondition value>0\.05/ },
    { what: 'no data', success: 'value<0.01', value: 'empty', phase: 'error', message: /no data/ },
    { what: 'NaN', success: 'value<0.01', value: NaN, phase: 'error', message: /NaN/ },
    { what: 'Prometheus down', success: 'value<0.01', value: 'down', phase: 'error', message: /the query failed: SRG_PROMETHEUS_UNREACHABLE/ },
    { what: 'a query Prometheus refuses', success: 'value<0.01', value: 'refused', phase: 'error', message: /the query failed: SRG_DATA_SOURCE.*parse error/ },
    { what: '+Inf is a number', failure: 'value>0.5', value: Infinity, phase: 'failed', message: /Infinity meets failureCondition/ },
  ];
  for (const c of cases) {
    it(`${c.what}: ${c.phase}`, async () => {
      const m = metric({ consecutiveErrorLimit: 0, ...(c.success ? { successCondition: c.success } : { successCondition: undefined }), ...(c.failure ? { failureCondition: c.failure } : {}) });
      const { run, seen } = await analyse([m], scripted({ error_rate: [c.value] }));
      const x = run.metrics[0]?.measurements[0];
      expect(x?.phase).toBe(c.phase);
      expect(run.phase).toBe(c.phase);
      expect(x?.value).toBe(typeof c.value === 'number' && !Number.isNaN(c.value) ? c.value : null);
      if (c.message) expect(x?.message).toMatch(c.message);
      else expect(x?.message).toBeUndefined();
      expect(seen).toEqual([['error-rate', x]]);
    });
  }

  it('measures the first sample when the query answers several series', async () => {
    const prom = createFakePrometheus(() => [
      { metric: { pod: 'a' }, value: 0.002 },
      { metric: { pod: 'b' }, value: 0.9 },
    ]);
    const { run } = await analyse([metric()], prom);
    expect(run.metrics[0]?.measurements).toEqual([{ at: at(0), phase: 'successful', value: 0.002 }]);
  });

  it('a port that throws instead of rejecting is an error measurement, not an exception', async () => {
    const broken: PrometheusPort = {
      url: 'http://broken',
      query: () => {
        throw new TypeError('boom');
      },
    };
    const { run } = await analyse([metric({ consecutiveErrorLimit: 0 })], broken);
    expect(run.phase).toBe('error');
    expect(run.metrics[0]?.measurements[0]?.message).toBe('the query failed: boom');
  });

  it('refuses a condition outside the condition syntax before any query', async () => {
    const prom = scripted({ error_rate: [0] });
    await expect(runAnalysis([metric({ successCondition: 'value <= low' })], { prometheus: prom, now: () => T0, sleep: async () => undefined })).rejects.toMatchObject({ code: 'SRG_CONDITION_SYNTAX' });
    expect(prom.queries).toEqual([]);
  });
});

describe('runAnalysis: limits, count and timing', () => {
  it('takes count measurements intervalMs apart after initialDelayMs, with no wait after the last', async () => {
    const prom = scripted({ error_rate: [0.001] });
    const { run, clock } = await analyse([metric({ count: 3, initialDelayMs: 5_000 })], prom);
    expect(run).toMatchObject({ phase: 'successful', startedAt: at(0), endedAt: at(25_000) });
    expect(run.message).toBeUndefined();
    expect(run.metrics[0]?.measurements.map((m) => m.at)).toEqual([at(5_000), at(15_000), at(25_000)]);
    expect(clock.sleeps).toEqual([5_000, 10_000, 10_000]);
    expect(prom.queries).toEqual(['error_rate', 'error_rate', 'error_rate']);
  });

  it('tolerates failureLimit failures and fails on the next one, at once', async () => {
    const tolerated = await analyse([metric({ count: 5, failureLimit: 2 })], scripted({ error_rate: [0.5, 0.001, 0.5, 0.001, 0.001] }));
    expect(tolerated.run.phase).toBe('successful');
    expect(phases(tolerated.run, 'error-rate')).toEqual(['failed', 'successful', 'failed', 'successful', 'successful']);

    const prom = scripted({ error_rate: [0.5, 0.001, 0.5, 0.5, 0.001] });
    const { run } = await analyse([metric({ count: 5, failureLimit: 2 })], prom);
    expect(run.phase).toBe('failed');
    expect(phases(run, 'error-rate')).toEqual(['failed', 'successful', 'failed', 'failed']);
    expect(run.metrics[0]?.message).toMatch(/^3 failed measurement\(s\), more than failureLimit 2; last: 0\.5 does not meet successCondition value<0\.01$/);
    expect(run.message).toMatch(/^error-rate failed: 3 failed/);
    expect(prom.queries).toHaveLength(4);
  });

  it('tolerates inconclusiveLimit inconclusive measurements', async () => {
    const both = { successCondition: 'value<0.01', failureCondition: 'value>0.05', count: 4, inconclusiveLimit: 1 };
    const ok = await analyse([metric(both)], scripted({ error_rate: [0.03, 0.001, 0.001, 0.001] }));
    expect(ok.run.phase).toBe('successful');
    const { run } = await analyse([metric(both)], scripted({ error_rate: [0.03, 0.001, 0.03, 0.001] }));
    expect(run.phase).toBe('inconclusive');
    expect(phases(run, 'error-rate')).toEqual(['inconclusive', 'successful', 'inconclusive']);
    expect(run.metrics[0]?.message).toMatch(/^2 inconclusive measurement\(s\), more than inconclusiveLimit 1/);
  });

  it('ends in error after more than consecutiveErrorLimit errors in a row (default 4: the 5th)', async () => {
    const prom = scripted({ error_rate: ['down'] });
    const { run, clock } = await analyse([metric({ count: 3 })], prom);
    expect(run.phase).toBe('error');
    expect(phases(run, 'error-rate')).toEqual(['error', 'error', 'error', 'error', 'error']);
    expect(run.metrics[0]?.message).toMatch(/^5 consecutive measurement errors, more than consecutiveErrorLimit 4; last: the query failed: SRG_PROMETHEUS_UNREACHABLE/);
    // Errors are retried after the interval.
    expect(clock.sleeps).toEqual([10_000, 10_000, 10_000, 10_000]);
  });

  it('a conclusive measurement resets the error streak, and errors do not count toward count', async () => {
    const { run } = await analyse([metric({ count: 2, consecutiveErrorLimit: 2 })], scripted({ error_rate: ['empty', NaN, 0.001, 'down', 'empty', 0.001] }));
    expect(run.phase).toBe('successful');
    expect(phases(run, 'error-rate')).toEqual(['error', 'error', 'successful', 'error', 'error', 'successful']);
  });
});

describe('runAnalysis: several metrics', () => {
  it('runs them concurrently and stops the others as soon as one fails, aborting their waits', async () => {
    const prom = scripted({ error_rate: [0.001], p99: [0.9] });
    const { run, clock } = await analyse(
      [metric({ count: 10 }), metric({ name: 'p99', query: 'p99', successCondition: 'value<0.5', initialDelayMs: 25_000 })],
      prom,
    );
    // error-rate measured at 0, 10 s and 20 s while p99 waited its initial delay; p99 failed at 25 s.
    expect(run.phase).toBe('failed');
    expect(run.endedAt).toBe(at(25_000));
    expect(run.metrics.map((m) => m.name)).toEqual(['error-rate', 'p99']);
    expect(run.metrics[0]?.measurements.map((m) => m.at)).toEqual([at(0), at(10_000), at(20_000)]);
    expect(run.metrics[0]).toMatchObject({ phase: 'successful', message: 'stopped after 3 of 10 measurement(s): metric "p99" ended failed' });
    expect(run.metrics[1]?.measurements.map((m) => m.at)).toEqual([at(25_000)]);
    expect(run.message).toBe('p99 failed: 1 failed measurement(s), more than failureLimit 0; last: 0.9 does not meet successCondition value<0.5');
    expect(clock.abortedSleeps()).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('an error or an inconclusive metric stops the others too (Argo terminates the run)', async () => {
    const prom = scripted({ error_rate: [0.001], down: ['down'] });
    const { run, clock } = await analyse([metric({ count: 10 }), metric({ name: 'down', query: 'down', consecutiveErrorLimit: 1, initialDelayMs: 5_000 })], prom);
    expect(run.phase).toBe('error');
    expect(run.metrics[0]).toMatchObject({ phase: 'successful', message: 'stopped after 2 of 10 measurement(s): metric "down" ended error' });
    expect(run.endedAt).toBe(at(15_000));
    expect(clock.pending()).toBe(0);
  });

  it('the phase is the worst of the metrics: failed > error > inconclusive > successful', async () => {
    const m = {
      ok: metric({ name: 'ok', query: 'ok' }),
      inconclusive: metric({ name: 'inconclusive', query: 'inconclusive', failureCondition: 'value>0.05' }),
      error: metric({ name: 'error', query: 'error', consecutiveErrorLimit: 0 }),
      failed: metric({ name: 'failed', query: 'failed' }),
    };
    const prom = () => scripted({ ok: [0.001], inconclusive: [0.03], error: ['empty'], failed: [0.9] });
    // All measure at the same instant, so each ends with its own phase before any could stop another.
    const all = await analyse([m.ok, m.inconclusive, m.error, m.failed], prom());
    expect(all.run.metrics.map((x) => x.phase)).toEqual(['successful', 'inconclusive', 'error', 'failed']);
    expect(all.run.phase).toBe('failed');
    expect((await analyse([m.failed, m.error, m.inconclusive, m.ok], prom())).run.phase).toBe('failed');
    expect((await analyse([m.ok, m.inconclusive, m.error], prom())).run.phase).toBe('error');
    expect((await analyse([m.inconclusive, m.ok], prom())).run.phase).toBe('inconclusive');
    expect((await analyse([m.ok], prom())).run.phase).toBe('successful');
  });
});

describe('runAnalysis: interrupted', () => {
  it('an abort mid-run ends it at once: phase error, message interrupted, no wait left behind', async () => {
    const ac = new AbortController();
    const prom = scripted({ error_rate: [0.001], p99: [0.1] });
    const clock = virtualTime();
    const run = await clock.drive(
      runAnalysis([metric({ count: 10 }), metric({ name: 'p99', query: 'p99', successCondition: 'value<0.5', count: 10, initialDelayMs: 5_000 })], {
        prometheus: prom,
        now: clock.now,
        sleep: clock.sleep,
        signal: ac.signal,
        onMeasurement: (name) => {
          if (name === 'p99') ac.abort();
        },
      }),
    );
    expect(run).toMatchObject({ phase: 'error', message: 'interrupted', endedAt: at(5_000) });
    expect(run.metrics.map((m) => [m.name, m.phase, m.message, m.measurements.length])).toEqual([
      ['error-rate', 'error', 'interrupted', 1],
      ['p99', 'error', 'interrupted', 1],
    ]);
    expect(clock.pending()).toBe(0);
  });

  it('does not wait for a query or a sleep that ignores the signal', async () => {
    const ac = new AbortController();
    const hung: PrometheusPort = {
      url: 'http://hung',
      query: () => {
        setImmediate(() => ac.abort());
        return new Promise<PromSample[]>(() => undefined);
      },
    };
    const neverWakes = () => new Promise<void>(() => undefined);
    const started = Date.now();
    const run = await runAnalysis([metric(), metric({ name: 'later', query: 'later', initialDelayMs: 60_000 })], { prometheus: hung, now: Date.now, sleep: neverWakes, signal: ac.signal });
    expect(run.phase).toBe('error');
    expect(run.message).toBe('interrupted');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('an already aborted signal asks Prometheus nothing', async () => {
    const prom = scripted({ error_rate: [0.001] });
    const run = await runAnalysis([metric()], { prometheus: prom, now: () => T0, sleep: async () => undefined, signal: AbortSignal.abort() });
    expect(run).toMatchObject({ phase: 'error', message: 'interrupted' });
    expect(prom.queries).toEqual([]);
  });
});

describe('runAnalysis against a real Prometheus', () => {
  let prom: TestPrometheus | undefined;
  beforeAll(async () => {
    prom = await startScrapingPrometheus({ targets: [] });
  }, 90_000);
  afterAll(async () => {
    await prom?.stop();
  }, 30_000);

  const realSleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  const gate = (successCondition: string) =>
    runAnalysis([metric({ name: 'error-rate', query: 'vector(0.002)', successCondition, count: 3, intervalMs: 100 })], {
      prometheus: createPrometheus({ url: prom?.url ?? '' }),
      now: Date.now,
      sleep: realSleep,
    });

  it('a gate on vector(0.002) with value<0.01 succeeds', async () => {
    const run = await gate('value<0.01');
    expect(run.phase).toBe('successful');
    expect(run.metrics[0]?.measurements.map((m) => [m.phase, m.value])).toEqual([
      ['successful', 0.002],
      ['successful', 0.002],
      ['successful', 0.002],
    ]);
  });

  it('the same gate with value<0.001 fails at the first measurement', async () => {
    const run = await gate('value<0.001');
    expect(run.phase).toBe('failed');
    expect(run.metrics[0]?.measurements).toEqual([{ at: expect.any(String), phase: 'failed', value: 0.002, message: '0.002 does not meet successCondition value<0.001' }]);
  });

  it('a query Prometheus refuses is an error measurement quoting why', async () => {
    const run = await runAnalysis([metric({ query: 'sum(rate(x[1m])', consecutiveErrorLimit: 0 })], { prometheus: createPrometheus({ url: prom?.url ?? '' }), now: Date.now, sleep: realSleep });
    expect(run.phase).toBe('error');
    expect(run.metrics[0]?.measurements[0]?.message).toMatch(/^the query failed: SRG_DATA_SOURCE: .*parse error/);
  });
});

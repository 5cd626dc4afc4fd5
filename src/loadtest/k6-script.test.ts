import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { readK6Script } from './k6-script.js';
import { loadScenarioFile, validateScenarioFile } from './scenario.js';

const K6 = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'k6');
const fixture = (name: string) => join(K6, name);

async function read(text: string, env: Record<string, string> = {}) {
  return readK6Script(text, 'script.js', env);
}

async function refusal(p: Promise<unknown>): Promise<SurgeError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SurgeError);
  return e as SurgeError;
}

describe('readK6Script', () => {
  it('evaluates literal options, top-level consts and __ENV reads with defaults', async () => {
    const text = readFileSync(fixture('storefront.js'), 'utf8');
    const withDefaults = await read(text);
    const sc = (withDefaults.options.scenarios as Record<string, Record<string, unknown>>);
    expect(sc.checkout!.rate).toBe(20);
    expect((sc.browse!.stages as { target: number }[])[0]!.target).toBe(2);
    expect((sc.browse!.stages as { duration: string }[])[1]!.duration).toBe('900ms');
    const fromEnv = await read(text, { BROWSE_VUS: '7', CHECKOUT_RATE: '45' });
    const sc2 = fromEnv.options.scenarios as Record<string, Record<string, unknown>>;
    expect(sc2.checkout!.rate).toBe(45);
    expect((sc2.browse!.stages as { target: number }[])[0]!.target).toBe(7);
    expect(withDefaults.metrics).toEqual({ checkout_time: 'trend' });
    expect([...withDefaults.exports].sort()).toEqual(['browse', 'checkout', 'options']);
  });

  it('reads `export { options }`, `??` defaults, parseInt with a radix, and scripts without options', async () => {
    const r = await read(readFileSync(fixture('batch-iterations.js'), 'utf8'), { VUS: '4' });
    expect(r.options).toMatchObject({ vus: 4, iterations: 12 });
    expect(r.exports).toContain('default');
    expect((await read('export default function () {}')).options).toEqual({});
    // An unset __ENV key without a default leaves the option out, as in k6.
    expect((await read('export const options = { vus: __ENV.VUS, duration: "1s" };')).options).toEqual({ duration: '1s' });
  });

  it('refuses computed options, naming the expression and its line', async () => {
    const e = await refusal(readK6Script(readFileSync(fixture('computed-options.js'), 'utf8'), 'computed-options.js', {}));
    expect(e.code).toBe('SRG_LOADTEST_SCENARIO');
    expect(e.message).toBe('computed-options.js:9: cannot read options.stages without running the script: `rampTo(Math.max(5, 10))`');
    const spread = await refusal(read('const base = { vus: 1 };\nexport const options = {\n  ...base,\n};'));
    expect(spread.message).toMatch(/^script\.js:3: cannot read options without running the script: `\.\.\.base`/);
    const tpl = await refusal(read('export const options = { duration: `${__ENV.D}s` };'));
    expect(tpl.message).toMatch(/script\.js:1: cannot read options\.duration .*`\$\{__ENV\.D\}s`/);
  });

  it('reports a syntax error with its line', async () => {
    const e = await refusal(read('export const options = {\n  vus: 1,,\n};'));
    expect(e.message).toMatch(/^script\.js:2: not valid JavaScript: /);
  });
});

describe('k6 scripts and scenario files of the corpus (test/fixtures/k6)', () => {
  it('each valid one validates, with its warnings', async () => {
    const checks = await Promise.all(
      ['storefront.js', 'smoke-shortcut.js', 'ramp-stages.js', 'batch-iterations.js', 'env-strings.yaml', 'custom-metrics.yaml'].map((f) => validateScenarioFile(fixture(f))),
    );
    const [storefront, smoke, ramp, batch, envStrings, custom] = checks;
    expect(storefront!.scenarios).toEqual(['browse', 'checkout', 'warmup']);
    expect(storefront!.thresholds).toBe(5);
    expect(storefront!.warnings).toEqual(['k6 options accepted but not acted on by surgectl: discardResponseBodies, summaryTrendStats, userAgent']);
    expect(smoke).toMatchObject({ scenarios: ['default'], thresholds: 3, plannedMs: 1000, warnings: [] });
    // .5m + 1m30s + 500 (ms)
    expect(ramp).toMatchObject({ scenarios: ['default'], plannedMs: 120_500 });
    expect(ramp!.warnings).toEqual(['k6 options accepted but not acted on by surgectl: noConnectionReuse, setupTimeout']);
    expect(batch).toMatchObject({ scenarios: ['default'], thresholds: 1, plannedMs: 600_000 });
    expect(envStrings!.scenarios).toEqual(['steady', 'ramp', 'once']);
    expect(envStrings!.warnings).toEqual(['k6 options accepted but not acted on by surgectl: summaryTrendStats']);
    expect(custom).toMatchObject({ scenarios: ['default'], thresholds: 2 });
  });

  it('a script joined with its mix file gets one mix per exec, tags and k6 defaults', async () => {
    const loaded = await loadScenarioFile(fixture('storefront.js'), { mix: fixture('storefront-mix.yaml'), target: 'http://127.0.0.1:9' });
    const { scenarios } = loaded.scenario;
    expect(scenarios.browse).toMatchObject({ executor: 'ramping-vus', startVUs: 0, gracefulRampDown: 1000, exec: 'browse', tags: { team: 'shop', flow: 'browse' } });
    expect(scenarios.checkout).toMatchObject({ executor: 'constant-arrival-rate', rate: 20, startTime: 250, gracefulStop: 5000, env: { FLOW: 'checkout' } });
    expect(scenarios.warmup).toMatchObject({ executor: 'per-vu-iterations', vus: 2, iterations: 3, maxDuration: 10_000, gracefulStop: 30_000 });
    expect(Object.keys(loaded.scenario.mixes ?? {})).toEqual(['browse', 'checkout']);
  });

  it('refuses externally-controlled by name, and an exec the mix file does not declare', async () => {
    const e = await refusal(validateScenarioFile(fixture('externally-controlled.js')));
    expect(e.details).toEqual([
      'scenarios.manual: the externally-controlled executor is not supported (nothing changes VUs from outside during a surgectl run); use constant-vus, or ramping-vus with stages for a changing VU count',
    ]);
    const m = await refusal(loadScenarioFile(fixture('storefront.js'), { mix: fixture('env-strings.yaml') }));
    expect(m.details).toEqual([
      'scenarios.browse.exec: no request mix named "browse"; declare it under "mixes" (declared: default (requests))',
      'scenarios.checkout.exec: no request mix named "checkout"; declare it under "mixes" (declared: default (requests))',
      'scenarios.warmup.exec: no request mix named "browse"; declare it under "mixes" (declared: default (requests))',
    ]);
  });
});

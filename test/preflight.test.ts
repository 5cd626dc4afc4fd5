import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeAutoScaling, type FakeAutoScaling } from '../src/adapters/aws-autoscaling/fake.js';
import { createKubernetes } from '../src/adapters/kubernetes/kubernetes.js';
import { createStackAdmin } from '../src/adapters/stack-admin/stack-admin.js';
import { createLocalFlagsProvider } from '../src/flags/provider.js';
import { renderPreflightJUnit } from '../src/preflight/junit.js';
import { preflightOutcome } from '../src/preflight/outcome.js';
import { renderPreflightReport } from '../src/preflight/render.js';
import { preflight, runPreflight, shippedRulesDir } from '../src/preflight/run.js';
import type { CheckName, PreflightOptions, PreflightReport, Verdict } from '../src/preflight/types.js';
import { createPaint } from '../src/ui/color.js';
import { hpa, startKubeApiServer, workload, type KubeApiServer } from './support/kubernetes-api-server.js';
import { startPrometheus, toOpenMetrics, type TestPrometheus } from './support/prometheus.js';
import { runCli } from './support/cli.js';
import { startTestStack, tempDir, type TestStack } from './support/stack.js';

const RULES = shippedRulesDir();
const DAY = 86_400_000;

let stack: TestStack;
let kube: KubeApiServer;
let aws: FakeAutoScaling;
let promWithRules: TestPrometheus;
let promWithout: TestPrometheus;
let cdn: Server;
let cdnUrl: string;
const dir = tempDir('surgectl-preflight-');

/** Asset and API answers, good and bad, by path. */
const CACHE_CONTROL: Record<string, string | undefined> = {
  '/assets/app.js': 'public, max-age=31536000, immutable',
  '/assets/logo.png': 's-maxage=600',
  '/api/cart': 'no-store',
  '/api/me': 'private, max-age=60',
  '/assets/bad-no-store.css': 'no-store',
  '/assets/bad-zero.js': 'public, max-age=0',
  '/assets/bad-none.js': undefined,
  '/api/bad-cached': 'public, max-age=300',
};

beforeAll(async () => {
  const history = toOpenMetrics([{ metric: 'up', value: 1, t: Date.now() - 3_600_000 }], { up: 'gauge' });
  [stack, kube, promWithRules, promWithout] = await Promise.all([
    startTestStack({ workers: 4 }),
    startKubeApiServer({ tickMs: 50 }),
    startPrometheus(history, { ruleFiles: [join(RULES, 'recording-rules.yaml'), join(RULES, 'alert-rules.yaml')] }),
    startPrometheus(history, { ruleFiles: [join(RULES, 'recording-rules.yaml')] }),
  ]);
  // shop/api: 6 ready pods under an HPA 6..10.
  kube.workloads.set('Deployment/shop/api', workload('Deployment', 'shop', 'api', 6));
  kube.hpas.set('shop/api', hpa('shop', 'api', 'api', 6, 10));
  aws = createFakeAutoScaling([{ name: 'web-asg', minSize: 3, desiredCapacity: 3, maxSize: 6, inService: 3, instances: 3 }]);
  cdn = createServer((req, res) => {
    const cc = CACHE_CONTROL[req.url ?? ''];
    if (!Object.hasOwn(CACHE_CONTROL, req.url ?? '')) res.statusCode = 404;
    if (cc) res.setHeader('cache-control', cc);
    res.end('x');
  });
  await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
  cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  writeFileSync(join(dir.path, 'kubeconfig'), kube.kubeconfig());

  // Plans: "good" fits what runs; "short" wants more than runs and more than the HPA allows.
  const plan = (name: string, api: number, asg: { min: number; desired: number; max: number }, workers: number, demand: number) =>
    writeFileSync(
      join(dir.path, `${name}.yaml`),
      JSON.stringify({
        apiVersion: 'surgectl/v1',
        kind: 'ScalePlan',
        metadata: { name },
        spec: {
          demand: { sizedValue: demand },
          services: [
            { name: 'api', replicas: api, targets: [{ kind: 'Deployment', name: 'api', namespace: 'shop' }] },
            { name: 'web', replicas: asg.desired, asg, targets: [{ kind: 'AutoScalingGroup', name: 'web-asg' }] },
            { name: 'worker', replicas: workers, targets: [{ kind: 'BundledStack', url: stack.url }] },
          ],
        },
      }),
    );
  plan('good', 6, { min: 3, desired: 3, max: 6 }, 4, 40);
  plan('short', 12, { min: 5, desired: 5, max: 8 }, 8, 40);

  // Load-test results: a fresh pass at 50 orders/s, and (elsewhere) an old pass plus a newer failed run.
  const result = (path: string, passed: boolean, rate: number, ageMs: number) => {
    writeFileSync(path, JSON.stringify({ metrics: { iterations: { type: 'counter', contains: 'default', values: { count: rate * 60, rate } } }, surgectl: { passed, scenario: 'surge' } }));
    const t = (Date.now() - ageMs) / 1000;
    utimesSync(path, t, t);
  };
  mkdirSync(join(dir.path, 'good-results'));
  result(join(dir.path, 'good-results', 'old-fail.json'), false, 10, 20 * DAY);
  result(join(dir.path, 'good-results', 'latest.json'), true, 50, DAY);
  mkdirSync(join(dir.path, 'bad-results'));
  result(join(dir.path, 'bad-results', 'latest.json'), true, 30, 9 * DAY);
  writeFileSync(
    join(dir.path, 'forecast.json'),
    JSON.stringify({
      apiVersion: 'surgectl/v1',
      kind: 'Forecast',
      generatedAt: new Date().toISOString(),
      series: [{ name: 'orders', model: 'ets', stepSeconds: 3600, unit: 'per-hour', points: [{ t: '2026-12-10T10:00:00Z', value: 72_000, lo80: 0, hi80: 0, lo95: 0, hi95: 0 }, { t: '2026-12-10T11:00:00Z', value: 162_000, lo80: 0, hi80: 0, lo95: 0, hi95: 0 }] }],
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([stack?.dispose(), kube?.close(), promWithRules?.stop(), promWithout?.stop(), new Promise((r) => (cdn ? cdn.close(r) : r(undefined)))]);
  dir.remove();
});

function options(over: Partial<PreflightOptions>): PreflightOptions {
  const k8s = createKubernetes({ kubeconfigPaths: [join(dir.path, 'kubeconfig')] });
  const admin = createStackAdmin({ url: stack.url, token: stack.adminToken });
  return {
    cwd: dir.path,
    now: () => Date.now(),
    connect: { kubernetes: async () => k8s, autoScaling: async () => aws, stack: async () => admin },
    flags: async () => createLocalFlagsProvider(admin),
    maxAgeMs: 7 * DAY,
    cacheableUrls: [],
    uncacheableUrls: [],
    rulesDir: RULES,
    ...over,
  };
}

const verdicts = (r: PreflightReport): Record<CheckName, Verdict> => Object.fromEntries(r.checks.map((c) => [c.name, c.verdict])) as Record<CheckName, Verdict>;
const evidence = (r: PreflightReport, name: CheckName) => r.checks.find((c) => c.name === name)?.evidence.join('\n') ?? '';

describe('surgectl preflight against real systems', () => {
  it('a ready configuration passes every configured check; database and failover are skipped, never passed', async () => {
    const report = await runPreflight(
      options({
        plan: 'good.yaml',
        degradeSet: { name: 'peak', flags: ['recommendations', 'loyalty-points', 'order-notifications'] },
        results: 'good-results',
        forecast: 'forecast.json',
        cacheableUrls: [`${cdnUrl}/assets/app.js`, `${cdnUrl}/assets/logo.png`],
        uncacheableUrls: [`${cdnUrl}/api/cart`, `${cdnUrl}/api/me`],
        prometheusUrl: promWithRules.url,
      }),
    );
    expect(verdicts(report)).toEqual({ capacity: 'pass', autoscaling: 'pass', flags: 'pass', loadtest: 'pass', cdn: 'pass', database: 'skipped', alerts: 'pass', failover: 'skipped' });
    expect(report.ok).toBe(true);
    expect(preflightOutcome(report)).toBeUndefined();
    expect(evidence(report, 'capacity')).toContain('Deployment shop/api: 6 ready >= 6');
    expect(evidence(report, 'capacity')).toContain('BundledStack workers: workers 4 >= 4');
    expect(evidence(report, 'autoscaling')).toContain('HorizontalPodAutoscaler shop/api: maxReplicas 10 >= 6 (plan good)');
    expect(evidence(report, 'autoscaling')).toContain('AutoScalingGroup web-asg: maxSize 6 >= 6');
    expect(evidence(report, 'flags')).toMatch(/recommendations: on\n.*loyalty-points: on/);
    // 162,000 per hour = 45/s; the newest file (50/s) counts, not the older failed one.
    expect(evidence(report, 'loadtest')).toContain('reached 50.0/s (iterations) >= 45.0/s (forecast orders peak at 2026-12-10T11:00:00Z)');
    expect(evidence(report, 'cdn')).toContain(`ok ${cdnUrl}/assets/logo.png: HTTP 200, Cache-Control: s-maxage=600 (cacheable: s-maxage=600)`);
    expect(evidence(report, 'alerts')).toContain('group surgectl-alerts: 7/7 rules loaded');
    expect(evidence(report, 'alerts')).toContain('group surgectl-recording: 16/16 rules loaded');
    expect(evidence(report, 'database')).toContain('SQLite');
  }, 60_000);

  it('a configuration that is not ready fails each check with its evidence and fix', async () => {
    const report = await runPreflight(
      options({
        plan: 'short.yaml',
        degradeSet: { name: 'peak', flags: ['recommendations', 'gift-wrap'] },
        results: 'bad-results',
        cacheableUrls: [`${cdnUrl}/assets/app.js`, `${cdnUrl}/assets/bad-no-store.css`, `${cdnUrl}/assets/bad-zero.js`, `${cdnUrl}/assets/bad-none.js`],
        uncacheableUrls: [`${cdnUrl}/api/cart`, `${cdnUrl}/api/bad-cached`],
        prometheusUrl: promWithout.url,
      }),
    );
    expect(verdicts(report)).toEqual({ capacity: 'fail', autoscaling: 'fail', flags: 'fail', loadtest: 'fail', cdn: 'fail', database: 'skipped', alerts: 'fail', failover: 'skipped' });
    expect(evidence(report, 'capacity')).toContain('Deployment shop/api: 6 ready < 12');
    expect(evidence(report, 'capacity')).toContain('BundledStack workers: workers 4 < 8');
    expect(evidence(report, 'capacity')).toContain('AutoScalingGroup web-asg: desiredCapacity 3 < 5');
    expect(evidence(report, 'autoscaling')).toContain('HorizontalPodAutoscaler shop/api: maxReplicas 10 < 12');
    expect(evidence(report, 'autoscaling')).toContain('AutoScalingGroup web-asg: maxSize 6 < 8');
    expect(evidence(report, 'flags')).toContain('gift-wrap: missing');
    // 9 days old and, without a forecast, below the plan's 40/s.
    expect(evidence(report, 'loadtest')).toMatch(/9.0 days old \(limit 7.0 days\)/);
    expect(evidence(report, 'loadtest')).toContain('reached 30.0/s (iterations) < 40.0/s (plan demand (spec.demand.sizedValue))');
    const cdnLines = evidence(report, 'cdn').split('\n');
    expect(cdnLines.filter((l) => l.startsWith('BAD')).map((l) => l.slice(0, l.indexOf(': HTTP')))).toEqual([
      `BAD ${cdnUrl}/assets/bad-no-store.css`,
      `BAD ${cdnUrl}/assets/bad-zero.js`,
      `BAD ${cdnUrl}/assets/bad-none.js`,
      `BAD ${cdnUrl}/api/bad-cached`,
    ]);
    expect(evidence(report, 'cdn')).toContain('(not cacheable: max-age=0; an asset must be cacheable)');
    expect(evidence(report, 'cdn')).toContain('(cacheable: max-age=300; an API answer must not be cacheable)');
    expect(evidence(report, 'alerts')).toContain('group surgectl-alerts: not loaded (7 rules missing)');
    for (const c of report.checks.filter((x) => x.verdict === 'fail')) expect(c.fix, c.name).toMatch(/\S/);
    const outcome = preflightOutcome(report);
    expect(outcome).toMatchObject({ code: 'SRG_PREFLIGHT_FAILED', exitCode: 20, message: 'Preflight failed: capacity, autoscaling, flags, loadtest, cdn, alerts' });
    const text = renderPreflightReport(report, createPaint(false));
    expect(text).toMatch(/^CHECK\s+VERDICT\s+EVIDENCE\s+FIX/);
    expect(text).toContain('NOT ready: 0 pass, 0 warn, 6 fail, 2 skipped');
  }, 60_000);

  it('with nothing configured every check is skipped (not passed) and nothing fails; unreachable systems fail', async () => {
    const skipped = await runPreflight(options({}));
    expect(Object.values(verdicts(skipped))).toEqual(Array(8).fill('skipped'));
    expect(skipped.ok).toBe(true);
    const down = await runPreflight(options({ prometheusUrl: 'http://127.0.0.1:1', cacheableUrls: ['http://127.0.0.1:1/app.js'], httpTimeoutMs: 2_000 }));
    expect(verdicts(down)).toMatchObject({ alerts: 'fail', cdn: 'fail' });
    expect(evidence(down, 'alerts')).toContain('connection refused');
  }, 30_000);

  it('--junit: one testcase per check, failures as <failure>, skipped checks as <skipped/>', async () => {
    const run = await preflight({ ...options({ prometheusUrl: promWithout.url, cacheableUrls: [`${cdnUrl}/assets/app.js`] }), junit: 'out/preflight.xml' }).catch((e: unknown) => e);
    // The parent directory does not exist: refused before any check runs.
    expect(run).toMatchObject({ code: 'SRG_CLI_USAGE' });
    const ok = await preflight({ ...options({ prometheusUrl: promWithout.url, cacheableUrls: [`${cdnUrl}/assets/app.js`] }), junit: 'preflight.xml' });
    expect(ok.junit).toBe(join(dir.path, 'preflight.xml'));
    const { readFileSync } = await import('node:fs');
    const xmlText = readFileSync(join(dir.path, 'preflight.xml'), 'utf8');
    expect(xmlText).toBe(renderPreflightJUnit(ok.report));
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xmlText) as {
      testsuites: { testsuite: { tests: string; failures: string; skipped: string; testcase: { name: string; failure?: { message: string }; skipped?: unknown }[] } };
    };
    const suite = doc.testsuites.testsuite;
    expect([suite.tests, suite.failures, suite.skipped]).toEqual(['8', '1', '6']);
    expect(suite.testcase.map((t) => t.name)).toEqual(['capacity', 'autoscaling', 'flags', 'loadtest', 'cdn', 'database', 'alerts', 'failover']);
    const byName = Object.fromEntries(suite.testcase.map((t) => [t.name, t]));
    expect(byName.alerts?.failure?.message).toContain('rule_files');
    expect(byName.cdn?.failure).toBeUndefined();
    expect(byName.cdn?.skipped).toBeUndefined();
    for (const n of ['capacity', 'autoscaling', 'flags', 'loadtest', 'database', 'failover']) expect(byName[n]?.skipped, n).toBeDefined();
  }, 30_000);
});

describe('surgectl preflight through the built CLI (adapters from ctx.adapters)', () => {
  const config = (name: string, prometheusUrl: string) => {
    writeFileSync(
      join(dir.path, name),
      [
        'flags:',
        '  sets: { peak: [recommendations, loyalty-points] }',
        'preflight:',
        '  degradeSet: peak',
        `  prometheusUrl: ${prometheusUrl}`,
        `  cacheableUrls: [${cdnUrl}/assets/app.js]`,
        `  uncacheableUrls: [${cdnUrl}/api/cart]`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir.path, 'stack-plan.yaml'),
      JSON.stringify({ apiVersion: 'surgectl/v1', kind: 'ScalePlan', metadata: { name: 'stack' }, spec: { services: [{ name: 'worker', replicas: 4, targets: [{ kind: 'BundledStack' }] }] } }),
    );
  };
  const env = () => ({ SURGECTL_STACK_ADMIN_TOKEN: stack.adminToken });

  it('exit 0 and a table (check, verdict, evidence, fix) when every configured check passes', async () => {
    config('ready.yaml', promWithRules.url);
    const r = await runCli(['-c', 'ready.yaml', 'preflight', '--plan', 'stack-plan.yaml', '--url', stack.url], { cwd: dir.path, env: env(), timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CHECK\s+VERDICT\s+EVIDENCE\s+FIX\n/);
    expect(r.stdout).toMatch(/^capacity\s+PASS\s+BundledStack workers: workers 4 >= 4 \(plan stack\)/m);
    expect(r.stdout).toMatch(/^alerts\s+PASS\s+Prometheus http:\/\/127\.0\.0\.1:\d+: 2 group\(s\) loaded/m);
    expect(r.stdout).toMatch(/^loadtest\s+SKIPPED\s+no load-test results directory configured\s+Pass --results/m);
    expect(r.stdout).toContain('ready: 4 pass, 0 warn, 0 fail, 4 skipped');
  }, 40_000);

  it('exit 20 (SRG_PREFLIGHT_FAILED), -o json and --junit when a check fails', async () => {
    config('unready.yaml', promWithout.url);
    const r = await runCli(['-c', 'unready.yaml', '-o', 'json', 'preflight', '--plan', 'stack-plan.yaml', '--url', stack.url, '--junit', 'cli.xml'], { cwd: dir.path, env: env(), timeoutMs: 30_000 });
    expect(r.code).toBe(20);
    expect(r.stderr).toContain('SRG_PREFLIGHT_FAILED');
    expect(r.stderr).toContain('Preflight failed: alerts');
    const report = JSON.parse(r.stdout) as PreflightReport;
    expect(verdicts(report)).toEqual({ capacity: 'pass', autoscaling: 'skipped', flags: 'pass', loadtest: 'skipped', cdn: 'pass', database: 'skipped', alerts: 'fail', failover: 'skipped' });
    const { readFileSync } = await import('node:fs');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(join(dir.path, 'cli.xml'), 'utf8')) as { testsuites: { testsuite: { failures: string; skipped: string } } };
    expect(doc.testsuites.testsuite).toMatchObject({ failures: '1', skipped: '4' });
  }, 40_000);
});

import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isSurgeError, SurgeError } from '../../errors.js';
import { parseForecastDocument } from '../../forecast/capacity-plan.js';
import { unitSeconds } from '../../forecast/units.js';
import type { CheckResult, PreflightOptions } from '../types.js';

type Found = Omit<CheckResult, 'name' | 'durationMs'>;

/** What a results file says: passed, and the order rate it reached (iterations/s, else requests/s). */
export function readResult(doc: unknown): { passed: boolean; rate: number | undefined; metric: string | undefined } {
  const d = (doc ?? {}) as { surgectl?: { passed?: unknown }; metrics?: Record<string, { rate?: unknown; values?: { rate?: unknown }; thresholds?: Record<string, { ok?: unknown }> }> };
  const metrics = d.metrics ?? {};
  // `surgectl loadtest --out` records its verdict; a k6 summary has only the thresholds.
  const passed = typeof d.surgectl?.passed === 'boolean' ? d.surgectl.passed : Object.values(metrics).every((m) => Object.values(m.thresholds ?? {}).every((t) => t.ok !== false));
  for (const metric of ['iterations', 'http_reqs']) {
    const m = metrics[metric];
    const rate = typeof m?.rate === 'number' ? m.rate : m?.values?.rate;
    if (typeof rate === 'number' && Number.isFinite(rate)) return { passed, rate, metric };
  }
  return { passed, rate: undefined, metric: undefined };
}

/** The peak to have tested at, orders/s: the forecast's highest point, else the plan's sized demand. */
async function forecastPeak(opts: PreflightOptions): Promise<{ perSecond: number; source: string } | undefined> {
  if (opts.forecast) {
    const path = resolve(opts.cwd, opts.forecast);
    const doc = parseForecastDocument(JSON.parse(await readText(path, 'forecast')) as unknown, path);
    let best: { perSecond: number; source: string } | undefined;
    for (const s of doc.series) {
      const perUnit = unitSeconds(s.unit ?? 'per-second', s.stepSeconds);
      for (const p of s.points) {
        const v = p.value / perUnit;
        if (!best || v > best.perSecond) best = { perSecond: v, source: `forecast ${s.name} peak at ${p.t}` };
      }
    }
    return best;
  }
  if (opts.plan) {
    const path = resolve(opts.cwd, opts.plan);
    const plan = parseYaml(await readText(path, 'plan')) as { spec?: { demand?: { sizedValue?: unknown } } } | null;
    const v = plan?.spec?.demand?.sizedValue;
    if (typeof v === 'number') return { perSecond: v, source: `plan demand (spec.demand.sizedValue)` };
  }
  return undefined;
}

/** An age as a reader wants it: minutes, hours or days, one decimal. */
function age(ms: number): string {
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 2 * 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}

async function readText(path: string, what: string): Promise<string> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new SurgeError('SRG_CLI_USAGE', `Cannot read the ${what} ${path}: ${err.code ?? err.message}`);
  });
}

/**
 * The newest results file (by modification time) in the results directory is younger than
 * `maxAgeMs`, passed, and reached the forecast peak (or the plan's sized demand).
 */
export async function checkLoadTest(opts: PreflightOptions): Promise<Found> {
  if (!opts.results) return { verdict: 'skipped', evidence: ['no load-test results directory configured'], fix: 'Pass --results <dir> (where `surgectl loadtest --out` writes), or set preflight.loadTestResults.' };
  const dir = resolve(opts.cwd, opts.results);
  try {
    const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
      throw new SurgeError('SRG_CLI_USAGE', `Cannot read the results directory ${dir}: ${err.code ?? err.message}`);
    });
    const files = await Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => ({ path: join(dir, n), mtime: (await stat(join(dir, n))).mtimeMs })));
    const newest = files.sort((a, b) => b.mtime - a.mtime)[0];
    const fix = 'Run the surge scenario at the forecast peak: surgectl loadtest run <scenario> --out <dir>/<date>.json.';
    if (!newest) return { verdict: 'fail', evidence: [`no *.json results in ${dir}`], fix };
    const ageMs = opts.now() - newest.mtime;
    const result = readResult(JSON.parse(await readText(newest.path, 'load-test result')) as unknown);
    const peak = await forecastPeak(opts);
    const evidence = [`newest: ${newest.path}, ${age(Math.max(0, ageMs))} old (limit ${age(opts.maxAgeMs)})`, `verdict: ${result.passed ? 'passed' : 'FAILED'}`];
    let failed = ageMs > opts.maxAgeMs || !result.passed;
    let warned = false;
    if (result.rate === undefined) {
      evidence.push('no metrics.iterations.rate or metrics.http_reqs.rate in the file');
      failed = true;
    } else if (peak) {
      const reached = result.rate >= peak.perSecond;
      evidence.push(`reached ${result.rate.toFixed(1)}/s (${result.metric}) ${reached ? '>=' : '<'} ${peak.perSecond.toFixed(1)}/s (${peak.source})`);
      failed ||= !reached;
    } else {
      evidence.push(`reached ${result.rate.toFixed(1)}/s (${result.metric}); no forecast peak to compare with`);
      warned = true;
    }
    if (failed) return { verdict: 'fail', evidence, fix };
    if (warned) return { verdict: 'warn', evidence, fix: 'Pass --forecast f.json (or --plan with spec.demand) so the rate is compared with the peak.' };
    return { verdict: 'pass', evidence };
  } catch (err) {
    if (!isSurgeError(err) && !(err instanceof SyntaxError)) throw err;
    return { verdict: 'fail', evidence: [(err as Error).message, ...(isSurgeError(err) ? err.details : [])], fix: (isSurgeError(err) && err.hint) || 'Check the results directory and the forecast file.' };
  }
}

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAlerts } from './checks/alerts.js';
import { checkCdn } from './checks/cdn.js';
import { checkFlags } from './checks/flags.js';
import { checkLoadTest } from './checks/loadtest.js';
import { checkScale } from './checks/scale.js';
import { undiciGet } from './http.js';
import { renderPreflightJUnit } from './junit.js';
import { isSurgeError, type SurgeError } from '../errors.js';
import { checkOutputPaths, writeOutputFiles } from '../util/output-files.js';
import { CHECK_NAMES, type CheckName, type CheckResult, type PreflightOptions, type PreflightReport, type Verdict } from './types.js';

type Found = Omit<CheckResult, 'name' | 'durationMs'>;

/** deploy/prometheus of this installation: two levels up from src/preflight, three from dist/src/preflight. */
export function shippedRulesDir(): string {
  const candidates = ['../../deploy/prometheus', '../../../deploy/prometheus'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((d) => existsSync(d)) ?? (candidates[0] as string);
}

/**
 * Runs every check (in parallel; each reaches only its own system) and returns them in
 * CHECK_NAMES order. A check whose system is not configured is `skipped`, never `pass`; a system
 * that does not answer makes its check `fail`, with the reason as evidence.
 */
export async function runPreflight(opts: PreflightOptions): Promise<PreflightReport> {
  const get = opts.httpGet ?? undiciGet;
  const timed = async (name: CheckName, run: () => Promise<Found>): Promise<CheckResult> => {
    const start = opts.now();
    const found = await run();
    return { name, ...found, durationMs: Math.max(0, opts.now() - start) };
  };
  const scale = checkScale(opts);
  const checks: Record<CheckName, () => Promise<Found>> = {
    capacity: async () => (await scale).capacity,
    autoscaling: async () => (await scale).autoscaling,
    flags: () => checkFlags(opts),
    loadtest: () => checkLoadTest(opts),
    cdn: () => checkCdn(opts, get),
    database: async () => ({
      verdict: 'skipped',
      evidence: ['no PostgreSQL store: the bundled stack runs on SQLite until the scale-out store lands, so there is no connection pool, replica or failover target to check'],
      fix: 'Nothing to do yet; this check will read the PostgreSQL store once it exists.',
    }),
    alerts: () => checkAlerts(opts, get),
    failover: async () => ({
      verdict: 'skipped',
      evidence: ['no regions configured: surgectl.yaml names no standby region to fail over to'],
      fix: 'Nothing to check until a standby region is configured.',
    }),
  };
  const results = await Promise.all(CHECK_NAMES.map((n) => timed(n, checks[n])));
  const counts: Record<Verdict, number> = { pass: 0, warn: 0, fail: 0, skipped: 0 };
  for (const r of results) counts[r.verdict]++;
  return { checks: results, counts, ok: counts.fail === 0 };
}

/** A preflight run: the report, and the JUnit file written (or why it was not). */
export interface PreflightRun {
  report: PreflightReport;
  /** Absolute path of the JUnit file written. */
  junit?: string;
  writeError?: SurgeError;
}

/**
 * `surgectl preflight`: checks the JUnit path before anything runs (a report that cannot be
 * written must not cost a run), runs every check, then writes the JUnit file. A failed write is
 * returned with the report, not thrown, so the report still prints and the outcome still decides.
 */
export async function preflight(opts: PreflightOptions & { junit?: string }): Promise<PreflightRun> {
  const junit = opts.junit ? { flag: '--junit', path: resolve(opts.cwd, opts.junit) } : undefined;
  if (junit) await checkOutputPaths([junit]);
  const report = await runPreflight(opts);
  if (!junit) return { report };
  try {
    await writeOutputFiles([{ ...junit, text: renderPreflightJUnit(report) }]);
    return { report, junit: junit.path };
  } catch (err) {
    if (!isSurgeError(err)) throw err;
    return { report, writeError: err };
  }
}

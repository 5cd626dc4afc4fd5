import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { withoutUrlCredentials } from '../../util/url.js';
import type { CheckResult, HttpGet, PreflightOptions } from '../types.js';

type Found = Omit<CheckResult, 'name' | 'durationMs'>;

/** A rule group by name with its rule names (`alert` or `record`). */
export interface RuleGroup {
  name: string;
  rules: string[];
}

/** The groups of the shipped rule files (every *.yaml of the directory but the *.test.yaml unit tests). */
export async function shippedRuleGroups(dir: string): Promise<RuleGroup[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml')).sort();
  const groups: RuleGroup[] = [];
  for (const f of files) {
    const doc = parseYaml(await readFile(join(dir, f), 'utf8')) as { groups?: { name: string; rules: { alert?: string; record?: string }[] }[] };
    for (const g of doc.groups ?? []) groups.push({ name: g.name, rules: g.rules.map((r) => r.alert ?? r.record ?? '') });
  }
  return groups;
}

interface RulesAnswer {
  status?: string;
  data?: { groups?: { name: string; rules?: { name: string; health?: string; lastError?: string }[] }[] };
}

/** The shipped rule groups and every rule in them are loaded, and healthy, in the configured Prometheus (GET /api/v1/rules). */
export async function checkAlerts(opts: PreflightOptions, get: HttpGet): Promise<Found> {
  if (!opts.prometheusUrl) return { verdict: 'skipped', evidence: ['no Prometheus configured'], fix: 'Set preflight.prometheusUrl in surgectl.yaml to the Prometheus that alerts for the order stack.' };
  const where = withoutUrlCredentials(opts.prometheusUrl, '***');
  const fix = `Load ${opts.rulesDir}/recording-rules.yaml and alert-rules.yaml through rule_files in prometheus.yml, then reload (POST /-/reload or SIGHUP); see docs/observability.md.`;
  let shipped: RuleGroup[];
  try {
    shipped = await shippedRuleGroups(opts.rulesDir);
  } catch (err) {
    return { verdict: 'fail', evidence: [`cannot read the shipped rules in ${opts.rulesDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], fix: 'Reinstall surgectl: its deploy/prometheus directory is missing or unreadable.' };
  }
  let answer: RulesAnswer;
  try {
    const res = await get(`${opts.prometheusUrl.replace(/\/+$/, '')}/api/v1/rules`, { timeoutMs: opts.httpTimeoutMs ?? 10_000, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (res.status !== 200) return { verdict: 'fail', evidence: [`GET ${where}/api/v1/rules answered HTTP ${res.status}`], fix: 'Check preflight.prometheusUrl: it must be the Prometheus base URL.' };
    answer = JSON.parse(res.body) as RulesAnswer;
  } catch (err) {
    return { verdict: 'fail', evidence: [`Prometheus at ${where}: ${(err as Error).message}`], fix: 'Check preflight.prometheusUrl and that Prometheus is up.' };
  }
  const loaded = answer.data?.groups ?? [];
  const evidence: string[] = [];
  let missing = 0;
  let unhealthy = 0;
  for (const g of shipped) {
    const found = loaded.find((l) => l.name === g.name);
    if (!found) {
      missing += g.rules.length;
      evidence.push(`group ${g.name}: not loaded (${g.rules.length} rules missing)`);
      continue;
    }
    const absent = g.rules.filter((r) => !(found.rules ?? []).some((x) => x.name === r));
    const bad = (found.rules ?? []).filter((x) => g.rules.includes(x.name) && x.health === 'err');
    missing += absent.length;
    unhealthy += bad.length;
    evidence.push(`group ${g.name}: ${g.rules.length - absent.length}/${g.rules.length} rules loaded${absent.length > 0 ? `; missing ${absent.join(', ')}` : ''}`);
    for (const b of bad) evidence.push(`rule ${b.name} fails to evaluate: ${b.lastError ?? 'health err'}`);
  }
  evidence.unshift(`Prometheus ${where}: ${loaded.length} group(s) loaded`);
  if (missing > 0) return { verdict: 'fail', evidence, fix };
  if (unhealthy > 0) return { verdict: 'warn', evidence, fix: 'A loaded rule fails to evaluate: see its lastError on the Prometheus /rules page.' };
  return { verdict: 'pass', evidence };
}

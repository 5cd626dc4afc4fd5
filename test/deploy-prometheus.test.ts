import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { requireBinary } from './support/prometheus.js';
import { REPO_ROOT } from './support/stack.js';

const run = promisify(execFile);
const DIR = join(REPO_ROOT, 'deploy', 'prometheus');

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface RuleTests {
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

it('promtool check rules accepts the recording and alert rules', async () => {
  const { stdout } = await run(requireBinary('promtool'), ['check', 'rules', 'recording-rules.yaml', 'alert-rules.yaml'], { cwd: DIR, timeout: 30_000 });
  expect(stdout).toMatch(/recording-rules\.yaml\s+SUCCESS: 16 rules found/);
  expect(stdout).toMatch(/alert-rules\.yaml\s+SUCCESS: 7 rules found/);
});

it('promtool test rules: every alert fires for its condition and stays silent otherwise', async () => {
  const promtool = requireBinary('promtool');
  // A failing unit test makes promtool exit 1: execFile rejects with its output in the message.
  const { stdout } = await run(promtool, ['test', 'rules', 'alert-rules.test.yaml'], { cwd: DIR, timeout: 60_000 });
  expect(stdout).toContain('SUCCESS');

  const alerts = (parseYaml(readFileSync(join(DIR, 'alert-rules.yaml'), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules.map((r) => r.alert)).filter((a): a is string => !!a);
  const tests = (parseYaml(readFileSync(join(DIR, 'alert-rules.test.yaml'), 'utf8')) as RuleTests).tests.flatMap((t) => t.alert_rule_test ?? []);
  expect(alerts).toHaveLength(7);
  for (const alert of alerts) {
    const cases = tests.filter((t) => t.alertname === alert);
    expect(cases.some((c) => c.exp_alerts.length > 0), `${alert} has a firing case`).toBe(true);
    expect(cases.some((c) => c.exp_alerts.length === 0), `${alert} has a silent case`).toBe(true);
  }
});

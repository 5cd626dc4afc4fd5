import type { PreflightReport } from './types.js';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** JUnit XML: one testcase per check; fail -> <failure>, skipped -> <skipped/>, warn passes with its evidence in <system-out>. */
export function renderPreflightJUnit(report: PreflightReport): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = report.checks.reduce((s, c) => s + c.durationMs, 0);
  const cases = report.checks.map((c) => {
    const evidence = c.evidence.join('\n');
    const open = `    <testcase classname="preflight" name="${xml(c.name)}" time="${seconds(c.durationMs)}">`;
    switch (c.verdict) {
      case 'fail':
        return `${open}\n      <failure message="${xml(c.fix ?? c.evidence[0] ?? 'failed')}" type="fail">${xml(evidence)}</failure>\n    </testcase>`;
      case 'skipped':
        return `${open}\n      <skipped message="${xml(c.evidence[0] ?? 'not configured')}"/>\n    </testcase>`;
      case 'warn':
        return `${open}\n      <system-out>${xml(`WARN: ${evidence}${c.fix ? `\nfix: ${c.fix}` : ''}`)}</system-out>\n    </testcase>`;
      default:
        return `${open}\n      <system-out>${xml(evidence)}</system-out>\n    </testcase>`;
    }
  });
  const attrs = `tests="${report.checks.length}" failures="${report.counts.fail}" errors="0" skipped="${report.counts.skipped}" time="${seconds(total)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="surgectl preflight" tests="${report.checks.length}" failures="${report.counts.fail}" errors="0" time="${seconds(total)}">
  <testsuite name="preflight" ${attrs}>
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

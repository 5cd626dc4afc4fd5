import type { Paint } from '../ui/color.js';
import { renderTable } from '../ui/table.js';
import type { PreflightReport, Verdict } from './types.js';

/** The human report: one block per check (check, verdict, an evidence line per row, the fix on the first row) and a count line. */
export function renderPreflightReport(report: PreflightReport, paint: Paint): string {
  const colour: Record<Verdict, (s: string) => string> = { pass: paint.green, warn: paint.yellow, fail: paint.red, skipped: paint.dim };
  const rows = report.checks.flatMap((c) =>
    (c.evidence.length > 0 ? c.evidence : ['']).map((line, i) => ({
      check: i === 0 ? c.name : '',
      verdict: i === 0 ? colour[c.verdict](c.verdict.toUpperCase()) : '',
      evidence: line,
      fix: i === 0 && c.verdict !== 'pass' ? (c.fix ?? '') : '',
    })),
  );
  const table = renderTable(rows, [
    { header: 'check', value: (r) => r.check },
    { header: 'verdict', value: (r) => r.verdict },
    { header: 'evidence', value: (r) => r.evidence },
    { header: 'fix', value: (r) => r.fix },
  ]);
  const { pass, warn, fail, skipped } = report.counts;
  const verdict = report.ok ? paint.green('ready') : paint.red('NOT ready');
  return `${table}\n${verdict}: ${pass} pass, ${warn} warn, ${fail} fail, ${skipped} skipped (skipped checks are not configured and prove nothing)\n`;
}

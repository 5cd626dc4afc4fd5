import type { Paint } from '../ui/color.js';
import { renderTable } from '../ui/table.js';
import type { RehearsalReport } from './report.js';

/** The terminal form of the readiness report: the scaling sentence, the gates table, what to fix, the files. */
export function renderReportTable(r: RehearsalReport, paint: Paint): string {
  const out: string[] = [];
  const failed = r.gates.filter((g) => g.status === 'fail');
  out.push('');
  if (r.scaling) out.push(paint.dim(r.scaling.statement));
  if (r.capacity) {
    out.push(paint.dim(`capacity plan: ${r.capacity.services.map((s) => `${s.name} ${s.replicas}`).join(', ')} replicas (95% bound ${r.capacity.sizedPerSec}/s + ${Math.round(r.capacity.headroom * 100)}% headroom)`));
  }
  out.push('');
  out.push(
    renderTable(r.gates, [
      { header: 'gate', value: (g) => g.id },
      {
        header: 'result',
        value: (g) => (g.status === 'pass' ? paint.green('PASS') : g.status === 'fail' ? paint.red('FAIL') : paint.dim('SKIP')),
      },
      { header: 'observed', value: (g) => g.observed },
      { header: 'expected', value: (g) => g.expected },
    ]).trimEnd(),
  );
  if (failed.length > 0) {
    out.push('', paint.bold('What to fix:'));
    for (const g of failed) out.push(`  ${paint.red(g.id)}: ${g.fix ?? ''}`);
  }
  out.push('');
  const verdict =
    r.status === 'passed'
      ? paint.green(paint.bold(`READY: all ${r.gates.filter((g) => g.status === 'pass').length} gates passed`))
      : r.status === 'interrupted'
        ? paint.yellow(paint.bold('INTERRUPTED: everything was restored; the report covers what ran'))
        : paint.red(paint.bold(`NOT READY: ${failed.length} of ${r.gates.length} gates failed`));
  out.push(`${verdict}  ${paint.dim(`(${(r.durationMs / 1000).toFixed(1)}s)`)}`);
  if (r.files) out.push(paint.dim(`report: ${r.files.html}  ${r.files.json}`));
  return out.join('\n') + '\n';
}

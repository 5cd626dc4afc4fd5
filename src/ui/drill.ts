import type { DrillPart, DrillReport } from '../regions/drill-report.js';
import type { Paint } from './color.js';
import { renderTable } from './table.js';

const n = (v: number) => v.toLocaleString('en-US');
const s2 = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function partLine(p: DrillPart, paint: Paint): string {
  const status = p.status === 'completed' ? paint.green(p.status) : paint.red(p.status);
  const rto = p.rtoMs === undefined ? 'RTO not measured' : `RTO ${s2(p.rtoMs)}${p.rtoFrom === 'kill' ? ' from the SIGKILL' : ''}`;
  const gap = p.observedGapMs === undefined ? '' : paint.dim(` (clients went ${s2(p.observedGapMs)} without an acknowledged order)`);
  const why = p.status !== 'completed' && p.message ? `\n             ${paint.red(p.message)}` : '';
  return `  ${p.name.padEnd(10)} ${`${p.from} -> ${p.to}`.padEnd(9)} ${status}  ${rto}${gap}${why}`;
}

/** `surgectl drill failover`: each part with its RTO, the load, the order check, the gates, the files. */
export function renderDrill(r: DrillReport, paint: Paint): string {
  const out: string[] = [''];
  if (r.kill) out.push(`  kill       ${r.settings.from.padEnd(9)} ${r.kill.exitCode === 0 ? paint.yellow(`SIGKILL at ${r.kill.atS.toFixed(1)} s`) : paint.red(`kill command exited ${r.kill.exitCode}: ${r.kill.message ?? ''}`)}`);
  for (const p of r.parts) out.push(partLine(p, paint));
  const l = r.load;
  out.push(
    `  load       ${n(l.acknowledged)} acknowledged, ${n(l.refused)} refused (at most ${n(l.maxRefusedPerSec)}/s), ${n(l.failed)} failed (at most ${n(l.maxFailedPerSec)}/s), ${n(l.dropped)} dropped; ${l.ratePerSec}/s for ${(l.durationMs / 1000).toFixed(1)} s`,
  );
  const o = r.orders;
  if (o.basis === 'unreadable') out.push(`  orders     ${paint.yellow(`not checked: ${o.note ?? ''}`)}`);
  else {
    const statuses = Object.entries(o.byStatus)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${n(v)} ${k}`)
      .join(', ');
    const missing = o.missing.length === 0 ? paint.green('0 missing') : (r.settings.killPrimary ? paint.yellow : paint.red)(`${n(o.missing.length)} missing: ${o.missing.slice(0, 5).join(', ')}${o.missing.length > 5 ? ', … (all in the report)' : ''}`);
    out.push(`  orders     ${n(o.present)} of ${n(o.acknowledged)} acknowledged on ${o.finalPrimary} (${statuses || 'none'}); ${missing}`);
    if (o.note) out.push(paint.dim(`             ${o.note}`));
  }
  out.push('');
  out.push(
    renderTable(r.gates, [
      { header: 'gate', value: (g) => g.id },
      { header: 'result', value: (g) => (g.status === 'pass' ? paint.green('PASS') : g.status === 'fail' ? paint.red('FAIL') : paint.dim('SKIP')) },
      { header: 'observed', value: (g) => g.observed },
      { header: 'expected', value: (g) => g.expected },
    ]).trimEnd(),
  );
  for (const note of r.notes) out.push(paint.dim(`note: ${note}`));
  out.push('');
  const failed = r.gates.filter((g) => g.status === 'fail');
  const verdict =
    r.status === 'passed'
      ? paint.green(paint.bold(`PASSED: all ${r.gates.length} gates`))
      : r.status === 'interrupted'
        ? paint.yellow(paint.bold('INTERRUPTED: the load was stopped; the journals say where each runbook stands'))
        : paint.red(paint.bold(`FAILED: ${failed.length} of ${r.gates.length} gates`));
  out.push(`${verdict}  ${paint.dim(`failover drill ${r.settings.from} -> ${r.settings.to} -> ${r.settings.from}${r.settings.killPrimary ? ' (primary killed)' : ''}, ${(r.durationMs / 1000).toFixed(1)} s`)}`);
  if (r.files) out.push(paint.dim(`report: ${r.files.html}  ${r.files.json}`));
  return out.join('\n') + '\n';
}

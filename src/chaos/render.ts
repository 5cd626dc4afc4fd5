import { renderTable } from '../ui/table.js';
import type { Paint } from '../ui/color.js';
import type { DrillResult, ExperimentSummary } from './drill.js';
import type { ActivityRun, Journal } from './journal.js';
import type { ExperimentPlan } from './plan.js';

/** What `chaos run` prints: the plan of a dry run, or the journal's summary (naming a journal that was not written). */
export function renderDrill(result: DrillResult, paint: Paint): string {
  if (result.kind === 'plan') return renderPlan(result.plan);
  return renderJournal(result.journal, paint, result.writeError ? `${result.journalPath} (not written)` : result.journalPath);
}

/** The data `chaos run -o json|yaml` prints: the plan, or the journal. */
export function drillData(result: DrillResult): unknown {
  return result.kind === 'plan' ? result.plan : result.journal;
}

/** The `--dry-run` plan as a table. */
export function renderPlan(plan: ExperimentPlan): string {
  const head = `Plan for "${plan.title}" (dry run: nothing is changed)\nrollback strategy ${plan.rollbackStrategy}, hypothesis strategy ${plan.hypothesisStrategy}${plan.failFast ? ', fail fast' : ''}\n\n`;
  return (
    head +
    renderTable(plan.steps, [
      { header: '#', value: (s) => s.step, align: 'right' },
      { header: 'phase', value: (s) => s.phase },
      { header: 'type', value: (s) => s.type },
      { header: 'name', value: (s) => s.name },
      { header: 'target', value: (s) => s.target },
      { header: 'does', value: (s) => s.does },
      { header: 'notes', value: (s) => s.notes },
    ]) +
    (plan.controls.length === 0
      ? ''
      : `\ncontrols (hooks run around ${plan.controls.length === 1 ? 'its levels' : 'their levels'}; one that raises is journaled and the drill goes on):\n${plan.controls
          .map((c) => `  ${c.name} (${c.module}): ${c.appliesTo}, ${c.scope}${c.hooks ? ` — ${c.hooks.length > 0 ? `runs ${c.hooks.join(', ')}` : 'no hook of the module applies'}` : ''}\n`)
          .join('')}`)
  );
}

interface Row {
  phase: string;
  run: ActivityRun;
}

/** The summary printed after a drill: every activity with its outcome, then the verdict. */
export function renderJournal(j: Journal, paint: Paint, journalPath: string): string {
  const rows: Row[] = [
    ...(j.steady_states.before?.probes ?? []).map((run) => ({ phase: 'before', run })),
    ...j.steady_states.during.flatMap((d, i) => d.probes.map((run) => ({ phase: `during#${i + 1}`, run }))),
    ...j.run.map((run) => ({ phase: 'method', run })),
    ...(j.steady_states.after?.probes ?? []).map((run) => ({ phase: 'after', run })),
    ...j.rollbacks.map((run) => ({ phase: 'rollback', run })),
  ];
  const outcome = (r: ActivityRun) => {
    if (r.status === 'failed') return paint.red('failed');
    if (r.tolerance_met === false) return paint.red('not met');
    if (r.tolerance_met === true) return paint.green('met');
    return paint.green('ok');
  };
  const table = renderTable(rows, [
    { header: 'phase', value: (r) => r.phase },
    { header: 'type', value: (r) => r.run.activity.type },
    { header: 'name', value: (r) => r.run.activity.name },
    { header: 'result', value: (r) => outcome(r.run) },
    { header: 'observed', value: (r) => observed(r.run) },
    { header: 'duration', value: (r) => `${r.run.duration.toFixed(2)}s`, align: 'right' },
  ]);
  const status =
    j.status === 'completed' ? paint.green(j.status) : j.status === 'failed' ? paint.red(j.status) : paint.yellow(j.status);
  const failedRollbacks = j.rollbacks.filter((r) => r.status === 'failed').length;
  const rollbacks =
    j.rollbacks_skipped ??
    (j.rollbacks.length === 0
      ? 'none defined'
      : j.rollback_failed
        ? paint.red('FAILED')
        : failedRollbacks > 0
          ? paint.yellow(`${failedRollbacks} of ${j.rollbacks.length} failed; nothing had been injected, so nothing is left changed`)
          : paint.green(`${j.rollbacks.length} ran`));
  const lines = [`Drill "${j.title}": ${status}${j.deviated ? paint.red(' (steady state deviated)') : ''}${j.reason ? ` — ${j.reason}` : ''}`, `rollbacks: ${rollbacks}`];
  if (j.load) {
    lines.push(`load: ${j.load.sent} orders sent (${j.load.accepted} accepted, ${j.load.rejected} rejected, ${j.load.errors} 5xx, ${j.load.failed} no answer, ${j.load.dropped} dropped)`);
  }
  if (j.controls.length > 0) {
    const failed = j.controls.filter((c) => c.status === 'failed');
    lines.push(`controls: ${j.controls.length} hook call(s)${failed.length > 0 ? paint.yellow(`, ${failed.length} failed (${[...new Set(failed.map((c) => `${c.name} ${c.hook}`))].slice(0, 3).join(', ')}); the drill went on`) : ''}`);
  }
  lines.push(`duration: ${j.duration.toFixed(1)}s   journal: ${journalPath}`);
  return `${table}\n${lines.join('\n')}\n`;
}

function observed(r: ActivityRun): string {
  if (r.exception) return r.exception.message.slice(0, 60);
  if (r.tolerance_result) {
    const v = r.tolerance_result.value;
    const text = typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : JSON.stringify(v);
    const tol = r.activity.tolerance;
    return `${text ?? '-'} (${typeof tol === 'string' ? tol : JSON.stringify(tol)})`.slice(0, 60);
  }
  if (r.output === null || r.output === undefined) return '-';
  // Fault actions report {previous, applied, restored?}: what was injected is the interesting part.
  if (typeof r.output === 'object' && 'applied' in r.output) {
    const o = r.output as { applied: unknown; restored?: unknown };
    return `applied ${JSON.stringify(o.applied)}${o.restored !== undefined ? ', restored' : ''}`.slice(0, 60);
  }
  if (r.activity.type === 'action' && typeof r.output === 'object' && 'intake' in r.output) return 'done';
  return (typeof r.output === 'string' ? r.output : JSON.stringify(r.output)).slice(0, 60);
}

/** One line for `chaos validate`. */
export function renderValidation(s: ExperimentSummary): string {
  return `${s.file}: valid — "${s.title}": ${s.probes} steady-state probe(s), ${s.method} method activit${s.method === 1 ? 'y' : 'ies'}, ${s.rollbacks} rollback(s)\n`;
}

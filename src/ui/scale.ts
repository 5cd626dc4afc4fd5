import type { ReadinessRow } from '../scale/apply.js';
import type { ApplyScaleReport, RestoreScaleReport, ScalePlanReport, ScaleStatusReport, ScheduleScaleReport } from '../scale/run.js';
import type { Change } from '../scale/types.js';
import type { TextSink } from '../runtime.js';
import type { Paint } from './color.js';
import { renderTable } from './table.js';

/** The diff table of `scale plan` / `scale apply`: one row per changing field, current -> desired. */
export function renderChanges(changes: readonly Change[], paint: Paint): string {
  if (changes.length === 0) return 'No changes: every object is already at its target.\n';
  return renderTable(changes, [
    { header: 'service', value: (c) => c.service },
    { header: 'kind', value: (c) => c.kind },
    { header: 'name', value: (c) => c.name },
    { header: 'field', value: (c) => c.field },
    { header: 'change', value: (c) => `${c.current} -> ${c.desired > c.current ? paint.green(String(c.desired)) : paint.yellow(String(c.desired))}` },
    { header: 'where', value: (c) => c.target },
  ]);
}

function notes(r: { warnings: string[]; blockers: string[] }, paint: Paint): string {
  return [...r.warnings.map((w) => `${paint.yellow('warning:')} ${w}`), ...r.blockers.map((b) => `${paint.red('blocked:')} ${b}`)].map((l) => l + '\n').join('');
}

export function renderScalePlanReport(r: ScalePlanReport, paint: Paint): string {
  return `Plan ${r.plan} (${r.file})\n\n${renderChanges(r.changes, paint)}${notes(r, paint)}`;
}

function calls(list: readonly string[]): string {
  return list.length === 0 ? '' : `\nAPI calls, in order:\n${list.map((c) => `  ${c}`).join('\n')}\n`;
}

export function renderReadiness(rows: readonly ReadinessRow[], paint: Paint): string {
  if (rows.length === 0) return '';
  return renderTable(rows, [
    { header: 'service', value: (r) => r.service },
    { header: 'kind', value: (r) => r.kind },
    { header: 'name', value: (r) => r.name },
    { header: 'ready', value: (r) => `${r.ready}/${r.target}`, align: 'right' },
    { header: 'status', value: (r) => (r.done ? paint.green('ready') : paint.yellow('progressing')) },
  ]);
}

export function renderApplyReport(r: ApplyScaleReport, paint: Paint): string {
  const head = `${r.dryRun ? 'Dry run of' : 'Applied'} plan ${r.plan}\n\n${renderChanges(r.changes, paint)}${notes(r, paint)}`;
  if (r.dryRun) return head + calls(r.calls);
  const snap = r.snapshot ? `\nSnapshot: ${r.snapshot}\nUndo:     surgectl scale restore ${r.snapshot}\n` : '';
  return `${head}${snap}${r.readiness.length > 0 ? `\n${renderReadiness(r.readiness, paint)}` : ''}`;
}

export function renderStatusReport(r: ScaleStatusReport, paint: Paint): string {
  return `Plan ${r.plan}: ${r.ready ? paint.green('all targets ready') : paint.yellow('not all targets ready')}\n\n${renderReadiness(r.rows, paint)}`;
}

export function renderRestoreReport(r: RestoreScaleReport, paint: Paint): string {
  const head = `${r.dryRun ? 'Dry run of the restore' : 'Restored'} from ${r.snapshot} (plan ${r.plan})\n\n${renderChanges(r.changes, paint)}`;
  const problems = r.problems.map((p) => `${paint.red('not restored:')} ${p}\n`).join('');
  return head + (r.dryRun ? calls(r.calls) : '') + problems;
}

export function renderScheduleReport(r: ScheduleScaleReport, paint: Paint): string {
  const table =
    r.actions.length === 0
      ? ''
      : renderTable(r.actions, [
          { header: 'group', value: (a) => a.group },
          { header: 'action', value: (a) => a.name },
          { header: 'at (UTC)', value: (a) => a.at },
          { header: 'min/desired/max', value: (a) => `${a.minSize}/${a.desiredCapacity}/${a.maxSize}` },
          { header: 'state', value: (a) => a.state },
        ]);
  const snap = r.snapshot ? `\nSnapshot: ${r.snapshot}\nUndo:     surgectl scale restore ${r.snapshot}\n` : '';
  return `${r.dryRun ? 'Dry run: scheduled actions for' : 'Scheduled actions for'} plan ${r.plan}\n\n${table}${notes(r, paint)}${r.dryRun ? calls(r.calls) : ''}${snap}`;
}

/**
 * A live readiness display while `scale apply` waits: on a terminal the table is redrawn in place
 * each round; off one, a line per object whenever its count changes (logs stay readable).
 */
export function readinessProgress(sink: TextSink, paint: Paint): (rows: ReadinessRow[]) => void {
  let drawn = 0;
  const last = new Map<string, string>();
  return (rows) => {
    if (sink.isTTY === true) {
      const text = renderReadiness(rows, paint);
      const up = drawn > 0 ? `\x1b[${drawn}A\x1b[J` : '';
      sink.write(up + text);
      drawn = text.split('\n').length - 1;
      return;
    }
    for (const r of rows) {
      const line = `${r.kind} ${r.name}: ${r.ready}/${r.target} ${r.done ? 'ready' : 'progressing'}`;
      if (last.get(r.key) !== line) sink.write(line + '\n');
      last.set(r.key, line);
    }
  };
}

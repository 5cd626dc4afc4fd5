import type { StepObserver } from '../runbooks/engine.js';
import type { RunbookPlan } from '../runbooks/run.js';
import type { Runbook, RunbookJournal, StepStatus } from '../runbooks/types.js';
import type { TextSink } from '../runtime.js';
import type { Paint } from './color.js';
import { renderTable } from './table.js';

const secs = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`);

/** `runbook list`. */
export function renderRunbookList(rbs: readonly Runbook[]): string {
  return renderTable(rbs, [
    { header: 'name', value: (r) => r.spec.name },
    { header: 'version', value: (r) => r.spec.version, align: 'right' },
    { header: 'steps', value: (r) => r.spec.steps.length, align: 'right' },
    { header: 'source', value: (r) => (r.source === 'builtin' ? 'built-in' : r.source) },
    { header: 'description', value: (r) => r.spec.description ?? '' },
  ]);
}

/** `runbook show`: the parameters, then each step as it would run with the defaults. */
export function renderRunbookShow(rb: Runbook, plan: RunbookPlan | undefined, paint: Paint): string {
  const out: string[] = [`${paint.bold(rb.spec.name)} v${rb.spec.version} (${rb.source === 'builtin' ? 'built-in' : rb.source}, digest ${rb.digest})`];
  if (rb.spec.description) out.push(rb.spec.description);
  if (rb.spec.autoRollback) out.push(paint.dim('A failed step rolls back every completed step without asking (autoRollback).'));
  const params = Object.entries(rb.spec.params ?? {});
  if (params.length > 0) {
    out.push('', paint.bold('Parameters'));
    out.push(
      renderTable(params, [
        { header: 'name', value: ([k]) => k },
        { header: 'type', value: ([, p]) => p.type },
        { header: 'default', value: ([, p]) => (p.secret ? (p.default === undefined ? '-' : '***') : p.default === undefined ? (p.env ? `$${p.env}` : paint.yellow('required')) : Array.isArray(p.default) ? p.default.join(',') : String(p.default)) },
        { header: 'description', value: ([, p]) => [p.description, p.enum ? `one of ${p.enum.join(', ')}` : undefined, p.env ? `env ${p.env}` : undefined].filter(Boolean).join('; ') },
      ]).trimEnd(),
    );
  }
  out.push('', plan ? renderPlan(plan, paint).trimEnd() : paint.dim('(steps shown once the required parameters are given: surgectl runbook run <name> --param k=v --dry-run)'));
  return `${out.join('\n')}\n`;
}

/** The dry run: every step, what it would change, its checks and its rollback. */
export function renderPlan(plan: RunbookPlan, paint: Paint): string {
  const out: string[] = [paint.bold(`Steps of ${plan.runbook.name} v${plan.runbook.version}`) + paint.dim(` (params: ${Object.entries(plan.params).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`).join(' ')})`)];
  plan.steps.forEach((s, i) => {
    const mark = !s.enabled ? paint.dim('skip') : s.mutating ? paint.yellow('CHANGE') : paint.cyan('check');
    out.push(`${String(i + 1).padStart(2)}. ${s.name}  [${mark}] ${s.enabled ? s.action : paint.dim(`${s.action} (when: false)`)}`);
    if (s.precondition) out.push(`      precondition: ${s.precondition}`);
    if (s.verify) out.push(`      verify: ${s.verify}`);
    if (s.mutating) out.push(`      rollback: ${s.rollback}`);
    out.push(paint.dim(`      timeout ${secs(s.timeoutMs)}`));
  });
  return `${out.join('\n')}\n`;
}

const STATUS_PAINT: Record<StepStatus, (p: Paint, s: string) => string> = {
  pending: (p, s) => p.dim(s),
  running: (p, s) => p.yellow(s),
  completed: (p, s) => p.green(s),
  failed: (p, s) => p.red(s),
  skipped: (p, s) => p.dim(s),
  'rolled-back': (p, s) => p.yellow(s),
  'rollback-failed': (p, s) => p.red(s),
};

/** How a run ended: a row per step, the message and what is left by hand. */
export function renderJournal(j: RunbookJournal, journalPath: string, paint: Paint): string {
  const out = [
    renderTable(j.steps, [
      { header: 'step', value: (s) => s.step },
      { header: 'kind', value: (s) => s.kind },
      { header: 'status', value: (s) => STATUS_PAINT[s.status](paint, s.status) },
      { header: 'took', value: (s) => (s.durationMs === undefined ? '-' : secs(s.durationMs)), align: 'right' },
      { header: 'note', value: (s) => s.error ?? (s.rollback?.error ? `rollback: ${s.rollback.error}` : '') },
    ]).trimEnd(),
  ];
  const head = j.status === 'completed' ? paint.green('completed') : j.status === 'rolled-back' ? paint.yellow('rolled back') : paint.red(j.status);
  out.push('', `${paint.bold(j.runbook.name)}: ${head}${j.message ? ` — ${j.message}` : ''}`);
  for (const m of j.manual ?? []) out.push(paint.red(`  left to do by hand: ${m}`));
  out.push(paint.dim(`journal: ${journalPath}`));
  return `${out.join('\n')}\n`;
}

/**
 * Progress of each step on stderr: on a terminal a spinner with the elapsed time, rewritten in
 * place, then the step's result; off a terminal one line when a step starts and one when it ends.
 */
export function createStepProgress(sink: TextSink, paint: Paint, now: () => number = Date.now): StepObserver & { stop(): void } {
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let timer: NodeJS.Timeout | undefined;
  let current: { step: string; what: string; t0: number } | undefined;
  let frame = 0;
  const tty = sink.isTTY === true;
  const width = Math.max(40, (sink.columns ?? 100) - 1);
  const draw = () => {
    if (!current) return;
    const line = `${frames[frame++ % frames.length]} ${current.step} ${paint.dim(secs(now() - current.t0))} ${paint.dim(current.what)}`;
    sink.write(`\r\u001b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
  };
  const clear = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (tty && current) sink.write('\r\u001b[2K');
  };
  return {
    start(step, what) {
      clear();
      current = { step, what, t0: now() };
      if (tty) {
        draw();
        timer = setInterval(draw, 100);
        timer.unref();
      } else sink.write(`… ${step}: ${what}\n`);
    },
    end(step, result, detail, durationMs) {
      clear();
      current = undefined;
      const mark = result === 'ok' ? paint.green('✔') : result === 'skipped' ? paint.dim('-') : result === 'rolled back' ? paint.yellow('↺') : paint.red('✖');
      sink.write(`${mark} ${step} ${paint.dim(secs(durationMs))} ${result === 'ok' ? paint.dim(detail) : detail}\n`);
    },
    stop: clear,
  };
}

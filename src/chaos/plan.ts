import type { Activity, Experiment } from './experiment.js';
import { PROVIDERS } from './providers/index.js';
import { processArgs } from './providers/local.js';
import { activityTimeoutMs } from './activity.js';
import { controlsAt } from './controls.js';
import { declaredControls } from './experiment.js';
import { loadOptionsFor } from './background-load.js';
import { hypothesisChecks, rollbackDecision, type HypothesisStrategy, type RollbackStrategy } from './journal.js';

/** One line of the `--dry-run` plan. */
export interface PlanStep {
  /** 1-based order of execution. */
  step: number;
  phase: 'load' | 'steady-state-before' | 'method' | 'steady-state-during' | 'steady-state-after' | 'rollback';
  type: 'action' | 'probe' | 'load';
  name: string;
  /** Where it acts: `stack`, `kubernetes`, `chaos-mesh` or the URL of an http provider. */
  target: string;
  /** What it will do, in words. */
  does: string;
  /** Pauses, background, tolerance, timeout. */
  notes: string;
}

/** A control that would run, as declared. */
export interface PlanControl {
  name: string;
  module: string;
  /** `every level`, `the experiment only` (a root control with automatic: false), `the steady-state hypothesis` or `activity <name>`. */
  appliesTo: string;
  /** `before and after`, `before` or `after` (the control's scope). */
  scope: string;
  /** The hooks of the module that run for this declaration (its levels and scope), when the module was imported. */
  hooks: string[] | null;
}

export interface ExperimentPlan {
  title: string;
  rollbackStrategy: RollbackStrategy;
  hypothesisStrategy: HypothesisStrategy;
  failFast: boolean;
  steps: PlanStep[];
  /** Every control declared, in the order they are configured. */
  controls: PlanControl[];
}

/** What `chaos run` would do, in order, without touching anything (`--dry-run`). Pure. */
export function planExperiment(
  e: Experiment,
  opts: {
    rollbackStrategy?: RollbackStrategy;
    hypothesisStrategy?: HypothesisStrategy;
    failFast?: boolean;
    /** Module -> the control hooks it defines (from the validation's import). */
    controlHooks?: Record<string, string[]>;
  } = {},
): ExperimentPlan {
  const rollbackStrategy = opts.rollbackStrategy ?? 'default';
  const hypothesisStrategy = opts.hypothesisStrategy ?? 'default';
  const steps: Omit<PlanStep, 'step'>[] = [];
  if (e.load) {
    steps.push({
      phase: 'load',
      type: 'load',
      name: 'background load',
      target: 'stack',
      does: `POST /v1/orders at ${e.load.rate}/s for the whole drill`,
      notes: `warm-up ${e.load.warmup / 1000}s; at most ${loadOptionsFor(e.load, 'stack').maxRequests} requests, ${e.load.maxDuration / 1000}s`,
    });
  }
  const probes = e.hypothesis?.probes ?? [];
  const hyp = (phase: PlanStep['phase']) => probes.forEach((p) => steps.push(describe(e, p, phase)));
  const checks = hypothesisChecks(hypothesisStrategy);
  if (checks.before) hyp('steady-state-before');
  if (checks.during) hyp('steady-state-during');
  e.method.forEach((a) => steps.push(describe(e, a, 'method')));
  if (checks.after) hyp('steady-state-after');
  // Rollbacks are listed when some outcome runs them: with `deviated`, a deviation does.
  if (rollbackDecision(rollbackStrategy, true).run) {
    const when = rollbackDecision(rollbackStrategy, false).run ? 'always' : 'only if the steady state deviated';
    e.rollbacks.forEach((a) => steps.push({ ...describe(e, a, 'rollback'), notes: [describe(e, a, 'rollback').notes, when].filter(Boolean).join('; ') }));
  }
  return {
    title: e.title,
    rollbackStrategy,
    hypothesisStrategy,
    failFast: opts.failFast ?? false,
    steps: steps.map((s, i) => ({ step: i + 1, ...s })),
    controls: declaredControls(e).map(({ control: c, where }) => {
      const root = where.startsWith('controls[');
      const levels = root ? (c.automatic === false ? ['experiment'] : ['experiment', 'hypothesis', 'method', 'rollback', 'activity']) : where.startsWith('steady-state-hypothesis.') ? ['hypothesis'] : ['activity'];
      const defined = opts.controlHooks?.[c.provider.module];
      // Only the hooks that run for this declaration: its levels, its scope, and configure/cleanup.
      const runs = (h: string) =>
        h === 'configure_control' || h === 'cleanup_control' || levels.some((l) => (c.scope !== 'after' && h === `before_${l}_control`) || (c.scope !== 'before' && h === `after_${l}_control`));
      return {
        name: c.name,
        module: c.provider.module,
        appliesTo: root
          ? c.automatic === false
            ? 'the experiment only'
            : 'every level'
          : levels[0] === 'hypothesis'
            ? 'the steady-state hypothesis'
            : `activity ${[e.hypothesis?.probes ?? [], e.method, e.rollbacks].flat().find((a) => where.startsWith(`${a.where}.`))?.name ?? where}`,
        scope: c.scope ?? 'before and after',
        hooks: defined ? defined.filter(runs) : null,
      };
    }),
  };
}

function describe(e: Experiment, a: Activity, phase: PlanStep['phase']): Omit<PlanStep, 'step'> {
  const notes: string[] = [];
  if (a.pauses?.before) notes.push(`pause ${a.pauses.before / 1000}s before`);
  if (a.pauses?.after) notes.push(`pause ${a.pauses.after / 1000}s after`);
  if (a.background) notes.push('background');
  if (a.condition) notes.push(`tolerance ${a.condition.source}`);
  notes.push(`timeout ${activityTimeoutMs(a) / 1000}s`);
  if (a.dry) notes.push('dry: journaled, not run');
  if (a.toleranceProbe) notes.push(`tolerance: probe ${a.toleranceProbe.name}`);
  const controls = controlsAt('activity', e, a);
  if (controls.length > 0) notes.push(`controls ${controls.map((c) => c.name).join(', ')}`);
  const p = a.provider;
  if (p.type === 'http') {
    return { phase, type: a.type, name: a.name, target: p.url, does: `${p.method} ${p.url}${p.expected_status !== undefined ? ` (expects ${p.expected_status})` : ''}`, notes: notes.join('; ') };
  }
  if (p.type === 'python') {
    return { phase, type: a.type, name: a.name, target: 'python', does: `${p.module}.${p.func}(${Object.keys(a.args).join(', ')})`, notes: notes.join('; ') };
  }
  if (p.type === 'process') {
    const args = typeof p.arguments === 'string' ? p.arguments : processArgs(p.arguments).join(' ');
    return { phase, type: a.type, name: a.name, target: 'process', does: `${p.path}${args ? ` ${args}` : ''}`, notes: notes.join('; ') };
  }
  const spec = PROVIDERS[p.type][p.func];
  return {
    phase,
    type: a.type,
    name: a.name,
    target: p.type,
    does: spec ? spec.describe(a.args) : p.func,
    notes: notes.join('; '),
  };
}

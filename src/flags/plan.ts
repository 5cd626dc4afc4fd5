import type { FlagInfo, FlagsProvider, FlagsProviderKind } from './provider.js';

/** What one step does: switch on/off, drop a local override (`reset`), or nothing (already so). */
export type FlagAction = 'on' | 'off' | 'reset' | 'none';

/** One flag of a plan, in the plan's environment. */
export interface FlagStep {
  name: string;
  /** Value now. */
  from: boolean;
  /** Value after the step. */
  to: boolean;
  action: FlagAction;
}

/** An ordered, idempotent plan: rerunning it after it was applied gives only `none` steps. */
export interface FlagPlan {
  provider: FlagsProviderKind;
  target: string;
  project: string | undefined;
  environment: string;
  steps: FlagStep[];
}

/** What a flag should become: a value, or (local provider) back to the stack's default (`reset`, with the default's value). */
export interface DesiredFlag {
  name: string;
  enabled: boolean;
  /** Local provider: true when the flag had an override (or should get one); false = no override, default in use. */
  overridden?: boolean;
}

/** Names in `wanted` that no flag of `observed` has, in `environment` (in the order given). */
export function missingFlags(observed: readonly FlagInfo[], wanted: readonly string[], environment: string): string[] {
  return wanted.filter((n) => observed.find((f) => f.name === n)?.environments[environment] === undefined);
}

/**
 * The steps that bring `desired` about in `environment`, one per desired flag, in order. Flags
 * already as desired get `none`. The caller checks `missingFlags` first: every name must exist.
 */
export function planFlags(observed: readonly FlagInfo[], desired: readonly DesiredFlag[], where: { provider: FlagsProvider | Pick<FlagsProvider, 'kind' | 'target' | 'project'>; environment: string }): FlagPlan {
  const steps = desired.map((d): FlagStep => {
    const now = observed.find((f) => f.name === d.name)?.environments[where.environment];
    if (!now) throw new Error(`planFlags: no flag ${d.name} in ${where.environment}`); // missingFlags is the user-facing check
    if (d.overridden === false && now.overridden === true) return { name: d.name, from: now.enabled, to: d.enabled, action: 'reset' };
    const needsOverride = d.overridden === true && now.overridden === false;
    if (now.enabled === d.enabled && !needsOverride) return { name: d.name, from: now.enabled, to: d.enabled, action: 'none' };
    return { name: d.name, from: now.enabled, to: d.enabled, action: d.enabled ? 'on' : 'off' };
  });
  return { provider: where.provider.kind, target: where.provider.target, project: where.provider.project, environment: where.environment, steps };
}

/** The steps that change something. */
export const changes = (plan: FlagPlan): FlagStep[] => plan.steps.filter((s) => s.action !== 'none');

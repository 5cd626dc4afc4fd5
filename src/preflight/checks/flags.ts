import { isSurgeError } from '../../errors.js';
import { missingFlags } from '../../flags/plan.js';
import type { CheckResult, PreflightOptions } from '../types.js';

type Found = Omit<CheckResult, 'name' | 'durationMs'>;

/**
 * The degrade set `flags degrade` would switch exists in the flag provider, and each flag's state
 * in the provider's environment is known (so a degrade can be planned and restored).
 */
export async function checkFlags(opts: PreflightOptions): Promise<Found> {
  const set = opts.degradeSet;
  if (!set) return { verdict: 'skipped', evidence: ['no degrade set configured'], fix: 'Set preflight.degradeSet in surgectl.yaml to a set of flags.sets (e.g. peak).' };
  if (set.flags.length === 0) return { verdict: 'fail', evidence: [`flags.sets has no set '${set.name}'`], fix: `Add flags.sets.${set.name}: [<flag>, ...] to surgectl.yaml, or point preflight.degradeSet at an existing set.` };
  try {
    const provider = await opts.flags();
    const env = provider.environment;
    const listed = await provider.list();
    const missing = missingFlags(listed, set.flags, env);
    const where = `${provider.kind} ${provider.target}${provider.project ? ` project ${provider.project}` : ''}, environment ${env}`;
    const evidence = set.flags.map((n) => {
      const state = listed.find((f) => f.name === n)?.environments[env];
      return state ? `${n}: ${state.enabled ? 'on' : 'off'}${state.overridden ? ' (override)' : ''}` : `${n}: missing`;
    });
    evidence.unshift(`degrade set '${set.name}' in ${where}`);
    if (missing.length > 0) return { verdict: 'fail', evidence, fix: `Create ${missing.join(', ')} in ${where}, or remove ${missing.length === 1 ? 'it' : 'them'} from flags.sets.${set.name}.` };
    return { verdict: 'pass', evidence };
  } catch (err) {
    if (!isSurgeError(err)) throw err;
    return { verdict: 'fail', evidence: [`flag provider: ${err.message}`, ...err.details], fix: err.hint ?? 'Check that the flag provider answers (surgectl flags list).' };
  }
}

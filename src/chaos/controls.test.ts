import { describe, expect, it } from 'vitest';
import { controlsAt, uniqueControls } from './controls.js';
import { parseExperiment, type Activity } from './experiment.js';

/** Which controls apply at each level: chaoslib's get_context_controls, as pure functions. */

const ctl = (name: string, extra: Record<string, unknown> = {}) => ({ name, provider: { type: 'python', module: `mod_${name}` }, ...extra });
const probe = (name: string, controls?: unknown[]) => ({ type: 'probe', name, tolerance: 0, provider: { type: 'process', path: 'true' }, ...(controls ? { controls } : {}) });

const e = parseExperiment({
  title: 'levels',
  controls: [ctl('audit'), ctl('tracing'), ctl('experiment-only', { automatic: false })],
  'steady-state-hypothesis': { title: 'h', probes: [probe('p')], controls: [ctl('tracing', { scope: 'after' }), ctl('hypo')] },
  method: [probe('plain'), probe('own', [ctl('local')]), probe('override', [ctl('audit', { provider: { type: 'python', module: 'other_audit' } })])],
  rollbacks: [probe('undo')],
});
const names = (level: Parameters<typeof controlsAt>[0], a?: Activity) => controlsAt(level, e, a).map((c) => `${c.name}:${c.provider.module}`);
const activity = (name: string) => e.method.find((a) => a.name === name);

describe('controlsAt', () => {
  it('the experiment level gets every root control, automatic or not', () => {
    expect(names('experiment')).toEqual(['audit:mod_audit', 'tracing:mod_tracing', 'experiment-only:mod_experiment-only']);
  });

  it('the method and rollback levels get the automatic root controls', () => {
    expect(names('method')).toEqual(['audit:mod_audit', 'tracing:mod_tracing']);
    expect(names('rollback')).toEqual(['audit:mod_audit', 'tracing:mod_tracing']);
  });

  it('the hypothesis gets the root ones it does not override, then its own', () => {
    expect(names('hypothesis')).toEqual(['audit:mod_audit', 'tracing:mod_tracing', 'hypo:mod_hypo']);
    expect(controlsAt('hypothesis', e).find((c) => c.name === 'tracing')?.scope).toBe('after');
  });

  it('an activity gets the automatic root controls, then its own; its own overrides a root one of the same name', () => {
    expect(names('activity', activity('plain'))).toEqual(['audit:mod_audit', 'tracing:mod_tracing']);
    expect(names('activity', activity('own'))).toEqual(['audit:mod_audit', 'tracing:mod_tracing', 'local:mod_local']);
    expect(names('activity', activity('override'))).toEqual(['tracing:mod_tracing', 'audit:other_audit']);
  });

  it('hypothesis controls do not reach the probes; root ones do', () => {
    expect(names('activity', e.hypothesis?.probes[0])).toEqual(['audit:mod_audit', 'tracing:mod_tracing']);
  });
});

describe('uniqueControls', () => {
  it('configures each control name once, as first declared', () => {
    expect(uniqueControls(e).map((c) => `${c.name}:${c.provider.module}`)).toEqual([
      'audit:mod_audit',
      'tracing:mod_tracing',
      'experiment-only:mod_experiment-only',
      'hypo:mod_hypo',
      'local:mod_local',
    ]);
  });

  it('is empty without controls', () => {
    expect(uniqueControls(parseExperiment({ title: 't', method: [probe('p')] }))).toEqual([]);
  });
});

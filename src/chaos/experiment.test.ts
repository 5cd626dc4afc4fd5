import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { loadExperiment, parseExperiment } from './experiment.js';

const valid = {
  title: 'Payment outage',
  'steady-state-hypothesis': {
    title: 'orders flow',
    probes: [
      { type: 'probe', name: 'p99', tolerance: 'p(99)<500', provider: { type: 'stack', func: 'acceptance-latency', arguments: { window: '2s' } } },
      { type: 'probe', name: 'oversold', tolerance: 0, provider: { type: 'stack', func: 'oversold' } },
    ],
  },
  method: [
    { type: 'action', name: 'outage', provider: { type: 'stack', func: 'payment-fault', arguments: { failureRate: 1, duration: 30 } }, pauses: { after: '500ms' } },
    { ref: 'oversold' },
  ],
  rollbacks: [{ type: 'action', name: 'clear', provider: { type: 'stack', func: 'clear-faults' } }],
};

function problems(doc: unknown): string[] {
  try {
    parseExperiment(doc, 'x.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(SurgeError);
    expect((e as SurgeError).code).toBe('SRG_CHAOS_EXPERIMENT');
    return [...(e as SurgeError).details];
  }
  throw new Error('expected the experiment to be invalid');
}

describe('parseExperiment', () => {
  it('accepts a Chaos Toolkit-shaped experiment, normalises durations to ms and resolves refs', () => {
    const e = parseExperiment(valid);
    expect(e.hypothesis?.probes.map((p) => p.condition?.kind)).toEqual(['threshold', 'equals']);
    expect(e.hypothesis?.probes[0]?.args).toMatchObject({ window: 2000, route: '/v1/orders', method: 'POST' });
    expect(e.method[0]?.args).toEqual({ failureRate: 1, duration: 30_000 });
    expect(e.method[0]?.pauses).toEqual({ after: 500 });
    expect(e.method[1]?.name).toBe('oversold');
    expect(e.rollbacks).toHaveLength(1);
  });

  it('reports every bad field at once, one message each, with its path', () => {
    const details = problems({
      title: '',
      'steady-state-hypothesis': {
        title: 'h',
        probes: [
          { type: 'action', name: 'a', provider: { type: 'stack', func: 'kill-worker' } },
          { type: 'probe', name: 'b', tolerance: 'p(101)<5', provider: { type: 'stack', func: 'oversold' } },
        ],
      },
      method: [
        { type: 'action', name: 'c', provider: { type: 'stack', func: 'explode' } },
        { type: 'action', name: 'd', provider: { type: 'stack', func: 'payment-fault', arguments: { failureRate: 2 } } },
        { ref: 'nope' },
      ],
    });
    expect(details).toEqual(['title: must not be empty']);
    const details2 = problems({ ...valid, title: 'ok', 'steady-state-hypothesis': {
      title: 'h',
      probes: [
        { type: 'action', name: 'a', provider: { type: 'stack', func: 'kill-worker' } },
        { type: 'probe', name: 'b', tolerance: 'p(101)<5', provider: { type: 'stack', func: 'oversold' } },
      ],
    }, method: [
      { type: 'action', name: 'c', provider: { type: 'stack', func: 'explode' } },
      { type: 'action', name: 'd', provider: { type: 'stack', func: 'payment-fault', arguments: { failureRate: 2 } } },
      { type: 'probe', name: 'e', provider: { type: 'stack', func: 'breaker-state', arguments: { verbose: true } } },
      { ref: 'nope' },
    ] });
    expect(details2).toEqual([
      'steady-state-hypothesis.probes[0].type: the steady-state hypothesis holds probes only, got "action"',
      'steady-state-hypothesis.probes[0].tolerance: a steady-state probe needs a tolerance (e.g. "p(99)<500", 0, [200, 503])',
      expect.stringMatching(/^steady-state-hypothesis\.probes\[1\]\.tolerance: .*percentile "101"/),
      expect.stringMatching(/^method\[0\]\.provider\.func: unknown stack function "explode"; expected one of .*payment-fault/),
      expect.stringMatching(/^method\[1\]\.provider\.arguments\.failureRate: /),
      expect.stringMatching(/^method\[2\]\.provider\.arguments: .*verbose/),
      'method[3].ref: no activity named "nope" is defined in this experiment',
    ]);
  });

  it('names structural problems by path: unknown keys, wrong provider type, bad durations', () => {
    const details = problems({
      title: 't',
      metod: [],
      method: [
        { type: 'action', name: 'a', provider: { type: 'python', func: 'x' } },
        { type: 'action', name: 'b', provider: { type: 'stack', func: 'clear-faults' }, pauses: { after: 'soon' } },
      ],
    });
    expect(details).toContainEqual(expect.stringMatching(/^\(root\): .*metod/));
    expect(details).toContainEqual(expect.stringMatching(/^method\[0\]/));
    expect(details).toContainEqual(expect.stringMatching(/^method\[1\]\.pauses\.after: expected seconds .*"soon"/));
  });

  it('refuses a load section when nothing targets the stack, and rollbacks in the background', () => {
    const details = problems({
      title: 't',
      load: { rate: 5 },
      method: [{ type: 'probe', name: 'h', provider: { type: 'http', url: 'http://127.0.0.1:1/healthz' } }],
      rollbacks: [{ type: 'action', name: 'r', background: true, provider: { type: 'http', url: 'http://127.0.0.1:1/x', method: 'POST' } }],
    });
    expect(details).toEqual([
      'rollbacks[0].background: rollbacks run one after another; background is not allowed',
      'load: background load is sent to the stack target, but no activity uses the stack provider',
    ]);
  });

  it('checks chaos-mesh and kubernetes arguments too', () => {
    const details = problems({
      title: 't',
      method: [
        { type: 'action', name: 'a', provider: { type: 'kubernetes', func: 'delete-pods', arguments: { mode: 'fixed' } } },
        { type: 'action', name: 'b', provider: { type: 'chaos-mesh', func: 'network-chaos', arguments: { action: 'delay', selector: { labelSelectors: { app: 'x' } } } } },
        { type: 'action', name: 'c', provider: { type: 'chaos-mesh', func: 'delete', arguments: { kind: 'PodChaos', name: 'Bad_Name' } } },
      ],
    });
    expect(details).toEqual([
      expect.stringMatching(/^method\[0\]\.provider\.arguments\.labelSelector: /),
      expect.stringMatching(/^method\[1\]\.provider\.arguments\.delay: action delay needs delay/),
      expect.stringMatching(/^method\[2\]\.provider\.arguments\.name: must be a DNS-1123 name/),
    ]);
  });

  it('loads YAML files and reports YAML syntax errors and missing files clearly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chaos-exp-'));
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'title: t\nmethod:\n  - type: action\n    name: clear\n    provider: {type: stack, func: clear-faults}\n');
    expect((await loadExperiment(good)).method[0]?.name).toBe('clear');
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'title: [unclosed\n');
    await expect(loadExperiment(bad)).rejects.toMatchObject({ code: 'SRG_CHAOS_EXPERIMENT', message: expect.stringContaining('not valid YAML') });
    await expect(loadExperiment(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'SRG_CHAOS_EXPERIMENT', message: expect.stringContaining('Cannot read') });
  });
});

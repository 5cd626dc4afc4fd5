import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { createLocalFlags, DEFAULT_FLAGS, watchFlagValues, type FlagOverrideStore } from './flags.js';
import { createStackMetrics } from './metrics.js';
import { capturingLogger } from '../../test/support/order-engine.js';

function memoryStore(initial: [string, boolean][] = []): FlagOverrideStore & { data: Map<string, boolean> } {
  const data = new Map(initial);
  return {
    data,
    flagOverrides: async () => new Map(data),
    setFlagOverride: async (name, enabled) => void (enabled === undefined ? data.delete(name) : data.set(name, enabled)),
  };
}

describe('local flags', () => {
  it('starts from documented defaults, overrides write through, clear returns to the default', async () => {
    const store = memoryStore();
    const flags = await createLocalFlags(store);
    expect(flags.list().map((f) => f.name)).toEqual(DEFAULT_FLAGS.map((f) => f.name));
    expect(flags.isEnabled('order-notifications')).toBe(true);
    await flags.set('order-notifications', false);
    expect(flags.isEnabled('order-notifications')).toBe(false);
    expect(store.data.get('order-notifications')).toBe(false);
    expect(flags.list().find((f) => f.name === 'order-notifications')).toMatchObject({ enabled: false, overridden: true });
    await flags.clear('order-notifications');
    expect(flags.isEnabled('order-notifications')).toBe(true);
    expect(store.data.has('order-notifications')).toBe(false);
  });

  it('loads stored overrides, ignores ones for flags it does not know, and refuses unknown names', async () => {
    const flags = await createLocalFlags(memoryStore([['loyalty-points', false], ['retired-flag', true]]));
    expect(flags.isEnabled('loyalty-points')).toBe(false);
    expect(flags.isEnabled('retired-flag')).toBe(false);
    expect(flags.list().some((f) => f.name === 'retired-flag')).toBe(false);
    await expect(flags.set('nope', true)).rejects.toThrow(SurgeError);
    await expect(flags.clear('nope')).rejects.toThrow(/unknown flag "nope"/);
  });

  it('keeps the value in use when the store refuses the override', async () => {
    const store = memoryStore();
    store.setFlagOverride = async () => {
      throw new Error('store down');
    };
    const flags = await createLocalFlags(store);
    await expect(flags.set('recommendations', false)).rejects.toThrow('store down');
    expect(flags.isEnabled('recommendations')).toBe(true);
  });
});

describe('flag values: source, freshness, gauge and change logs', () => {
  it('local flags say where they come from and were refreshed at the start and at each switch', async () => {
    let t = 1_000;
    const seen: Record<string, boolean>[] = [];
    const flags = await createLocalFlags(memoryStore(), DEFAULT_FLAGS, { now: () => t, onValues: (v) => seen.push(Object.fromEntries(v)) });
    expect(flags.source).toBe('local');
    expect(flags.refreshedAt()).toBe(1_000);
    t = 2_000;
    await flags.set('recommendations', false);
    expect(flags.refreshedAt()).toBe(2_000);
    t = 3_000;
    await flags.clear('recommendations');
    expect(flags.refreshedAt()).toBe(3_000);
    expect(seen.map((v) => v.recommendations)).toEqual([true, false, true]);
    expect(seen[0]).toEqual({ 'order-notifications': true, recommendations: true, 'loyalty-points': true });
  });

  it('sets the gauge on every report and logs one line per real change, none for a refresh with the same values', async () => {
    const metrics = createStackMetrics({ defaultMetrics: false });
    const { logger, lines } = capturingLogger();
    const report = watchFlagValues({ source: 'unleash', logger, gauge: metrics.flagEnabled });
    report(new Map([['recommendations', true], ['loyalty-points', true]]));
    report(new Map([['recommendations', true], ['loyalty-points', true]]));
    report(new Map([['recommendations', false], ['loyalty-points', true]]));
    report(new Map([['recommendations', false], ['loyalty-points', true]]));
    expect(lines.map((l) => l.msg)).toEqual(['feature flags in use', 'feature flag changed']);
    expect(lines[1]).toMatchObject({ flag: 'recommendations', from: true, to: false, source: 'unleash' });
    const text = await metrics.registry.getSingleMetricAsString('surgectl_flag_enabled');
    expect(text).toContain('surgectl_flag_enabled{flag="recommendations"} 0');
    expect(text).toContain('surgectl_flag_enabled{flag="loyalty-points"} 1');
  });
});

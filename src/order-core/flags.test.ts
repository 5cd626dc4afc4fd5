import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { createLocalFlags, DEFAULT_FLAGS, type FlagOverrideStore } from './flags.js';

function memoryStore(initial: [string, boolean][] = []): FlagOverrideStore & { data: Map<string, boolean> } {
  const data = new Map(initial);
  return {
    data,
    flagOverrides: () => new Map(data),
    setFlagOverride: (name, enabled) => (enabled === undefined ? data.delete(name) : data.set(name, enabled)),
  };
}

describe('local flags', () => {
  it('starts from documented defaults, overrides write through, clear returns to the default', () => {
    const store = memoryStore();
    const flags = createLocalFlags(store);
    expect(flags.list().map((f) => f.name)).toEqual(DEFAULT_FLAGS.map((f) => f.name));
    expect(flags.isEnabled('order-notifications')).toBe(true);
    flags.set('order-notifications', false);
    expect(flags.isEnabled('order-notifications')).toBe(false);
    expect(store.data.get('order-notifications')).toBe(false);
    expect(flags.list().find((f) => f.name === 'order-notifications')).toMatchObject({ enabled: false, overridden: true });
    flags.clear('order-notifications');
    expect(flags.isEnabled('order-notifications')).toBe(true);
    expect(store.data.has('order-notifications')).toBe(false);
  });

  it('loads stored overrides, ignores ones for flags it does not know, and refuses unknown names', () => {
    const flags = createLocalFlags(memoryStore([['loyalty-points', false], ['retired-flag', true]]));
    expect(flags.isEnabled('loyalty-points')).toBe(false);
    expect(flags.isEnabled('retired-flag')).toBe(false);
    expect(flags.list().some((f) => f.name === 'retired-flag')).toBe(false);
    expect(() => flags.set('nope', true)).toThrow(SurgeError);
    expect(() => flags.clear('nope')).toThrow(/unknown flag "nope"/);
  });
});

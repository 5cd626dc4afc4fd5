import { describe, expect, it } from 'vitest';
import { durationMs } from './duration.js';

describe('experiment durations', () => {
  // Chaos Toolkit reads a number as seconds (pauses: { after: 5 }); surgectl reads "5" the same way.
  it.each([
    [5, 5_000],
    [0.5, 500],
    ['5', 5_000],
    ['1.5', 1_500],
    ['500ms', 500],
    ['2m', 120_000],
    ['1m30s', 90_000],
    [0, 0],
  ])('%j = %d ms', (v, ms) => expect(durationMs.parse(v)).toBe(ms));

  it.each([-1, '-1', 'soon', '', '5 s', true, Infinity])('refuses %j, saying what it expected', (v) => {
    const r = durationMs.safeParse(v);
    expect(r.success).toBe(false);
    // A value of the wrong type (or YAML's .inf) is refused by the union before it is read.
    if (typeof v === 'string' || Number.isFinite(v)) expect(r.error?.issues[0]?.message).toMatch(/^expected seconds \(a number >= 0\) or a number with a unit/);
  });
});

import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration: the one grammar', () => {
  it.each([
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['.5m', 30_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['0s', 0],
    [' 5m ', 300_000],
    ['1m500ms', 60_500],
  ])('%j = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '  ', '10x', 's10', '1m-', '-5s', '5 m', '5M', '1e3s', 'm', '30'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());

  it('reads a bare number only when told what it means: milliseconds (k6) or seconds (Chaos Toolkit)', () => {
    expect(parseDuration('30')).toBeUndefined();
    expect(parseDuration('30', { bare: 'ms' })).toBe(30);
    expect(parseDuration('1.5', { bare: 's' })).toBe(1500);
    expect(parseDuration('30', { bare: 's' })).toBe(30_000);
    // A unit still wins over the bare reading.
    expect(parseDuration('30s', { bare: 'ms' })).toBe(30_000);
    expect(parseDuration('-30', { bare: 'ms' })).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [300_000, '5m'],
    [90_000, '90s'],
    [1500, '1500ms'],
    [604_800_000, '1w'],
    [86_400_000, '1d'],
    [0, '0ms'],
  ])('%d ms = %j', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 90_000_000]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

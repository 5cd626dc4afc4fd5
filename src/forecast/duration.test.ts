import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './index.js';

describe('forecast parseDuration (the public, throwing form of the one grammar)', () => {
  it('reads the one grammar', () => {
    expect(parseDuration('7d', '--horizon')).toBe(604_800_000);
    expect(parseDuration('1h30m', '--step')).toBe(5_400_000);
    expect(parseDuration('2w', '--lookback')).toBe(1_209_600_000);
    expect(formatDuration(parseDuration('5m', '--step'))).toBe('5m');
  });

  it.each(['7x', '', '0s', '30', '-1d'])('%j is a usage error naming the flag or key', (text) => {
    expect(() => parseDuration(text, '--horizon')).toThrow(expect.objectContaining({ code: 'SRG_CLI_USAGE', message: `--horizon: "${text}" is not a duration` }));
  });
});

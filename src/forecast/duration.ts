import { SurgeError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a Prometheus-style duration (`30s`, `5m`, `1h30m`, `7d`, `2w`) into milliseconds.
 * `what` names the flag or key in the error message.
 */
export function parseDuration(text: string, what: string): number {
  const s = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  if (s.length === 0 || pos !== s.length || !(total > 0)) {
    throw new SurgeError('SRG_CLI_USAGE', `${what}: "${text}" is not a duration`, {
      hint: 'Use a positive number with a unit: ms, s, m, h, d or w (e.g. 5m, 7d, 1h30m).',
    });
  }
  return total;
}

/** Renders milliseconds as the shortest exact duration string (`300000` -> `5m`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

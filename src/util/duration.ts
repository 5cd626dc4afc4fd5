/**
 * The one duration grammar of surgectl, used by flags, config, scenarios, experiments and
 * thresholds alike: one or more `<number><unit>` groups (`250ms`, `1.5s`, `.5m`, `1h30m`, `7d`,
 * `2w`), with k6's and Prometheus' units. Text is parsed once, where a file or flag is read;
 * everything downstream carries milliseconds.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const GROUP = /(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d|w)/y;

export interface ParseDurationOptions {
  /**
   * What a bare number (`30`, `1.5`) means: k6 reads a number as milliseconds, Chaos Toolkit as
   * seconds. Default: a bare number is not a duration.
   */
  bare?: 'ms' | 's';
}

/** Milliseconds of `text`, or undefined when it is not a duration in the grammar above. */
export function parseDuration(text: string, opts: ParseDurationOptions = {}): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  if (opts.bare !== undefined && /^(\d+(\.\d*)?|\.\d+)$/.test(s)) return Number(s) * (opts.bare === 's' ? 1_000 : 1);
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    GROUP.lastIndex = pos;
    const m = GROUP.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = GROUP.lastIndex;
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Milliseconds as the shortest exact duration string (`300000` -> `5m`, `1500` -> `1500ms`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The grammar in words, for error messages. */
export const DURATION_EXAMPLES = 'a number with a unit (ms, s, m, h, d, w), e.g. 500ms, 30s, 2m, 1h30m';

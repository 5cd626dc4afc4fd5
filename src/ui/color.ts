/**
 * Colour without importing chalk on the start-up path: ANSI codes are applied only when
 * enabled (TTY, no NO_COLOR, no --no-color).
 */
export interface Paint {
  readonly enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export function createPaint(enabled: boolean): Paint {
  if (!enabled) {
    const id = (s: string) => s;
    return { enabled, red: id, green: id, yellow: id, cyan: id, dim: id, bold: id };
  }
  return {
    enabled,
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/** NO_COLOR (https://no-color.org), FORCE_COLOR, --no-color and whether stdout is a terminal. */
export function colorEnabled(env: Readonly<Record<string, string | undefined>>, isTTY: boolean, flag: boolean): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTTY;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

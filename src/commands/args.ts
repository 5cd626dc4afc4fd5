import { InvalidArgumentError } from 'commander';
import { DURATION_EXAMPLES, parseDuration } from '../util/duration.js';
import { isHttpUrl } from '../util/url.js';

/**
 * The one set of flag value parsers for commander (`.option('--workers <n>', '…', wholeNumber())`).
 * Each throws commander's InvalidArgumentError with what was expected; src/cli.ts turns it into
 * one line in one format, naming the flag and the text given:
 * `--workers must be a whole number >= 1, got 'x'` (SRG_CLI_USAGE, exit 2).
 * Values are parsed here, once: a command receives numbers and milliseconds, never text.
 */
export type ArgParser<T> = (value: string) => T;

const fail = (expected: string): never => {
  throw new InvalidArgumentError(`must be ${expected}`);
};

const range = (min: number | undefined, max: number | undefined): string =>
  min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : '';

/** A whole number in [min, max] (min defaults to 0). */
export function wholeNumber(opts: { min?: number; max?: number } = {}): ArgParser<number> {
  const min = opts.min ?? 0;
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < min || (opts.max !== undefined && n > opts.max)) return fail(`a whole number${range(min, opts.max)}`);
    return n;
  };
}

/** A finite number in [min, max]. */
export function finiteNumber(opts: { min?: number; max?: number } = {}): ArgParser<number> {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
      return fail(`a number${range(opts.min, opts.max)}`);
    }
    return n;
  };
}

/** A finite number > 0. */
export function positiveNumber(): ArgParser<number> {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) return fail('a positive number');
    return n;
  };
}

/** A share from 0 to 1 (error rates, failure rates). */
export function share(): ArgParser<number> {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !(n >= 0 && n <= 1)) return fail('a share from 0 to 1');
    return n;
  };
}

/** A duration in the one grammar (src/util/duration.ts), as milliseconds >= minMs (default: > 0). */
export function durationMs(opts: { minMs?: number } = {}): ArgParser<number> {
  return (v) => {
    const ms = parseDuration(v);
    if (ms === undefined || (opts.minMs === undefined ? ms <= 0 : ms < opts.minMs)) {
      return fail(`${opts.minMs === undefined ? 'a positive duration' : `a duration of at least ${opts.minMs} ms`}: ${DURATION_EXAMPLES}`);
    }
    return ms;
  };
}

/** An absolute http: or https: URL. */
export function httpUrl(example = 'http://127.0.0.1:8080'): ArgParser<string> {
  return (v) => (isHttpUrl(v) ? v : fail(`an http(s) URL, e.g. ${example}`));
}

/** A value of `parse`, or the word `word` (e.g. `--rate-limit 50|off`, `--rows 24|all`). */
export function orWord<T, W extends string>(word: W, parse: ArgParser<T>): ArgParser<T | W> {
  return (v) => {
    if (v === word) return word;
    try {
      return parse(v);
    } catch (err) {
      if (err instanceof InvalidArgumentError) return fail(`${err.message.replace(/^must be /, '')} or '${word}'`);
      throw err;
    }
  };
}

/** A value of `parse`, or the word `off`. */
export function orOff<T>(parse: ArgParser<T>): ArgParser<T | 'off'> {
  return orWord('off', parse);
}

/**
 * A positive duration in the one grammar, kept as the text given: for flags layered over
 * surgectl.yaml keys of the same text form (`forecast --horizon 7d`), checked here so a bad one
 * is a usage error naming the flag before anything is read.
 */
export function durationText(): ArgParser<string> {
  return (v) => {
    const ms = parseDuration(v);
    return ms === undefined || ms <= 0 ? fail(`a positive duration: ${DURATION_EXAMPLES}`) : v;
  };
}

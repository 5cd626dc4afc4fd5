import { SurgeError } from '../errors.js';
import { DURATION_EXAMPLES, parseDuration as parseDurationText } from '../util/duration.js';

export { formatDuration } from '../util/duration.js';

/**
 * Milliseconds of a positive duration in the one grammar (src/util/duration.ts: `30s`, `5m`,
 * `1h30m`, `7d`, `2w`), for forecast inputs that arrive as text (config values, library callers).
 * Throws SRG_CLI_USAGE naming `what` (the flag or key) when it is not one.
 */
export function parseDuration(text: string, what: string): number {
  const ms = parseDurationText(text);
  if (ms === undefined || !(ms > 0)) {
    throw new SurgeError('SRG_CLI_USAGE', `${what}: "${text}" is not a duration`, { hint: `Use a positive duration: ${DURATION_EXAMPLES}.` });
  }
  return ms;
}

import { z } from 'zod';
import { DURATION_EXAMPLES, parseDuration } from '../util/duration.js';

/**
 * A duration in an experiment, milliseconds once parsed. Chaos Toolkit reads a number as seconds,
 * so a bare number is seconds here, written as a number (`30`) or as text (`"30"`); anything else
 * is the one duration grammar (`500ms`, `30s`, `2m`).
 */
export const durationMs = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v * 1000 : parseDuration(v, { bare: 's' });
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `expected seconds (a number >= 0) or ${DURATION_EXAMPLES}; got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

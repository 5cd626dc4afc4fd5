import { z } from 'zod';
import { parseDuration } from '../probes/index.js';

/** Seconds as a number (Chaos Toolkit), or a duration string such as `500ms`, `30s`, `2m`; normalised to milliseconds. */
export const durationMs = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `expected seconds (a number >= 0) or a duration such as "30s", "500ms", "2m"; got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

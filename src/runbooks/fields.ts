import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/** Field schemas and readers shared by the step kinds (kinds.ts, kinds-postgres.ts). */

/** A non-empty string. */
export const str = z.string().min(1);

/** A duration in the one grammar (`500ms`, `10s`, `2m`). */
export const duration = str.refine((s) => parseDuration(s) !== undefined, { message: 'expected a duration such as 500ms, 10s or 2m' });

/** Milliseconds of a duration field, or `fallback` when it is absent. */
export const ms = (s: string | undefined, fallback: number): number => (s === undefined ? fallback : (parseDuration(s) ?? fallback));

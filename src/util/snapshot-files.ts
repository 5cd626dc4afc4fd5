import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { SurgeError, type ErrorCode } from '../errors.js';
import { writeOutputFiles } from './output-files.js';

/**
 * Snapshots of live state taken before surgectl changes it (`scale apply`, `flags degrade`): the
 * file a restore puts everything back from. One envelope for every kind, so an operator can tell
 * at a glance what a file is, when it was taken and of what:
 * `{apiVersion: surgectl/v1, kind, createdAt, source, data}`.
 */
export interface SnapshotEnvelope<T> {
  apiVersion: 'surgectl/v1';
  /** e.g. `ScaleSnapshot`, `FlagsSnapshot`. */
  kind: string;
  /** When the live state was read, ISO 8601 UTC. */
  createdAt: string;
  /** What was snapshotted, in words (the plan file, the flag set and provider). */
  source: string;
  data: T;
}

/** Where snapshots go by default, relative to the working directory. */
export const SNAPSHOT_DIR = '.surgectl/snapshots';

export interface WriteSnapshotOptions<T> {
  cwd: string;
  kind: string;
  source: string;
  data: T;
  /** ms since the epoch; names the file and fills createdAt. */
  now: number;
  /** Directory for the file; default `.surgectl/snapshots` under cwd. */
  dir?: string;
  /** File name prefix, e.g. `scale` -> `scale-20261204T183000Z.json`. */
  prefix: string;
}

/**
 * Writes the snapshot atomically (temp file + rename, parents created) and returns its absolute
 * path. A name already taken in the same second gets a `-2`, `-3`, … suffix rather than
 * overwriting an earlier snapshot. Throws SRG_CLI_USAGE naming the path when it cannot be written.
 */
export async function writeSnapshot<T>(opts: WriteSnapshotOptions<T>): Promise<string> {
  const dir = resolve(opts.cwd, opts.dir ?? SNAPSHOT_DIR);
  const stamp = new Date(opts.now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const envelope: SnapshotEnvelope<T> = { apiVersion: 'surgectl/v1', kind: opts.kind, createdAt: new Date(opts.now).toISOString(), source: opts.source, data: opts.data };
  const text = JSON.stringify(envelope, null, 2) + '\n';
  for (let n = 1; ; n++) {
    const path = join(dir, `${opts.prefix}-${stamp}${n === 1 ? '' : `-${n}`}.json`);
    const taken = await access(path).then(
      () => true,
      () => false,
    );
    if (taken) continue;
    await writeOutputFiles([{ flag: 'snapshot', path, text }], { createParents: true });
    return path;
  }
}

/**
 * Reads and validates a snapshot of `kind`; `schema` checks its `data`. Every failure is one
 * SurgeError of `code` naming the file and what is wrong with it.
 */
export async function readSnapshot<S extends z.ZodType>(path: string, kind: string, schema: S, code: ErrorCode): Promise<SnapshotEnvelope<z.infer<S>> & { path: string }> {
  const abs = resolve(path);
  const hint = `Pass a file written by surgectl before it changed anything (printed then, and kept in ${SNAPSHOT_DIR}/).`;
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (cause) {
    throw new SurgeError(code, `Cannot read the snapshot ${abs}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { hint, cause });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text); // JSON is YAML, and a hand-edited snapshot may be YAML
  } catch (cause) {
    throw new SurgeError(code, `${abs} is not JSON or YAML: ${(cause as Error).message.split('\n')[0]}`, { hint, cause });
  }
  const env = doc as Partial<SnapshotEnvelope<unknown>> | null;
  if (env === null || typeof env !== 'object' || env.apiVersion !== 'surgectl/v1' || env.kind !== kind) {
    const found = env !== null && typeof env === 'object' ? `${String(env.apiVersion)}/${String(env.kind)}` : typeof doc;
    throw new SurgeError(code, `${abs} is not a ${kind} (found ${found}; expected apiVersion surgectl/v1, kind ${kind})`, { hint });
  }
  const data = schema.safeParse(env.data);
  if (!data.success) {
    throw new SurgeError(code, `${abs} is a ${kind} with invalid data`, {
      hint,
      details: data.error.issues.slice(0, 20).map((i) => `data.${i.path.join('.')}: ${i.message}`),
    });
  }
  return { apiVersion: 'surgectl/v1', kind, createdAt: String(env.createdAt ?? ''), source: String(env.source ?? ''), data: data.data, path: abs };
}

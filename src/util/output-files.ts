import { access, constants, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SurgeError } from '../errors.js';

/*
 * Output files named by flags (`--out`, `--junit`, `--journal-path`, ...), shared by the forecast,
 * load-test and chaos commands: checked before the work starts, then written all or nothing.
 * A path that cannot be written is a bad flag value, so both are SRG_CLI_USAGE naming the flag.
 */

/** One output file: the flag that named it and its absolute path. */
export interface OutputPath {
  /** e.g. `--out`; named in every error. */
  readonly flag: string;
  /** Absolute path. */
  readonly path: string;
}

export interface OutputOptions {
  /**
   * Create missing parent directories (`mkdir -p`) when writing. Without it the parent must exist.
   * Default false.
   */
  createParents?: boolean;
}

const HINT = 'Pass a file path in a directory that exists and that you can write to.';

function errno(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? (err instanceof Error ? err.message : String(err));
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    // ENOTDIR: a file where a directory should be; the walk up names it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Checks, before any work, that every output can be written: not two flags naming one file, the
 * target is not a directory (or another non-regular file), and its directory exists (with
 * `createParents`: its nearest existing ancestor), is a directory and is writable. Throws
 * SRG_CLI_USAGE naming the flag and the path; writes nothing.
 */
export async function checkOutputPaths(outputs: readonly OutputPath[], opts: OutputOptions = {}): Promise<void> {
  const seen = new Map<string, string>();
  for (const o of outputs) {
    const abs = resolve(o.path);
    const other = seen.get(abs);
    if (other !== undefined) {
      throw new SurgeError('SRG_CLI_USAGE', `${other} and ${o.flag} both name ${abs}`, { hint: 'Give each output its own file.' });
    }
    seen.set(abs, o.flag);
  }
  for (const o of outputs) {
    const bad = (why: string) => new SurgeError('SRG_CLI_USAGE', `${o.flag} ${o.path}: ${why}`, { hint: HINT });
    let target;
    try {
      target = await statOrUndefined(o.path);
    } catch (err) {
      throw bad(`cannot be written (${errno(err)})`);
    }
    if (target?.isDirectory()) throw bad('is a directory; expected a file path');
    if (target && !target.isFile()) throw bad('is not a regular file');
    // The directory the file goes in (or, with createParents, the nearest one that exists).
    let parent = dirname(resolve(o.path));
    for (;;) {
      let st;
      try {
        st = await statOrUndefined(parent);
      } catch (err) {
        throw bad(`cannot use ${parent} (${errno(err)})`);
      }
      if (st === undefined) {
        const up = dirname(parent);
        if (!opts.createParents) throw bad(`the directory ${parent} does not exist`);
        if (up === parent) throw bad(`no directory of ${o.path} exists`);
        parent = up;
        continue;
      }
      if (!st.isDirectory()) throw bad(`${parent} is not a directory`);
      try {
        await access(parent, constants.W_OK);
      } catch {
        throw bad(`the directory ${parent} is not writable`);
      }
      break;
    }
  }
}

/**
 * Writes every file or none: each goes to a temp file next to it first; only when all of them
 * are written are they renamed into place. On any failure the temp files (and files this call
 * already renamed) are removed and SRG_CLI_USAGE names the flag and the path.
 */
export async function writeOutputFiles(files: readonly (OutputPath & { text: string })[], opts: OutputOptions = {}): Promise<string[]> {
  const staged: { file: OutputPath; tmp: string }[] = [];
  const placed: string[] = [];
  const cleanUp = async () => {
    await Promise.all([...staged.map((s) => rm(s.tmp, { force: true })), ...placed.map((p) => rm(p, { force: true }))].map((p) => p.catch(() => undefined)));
  };
  let current: OutputPath | undefined;
  try {
    for (const f of files) {
      current = f;
      if (opts.createParents) await mkdir(dirname(f.path), { recursive: true });
      const tmp = `${f.path}.tmp-${randomBytes(4).toString('hex')}`;
      staged.push({ file: f, tmp });
      await writeFile(tmp, f.text);
    }
    while (staged.length > 0) {
      const s = staged[0] as (typeof staged)[number];
      current = s.file;
      await rename(s.tmp, s.file.path);
      staged.shift();
      placed.push(s.file.path);
    }
  } catch (err) {
    await cleanUp();
    const f = current as OutputPath;
    const others = files.length > 1 ? '; no output was written' : '';
    throw new SurgeError('SRG_CLI_USAGE', `Cannot write ${f.flag} ${f.path}: ${errno(err)}${others}`, { hint: HINT, cause: err });
  }
  return files.map((f) => f.path);
}

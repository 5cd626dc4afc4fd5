import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SurgeError } from '../../../errors.js';

export const LOCK_FILE = 'surgectl.lock';

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process: a lock file holding our pid. A lock left by a dead
 * process is taken over; a live holder is an error, because two stacks on one store would both
 * believe they own every lease.
 *
 * Two starters may find the same stale lock. Taking it over is therefore serialised by a second
 * lock file (`<lock>.takeover`, created exclusively): only its holder may remove the stale lock,
 * and only after reading it again under the guard, so a fresh lock another starter has just taken
 * is never removed. Lock files appear with their pid already in them (written aside, then linked
 * into place), so an empty lock file is never mistaken for a stale one.
 */
export function acquireDirLock(
  dir: string,
  /** dirLabel: what the hint calls the data-dir option (e.g. '--data-dir'). Default 'dataDir'. */
  opts: { pid: number; isAlive?: (pid: number) => boolean; dirLabel?: string },
): { release(): void; tookOverFrom?: number } {
  const path = join(dir, LOCK_FILE);
  const guard = `${path}.takeover`;
  const isAlive = opts.isAlive ?? defaultIsAlive;
  let tookOverFrom: number | undefined;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new SurgeError('SRG_STACK_DATA_DIR', `cannot create data directory ${dir}: ${(err as Error).message}`);
  }
  const locked = (holder: number) =>
    new SurgeError('SRG_STACK_LOCKED', `data directory ${dir} is in use by process ${holder}`, {
      hint: `stop that stack first, or use another ${opts.dirLabel ?? 'dataDir'}; the lock file is ${path}`,
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createWithPid(path, opts.pid)) {
      return { release: () => releaseIfOurs(path, opts.pid), ...(tookOverFrom !== undefined ? { tookOverFrom } : {}) };
    }
    const holder = readPid(path);
    if (holder !== undefined && isAlive(holder)) throw locked(holder);
    if (!createWithPid(guard, opts.pid)) {
      // Another starter is taking the stale lock over; a guard left by one that died is stale too.
      const guardHolder = readPid(guard);
      if (guardHolder === undefined || !isAlive(guardHolder)) removeIfStill(guard, guardHolder);
      else sleepMs(20);
      continue;
    }
    try {
      // Read again under the guard: only a lock still held by the same dead process goes.
      const now = readPid(path);
      if (now !== undefined && isAlive(now)) throw locked(now);
      if (now === holder) {
        rmSync(path, { force: true });
        if (holder !== undefined) tookOverFrom = holder;
      }
    } finally {
      releaseIfOurs(guard, opts.pid);
    }
  }
  throw new SurgeError('SRG_STACK_LOCKED', `could not take the lock ${path} (it keeps changing hands)`);
}

/** Creates `path` holding `pid`, only if it does not exist; the file never exists empty. */
function createWithPid(path: string, pid: number): boolean {
  const tmp = `${path}.${pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${pid}\n`, { flag: 'wx' });
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new SurgeError('SRG_STACK_DATA_DIR', `cannot create lock file ${path}: ${(err as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Removes a stale guard unless someone replaced it meanwhile. */
function removeIfStill(path: string, pid: number | undefined): void {
  if (readPid(path) === pid) rmSync(path, { force: true });
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readPid(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function releaseIfOurs(path: string, pid: number): void {
  if (readPid(path) === pid) rmSync(path, { force: true });
}

/** For tests and tools: writes a lock as if `pid` held it. */
export function writeLockFile(dir: string, pid: number): void {
  writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
}

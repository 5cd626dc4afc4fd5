import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
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
 */
export function acquireDirLock(dir: string, opts: { pid: number; isAlive?: (pid: number) => boolean }): { release(): void; tookOverFrom?: number } {
  const path = join(dir, LOCK_FILE);
  const isAlive = opts.isAlive ?? defaultIsAlive;
  let tookOverFrom: number | undefined;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new SurgeError('SRG_STACK_DATA_DIR', `cannot create data directory ${dir}: ${(err as Error).message}`);
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${opts.pid}\n`);
      closeSync(fd);
      return { release: () => releaseIfOurs(path, opts.pid), ...(tookOverFrom !== undefined ? { tookOverFrom } : {}) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SurgeError('SRG_STACK_DATA_DIR', `cannot create lock file ${path}: ${(err as Error).message}`);
      }
    }
    const holder = readPid(path);
    if (holder !== undefined && isAlive(holder)) {
      throw new SurgeError('SRG_STACK_LOCKED', `data directory ${dir} is in use by process ${holder}`, {
        hint: `stop that stack first, or use another --data-dir; the lock file is ${path}`,
      });
    }
    // Stale: move it aside atomically so two starters cannot both delete-and-create.
    const aside = `${path}.stale-${opts.pid}`;
    try {
      renameSync(path, aside);
      rmSync(aside, { force: true });
      tookOverFrom = holder;
    } catch {
      // someone else took it over first; loop and look again
    }
  }
  throw new SurgeError('SRG_STACK_LOCKED', `could not take the lock ${path} (it keeps changing hands)`);
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

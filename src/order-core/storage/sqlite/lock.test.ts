import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SurgeError } from '../../../errors.js';
import { acquireDirLock, LOCK_FILE, writeLockFile } from './lock.js';

const root = mkdtempSync(join(tmpdir(), 'surgectl-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited: a real dead pid, not a guess. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('data directory lock', () => {
  it('is exclusive while held and free after release', () => {
    const dir = join(root, 'a');
    const lock = acquireDirLock(dir, { pid: process.pid });
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    let err: unknown;
    try {
      acquireDirLock(dir, { pid: process.pid });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_STACK_LOCKED');
    expect((err as SurgeError).message).toContain(String(process.pid));
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    acquireDirLock(dir, { pid: process.pid }).release();
  });

  it('takes over a lock left by a dead process', () => {
    const dir = join(root, 'b');
    acquireDirLock(dir, { pid: process.pid }).release();
    const dead = deadPid();
    writeLockFile(dir, dead);
    const lock = acquireDirLock(dir, { pid: process.pid });
    expect(lock.tookOverFrom).toBe(dead);
    lock.release();
  });

  it('two starters finding the same stale lock: the one that comes second finds the first one holding it', () => {
    const dir = join(root, 'c');
    mkdirSync(dir, { recursive: true });
    const dead = deadPid();
    writeLockFile(dir, dead);
    const first = 4_000_001; // the other starter's pid, alive for this test
    let firstLock: { tookOverFrom?: number } | undefined;
    // The second starter reads the dead pid; before it acts, the first starter takes the lock over.
    const secondIsAlive = (pid: number) => {
      if (pid === dead && firstLock === undefined) firstLock = acquireDirLock(dir, { pid: first, isAlive: (p) => p !== dead });
      return pid === first;
    };
    let err: unknown;
    try {
      acquireDirLock(dir, { pid: process.pid, isAlive: secondIsAlive });
    } catch (e) {
      err = e;
    }
    expect(firstLock?.tookOverFrom).toBe(dead);
    expect((err as SurgeError).code).toBe('SRG_STACK_LOCKED');
    expect((err as SurgeError).message).toContain(String(first));
    // the first starter's lock is untouched, and no takeover guard or temp file is left behind
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(first));
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
  });
});

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { batchedLine, createStackLogger, openLogFile } from './logger.js';

// /dev/full answers every write with ENOSPC: a disk that is full, without root or a tmpfs.
const haveDevFull = existsSync('/dev/full');

/** Resolves true when `start(cb)` calls back within `ms`, false otherwise. */
function within(ms: number, start: (cb: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    start(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe.skipIf(!haveDevFull)('the stack log on a full disk (/dev/full)', () => {
  it('drops and counts lines instead of retrying or holding them, and its flush ends', async () => {
    const reports: string[] = [];
    const file = openLogFile('/dev/full', { minLength: 4096, maxBufferBytes: 64 * 1024, report: (l) => reports.push(l) });
    const line = JSON.stringify({ msg: 'x'.repeat(200) }) + '\n';
    for (let i = 0; i < 5_000; i++) file.write(line);
    expect(await within(3_000, (cb) => file.flush(cb))).toBe(true);
    expect(file.dropped).toBe(5_000);
    // said once, not once per failed write
    expect(reports.filter((r) => r.includes('cannot be written'))).toHaveLength(1);
    file.end();
    expect(reports.at(-1)).toMatch(/5000 stack log lines were dropped/);
  });

  it('a stack logger on it flushes within a bound (a final flush never loops on ENOSPC)', async () => {
    const logger = createStackLogger({ level: 'info', destination: '/dev/full' });
    for (let i = 0; i < 2_000; i++) logger.error({ err: new Error('store full') }, 'refused');
    expect(await within(3_000, (cb) => logger.flush(() => cb()))).toBe(true);
  });

  it('does not keep a process from exiting (the final flush is one attempt, not a retry loop)', async () => {
    const register = fileURLToPath(new URL('../../test/support/ts-register.mjs', import.meta.url));
    const logger = new URL('./logger.ts', import.meta.url).href;
    const script = `const { createStackLogger } = await import(${JSON.stringify(logger)}); const log = createStackLogger({ destination: '/dev/full' }); for (let i = 0; i < 100; i++) log.info('line ' + i);`;
    const child = spawn(process.execPath, ['--import', register, '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = await within(8_000, (cb) => child.once('exit', cb));
    if (!exited) child.kill('SIGKILL');
    expect(exited, stderr).toBe(true);
    expect(child.exitCode, stderr).toBe(0);
    expect(stderr).toMatch(/100 stack log lines were dropped/);
  }, 15_000);
});

describe('batchedLine', () => {
  it('writes the entries of one interval as one line of aligned lists, then starts a new one', () => {
    vi.useFakeTimers();
    try {
      const lines: { obj: Record<string, unknown>; msg: string }[] = [];
      const log = batchedLine({ info: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) }, 'orders confirmed', 'confirmed', ['orderIds', 'chargeIds'], 50);
      log.add('o1', 'c1');
      log.add('o2', null);
      vi.advanceTimersByTime(49);
      expect(lines).toEqual([]);
      log.add('o3'); // a value left out is null
      vi.advanceTimersByTime(1);
      expect(lines).toEqual([{ obj: { confirmed: 3, orderIds: ['o1', 'o2', 'o3'], chargeIds: ['c1', null, null] }, msg: 'orders confirmed' }]);
      // the next entry starts the next interval
      log.add('o4', 'c4');
      vi.advanceTimersByTime(50);
      expect(lines.map((l) => l.obj)).toEqual([
        { confirmed: 3, orderIds: ['o1', 'o2', 'o3'], chargeIds: ['c1', null, null] },
        { confirmed: 1, orderIds: ['o4'], chargeIds: ['c4'] },
      ]);
      // nothing gathered: no line, no timer
      vi.advanceTimersByTime(500);
      expect(lines).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('flush() writes at once and cancels the pending write; an empty flush writes nothing', () => {
    vi.useFakeTimers();
    try {
      const lines: Record<string, unknown>[] = [];
      const log = batchedLine({ info: (obj) => lines.push(obj as Record<string, unknown>) }, 'orders accepted', 'accepted', ['orderIds', 'requestIds']);
      log.flush();
      expect(lines).toEqual([]);
      log.add('o1', 'r1');
      log.flush();
      expect(lines).toEqual([{ accepted: 1, orderIds: ['o1'], requestIds: ['r1'] }]);
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1_000);
      expect(lines).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

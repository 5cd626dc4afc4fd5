import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../runtime.js';
import { createPaint } from './color.js';
import { createConsoleReporter } from './reporter.js';

function runtime(tty: boolean): { runtime: Runtime; stdin: PassThrough & { isTTY?: boolean }; err: () => string } {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = tty;
  let err = '';
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    stdin,
    err: () => err,
    runtime: { env: {}, cwd: '/', argv0: 'surgectl', stdout: { write: () => true }, stderr, stdin, now: () => 0, signal: new AbortController().signal },
  };
}

describe('console reporter confirm', () => {
  it('--yes answers yes without asking', async () => {
    const r = runtime(false);
    expect(await createConsoleReporter({ runtime: r.runtime, paint: createPaint(false), yes: true, verbose: false }).confirm('Apply?', false)).toBe(true);
  });

  it('refuses off a terminal without --yes, saying how to go on', async () => {
    const r = runtime(false);
    await expect(createConsoleReporter({ runtime: r.runtime, paint: createPaint(false), yes: false, verbose: false }).confirm('Apply 3 changes?', false)).rejects.toMatchObject({
      code: 'SRG_CLI_NOT_A_TTY',
      message: 'Refusing to go on without confirmation: Apply 3 changes?',
      hint: expect.stringContaining('--yes'),
    });
  });

  it('asks with @inquirer/prompts on a terminal: y is yes, Enter takes the default', async () => {
    for (const [keys, expected] of [['y\r', true], ['\r', false], ['n\r', false]] as const) {
      const r = runtime(true);
      const answer = createConsoleReporter({ runtime: r.runtime, paint: createPaint(false), yes: false, verbose: false }).confirm('Apply 3 changes?', false);
      setImmediate(() => r.stdin.write(keys));
      expect(await answer).toBe(expected);
      expect(r.err()).toContain('Apply 3 changes?');
    }
  });
});

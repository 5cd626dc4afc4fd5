import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecordingReporter } from '../reporter.js';
import { parseExperiment } from './experiment.js';
import { createLocalRunner } from './providers/local.js';
import { runExperiment } from './runner.js';

/**
 * The control host with a real Python interpreter: it outlives an interrupt long enough for the
 * rollback and experiment hooks, ignores the SIGINT a terminal's Ctrl-C sends to the whole process
 * group, is stopped after a hook that hangs, and never outlives the drill.
 */

const MODULE = `
import os, time
log = None
def configure_control(path):
    global log
    log = path
    with open(path + '.pid', 'w') as f:
        f.write(str(os.getpid()))
def _w(line):
    with open(log, 'a') as f:
        f.write(line + '\\n')
def before_method_control(context, hang=0, **kwargs):
    _w('before_method')
    time.sleep(hang)
def before_activity_control(context, **kwargs):
    _w('before_activity ' + context['name'])
def after_activity_control(context, state, **kwargs):
    _w('after_activity %s %s' % (context['name'], state['status']))
def before_rollback_control(context, **kwargs):
    _w('before_rollback')
def after_experiment_control(context, state, **kwargs):
    _w('after_experiment ' + state['status'])
def cleanup_control():
    _w('cleanup')
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'surgectl-controls-'));
  writeFileSync(join(dir, 'surgectl_hook_probe.py'), MODULE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function drill(method: unknown[], hang = 0) {
  const path = join(dir, `log${++n}`);
  const e = parseExperiment({
    title: 'controls and interrupts',
    controls: [{ name: 'probe', provider: { type: 'python', module: 'surgectl_hook_probe', arguments: { path, hang } } }],
    method,
    rollbacks: [{ type: 'action', name: 'undo', provider: { type: 'process', path: 'true' } }],
  });
  const local = createLocalRunner({ env: { PATH: process.env.PATH, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' }, cwd: dir });
  const lines = () => {
    try {
      return readFileSync(path, 'utf8').trimEnd().split('\n');
    } catch {
      return [];
    }
  };
  const pid = () => Number(readFileSync(`${path}.pid`, 'utf8'));
  return { e, local, lines, pid };
}

async function until(cond: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('control host', () => {
  it('an interrupt mid-method: the rollback, experiment and cleanup hooks still run (SIGINT to the host is ignored), then the host exits', async () => {
    const d = drill([{ type: 'action', name: 'wait', provider: { type: 'process', path: 'sleep', arguments: ['30'] } }]);
    const ac = new AbortController();
    const running = runExperiment(d.e, { targets: { local: d.local }, signal: ac.signal, reporter: createRecordingReporter() });
    await until(() => d.lines().includes('before_activity wait'), 'the method activity to start');
    const pid = d.pid();
    // What a terminal's Ctrl-C does to the whole process group.
    process.kill(pid, 'SIGINT');
    ac.abort();
    const j = await running;
    expect(j.status).toBe('interrupted');
    expect(d.lines()).toEqual([
      'before_method',
      'before_activity wait',
      'after_activity wait failed',
      'before_rollback',
      'before_activity undo',
      'after_activity undo succeeded',
      'after_experiment interrupted',
      'cleanup',
    ]);
    expect(j.controls.every((c) => c.status === 'succeeded')).toBe(true);
    expect(j.controls.map((c) => c.hook)).toEqual([
      'configure_control',
      'before_method_control',
      'before_activity_control',
      'after_activity_control',
      'before_rollback_control',
      'before_activity_control',
      'after_activity_control',
      'after_experiment_control',
      'cleanup_control',
    ]);
    expect(alive(pid)).toBe(false);
  });

  it('a hook that hangs past its time limit: the host is killed, later hooks are journaled as failed, the drill completes', async () => {
    const d = drill([{ type: 'action', name: 'quick', provider: { type: 'process', path: 'true' } }], 30);
    const reporter = createRecordingReporter();
    const j = await runExperiment(d.e, { targets: { local: d.local }, reporter, controlHookTimeoutMs: 1_000 });
    expect(j.status).toBe('completed');
    expect(j.run.map((r) => [r.activity.name, r.status])).toEqual([['quick', 'succeeded']]);
    expect(d.lines()).toEqual(['before_method']);
    expect(j.controls.map((c) => [c.hook, c.status])).toEqual([
      ['configure_control', 'succeeded'],
      ['before_method_control', 'failed'],
      ['before_activity_control', 'failed'],
      ['after_activity_control', 'failed'],
      ['before_rollback_control', 'failed'],
      ['before_activity_control', 'failed'],
      ['after_activity_control', 'failed'],
      ['after_experiment_control', 'failed'],
      ['cleanup_control', 'failed'],
    ]);
    expect(j.controls[1]?.error).toBe('timed out after 1s');
    expect(j.controls[2]?.error).toBe('the control host was stopped after surgectl_hook_probe.before_method_control took longer than 1s');
    expect(reporter.messages.some((m) => m.level === 'warn' && /control probe: before_method_control failed: timed out after 1s; the drill goes on/.test(m.message))).toBe(true);
    expect(alive(d.pid())).toBe(false);
  });
});

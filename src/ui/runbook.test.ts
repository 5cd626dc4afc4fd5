import { describe, expect, it } from 'vitest';
import { createPaint } from './color.js';
import { createStepProgress, renderJournal, renderPlan } from './runbook.js';
import type { RunbookJournal } from '../runbooks/types.js';

const plain = createPaint(false);

describe('runbook progress', () => {
  it('on a terminal: a spinner line rewritten in place with the elapsed time, then the result on its own line', () => {
    let out = '';
    let t = 0;
    const p = createStepProgress({ write: (s: string) => (out += s), isTTY: true, columns: 80 }, plain, () => t);
    p.start('shift-50', 'haproxy: green weight 50');
    t = 1_500;
    p.end('shift-50', 'ok', 'done, verify passed', 1_500);
    p.stop();
    expect(out.startsWith('\r\u001b[2K⠋ shift-50 0.0s haproxy: green weight 50')).toBe(true);
    expect(out).toContain('\r\u001b[2K✔ shift-50 1.5s done, verify passed\n');
  });

  it('off a terminal: one line when a step starts and one when it ends, no escape codes', () => {
    let out = '';
    const p = createStepProgress({ write: (s: string) => (out += s), isTTY: false }, plain, () => 0);
    p.start('precheck', 'GET http://x/readyz');
    p.end('precheck', 'failed', 'answered 503', 120);
    expect(out).toBe('… precheck: GET http://x/readyz\n✖ precheck 0.1s answered 503\n');
  });
});

describe('runbook rendering', () => {
  it('a plan marks changes, checks and skipped steps with their rollback', () => {
    const text = renderPlan(
      {
        runbook: { name: 'rb', version: 2, digest: 'abc', source: 'builtin', autoRollback: true },
        params: { to: 'green', weights: [10, 100] },
        steps: [
          { name: 'check', kind: 'http', mutating: false, enabled: true, action: 'GET http://g/readyz', rollback: 'none needed', timeoutMs: 10_000 },
          { name: 'smoke', kind: 'loadtest', mutating: false, enabled: false, action: 'smoke load', rollback: 'none needed', timeoutMs: 60_000 },
          { name: 'shift-10', kind: 'haproxy-weight', mutating: true, enabled: true, action: 'green weight 10', verify: 'analysis', rollback: 'auto (put back what it changed)', timeoutMs: 60_000 },
        ],
      },
      plain,
    );
    expect(text).toContain('Steps of rb v2 (params: to=green weights=10,100)');
    expect(text).toContain(' 1. check  [check] GET http://g/readyz');
    expect(text).toContain(' 2. smoke  [skip] smoke load (when: false)');
    expect(text).toMatch(/ 3\. shift-10 {2}\[CHANGE\] green weight 10\n {6}verify: analysis\n {6}rollback: auto/);
  });

  it('a journal shows each step, how the run ended and what is left by hand', () => {
    const j: RunbookJournal = {
      kind: 'surgectl.runbook.journal',
      schemaVersion: 1,
      runbook: { name: 'rb', version: 1, digest: 'd', source: 'builtin' },
      params: {},
      user: 'me',
      status: 'rollback-failed',
      message: 'step b failed',
      manual: ['a: set weight back'],
      startedAt: '2026-12-04T00:00:00.000Z',
      resumes: [],
      steps: [
        { step: 'a', kind: 'haproxy-weight', status: 'rollback-failed', durationMs: 200, rollback: { status: 'failed', error: 'unreachable', startedAt: '', endedAt: '', durationMs: 1 } },
        { step: 'b', kind: 'http', status: 'failed', error: 'answered 500', durationMs: 50 },
      ],
    };
    const text = renderJournal(j, '/tmp/j.json', plain);
    expect(text).toMatch(/a\s+haproxy-weight\s+rollback-failed\s+0\.2s\s+rollback: unreachable/);
    expect(text).toMatch(/b\s+http\s+failed\s+0\.1s\s+answered 500/);
    expect(text).toContain('rb: rollback-failed — step b failed');
    expect(text).toContain('left to do by hand: a: set weight back');
    expect(text).toContain('journal: /tmp/j.json');
  });
});

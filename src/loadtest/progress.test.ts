import { describe, expect, it } from 'vitest';
import { createRecordingReporter } from '../reporter.js';
import type { Progress } from './evidence.js';
import { progressLine } from './progress.js';

const at = (elapsedMs: number): Progress => ({ elapsedMs, plannedMs: 30_000, rps: 100, p95Ms: 3.2, requests: elapsedMs / 10, failed: 0, dropped: 0, vus: 4 });

function sink(isTTY: boolean) {
  const out = { text: '', isTTY, write: (s: string) => (out.text += s) };
  return out;
}

describe('progressLine', () => {
  it('on a terminal: one line rewritten in place, cleared at the end', () => {
    const stderr = sink(true);
    const reporter = createRecordingReporter();
    const p = progressLine(stderr, reporter);
    p.update(at(1000));
    p.update(at(2000));
    p.end();
    const lines = stderr.text.split('\r\u001b[2K');
    expect(lines).toEqual(['', expect.stringMatching(/^1\.0s\/30s {2}100 req\/s {2}p95 3\.2ms/), expect.stringMatching(/^2\.0s\/30s/), '']);
    expect(reporter.messages).toEqual([]);
  });

  it('off a terminal: a progress notice every 5 s of the run, nothing written directly', () => {
    const stderr = sink(false);
    const reporter = createRecordingReporter();
    const p = progressLine(stderr, reporter);
    for (let s = 1; s <= 11; s++) p.update(at(s * 1000));
    p.end();
    expect(stderr.text).toBe('');
    expect(reporter.messages.map((m) => [m.level, m.message.split(' ')[0]])).toEqual([
      ['progress', '5.0s/30s'],
      ['progress', '10.0s/30s'],
    ]);
  });
});

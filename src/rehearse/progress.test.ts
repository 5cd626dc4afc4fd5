import { describe, expect, it } from 'vitest';
import { createPaint } from '../ui/color.js';
import { createRecordingReporter } from '../reporter.js';
import { createRehearseProgress } from './progress.js';
import type { LoadProgress } from './run.js';

const at = (s: number, extra: Partial<LoadProgress> = {}): LoadProgress => ({
  elapsedMs: s * 1000,
  plannedMs: 20_000,
  rps: 49.6,
  p95Ms: 12.34,
  requests: s * 50,
  failed: 0,
  dropped: 0,
  vus: 2,
  targetPerSec: 50,
  phase: 'peak',
  breaker: 'closed',
  paymentPending: 0,
  ...extra,
});

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, write: (s: string) => chunks.push(s), isTTY };
}

describe('rehearse progress', () => {
  it('off a terminal prints a plain line every 5 s, no carriage returns', () => {
    const out = sink(false);
    const p = createRehearseProgress({ sink: out, paint: createPaint(false), reporter: createRecordingReporter() });
    for (let s = 1; s <= 12; s++) p.onProgress(at(s, s === 7 ? { phase: 'outage', breaker: 'open', paymentPending: 92 } : {}));
    expect(out.chunks).toEqual([
      '      load 1s/20s peak  50/s (target 50)  p95 12.3 ms  failed 0  dropped 0  breaker closed  pending 0\n',
      '      load 6s/20s peak  50/s (target 50)  p95 12.3 ms  failed 0  dropped 0  breaker closed  pending 0\n',
      '      load 11s/20s peak  50/s (target 50)  p95 12.3 ms  failed 0  dropped 0  breaker closed  pending 0\n',
    ]);
  });

  it('on a terminal rewrites one live line in place and clears it before the next stage line', () => {
    const out = sink(true);
    const inner = createRecordingReporter();
    const p = createRehearseProgress({ sink: out, paint: createPaint(false), reporter: inner });
    p.onProgress(at(1));
    p.onProgress(at(2, { phase: 'outage', breaker: 'open', paymentPending: 40 }));
    expect(out.chunks).toHaveLength(2);
    expect(out.chunks.every((c) => c.startsWith('\r\u001b[2K') && !c.endsWith('\n'))).toBe(true);
    expect(out.chunks[1]).toContain('outage');
    expect(out.chunks[1]).toContain('breaker open  pending 40');
    p.reporter.notify('[7/9] drain', 'progress');
    expect(out.chunks[2]).toBe('\r\u001b[2K');
    expect(inner.messages).toEqual([{ level: 'progress', message: '[7/9] drain' }]);
    p.end();
    expect(out.chunks).toHaveLength(3);
  });

  it('colours the outage and an open breaker only when colour is on', () => {
    const out = sink(true);
    const p = createRehearseProgress({ sink: out, paint: createPaint(true), reporter: createRecordingReporter() });
    p.onProgress(at(7, { phase: 'outage', breaker: 'open' }));
    expect(out.chunks[0]).toContain('\u001b[31moutage\u001b[39m');
    expect(out.chunks[0]).toContain('breaker \u001b[31mopen\u001b[39m');
  });
});

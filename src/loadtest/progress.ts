import type { Reporter } from '../reporter.js';
import type { TextSink } from '../runtime.js';
import type { Progress } from './evidence.js';
import { renderProgress } from './reporters.js';

/** Where a run's live figures go while it runs. */
export interface ProgressSink {
  /** About once per second. */
  update(p: Progress): void;
  /** Once, when the run has ended, before its result is printed. */
  end(): void;
}

/** How often a progress notice is written off a terminal, ms of the run. */
const PLAIN_EVERY_MS = 5_000;

/**
 * The live progress line on `stderr`: on a terminal one line rewritten in place and cleared at
 * the end, so the summary prints on a clean line; elsewhere (CI logs) a `progress` notice through
 * the reporter every 5 s of the run, so a log shows the run is alive without a line per second.
 */
export function progressLine(stderr: TextSink, reporter: Reporter): ProgressSink {
  let lastPlain = 0;
  return {
    update(p) {
      const line = renderProgress(p);
      if (stderr.isTTY) stderr.write(`\r\u001b[2K${line}`);
      else if (p.elapsedMs - lastPlain >= PLAIN_EVERY_MS) {
        lastPlain = p.elapsedMs;
        reporter.notify(line, 'progress');
      }
    },
    end() {
      if (stderr.isTTY) stderr.write('\r\u001b[2K');
    },
  };
}

import type { TextSink } from '../runtime.js';
import type { Paint } from '../ui/color.js';
import type { Reporter } from '../reporter.js';
import type { LoadProgress } from './run.js';

/** What {@link createRehearseProgress} returns: a reporter for stage lines and a sink for load progress. */
export interface RehearseProgress {
  /** Stage lines; clears a pending live line first so the two never share a row. */
  reporter: Reporter;
  onProgress(p: LoadProgress): void;
  /** Ends a pending live line (call before printing the report). */
  end(): void;
}

/**
 * Progress on stderr during a rehearsal: during the load test one live line rewritten in place on
 * a terminal, or a plain line every `plainEveryMs` (default 5 s) off a terminal, so CI logs stay short.
 */
export function createRehearseProgress(opts: { sink: TextSink; paint: Paint; reporter: Reporter; plainEveryMs?: number }): RehearseProgress {
  const { sink, paint, reporter } = opts;
  const tty = sink.isTTY === true;
  const every = opts.plainEveryMs ?? 5_000;
  let pending = false;
  let lastPlain = -Infinity;
  const clear = () => {
    if (pending) sink.write('\r\u001b[2K');
    pending = false;
  };
  return {
    reporter: {
      notify(message, level) {
        clear();
        reporter.notify(message, level);
      },
      confirm: (q, d) => reporter.confirm(q, d),
    },
    onProgress(p) {
      if (tty) {
        sink.write(`\r\u001b[2K${progressLine(p, paint)}`);
        pending = true;
      } else if (p.elapsedMs - lastPlain >= every) {
        lastPlain = p.elapsedMs;
        sink.write(`${progressLine(p, paint)}\n`);
      }
    },
    end: clear,
  };
}

/** `load 7s/20s outage  51/s (target 50)  p95 96.9 ms  failed 0  dropped 0  breaker open  pending 92` */
export function progressLine(p: LoadProgress, paint: Paint): string {
  const phase = p.phase === 'outage' ? paint.red(p.phase) : p.phase === 'recovery' ? paint.yellow(p.phase) : paint.cyan(p.phase);
  const breaker = p.breaker === undefined ? '' : `  breaker ${p.breaker === 'open' ? paint.red('open') : p.breaker}  pending ${p.paymentPending ?? 0}`;
  return `      load ${Math.round(p.elapsedMs / 1000)}s/${Math.round(p.plannedMs / 1000)}s ${phase}  ${Math.round(p.rps)}/s (target ${p.targetPerSec})  p95 ${
    Math.round(p.p95Ms * 10) / 10
  } ms  failed ${p.failed}  dropped ${p.dropped}${breaker}`;
}

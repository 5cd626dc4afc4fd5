/**
 * The one step runner under runbook steps, chaos activities and rehearsal stages: runs an async
 * unit of work with the run's signal and its own time limit, ends as soon as either fires even
 * when the work ignores its signal (the work is then abandoned, and `track` is told so the caller
 * can wait for it before restoring), and records how it ended with its times. Never throws.
 */

/** How a step ended: done, failed with an error, stopped by the run's signal, or past its time limit. */
export type StepEnd = 'completed' | 'failed' | 'interrupted' | 'timed-out';

export interface StepOutcome<T> {
  status: StepEnd;
  /** What the work returned (`completed` only). */
  value?: T;
  /** What it threw, or the signal's reason (`failed`, `interrupted`, `timed-out`). */
  error?: unknown;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
  durationMs: number;
}

export interface RunStepOptions {
  /** The run's signal (Ctrl-C, SIGTERM). */
  signal: AbortSignal;
  /** The step's own limit, ms; none when undefined. */
  timeoutMs?: number | undefined;
  now(): number;
  /** Called with the work's settlement, so a caller can wait for work an interrupt or timeout abandoned. */
  track?(settled: Promise<void>): void;
  /**
   * Run the work even when the signal has fired, and wait for it to end (default false: end at
   * once and abandon it). For work that stops itself on the signal and must be finished before
   * what comes next (a rehearsal's load test before its restore), or that must run after a
   * Ctrl-C (the restore).
   */
  waitOnStop?: boolean;
}

const STOPPED: unique symbol = Symbol('stopped');

export async function runStep<T>(work: (signal: AbortSignal) => Promise<T>, o: RunStepOptions): Promise<StepOutcome<T>> {
  const t0 = o.now();
  const timeout = o.timeoutMs === undefined ? undefined : AbortSignal.timeout(o.timeoutMs);
  const signal = timeout ? AbortSignal.any([o.signal, timeout]) : o.signal;
  const end = (status: StepEnd, extra: { value?: T; error?: unknown }): StepOutcome<T> => {
    const t1 = o.now();
    return { status, ...extra, startedAt: t0, endedAt: t1, durationMs: t1 - t0 };
  };
  const stoppedStatus = (): StepEnd => (o.signal.aborted ? 'interrupted' : 'timed-out');
  if (signal.aborted && !o.waitOnStop) return end(stoppedStatus(), { error: signal.reason });
  let p: Promise<T>;
  try {
    p = work(signal);
  } catch (err) {
    p = Promise.reject(err);
  }
  o.track?.(p.then(
    () => undefined,
    () => undefined,
  ));
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    onAbort = () => resolve(STOPPED);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const v = o.waitOnStop ? await p : await Promise.race([p, stopped]);
    if (v === STOPPED) return end(stoppedStatus(), { error: signal.reason });
    return end('completed', { value: v });
  } catch (err) {
    // Work that gave up because of the signal ended by it, not by a failure of its own.
    return end(signal.aborted ? stoppedStatus() : 'failed', { error: err });
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** An error in words: a SurgeError's or Error's message, an abort as `interrupted`. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.name === 'AbortError' ? 'interrupted' : err.message;
  return String(err);
}

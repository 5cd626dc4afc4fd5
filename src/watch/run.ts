import { isSurgeError, SurgeError } from '../errors.js';
import type { WatchSample, WatchSource, WatchThresholds } from './types.js';
import { buildView, inWindow, onceSnapshot, type WatchView } from './view.js';
import { setTimeout as delay } from 'node:timers/promises';

export interface WatchLoopOptions {
  /** Time between the end of one reading and the next, ms. */
  intervalMs: number;
  /** How much history the sparklines show, ms. */
  historyMs: number;
  thresholds: WatchThresholds;
  /** Ends the loop: a pending read or wait stops at once and the iteration ends without an error. */
  signal: AbortSignal;
}

/**
 * A view per reading until `signal` aborts. A failed read does not end the watch (a stack
 * restarting is what an operator watches for): the view keeps the last figures and carries the
 * error until a read succeeds again.
 */
export async function* watchViews(source: WatchSource, opts: WatchLoopOptions): AsyncGenerator<WatchView, void, undefined> {
  const { signal } = opts;
  let samples: WatchSample[] = [];
  while (!signal.aborted) {
    let error: string | null = null;
    try {
      const sample = await source.read({ signal });
      samples.push(sample);
      // Keep one window of history (plus the newest), not the whole session.
      samples = inWindow(samples, opts.historyMs);
    } catch (err) {
      if (signal.aborted) return;
      error = isSurgeError(err) ? err.message : (err as Error).message;
    }
    yield buildView(samples, opts.thresholds, { source: source.describe, historyMs: opts.historyMs, error });
    // An abort ends the wait early; the loop then sees the signal and stops.
    await delay(opts.intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * One snapshot for scripts (`watch --once`): from the bundled stack two readings `intervalMs`
 * apart (rates are counter increases between them), from Prometheus one reading (its rate window).
 * @throws SurgeError the source's error; SRG_CLI_INTERRUPTED when `signal` aborts.
 */
export async function watchOnce(source: WatchSource, opts: WatchLoopOptions) {
  const interrupted = () => new SurgeError('SRG_CLI_INTERRUPTED', 'interrupted before the snapshot was taken');
  const read = async () => {
    try {
      return await source.read({ signal: opts.signal });
    } catch (err) {
      if (opts.signal.aborted) throw interrupted();
      throw err;
    }
  };
  const samples = [await read()];
  if (source.needsTwoReadings) {
    // An abort ends the wait early; the loop then sees the signal and stops.
    await delay(opts.intervalMs, undefined, { signal: opts.signal }).catch(() => undefined);
    if (opts.signal.aborted) throw interrupted();
    samples.push(await read());
  }
  const first = samples[0] as WatchSample;
  const last = samples.at(-1) as WatchSample;
  const view = buildView(samples, opts.thresholds, { source: source.describe, historyMs: Number.POSITIVE_INFINITY });
  const windowSeconds = samples.length > 1 ? (last.at - first.at) / 1000 : null;
  return { view, snapshot: onceSnapshot(view, last, windowSeconds) };
}

/** What `watch --once` returns: the view (for the table form) and the JSON document. */
export type WatchOnceResult = Awaited<ReturnType<typeof watchOnce>>;

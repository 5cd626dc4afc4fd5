import ansiEscapes from 'ansi-escapes';
import type { TextSink } from '../runtime.js';
import type { WatchView } from '../watch/view.js';
import type { Paint } from './color.js';
import { renderWatchLines } from './watch.js';

/** The terminal as the screen uses it: the Runtime's stdout (resize events when it is a TTY) and stdin. */
export interface WatchTerminal {
  stdout: TextSink & { rows?: number; on?(event: 'resize', fn: () => void): unknown; off?(event: 'resize', fn: () => void): unknown };
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown; isRaw?: boolean };
}

export interface WatchScreenOptions {
  terminal: WatchTerminal;
  /** The views to draw, until the signal given aborts (q, Ctrl-C or the caller's signal). */
  views: (signal: AbortSignal) => AsyncIterable<WatchView>;
  /** Aborted on SIGINT/SIGTERM: ends the screen like q. */
  signal: AbortSignal;
  paint: Paint;
  intervalMs: number;
}

/**
 * The full-screen live view: alternate screen, hidden cursor, stdin in raw mode; redrawn on every
 * view and on every resize; q, Q, Ctrl-C or the signal end it, and the terminal is put back as it
 * was (main screen, cursor, cooked mode) whatever ended it, errors included.
 */
export async function runWatchScreen(opts: WatchScreenOptions): Promise<void> {
  const { stdout, stdin } = opts.terminal;
  const quit = new AbortController();
  const signal = AbortSignal.any([quit.signal, opts.signal]);
  let last: WatchView | undefined;

  const draw = () => {
    if (last === undefined) return;
    const width = stdout.columns ?? 80;
    const height = stdout.rows ?? 24;
    const lines = renderWatchLines(last, { width, height, paint: opts.paint, intervalMs: opts.intervalMs });
    // Home, each line followed by erase-to-end-of-line, then erase what is below: no flicker of a
    // full clear. No newline after the last line: on the bottom row it would scroll the title away.
    stdout.write(ansiEscapes.cursorTo(0, 0) + lines.map((l) => l + ansiEscapes.eraseEndLine).join('\r\n') + ansiEscapes.eraseDown);
  };
  const onResize = () => {
    stdout.write(ansiEscapes.clearViewport);
    draw();
  };
  const onKey = (data: Buffer | string) => {
    const text = typeof data === 'string' ? data : data.toString('utf8');
    if (text.includes('q') || text.includes('Q') || text.includes('\u0003')) quit.abort();
  };

  const wasRaw = stdin?.isRaw === true;
  stdout.write(ansiEscapes.enterAlternativeScreen + ansiEscapes.cursorHide + ansiEscapes.clearViewport);
  stdout.on?.('resize', onResize);
  if (stdin?.isTTY === true && typeof stdin.setRawMode === 'function') stdin.setRawMode(true);
  stdin?.on('data', onKey);
  stdin?.resume();
  try {
    for await (const view of opts.views(signal)) {
      last = view;
      draw();
    }
  } finally {
    stdin?.off('data', onKey);
    if (stdin?.isTTY === true && typeof stdin.setRawMode === 'function') stdin.setRawMode(wasRaw);
    stdin?.pause();
    stdout.off?.('resize', onResize);
    stdout.write(ansiEscapes.cursorShow + ansiEscapes.exitAlternativeScreen);
  }
}

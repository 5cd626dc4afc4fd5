import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, write as fsWrite, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface StackLoggerOptions {
  /** pino level; default 'info'. */
  level?: LogLevel;
  /**
   * Where the JSON lines go: a file path (appended, created with its folder by the caller), a
   * writable stream, or undefined for stderr.
   */
  destination?: string | NodeJS.WritableStream;
  /**
   * Buffer writes (sonic-boom async mode). Faster on the hot intake path; the last lines may be
   * lost if the process is killed. Default true for files, false for stderr.
   */
  async?: boolean;
}

/**
 * The stack's structured logger: one JSON object per line with `orderId` and `requestId` where
 * they are known, so an operator can follow one order through intake and the pipeline.
 */
export function createStackLogger(opts: StackLoggerOptions = {}): pino.Logger {
  const level = opts.level ?? 'info';
  const base = { name: 'surgectl-stack' };
  const dest = opts.destination;
  if (dest !== undefined && typeof dest !== 'string') return pino({ level, base }, dest);
  const async = opts.async ?? typeof dest === 'string';
  if (typeof dest === 'string') {
    // Our own file stream, not pino.destination: sonic-boom's flushSync (pino's exit hook) retries
    // a failed write every 100 ms forever, so on a full disk the process never exited (issue 17).
    // One write per 4 KiB instead of one per line: at surge rates the per-line syscall showed up in profiles.
    const file = openLogFile(dest, { minLength: async ? 4096 : 0, report: (line) => process.stderr.write(`surgectl: ${line}\n`) });
    return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, file);
  }
  const stream = pino.destination({ dest: 2, sync: !async });
  // A log that stops being writable must not take the stack down with an unhandled 'error'
  // event: say so once on stderr and go on without it.
  let reported = false;
  stream.on('error', (err: Error) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`surgectl: the stack log stream cannot be written (${err.message}); going on without it\n`);
  });
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

/** Write errors that mean "no room or a failing disk": lines are dropped (counted), never retried on a timer. */
const DISK_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'EROFS']);

/** A log file as pino's destination: bounded memory, no retry loop, a bounded final flush. */
export interface LogFile {
  write(line: string): boolean;
  /** Writes what is buffered; `cb` runs once written or dropped, or after `timeoutMs` (default 2 000) at the latest. */
  flush(cb?: (err?: Error) => void, timeoutMs?: number): void;
  /** One synchronous attempt to write what is buffered (process exit); a failure drops it. Never retries. */
  flushSync(): void;
  /** Flushes synchronously and closes the file. */
  end(): void;
  /** Lines dropped because the disk was full or failing, since the last "dropped" line was written. */
  readonly dropped: number;
}

export interface LogFileOptions {
  /** Buffer until this many bytes before writing (0 = write each line at once, synchronously). Default 4096. */
  minLength?: number;
  /** Lines beyond this many buffered bytes are dropped (counted). Default 1 MiB. */
  maxBufferBytes?: number;
  /** A buffered line is written within this many ms. Default 250. */
  flushIntervalMs?: number;
  /** One line for the operator (stderr) when the log stops or starts being writable again. */
  report(line: string): void;
}

const open = new Set<LogFile>();
let exitHooked = false;

/**
 * Opens `path` for appending (its folder created). While the disk is full (ENOSPC, EIO ...) lines
 * are dropped and counted instead of held in memory or retried; the first write that succeeds
 * again is preceded by a "N log lines dropped" line. Nothing here keeps the process alive.
 */
export function openLogFile(path: string, opts: LogFileOptions): LogFile {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a');
  const minLength = opts.minLength ?? 4096;
  const maxBuffer = opts.maxBufferBytes ?? 1024 * 1024;
  const intervalMs = opts.flushIntervalMs ?? 250;
  let pending: string[] = [];
  let bytes = 0;
  let writing = false;
  let closed = false;
  let dropped = 0;
  let failing: string | undefined;
  let waiters: ((err?: Error) => void)[] = [];
  let timer: NodeJS.Timeout | undefined;

  const take = (): { chunk: Buffer; lines: number; reported: number } | undefined => {
    if (pending.length === 0) return undefined;
    const lines = pending.length;
    let text = pending.join('');
    pending = [];
    bytes = 0;
    // Said in the log itself once it can be written again (a try while failing would be lost too).
    const reported = failing === undefined ? dropped : 0;
    if (reported > 0) text = droppedLine(reported) + text;
    return { chunk: Buffer.from(text), lines, reported };
  };
  const droppedLine = (n: number) =>
    JSON.stringify({ level: 40, time: new Date().toISOString(), name: 'surgectl-stack', dropped: n, msg: `${n} log lines dropped: the log file could not be written (disk full or failing)` }) + '\n';
  const settle = ({ lines, reported }: { lines: number; reported: number }, err: NodeJS.ErrnoException | null) => {
    if (err === null) {
      dropped -= reported;
      if (failing !== undefined) opts.report(`the stack log ${path} is writable again`);
      failing = undefined;
      return;
    }
    dropped += lines;
    if (failing === undefined) {
      failing = err.code ?? err.message;
      const why = DISK_ERRORS.has(err.code ?? '') ? 'disk full or failing' : 'write error';
      opts.report(`the stack log ${path} cannot be written (${why}: ${err.message}); dropping log lines until it can`);
    }
  };
  // A chunk cut short by a full disk would leave half a JSON line: cut it off again (we are the
  // only writer; the data dir is locked), so the log stays one valid object per line.
  const untear = (written: number) => {
    try {
      ftruncateSync(fd, Math.max(0, fstatSync(fd).size - written));
    } catch {
      // the file keeps a torn line; readers skip it
    }
  };
  const writeAsync = () => {
    if (writing || closed) return;
    const next = take();
    if (next === undefined) {
      const done = waiters;
      waiters = [];
      for (const w of done) w();
      return;
    }
    writing = true;
    let off = 0;
    const step = () =>
      fsWrite(fd, next.chunk, off, next.chunk.length - off, null, (err, n) => {
        if (err === null && off + n < next.chunk.length) {
          off += n;
          return step();
        }
        writing = false;
        if (err !== null && off > 0) untear(off);
        settle(next, err);
        writeAsync();
      });
    step();
  };
  const writeSyncOnce = () => {
    const next = take();
    if (next === undefined) return;
    let off = 0;
    try {
      while (off < next.chunk.length) off += writeSync(fd, next.chunk, off, next.chunk.length - off);
      settle(next, null);
    } catch (err) {
      if (off > 0) untear(off);
      settle(next, err as NodeJS.ErrnoException);
    }
  };

  const file: LogFile = {
    write(line) {
      if (closed) return true;
      if (bytes + line.length > maxBuffer) {
        dropped++;
        return true;
      }
      pending.push(line);
      bytes += line.length;
      if (minLength === 0) {
        if (!writing) writeSyncOnce();
      } else if (bytes >= minLength) writeAsync();
      else timer ??= setTimeout(() => {
          timer = undefined;
          writeAsync();
        }, intervalMs).unref();
      return true;
    },
    flush(cb, timeoutMs = 2_000) {
      if (cb === undefined) return writeAsync();
      let called = false;
      const once = (err?: Error) => {
        if (called) return;
        called = true;
        clearTimeout(limit);
        cb(err);
      };
      const limit = setTimeout(() => once(new Error(`the stack log was not flushed within ${timeoutMs} ms`)), timeoutMs).unref();
      waiters.push(once);
      if (!writing) writeAsync();
    },
    flushSync() {
      if (closed || writing) return; // an async write in flight finishes on its own; never wait for it
      writeSyncOnce();
    },
    end() {
      if (closed) return;
      if (timer !== undefined) clearTimeout(timer);
      file.flushSync();
      closed = true;
      open.delete(file);
      if (dropped > 0) opts.report(`${dropped} stack log lines were dropped: ${path} could not be written`);
      if (!writing) closeSync(fd);
    },
    get dropped() {
      return dropped;
    },
  };
  open.add(file);
  if (!exitHooked) {
    exitHooked = true;
    // Bounded final flush: one synchronous attempt per open log, then the process exits.
    process.once('exit', () => {
      for (const f of [...open]) f.end();
    });
  }
  return file;
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): pino.Logger {
  return pino({ level: 'silent' });
}

/** How long a batched line gathers entries before it is written, ms. */
const BATCHED_LINE_MS = 50;

/** One log line about many orders (see batchedLine). */
export interface BatchedLine {
  /** Adds one entry: one value per field, in the order of `fields`. */
  add(...values: (string | null)[]): void;
  /** Writes what was gathered now (at close), if anything. */
  flush(): void;
}

/**
 * One log line for the orders of a short interval, instead of one per order: `add` appends one
 * entry to aligned lists of plain strings (a list of objects costs twice as much to serialise),
 * and `intervalMs` after the first entry the line is written as `{ [countKey]: n, [field]: [...] }`.
 * A line per order cost about 7 % of the intake's CPU at full load, and still about 2 µs per
 * accepted order at one line per event-loop turn (bench/intake.mjs, 2026-12-05). The timer keeps
 * the process alive until the line is out; callers flush() at close.
 */
export function batchedLine(logger: { info(obj: object, msg: string): void }, msg: string, countKey: string, fields: readonly string[], intervalMs = BATCHED_LINE_MS): BatchedLine {
  let lists: (string | null)[][] = fields.map(() => []);
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const n = lists[0]!.length;
    if (n === 0) return;
    const line: Record<string, unknown> = { [countKey]: n };
    fields.forEach((f, i) => (line[f] = lists[i]));
    lists = fields.map(() => []);
    logger.info(line, msg);
  };
  return {
    add(...values) {
      for (let i = 0; i < fields.length; i++) lists[i]!.push(values[i] ?? null);
      timer ??= setTimeout(flush, intervalMs);
    },
    flush,
  };
}

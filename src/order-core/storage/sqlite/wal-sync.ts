import { closeSync, fdatasync, fdatasyncSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Makes committed SQLite transactions durable without blocking the event loop.
 *
 * better-sqlite3 is synchronous: with `synchronous=FULL` every commit's fsync (≈1–4 ms on a VM
 * disk) stalls the one thread that also parses requests and runs workers. Instead the connection
 * runs WAL with `synchronous=NORMAL` (a commit writes its frames to the WAL file, no fsync; a
 * killed process loses nothing, the OS has the pages) and we fdatasync the WAL file on libuv's
 * thread pool before telling anyone a write is durable. An fdatasync started after a commit
 * covers that commit, so an acknowledged order is on disk exactly as with FULL, while the event
 * loop goes on accepting the next group. Checkpoints still fsync the WAL before copying it into
 * the database file (SQLite does that in NORMAL mode too), so the WAL is never overwritten
 * before what it held is durable elsewhere.
 */
export class WalSync {
  private fd: number | undefined;
  /** close() was called: new syncs are refused, the ones already promised still run. */
  private closing = false;
  /** An fdatasync is running now. */
  private running = false;
  /** Callers that arrived while one ran: they share the next fdatasync. */
  private waiting: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  /**
   * The first failed fdatasync. Sticky: Linux reports a writeback error once and may drop the
   * pages it could not write, so a later fdatasync that succeeds does not cover earlier commits.
   */
  private failed: Error | undefined;
  /** fdatasync calls issued (for tests and diagnostics). */
  syncs = 0;
  /** Called after each fdatasync has settled its callers, before the next one starts. */
  onSettled: (() => void) | undefined;
  /** Called with the seconds each successful fdatasync took (the blocking ones too). */
  onSynced: ((seconds: number) => void) | undefined;

  constructor(
    walFile: string,
    private readonly datasync: typeof fdatasync = fdatasync,
  ) {
    this.fd = openSync(walFile, 'r');
    // The WAL file's directory entry must be durable too, once.
    const dirFd = openSync(dirname(walFile), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /** An fdatasync is running: a commit made now is covered only by the next one. */
  get busy(): boolean {
    return this.running;
  }

  /**
   * Resolves once everything committed before the call is on disk. At most one fdatasync runs at a
   * time: callers that arrive meanwhile share the next one, which starts when the running one ends
   * (the running one may have started before their commit, the next cannot have). Under load that
   * is one fdatasync per disk round trip instead of one per group commit queueing up in libuv's
   * thread pool.
   */
  sync(): Promise<void> {
    if (this.fd === undefined || this.closing) return Promise.reject(new Error('order store WAL is closed'));
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) this.startNext();
    });
  }

  private startNext(): void {
    const fd = this.fd;
    const batch = this.waiting.splice(0);
    if (fd === undefined || batch.length === 0) return;
    this.running = true;
    this.syncs++;
    const started = performance.now();
    this.datasync(fd, (err) => {
      this.running = false;
      if (err) this.failed ??= err;
      else this.onSynced?.((performance.now() - started) / 1000);
      const failed = this.failed;
      if (failed !== undefined) {
        // Those waiting for the next fdatasync get the same error: no later one can vouch for them.
        for (const w of [...batch, ...this.waiting.splice(0)]) w.reject(failed);
      } else {
        for (const w of batch) w.resolve();
      }
      // may commit and call sync(), which then starts the next fdatasync itself
      this.onSettled?.();
      if (this.waiting.length > 0 && !this.running) this.startNext();
      else if (this.closing) this.release();
    });
  }

  /** The blocking form, for rare synchronous writes (cancel, flags, seeding). */
  syncNow(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.fd === undefined || this.closing) return;
    try {
      const started = performance.now();
      fdatasyncSync(this.fd);
      this.onSynced?.((performance.now() - started) / 1000);
    } catch (err) {
      this.failed ??= err as Error;
      throw err;
    }
  }

  /** Refuses new syncs and closes the descriptor once the syncs already promised have run. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (!this.running) this.release();
  }

  private release(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) closeSync(fd);
  }
}

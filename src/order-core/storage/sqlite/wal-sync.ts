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
  private inFlight = 0;
  private closeWhenIdle = false;

  constructor(walFile: string) {
    this.fd = openSync(walFile, 'r');
    // The WAL file's directory entry must be durable too, once.
    const dirFd = openSync(dirname(walFile), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return Promise.reject(new Error('order store WAL is closed'));
    this.inFlight++;
    return new Promise((resolve, reject) => {
      fdatasync(fd, (err) => {
        this.inFlight--;
        if (this.closeWhenIdle && this.inFlight === 0) closeSync(fd);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** The blocking form, for rare synchronous writes (cancel, flags, seeding). */
  syncNow(): void {
    if (this.fd !== undefined) fdatasyncSync(this.fd);
  }

  /** Closes the descriptor once syncs in flight have finished. */
  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    if (this.inFlight === 0) closeSync(fd);
    else this.closeWhenIdle = true;
  }
}

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { GiveUp } from '../domain/outcomes.js';
import type { WorkerPoolControl } from '../engine.js';
import type { StackMetrics } from '../metrics.js';
import type { WorkLease as LeasedJob, WorkStore } from '../storage/ports.js';
import type { JobResult, Worker } from './steps.js';

/** How a finished job ended, for a job source that acknowledges work elsewhere (the RabbitMQ work queue). */
export type JobEnd =
  /** The worker returned: the order is final, or waits for its next due time in the store. */
  | 'done'
  /** The worker threw unexpectedly: its lease is still held. */
  | 'failed'
  /** Abandoned without an answer: the lease was lost, or the worker was killed or stopped. */
  | 'abandoned';

/**
 * Where the dispatcher gets its jobs. Default: the store's own queue (leaseBatch of due orders).
 * The RabbitMQ work queue (messaging/queue-dispatch.ts) leases only the orders it was handed.
 */
export interface JobSource {
  /** Leases up to tokens.length jobs, one token each. */
  take(tokens: string[], leaseMs: number, opts: { reserve?: boolean; startPayment?: boolean }): Promise<LeasedJob[]>;
  /** Called once per job taken, when its worker is done with it. */
  finished?(job: LeasedJob, end: JobEnd): void;
  /** The pool's size changed (a source may hold more work in hand). */
  resized?(workers: number): void;
}

export interface WorkerPoolOptions {
  store: Pick<WorkStore, 'leaseBatch' | 'renewLease'>;
  /** Where jobs come from. Default: `store.leaseBatch`. */
  source?: JobSource;
  worker: Worker;
  /** Lease length, ms; renewed every third of it while a job runs. */
  leaseMs: number;
  logger: Logger;
  metrics: StackMetrics;
  now: () => number;
  /** Longest sleep of an idle dispatcher between looks at the queue, ms. Default 100. */
  pollMs?: number;
  /** Options for each lease: reserve new orders in the lease commit, and whether to mark their payment started. */
  leaseOptions?: () => { reserve: boolean; startPayment: boolean };
  /** Called with each finished job's result. */
  onResult?: (job: LeasedJob, result: JobResult) => void;
}

/** setSize asked a draining or stopped pool for more workers. */
export class PoolDrainingError extends Error {
  constructor() {
    super('the worker pool is draining and starts no new workers');
    this.name = 'PoolDrainingError';
  }
}

/** Why a worker's signal was aborted. */
export class WorkerKilled extends Error {
  constructor() {
    super('worker killed (simulated crash)');
    this.name = 'WorkerKilled';
  }
}

interface WorkerSlot {
  id: number;
  abort: AbortController;
  job: LeasedJob | undefined;
  /** Aborts the running job (lease lost, or the worker killed or stopped). */
  jobAbort: AbortController | undefined;
  /** Set when the pool shrinks: leave after the current job. */
  retiring: boolean;
  /** Resolves the worker's wait for its next job (undefined = stop). */
  handOff: ((job: LeasedJob | undefined) => void) | undefined;
}

const THROUGHPUT_WINDOW_S = 10;

/**
 * In-process async workers fed by one dispatcher. The dispatcher leases as many due jobs as there
 * are idle workers in one transaction (one fsync for many jobs) and hands them out; a worker that
 * finishes goes back to waiting. Workers are cheap: the work is I/O (SQLite commits, the gateway).
 */
export class WorkerPool implements WorkerPoolControl {
  private readonly slots = new Map<number, WorkerSlot>();
  private readonly idle: WorkerSlot[] = [];
  private nextId = 1;
  private target = 0;
  private paused = false;
  private draining = false;
  /** The dispatcher's lease commit while it runs: the workers it will feed are out of `idle`. */
  private leasing: Promise<unknown> | undefined;
  private stopped = false;
  private wakeDispatcher: (() => void) | undefined;
  private dispatcherDone: Promise<void> = Promise.resolve();
  private readonly prefix = randomBytes(4).toString('hex');
  private leaseSeq = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly buckets = new Array<number>(THROUGHPUT_WINDOW_S).fill(0);
  private bucketSecond = 0;
  private busyCount = 0;
  /** Exponentially weighted mean job duration, ms. */
  private avgJobMs: number | undefined;
  /** Jobs leased for workers that went away before the hand-off. */
  private readonly spare: LeasedJob[] = [];

  private readonly source: JobSource;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.source = opts.source ?? { take: (tokens, leaseMs, o) => opts.store.leaseBatch(tokens, leaseMs, o) };
  }

  start(size: number): void {
    this.dispatcherDone = this.dispatchLoop();
    this.setSize(size);
  }

  /** Wakes the dispatcher now (new orders were committed). */
  notify(): void {
    this.wakeDispatcher?.();
  }

  size(): number {
    return this.target;
  }

  busy(): number {
    return this.busyCount;
  }

  setSize(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`worker count must be a whole number >= 0, got ${n}`);
    // A draining or stopped pool starts no worker: one would leave at once, and the loop below
    // would never see the count it waits for.
    if ((this.draining || this.stopped) && n > this.target) throw new PoolDrainingError();
    this.target = n;
    this.source.resized?.(n);
    let live = [...this.slots.values()].filter((s) => !s.retiring);
    while (live.length < n && !this.draining && !this.stopped) {
      this.spawn();
      live = [...this.slots.values()].filter((s) => !s.retiring);
    }
    // Shrink: idle workers go at once, busy ones after their job.
    while (live.length > n) {
      const idle = this.idle.pop();
      // a worker that is neither idle nor busy is waiting on a lease in flight: the dispatcher
      // sees it retiring and releases it
      const victim = idle ?? live.find((s) => s.job !== undefined) ?? live[live.length - 1];
      if (victim === undefined) break;
      victim.retiring = true;
      if (idle !== undefined) idle.handOff?.(undefined);
      live = live.filter((s) => s !== victim);
    }
    this.updateGauges();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.notify();
  }

  isPaused(): boolean {
    return this.paused;
  }

  killWorker(): { killed: boolean; orderId?: string } {
    const victim = [...this.slots.values()].find((s) => s.job !== undefined && !s.retiring) ?? this.idle[0];
    if (victim === undefined) return { killed: false };
    const orderId = victim.job?.orderId;
    // The crash: the worker stops mid-job without ack; its lease runs out and the job comes back.
    this.slots.delete(victim.id);
    const i = this.idle.indexOf(victim);
    if (i >= 0) this.idle.splice(i, 1);
    const killed = new WorkerKilled();
    victim.abort.abort(killed);
    victim.jobAbort?.abort(killed);
    victim.handOff?.(undefined);
    this.opts.logger.warn({ worker: victim.id, ...(orderId !== undefined ? { orderId } : {}) }, 'worker killed (simulated crash)');
    // A supervisor restarts crashed workers: the pool keeps its size.
    if (!this.stopped && !this.draining) this.setSize(this.target);
    return orderId !== undefined ? { killed: true, orderId } : { killed: true };
  }

  throughputPerSec(): number {
    this.rollBuckets();
    const sum = this.buckets.reduce((a, b) => a + b, 0);
    return sum / THROUGHPUT_WINDOW_S;
  }

  /**
   * Orders per second the pool is expected to finish, for ETAs: the measured rate when orders
   * completed recently, else (after an idle spell) workers / average job time; 0 when unknown.
   */
  expectedRatePerSec(): number {
    const measured = this.throughputPerSec();
    if (measured > 0) return measured;
    if (this.paused || this.target === 0 || this.avgJobMs === undefined || this.avgJobMs <= 0) return 0;
    return this.target / (this.avgJobMs / 1000);
  }

  async drain(timeoutMs: number): Promise<{ drained: boolean; inFlight: number }> {
    this.draining = true;
    for (const s of this.idle.splice(0)) s.handOff?.(undefined);
    const deadline = Date.now() + timeoutMs;
    // Jobs from a lease that was committing when the drain began are ours already: they are
    // handed out and run like any in flight, so wait for the lease and let the workers start.
    if (this.leasing !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.leasing.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
      await new Promise((r) => setImmediate(r));
    }
    while (this.busyCount > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all(this.running), new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, deadline - Date.now()))))]);
    }
    return { drained: this.busyCount === 0, inFlight: this.busyCount };
  }

  /**
   * Stops everything. Jobs still running after the drain are aborted without ack: their leases
   * stay, and the next start reclaims them.
   */
  async stop(drainTimeoutMs: number): Promise<{ drained: boolean; inFlight: number }> {
    const result = await this.drain(drainTimeoutMs);
    this.stopped = true;
    for (const s of this.slots.values()) {
      const stopped = new GiveUp('pool stopped');
      s.abort.abort(stopped);
      s.jobAbort?.abort(stopped);
      s.handOff?.(undefined);
    }
    this.wakeDispatcher?.();
    await this.dispatcherDone;
    await Promise.allSettled([...this.running]);
    this.slots.clear();
    this.idle.length = 0;
    return result;
  }

  private spawn(): void {
    const slot: WorkerSlot = { id: this.nextId++, abort: new AbortController(), job: undefined, jobAbort: undefined, retiring: false, handOff: undefined };
    this.slots.set(slot.id, slot);
    const p = this.workerLoop(slot).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  private async workerLoop(slot: WorkerSlot): Promise<void> {
    while (!this.stopped && !slot.retiring && !slot.abort.signal.aborted && !this.draining) {
      const job = await new Promise<LeasedJob | undefined>((resolve) => {
        slot.handOff = resolve;
        this.idle.push(slot);
        this.wakeDispatcher?.();
      });
      slot.handOff = undefined;
      if (job === undefined) break;
      await this.runJob(slot, job);
    }
    if (this.slots.get(slot.id) === slot) this.slots.delete(slot.id);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    this.updateGauges();
  }

  private async runJob(slot: WorkerSlot, job: LeasedJob): Promise<void> {
    slot.job = job;
    this.busyCount++;
    this.updateGauges();
    // One controller per job, aborted by a lost lease or by the slot's kill/stop (cheaper than
    // AbortSignal.any over the slot's signal and a lease signal, which showed up in profiles).
    const jobAbort = new AbortController();
    slot.jobAbort = jobAbort;
    if (slot.abort.signal.aborted) jobAbort.abort(slot.abort.signal.reason);
    const renew = setInterval(() => {
      if (slot.abort.signal.aborted) return; // a crashed worker renews nothing
      this.opts.store.renewLease(job.orderId, job.token, this.opts.leaseMs).then(
        (held) => {
          if (!held) jobAbort.abort(new GiveUp('lease lost'));
        },
        () => undefined, // store restarting: the next renewal tries again
      );
    }, Math.max(10, Math.floor(this.opts.leaseMs / 3)));
    let end: JobEnd = 'abandoned';
    try {
      const started = performance.now();
      const result = await this.opts.worker(job, jobAbort.signal);
      end = 'done';
      if (result.kind === 'completed') {
        this.countCompletion();
        const ms = performance.now() - started;
        this.avgJobMs = this.avgJobMs === undefined ? ms : this.avgJobMs * 0.9 + ms * 0.1;
      }
      this.opts.onResult?.(job, result);
    } catch (err) {
      if (err instanceof GiveUp || slot.abort.signal.aborted) {
        this.opts.logger.debug({ orderId: job.orderId, reason: (err as Error).message }, 'job abandoned');
      } else {
        end = 'failed';
        // Unexpected: keep the lease; the job is retried after it expires.
        this.opts.logger.error({ orderId: job.orderId, err }, 'job failed; it will be retried after its lease expires');
      }
    } finally {
      clearInterval(renew);
      this.source.finished?.(job, end);
      slot.job = undefined;
      slot.jobAbort = undefined;
      this.busyCount--;
      this.updateGauges();
    }
  }

  private async dispatchLoop(): Promise<void> {
    const pollMs = this.opts.pollMs ?? 100;
    while (!this.stopped) {
      let leased = 0;
      let wanted = 0;
      if (!this.paused && !this.draining && this.idle.length > 0) {
        const waiting = this.idle.splice(0, this.idle.length);
        wanted = waiting.length;
        let jobs: LeasedJob[] = [];
        try {
          const leasing = this.source.take(
            waiting.map(() => `${this.prefix}:${++this.leaseSeq}`),
            this.opts.leaseMs,
            this.opts.leaseOptions?.() ?? {},
          );
          this.leasing = leasing;
          jobs = await leasing;
        } catch (err) {
          this.opts.logger.error({ err }, 'leasing jobs failed');
        } finally {
          this.leasing = undefined;
        }
        leased = jobs.length;
        for (const job of jobs) if (job.redelivered) this.opts.metrics.redeliveries.inc();
        // A worker may have been killed or retired while the lease committed: its job goes to
        // the next live worker rather than waiting for the lease to run out.
        const alive = (w: WorkerSlot) => this.slots.get(w.id) === w && !w.retiring && w.handOff !== undefined;
        const live = waiting.filter(alive);
        for (const w of waiting) if (w.retiring && w.handOff !== undefined) w.handOff(undefined);
        this.spare.push(...jobs);
        while (this.spare.length > 0) {
          const w = live.shift() ?? this.idle.shift();
          if (w === undefined) break;
          const handOff = w.handOff;
          w.handOff = undefined;
          handOff?.(this.spare.shift());
        }
        // Workers left without a job go back to waiting, or home when a drain began meanwhile.
        for (const w of live) {
          if (!this.draining) this.idle.push(w);
          else {
            const handOff = w.handOff;
            w.handOff = undefined;
            handOff?.(undefined);
          }
        }
      } else if (this.spare.length > 0 && this.idle.length > 0 && !this.stopped) {
        while (this.spare.length > 0 && this.idle.length > 0) {
          const w = this.idle.shift() as WorkerSlot;
          const handOff = w.handOff;
          w.handOff = undefined;
          handOff?.(this.spare.shift());
        }
      }
      if (leased > 0 && leased === wanted) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, pollMs);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.wakeDispatcher = done;
      });
      this.wakeDispatcher = undefined;
    }
  }

  private countCompletion(): void {
    this.rollBuckets();
    this.buckets[this.bucketSecond % THROUGHPUT_WINDOW_S]! += 1;
  }

  private rollBuckets(): void {
    const sec = Math.floor(this.opts.now() / 1000);
    if (this.bucketSecond === 0) this.bucketSecond = sec;
    for (let s = this.bucketSecond + 1; s <= sec && s - this.bucketSecond <= THROUGHPUT_WINDOW_S; s++) this.buckets[s % THROUGHPUT_WINDOW_S] = 0;
    this.bucketSecond = Math.max(this.bucketSecond, sec);
  }

  private updateGauges(): void {
    this.opts.metrics.workers.set({ state: 'busy' }, this.busyCount);
    this.opts.metrics.workers.set({ state: 'idle' }, Math.max(0, this.slots.size - this.busyCount));
  }
}

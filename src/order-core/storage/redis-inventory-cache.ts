import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { InventoryItem } from '../domain/types.js';
import type { OrderReads } from './ports.js';

/** What the cache reads through to: any store's listInventory (SQLite, PostgreSQL). */
export type InventorySource = Pick<OrderReads, 'listInventory'>;

export interface RedisInventoryCacheOptions {
  /**
   * The ioredis client. The cache never closes it (the caller owns it and may share it) and
   * listens to its 'error' events only to name the cause in its log line.
   */
  redis: Redis;
  /** The source of truth the cache reads through to. */
  store: InventorySource;
  /**
   * Prefix of the two keys (`<prefix>:list`, the copy, expiring after maxStalenessMs;
   * `<prefix>:gen`, a counter bumped by invalidate()). Every replica of one stack uses the same
   * prefix, so they share one copy. Default 'surgectl:inventory'.
   */
  keyPrefix?: string;
  /**
   * How old an answer may be, ms: a copy is served only while younger than this, counted from the
   * start of the store read that made it (Redis expires it then). Default 1 000.
   */
  maxStalenessMs?: number;
  /** How long a Redis call may take before the store is read instead, ms. Default 100. */
  timeoutMs?: number;
  /** After Redis failed: the store is read directly for this long before Redis is tried again, ms. Default 1 000. */
  retryAfterMs?: number;
  /** One warn line when Redis fails (reads go to the store) and one when it answers again. */
  logger: Logger;
  /** Registry for `surgectl_inventory_cache_reads_total` (the stack's; none when omitted). */
  registry?: Registry;
  /** Clock, epoch ms (tests). Default Date.now. */
  now?: () => number;
}

/** Counts since the cache was made. */
export interface InventoryCacheStats {
  /** Answers from the Redis copy. */
  hits: number;
  /** Lookups that found no fresh copy and read the store (once per refill, however many callers shared it). */
  misses: number;
  /** Lookups that read the store because Redis was unreachable, failing or slow. */
  bypassed: number;
}

/**
 * A read-through availability cache for GET /v1/inventory. Never the source of truth: the
 * reservation path reads the store, never this; stock shown to clients may lag by maxStalenessMs.
 */
export interface RedisInventoryCache extends InventorySource {
  /**
   * The store's inventory, from the shared Redis copy while it is younger than maxStalenessMs, else
   * from the store (the copy is then refilled). Concurrent callers in one process share one lookup
   * and at most one store read. Never rejects because of Redis (then the store is read); rejects
   * as the store does.
   */
  listInventory(): Promise<InventoryItem[]>;
  /**
   * Drops the copy for every replica after a write that changed stock, and keeps a refill that was
   * already reading the store from writing its older answer back. Never rejects: when Redis cannot
   * be reached the copy simply expires within maxStalenessMs.
   */
  invalidate(): Promise<void>;
  /** 'redis' while the copy is used, 'store' while Redis is bypassed after a failure. */
  readonly mode: 'redis' | 'store';
  readonly stats: Readonly<InventoryCacheStats>;
  /** Stops listening to the client's events. The client stays open. */
  close(): void;
}

/** Writes the copy only if no invalidate() happened since the refill began (the generation it read). */
const WRITE_IF_SAME_GEN_LUA = `
if (redis.call('get', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** The copy as stored: the items and when the store read that made them began (epoch ms, for operators). */
interface StoredCopy {
  readAt: number;
  items: InventoryItem[];
}

function parseCopy(raw: string | null): InventoryItem[] | undefined {
  if (raw === null) return undefined;
  try {
    const copy = JSON.parse(raw) as Partial<StoredCopy>;
    const items = copy.items;
    // Another version's or a damaged value is a miss (and is overwritten), never an answer.
    if (!Array.isArray(items)) return undefined;
    for (const i of items as unknown[]) {
      const it = i as Partial<InventoryItem> | null;
      if (it === null || typeof it !== 'object' || typeof it.sku !== 'string' || typeof it.available !== 'number' || typeof it.reserved !== 'number' || typeof it.sold !== 'number') {
        return undefined;
      }
    }
    return items;
  } catch {
    return undefined;
  }
}

/** `p`, or a rejection after `ms` (the timer cleared either way; a late failure of `p` is ignored). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * A read-through availability cache in Redis in front of any store's listInventory. One key holds
 * the list (JSON) with a PX expiry of maxStalenessMs counted from the start of the store read that
 * made it, so every replica serves it only while it is fresh enough and Redis holds nothing older.
 * A miss reads the store once per process (concurrent callers share the lookup) and writes the copy
 * unless invalidate() ran meanwhile (a generation counter, checked and written in one script).
 *
 * Redis unreachable (the client is not connected: decided at once), failing or slower than
 * timeoutMs: the store answers, the cache says so once (a warn line, the `bypass` count) and reads
 * the store directly for retryAfterMs before trying Redis again; one line again when it answers.
 */
export function createRedisInventoryCache(opts: RedisInventoryCacheOptions): RedisInventoryCache {
  const { redis, store, logger } = opts;
  const now = opts.now ?? Date.now;
  const prefix = opts.keyPrefix ?? 'surgectl:inventory';
  const listKey = `${prefix}:list`;
  const genKey = `${prefix}:gen`;
  const maxStalenessMs = opts.maxStalenessMs ?? 1_000;
  const timeoutMs = opts.timeoutMs ?? 100;
  const retryAfterMs = opts.retryAfterMs ?? 1_000;
  if (!(maxStalenessMs > 0) || !Number.isFinite(maxStalenessMs)) throw new RangeError(`maxStalenessMs must be a positive number of ms, got ${maxStalenessMs}`);
  const where = `${redis.options.host ?? '127.0.0.1'}:${redis.options.port ?? 6379}`;
  const reads =
    opts.registry === undefined
      ? undefined
      : ((opts.registry.getSingleMetric('surgectl_inventory_cache_reads_total') as Counter<'result'> | undefined) ??
        new Counter({
          name: 'surgectl_inventory_cache_reads_total',
          help: 'Inventory lookups by result: hit (the Redis copy), miss (store read, copy refilled), bypass (store read: Redis unreachable, failing or slow).',
          labelNames: ['result'] as const,
          registers: [opts.registry],
        }));
  const stats: InventoryCacheStats = { hits: 0, misses: 0, bypassed: 0 };

  let mode: 'redis' | 'store' = 'redis';
  let downSince = 0;
  let retryAt = 0;
  let lastError: string | undefined;
  const onError = (err: Error) => {
    lastError = err.message;
  };
  redis.on('error', onError);

  /** Runs `call` on Redis within timeoutMs; undefined (and store mode) when it fails. */
  const tryRedis = async <T>(call: () => Promise<T>): Promise<{ value: T } | undefined> => {
    if (redis.status !== 'ready') {
      down(`not connected (${redis.status}${lastError === undefined ? '' : `: ${lastError}`})`);
      return undefined;
    }
    try {
      return { value: await withTimeout(call(), timeoutMs) };
    } catch (err) {
      down((err as Error).message);
      return undefined;
    }
  };
  const down = (reason: string) => {
    retryAt = now() + retryAfterMs;
    if (mode === 'store') return;
    mode = 'store';
    downSince = now();
    logger.warn(
      { redis: where, reason, inventoryCache: 'store' },
      `inventory cache: Redis at ${where} is unreachable or slow (${reason}); GET /v1/inventory reads the store directly until it answers again`,
    );
  };
  const up = () => {
    if (mode === 'redis') return;
    mode = 'redis';
    const ms = now() - downSince;
    // warn like the failure, so a log filtered at warn never shows an outage without its end.
    logger.warn({ redis: where, inventoryCache: 'redis', storeMs: ms }, `inventory cache: Redis at ${where} answers again; GET /v1/inventory is served from the shared copy again (it read the store for ${ms} ms)`);
  };

  const bypass = async (): Promise<InventoryItem[]> => {
    stats.bypassed++;
    reads?.inc({ result: 'bypass' });
    return store.listInventory();
  };

  const lookup = async (): Promise<InventoryItem[]> => {
    if (mode === 'store' && now() < retryAt) return bypass();
    const got = await tryRedis(() => redis.mget(listKey, genKey));
    if (got === undefined) return bypass();
    up();
    const [raw, gen] = got.value;
    const cached = parseCopy(raw ?? null);
    if (cached !== undefined) {
      stats.hits++;
      reads?.inc({ result: 'hit' });
      return cached;
    }
    stats.misses++;
    reads?.inc({ result: 'miss' });
    const readAt = now();
    const items = await store.listInventory();
    // The copy lives for what is left of maxStalenessMs since the read began (a slow read leaves less).
    const ttl = maxStalenessMs - (now() - readAt);
    if (ttl >= 1) {
      const copy = JSON.stringify({ readAt, items } satisfies StoredCopy);
      await tryRedis(() => redis.eval(WRITE_IF_SAME_GEN_LUA, 2, listKey, genKey, gen ?? '0', copy, String(Math.floor(ttl))));
    }
    return items;
  };

  // One lookup per process at a time; invalidate() starts a new epoch, which later callers do not share with.
  let epoch = 0;
  let inflight: { epoch: number; promise: Promise<InventoryItem[]> } | undefined;

  return {
    listInventory: () => {
      if (inflight !== undefined && inflight.epoch === epoch) return inflight.promise;
      const mine = { epoch, promise: lookup() };
      inflight = mine;
      const clear = () => {
        if (inflight === mine) inflight = undefined;
      };
      mine.promise.then(clear, clear);
      return mine.promise;
    },
    invalidate: async () => {
      epoch++;
      if (mode === 'store' && now() < retryAt) return;
      const done = await tryRedis(() => redis.multi().incr(genKey).del(listKey).exec());
      if (done !== undefined) up();
    },
    get mode() {
      return mode;
    },
    stats,
    close: () => {
      redis.off('error', onError);
    },
  };
}

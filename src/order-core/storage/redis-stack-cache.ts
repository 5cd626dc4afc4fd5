import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { withoutPassword } from '../../util/url.js';
import { createSharedRateLimiter, type SharedClientRateLimiter } from '../resilience/redis-rate-limit.js';
import { createRedisInventoryCache, type InventorySource, type RedisInventoryCache } from './redis-inventory-cache.js';

/** What a stack started with `--cache redis://…` opens: one Redis client, the shared limiter and the inventory copy on it. */
export interface StackCacheOptions {
  /** redis:// or rediss:// URL (its password is never logged). */
  url: string;
  /**
   * Names the rate limit's keys, `surgectl:<color or default>:rl:<client>`: every stack of one
   * color on this Redis shares each client's budget (replicas of one stack, whatever their store).
   */
  color: string | undefined;
  /** Requests per second per client, or 'off' (then only the inventory copy is used). */
  rateLimit: number | 'off';
  /** The store GET /v1/inventory reads through to. */
  store: InventorySource;
  /**
   * The store's identity (e.g. `SQLite <host>:<dataDir>`, a PostgreSQL URL without its password):
   * its hash names the inventory copy's keys, so stacks on one store share one copy and stacks on
   * different stores never serve each other's stock.
   */
  storeIdentity: string;
  /** The stack's registry (rate-limit and inventory-cache metrics). */
  registry: Registry;
  logger: Logger;
  /** How long the start waits for Redis before going on per process, ms. Default 2 000. */
  connectWaitMs?: number;
  /** How old a GET /v1/inventory answer may be, ms. Default 1 000. */
  inventoryMaxStalenessMs?: number;
}

export interface StackCache {
  readonly limiter: SharedClientRateLimiter;
  readonly inventory: RedisInventoryCache;
  /** 'redis' while both use Redis; 'local' while either does without (Redis unreachable or slow). */
  readonly mode: 'redis' | 'local';
  /** The URL as it may be shown (no password). */
  readonly where: string;
  /** Whether Redis answered within connectWaitMs at start. */
  readonly connectedAtStart: boolean;
  /** Stops the limiter and the cache and closes the client (QUIT, at most 1 s, then a plain disconnect). */
  close(): Promise<void>;
}

/** The hash that names a store in key names (short: a key is sent with every command). */
function storeKey(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

/**
 * Opens the stack's one Redis client and builds on it the per-client rate limit shared by every
 * intake replica and the read-through copy of the inventory. The start waits up to
 * connectWaitMs for Redis and never fails because of it: a Redis that is down means a stack that
 * limits per process and reads its inventory from the store (said in one warn line now, and by
 * the limiter and the cache when they switch), and that goes back to Redis once the client
 * reconnects (ioredis retries for ever, backing off to 2 s).
 *
 * The client fails commands at once while it is not connected (no offline queue, one attempt
 * per command): a request never waits for a reconnect, it is decided per process instead.
 */
export async function openStackCache(opts: StackCacheOptions): Promise<StackCache> {
  const where = withoutPassword(opts.url, 'Redis');
  const connectWaitMs = opts.connectWaitMs ?? 2_000;
  const redis = new Redis(opts.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: connectWaitMs,
    retryStrategy: (times) => Math.min(times * 50, 2_000),
  });
  let lastError: string | undefined;
  // ioredis prints an unhandled 'error' event itself, once per reconnect attempt: the limiter and
  // the cache log the outage once each instead.
  redis.on('error', (err: Error) => {
    lastError = err.message;
  });

  const connectedAtStart = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => finish(false), connectWaitMs);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => finish(true);
    redis.once('ready', onReady);
    // A refused first connection rejects this, and the client goes on retrying: 'ready' may still come within the wait.
    redis.connect().catch(() => undefined);
  });

  const base = `surgectl:${opts.color ?? 'default'}`;
  const limiter = createSharedRateLimiter({
    perSecond: opts.rateLimit,
    redis,
    keyPrefix: `${base}:rl`,
    registry: opts.registry,
    logger: opts.logger,
  });
  const inventory = createRedisInventoryCache({
    redis,
    store: opts.store,
    keyPrefix: `surgectl:inventory:${storeKey(opts.storeIdentity)}`,
    registry: opts.registry,
    logger: opts.logger,
    ...(opts.inventoryMaxStalenessMs === undefined ? {} : { maxStalenessMs: opts.inventoryMaxStalenessMs }),
  });
  if (!connectedAtStart) {
    const reason = lastError ?? `no answer within ${connectWaitMs} ms`;
    opts.logger.warn(
      { redis: where, reason, rateLimitMode: 'local', inventoryCache: 'store' },
      `cache: Redis at ${where} is unreachable (${reason}); starting without it: the rate limit is per process and GET /v1/inventory reads the store until Redis answers`,
    );
  }

  let closed: Promise<void> | undefined;
  return {
    limiter,
    inventory,
    get mode() {
      return redis.status === 'ready' && limiter.mode !== 'local' && inventory.mode === 'redis' ? 'redis' : 'local';
    },
    where,
    connectedAtStart,
    close: () => {
      closed ??= (async () => {
        limiter.close();
        inventory.close();
        if (redis.status !== 'ready') return redis.disconnect();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([redis.quit().catch(() => undefined), new Promise<void>((done) => (timer = setTimeout(done, 1_000)))]);
        clearTimeout(timer);
        redis.disconnect();
      })();
      return closed;
    },
  };
}

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RateLimiterCompatibleAbstract, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import { createClientRateLimiter, type ClientRateLimiter, type RateLimitDecision } from './rate-limit.js';

/** Where the limit is decided right now: in Redis (shared by every replica), per process, or nowhere (off). */
export type SharedRateLimitMode = 'redis' | 'local' | 'off';

export interface SharedRateLimiterOptions {
  /** Requests per second per client, or 'off': the same value and windows as createClientRateLimiter. */
  perSecond: number | 'off';
  /**
   * The ioredis client. The limiter never closes it (the caller owns it and may share it), defines
   * rate-limiter-flexible's `rlflxIncr` command on it (so do not share it with another
   * RateLimiterRedis that uses the library's default script), and listens to its 'error' events
   * only to name the cause in its log line.
   */
  redis: Redis;
  /**
   * Prefix of the Redis keys (`<prefix>:<clientId>`, one per client and window, expiring with the
   * window). Every intake replica of one stack must use the same prefix: that is what makes the
   * budget shared. Default 'surgectl:rl'.
   */
  keyPrefix?: string;
  /**
   * How long a decision may wait for Redis, ms; past it the request is decided per process and the
   * limiter switches to per-process mode. Default 100: far above a loopback or same-zone round trip,
   * and the most an order waits for its decision while Redis hangs.
   */
  timeoutMs?: number;
  /** While per process: at most how often Redis is tried again (one zero-cost take, in the background, when a request comes), ms. Default 1 000. */
  probeIntervalMs?: number;
  /** Registry for `surgectl_rate_limit_shared` and `surgectl_rate_limit_fallbacks_total` (the stack's; none when omitted). */
  registry?: Registry;
  /** One warn line when the limit falls back to per process and one when it is shared again. */
  logger: Logger;
  /** Clock, epoch ms (tests). Default Date.now. */
  now?: () => number;
}

/**
 * The per-client rate limit shared by every intake replica through Redis, with the interface and
 * meaning of the per-process one (rate-limit.ts: fixed windows of 1 s, or 1/perSecond s for
 * sub-1 rates; a refused request takes nothing; Retry-After is the time left in the window).
 */
export interface SharedClientRateLimiter extends ClientRateLimiter {
  /**
   * The exact shared decision: one Redis round trip (at most `timeoutMs`), except for a client this
   * process already knows to be over its budget in the current window, which is refused from
   * memory. Per process while Redis is unreachable or slow. Never rejects.
   */
  consume(clientId: string, cost?: number): Promise<RateLimitDecision>;
  /**
   * Synchronous, without waiting for Redis: refuses what this process knows to be over the shared
   * budget (knownRefusal) and, in per-process mode, decides as the per-process limiter; otherwise
   * it lets the request through and counts it in Redis in the background. So it can let through
   * more than the budget, by at most what reaches this replica within one Redis round trip after
   * the budget ran out. For callers that cannot wait; the intake gate should await consume().
   */
  take(clientId: string, cost?: number): RateLimitDecision;
  /**
   * The refusal this process can make with no I/O and without counting anything: the client's
   * shared budget for this window is known (from an earlier Redis answer) to be too small for
   * `cost`. Undefined when only Redis can tell. A synchronous pre-check that keeps refusals of
   * clients over their limit as cheap as the per-process limiter's.
   */
  knownRefusal(clientId: string, cost?: number): RateLimitDecision | undefined;
  /** 'redis' while shared, 'local' while per process (Redis unreachable or slow), 'off'. */
  readonly mode: SharedRateLimitMode;
  /** Stops listening to the client's events. The client stays open. */
  close(): void;
}

const ALLOWED: RateLimitDecision = Object.freeze({ allowed: true });

/**
 * rate-limiter-flexible's increment script, changed so that a refused request takes nothing
 * (the per-process limiter's rule): the count is only raised when it stays within the budget.
 * Returns {count with this request, ms left in the window}; a count above the budget is a refusal.
 * ARGV: cost, window s, budget (the library's argument order).
 */
const TAKE_IF_FITS_LUA = `
local cost = tonumber(ARGV[1])
local budget = tonumber(ARGV[3])
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then
  ttl = 1000 * tonumber(ARGV[2])
  if cost <= budget then redis.call('set', KEYS[1], cost, 'PX', ttl) end
  return {cost, ttl}
end
local used = tonumber(redis.call('get', KEYS[1]) or '0')
if used + cost > budget then return {used + cost, ttl} end
return {redis.call('incrby', KEYS[1], cost), ttl}
`;

/** The probe's key (under the prefix): a client id is an address, which never has a space. */
const PROBE_KEY = 'surgectl probe';

/**
 * Rate-limiter-flexible passes a call's options object down to the store and to the insurance
 * limiter: it carries, per call, whether the insurance decided and the store's error, if any.
 */
interface CallNote {
  local?: true;
  error?: string;
}

/** RateLimiterRedis noting its failures (errors, not refusals) in the call's CallNote, for the log line. */
class NotingRedisStore extends RateLimiterRedis {
  override consume(key: string | number, points?: number, options: CallNote = {}): Promise<RateLimiterRes> {
    return super.consume(key, points, options).catch((err: unknown) => {
      if (!(err instanceof RateLimiterRes)) options.error = err instanceof Error ? err.message : String(err);
      throw err;
    });
  }
}

/**
 * The per-process limiter as rate-limiter-flexible's insurance limiter: the library calls it when
 * Redis fails or does not answer in time, so the fallback decides exactly as a single process
 * does today (and take() can ask it synchronously).
 */
class PerProcessInsurance extends RateLimiterCompatibleAbstract {
  // Own data properties: they shadow the abstract class's throwing accessors; the library sets
  // blockDuration and execEvenly on its insurance limiter, which this one does not use.
  override keyPrefix = '';
  override blockDuration = 0;
  override execEvenly = false;

  constructor(private readonly local: ClientRateLimiter) {
    super();
  }

  override consume(key: string | number, points = 1, options: CallNote = {}): Promise<RateLimiterRes> {
    options.local = true;
    const d = this.local.take(String(key), points);
    return d.allowed ? Promise.resolve(new RateLimiterRes(0, 0, points)) : Promise.reject(new RateLimiterRes(0, d.retryAfterMs));
  }

  override penalty(): Promise<RateLimiterRes> {
    return unsupported();
  }
  override reward(): Promise<RateLimiterRes> {
    return unsupported();
  }
  override get(): Promise<RateLimiterRes | null> {
    return unsupported();
  }
  override set(): Promise<RateLimiterRes> {
    return unsupported();
  }
  override block(): Promise<RateLimiterRes> {
    return unsupported();
  }
  override delete(): Promise<boolean> {
    return unsupported();
  }
}

/** `p`, or a rejection after `ms` (the timer cleared either way). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function unsupported(): Promise<never> {
  return Promise.reject(new Error('the per-process insurance limiter only answers consume()'));
}

/** A metric already in the registry (two limiters on one stack registry) or a new one. */
function metricsIn(registry: Registry | undefined) {
  if (registry === undefined) return undefined;
  const shared =
    (registry.getSingleMetric('surgectl_rate_limit_shared') as Gauge<'mode'> | undefined) ??
    new Gauge({
      name: 'surgectl_rate_limit_shared',
      help: 'Where the per-client rate limit is decided: 1 on mode="redis" while shared by every intake replica, 1 on mode="local" while per process (Redis unreachable or slow).',
      labelNames: ['mode'] as const,
      registers: [registry],
    });
  const fallbacks =
    (registry.getSingleMetric('surgectl_rate_limit_fallbacks_total') as Counter | undefined) ??
    new Counter({ name: 'surgectl_rate_limit_fallbacks_total', help: 'Times the shared rate limit fell back to per process because Redis was unreachable or slow.', registers: [registry] });
  return { shared, fallbacks };
}

/**
 * A per-client rate limit shared by every intake replica: rate-limiter-flexible's RateLimiterRedis
 * (one key per client and window, expiring with it, so Redis holds only the clients of the current
 * window) behind RLWrapperTimeouts, with the per-process limiter as insurance. When Redis is
 * unreachable (the client is not connected: decided at once) or slower than `timeoutMs`, decisions
 * are made per process and the limiter says so once (a warn line, the gauge); it then stays per
 * process, trying Redis with one zero-cost take at most every `probeIntervalMs`, so an outage
 * costs no timeout per request, and says so again when Redis answers.
 *
 * During an outage each replica gives a client the full budget (N replicas: up to N times it),
 * and a request decided per process after a timeout may still be counted in Redis when the slow
 * answer lands. Memory in this process: the known-over-budget map holds the clients seen within
 * about two windows (swept as the per-process limiter's windows are).
 */
export function createSharedRateLimiter(opts: SharedRateLimiterOptions): SharedClientRateLimiter {
  const local = createClientRateLimiter(opts.perSecond, opts.now);
  if (opts.perSecond === 'off' || !local.enabled) {
    return { ...local, mode: 'off', knownRefusal: () => undefined, close: () => undefined };
  }
  const perSecond = opts.perSecond;
  const now = opts.now ?? Date.now;
  const redis = opts.redis;
  const timeoutMs = opts.timeoutMs ?? 100;
  const probeIntervalMs = opts.probeIntervalMs ?? 1_000;
  const points = local.capacity;
  // The per-process limiter's windows: 1 s, or whole seconds for sub-1 rates (Redis keys expire in whole seconds too).
  const windowMs = perSecond >= 1 ? 1_000 : Math.ceil(1 / perSecond) * 1_000;
  const where = `${redis.options.host ?? '127.0.0.1'}:${redis.options.port ?? 6379}`;

  const insurance = new PerProcessInsurance(local);
  const store = new NotingRedisStore({
    storeClient: redis,
    keyPrefix: opts.keyPrefix ?? 'surgectl:rl',
    points,
    duration: windowMs / 1000,
    // A client that is not connected fails at once instead of queueing the command until it reconnects.
    rejectIfRedisNotReady: true,
    customIncrTtlLuaScript: TAKE_IF_FITS_LUA,
  });
  // The insurance sits on the timeout wrapper only, which hands it every failure of the store
  // (not connected, an error, no answer in time) exactly once. On the store as well, a command that
  // timed out and then failed would be counted twice per process.
  const limiter = new RLWrapperTimeouts({ limiter: store, timeoutMs, insuranceLimiter: insurance });

  const metrics = metricsIn(opts.registry);
  let mode: 'redis' | 'local' = 'redis';
  let localSince = 0;
  let probing = false;
  let probedAt = 0;
  let lastError: string | undefined;
  const onError = (err: Error) => {
    lastError = err.message;
  };
  // A (re)connected client is worth a probe at the next request rather than after the interval.
  const onReady = () => {
    probedAt = -Infinity;
  };
  redis.on('error', onError);
  redis.on('ready', onReady);
  const showMode = () => {
    metrics?.shared.set({ mode: 'redis' }, mode === 'redis' ? 1 : 0);
    metrics?.shared.set({ mode: 'local' }, mode === 'local' ? 1 : 0);
  };
  showMode();

  const why = (error: string | undefined): string => {
    if (redis.status !== 'ready') return `not connected (${redis.status}${lastError === undefined ? '' : `: ${lastError}`})`;
    return error ?? `no answer within ${timeoutMs} ms`;
  };
  const fellBack = (error?: string) => {
    if (mode === 'local') return;
    const reason = why(error);
    mode = 'local';
    localSince = now();
    probedAt = localSince;
    showMode();
    metrics?.fallbacks.inc();
    opts.logger.warn(
      { redis: where, reason, rateLimitMode: 'local' },
      `rate limit: Redis at ${where} is unreachable or slow (${reason}); limiting per process until it answers again (each intake replica gives a client the whole budget meanwhile)`,
    );
  };
  const cameBack = () => {
    if (mode === 'redis') return;
    mode = 'redis';
    showMode();
    const ms = now() - localSince;
    // warn like the fallback, so a log filtered at warn never shows an outage without its end.
    opts.logger.warn({ redis: where, rateLimitMode: 'redis', localMs: ms }, `rate limit: Redis at ${where} answers again; the limit is shared by every intake replica again (it was per process for ${ms} ms)`);
  };
  // In per-process mode, traffic (not a timer) triggers one probe at a time, at most once per
  // interval; only a probe ends per-process mode, so a Redis that answers some calls in time and
  // not others switches at most twice per interval (and logs as often), not per request. The probe
  // is the limiter's own write (a zero-cost take on a key no client id can have: ids are
  // addresses), not a PING: a Redis that answers reads but holds writes (CLIENT PAUSE WRITE, a
  // failover in progress) is still unusable for the limit.
  const probeIfDue = (t: number) => {
    if (probing || t - probedAt < probeIntervalMs) return;
    probing = true;
    probedAt = t;
    withTimeout(store.consume(PROBE_KEY, 0), timeoutMs).then(
      () => {
        probing = false;
        cameBack();
      },
      () => {
        probing = false;
      },
    );
  };

  // What Redis said about each client in its current window, so later refusals need no round trip.
  // Counts only grow within a window (a refusal takes nothing), so a known refusal stays right until the window ends.
  const known = new Map<string, { until: number; used: number }>();
  let sweptAt = 0;
  const knownRefusalAt = (clientId: string, cost: number, t: number): RateLimitDecision | undefined => {
    if (t - sweptAt >= windowMs) {
      sweptAt = t;
      for (const [id, k] of known) if (k.until <= t) known.delete(id);
    }
    const k = known.get(clientId);
    if (k === undefined || k.until <= t || k.used + cost <= points) return undefined;
    return { allowed: false, retryAfterMs: Math.max(1, k.until - t) };
  };
  const learn = (clientId: string, res: RateLimiterRes, cost: number, refused: boolean) => {
    // A refused count includes the request that was not taken.
    known.set(clientId, { until: now() + res.msBeforeNext, used: refused ? res.consumedPoints - cost : res.consumedPoints });
  };

  const viaRedis = async (clientId: string, cost: number): Promise<RateLimitDecision> => {
    const note: CallNote = {};
    try {
      const res = await limiter.consume(clientId, cost, note);
      if (note.local === true) fellBack(note.error);
      else learn(clientId, res, cost, false);
      return ALLOWED;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        // Neither Redis nor the insurance answered (not expected): decide per process.
        fellBack(err instanceof Error ? err.message : String(err));
        return local.take(clientId, cost);
      }
      if (note.local === true) fellBack(note.error);
      else learn(clientId, err, cost, true);
      return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(err.msBeforeNext)) };
    }
  };
  const decide = (clientId: string, asked: number): RateLimitDecision | Promise<RateLimitDecision> => {
    // Redis counts whole tokens (the library refuses fractions); the intake's costs are whole already.
    const cost = Math.max(0, Math.ceil(asked));
    const t = now();
    const refused = knownRefusalAt(clientId, cost, t);
    if (refused !== undefined) return refused;
    if (mode === 'local') {
      probeIfDue(t);
      return local.take(clientId, cost);
    }
    return viaRedis(clientId, cost);
  };

  return {
    enabled: true,
    capacity: points,
    get mode() {
      return mode;
    },
    consume: async (clientId, cost = 1) => decide(clientId, cost),
    take: (clientId, cost = 1) => {
      const d = decide(clientId, cost);
      if (!(d instanceof Promise)) return d;
      // Counted in Redis in the background; its answer teaches knownRefusal, its failure switches mode.
      d.catch(() => undefined);
      return ALLOWED;
    },
    knownRefusal: (clientId, cost = 1) => knownRefusalAt(clientId, cost, now()),
    close: () => {
      redis.off('error', onError);
      redis.off('ready', onReady);
    },
  };
}

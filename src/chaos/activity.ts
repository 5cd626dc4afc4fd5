import { setTimeout as delay } from 'node:timers/promises';
import { isSurgeError } from '../errors.js';
import { evaluateCondition, type Condition } from '../probes/index.js';
import type { Reporter } from '../reporter.js';
import type { Activity } from './experiment.js';
import { iso, type ActivityRun, type JournalActivity } from './journal.js';
import { runHttp } from './providers/http.js';
import { PROVIDERS } from './providers/index.js';
import type { ChaosTargets, ProviderContext } from './providers/types.js';

/** What running one activity needs from the drill. */
export interface ActivityRunnerOptions {
  targets: ChaosTargets;
  /** The experiment's title: objects the drill creates are named after it. */
  title: string;
  reporter: Reporter;
  /** ms since the epoch. */
  now: () => number;
  /** 0 <= x < 1, for pod selection. */
  random: () => number;
}

/** Runs single activities and keeps track of provider calls an interrupt or a timeout abandoned. */
export interface ActivityRunner {
  /** Runs one activity until it ends, `signal` fires or its timeout passes; never throws: the run records what happened. */
  run(a: Activity, signal: AbortSignal): Promise<ActivityRun>;
  /**
   * Waits (at most 15 s, or until `signal`) for abandoned provider calls: one may still land on the
   * target, and a late fault must not arrive after the restore.
   */
  settleAbandoned(signal: AbortSignal): Promise<void>;
}

export function createActivityRunner(o: ActivityRunnerOptions): ActivityRunner {
  const abandoned = new Set<Promise<unknown>>();
  const withAbort = <T>(p: Promise<T>, sig: AbortSignal): Promise<T> => {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    abandoned.add(settled);
    void settled.then(() => abandoned.delete(settled));
    return raceAbort(p, sig);
  };
  const ctxFor = (a: Activity, s: AbortSignal): ProviderContext => ({
    targets: o.targets,
    signal: s,
    reporter: o.reporter,
    sleep: (ms, sig) => delay(ms, undefined, { signal: sig ?? s }),
    now: o.now,
    random: o.random,
    objectName: dnsName(`surgectl-${o.title}-${a.name}`),
  });

  return {
    async run(a, s) {
      const t0 = o.now();
      const timeoutMs = activityTimeoutMs(a);
      const timeout = AbortSignal.timeout(timeoutMs);
      const sig = AbortSignal.any([s, timeout]);
      let output: unknown = null;
      let exception: ActivityRun['exception'] = null;
      let raw: unknown;
      try {
        raw =
          a.provider.type === 'http'
            ? await withAbort(runHttp({ ...a.provider, arguments: a.provider.arguments }, ctxFor(a, sig)), sig)
            : await withAbort((PROVIDERS[a.provider.type][a.provider.func] as NonNullable<(typeof PROVIDERS)['stack'][string]>).run(a.args, ctxFor(a, sig)), sig);
        output = toJson(raw);
      } catch (err) {
        exception = describeError(err, timeout.aborted && !s.aborted ? `timed out after ${timeoutMs / 1000}s` : undefined);
      }
      const run: ActivityRun = {
        activity: journalActivity(a),
        status: exception ? 'failed' : 'succeeded',
        output,
        exception,
        start: iso(t0),
        end: iso(o.now()),
        duration: (o.now() - t0) / 1000,
      };
      if (a.condition) {
        const r = exception
          ? { phase: 'error' as const, value: undefined, message: `the probe failed: ${exception.message}` }
          : evaluateCondition(a.condition, observedFor(a, a.condition, raw));
        run.tolerance_met = r.phase === 'pass';
        run.tolerance_result = { phase: r.phase, value: toJson(r.value), ...(r.message ? { message: r.message } : {}) };
      }
      return run;
    },
    async settleAbandoned(signal) {
      if (abandoned.size === 0) return;
      await Promise.race([Promise.allSettled([...abandoned]), delay(15_000, undefined, { signal }).catch(() => undefined)]);
    },
  };
}

/** Default timeout: 60 s plus what the function itself declares it needs (its `duration`, `window`). */
export function activityTimeoutMs(a: Activity): number {
  if (a.timeout !== undefined) return a.timeout;
  if (a.provider.type === 'http') return (a.provider.timeout ?? 30_000) + 5_000;
  const spec = PROVIDERS[a.provider.type][a.provider.func];
  return 60_000 + (spec?.extraTimeMs?.(a.args) ?? 0);
}

/**
 * Chaos Toolkit compares a bare number or range tolerance of an http probe with the status code;
 * every other tolerance sees the whole output.
 */
function observedFor(a: Activity, c: Condition, output: unknown): unknown {
  if (a.provider.type !== 'http' || ('target' in c && c.target !== undefined)) return output;
  if ((c.kind === 'equals' && typeof c.expected === 'number') || c.kind === 'range') return (output as { status: number }).status;
  return output;
}

function journalActivity(a: Activity): JournalActivity {
  return {
    type: a.type,
    name: a.name,
    provider: a.provider,
    ...(a.tolerance !== undefined ? { tolerance: a.tolerance } : {}),
    ...(a.background ? { background: true } : {}),
    ...(a.pauses ? { pauses: { ...(a.pauses.before !== undefined ? { before: a.pauses.before / 1000 } : {}), ...(a.pauses.after !== undefined ? { after: a.pauses.after / 1000 } : {}) } } : {}),
  };
}

/** Rejects as soon as the signal fires, even if the provider ignores it. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** An error as journaled; `override` replaces the message (a timeout says so rather than "aborted"). */
export function describeError(err: unknown, override?: string): { code?: string; message: string; hint?: string } {
  if (override) return { message: override };
  if (isSurgeError(err)) return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  if (err instanceof Error) return { message: err.name === 'AbortError' ? 'interrupted' : err.message };
  return { message: String(err) };
}

/** Plain JSON data (functions and undefined dropped) so the journal serialises as it reads. */
function toJson(v: unknown): unknown {
  if (v === undefined) return null;
  return JSON.parse(JSON.stringify(v)) as unknown;
}

/** A DNS-1123 label (<= 63 chars, lower-case alphanumerics and '-'). */
export function dnsName(s: string): string {
  const n = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return n === '' ? 'surgectl' : n;
}

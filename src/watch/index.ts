import type { StackAdminPort } from '../adapters/stack-admin/port.js';
import { prometheusHeaders } from '../forecast/sources/prometheus.js';
import { createPrometheusWatchSource } from './prometheus-source.js';
import { createStackWatchSource } from './stack-source.js';
import type { WatchSource } from './types.js';

export type { WatchSample, WatchSource, WatchThresholds } from './types.js';
export { WATCH_THRESHOLD_DEFAULTS } from './types.js';
export type { WatchView, ViewRow, StockRow, SloState } from './view.js';
export { watchOnce, watchViews, type WatchLoopOptions, type WatchOnceResult } from './run.js';

/** Which system `surgectl watch` reads. */
export type WatchTarget =
  | { prometheus: string; headerLines?: readonly string[]; bearerTokenFile?: string | undefined; rateWindowMs?: number | undefined }
  | { prometheus?: undefined; stackAdmin: () => Promise<StackAdminPort> };

/** The source for `target`: Prometheus when its URL is given, else the bundled stack's admin port. */
export async function openWatchSource(target: WatchTarget, now: () => number): Promise<WatchSource> {
  if (target.prometheus !== undefined) {
    const headers = await prometheusHeaders(target.headerLines ?? [], target.bearerTokenFile);
    return createPrometheusWatchSource({ url: target.prometheus, headers, rateWindow: target.rateWindowMs === undefined ? '1m' : `${Math.round(target.rateWindowMs / 1000)}s`, now });
  }
  const admin = await target.stackAdmin();
  return createStackWatchSource(admin, now);
}

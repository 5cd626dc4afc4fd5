import type { ApiErrorCode } from './http-errors.js';

/**
 * Why the stack is not ready, as bits: one small integer that the main thread computes and the
 * health thread reads (an Int32 in a SharedArrayBuffer), and that both turn into the same answer.
 */
export const NOT_READY = { draining: 1, paused: 2, storeUnavailable: 4 } as const;

/** The bits of the intake switches and the store's health; 0 = ready. */
export function notReadyBits(state: { draining: boolean; paused: boolean }, storeHealthy: boolean): number {
  return (state.draining ? NOT_READY.draining : 0) | (state.paused ? NOT_READY.paused : 0) | (storeHealthy ? 0 : NOT_READY.storeUnavailable);
}

/** The 503 of GET /readyz for non-zero bits: the most telling code first (draining, paused, store), every reason in the message. */
export function notReadyAnswer(bits: number): { code: ApiErrorCode; message: string; retryAfterSec: number } {
  const reasons: string[] = [];
  if (bits & NOT_READY.draining) reasons.push('draining');
  if (bits & NOT_READY.paused) reasons.push('paused');
  if (bits & NOT_READY.storeUnavailable) reasons.push('store unavailable');
  const code: ApiErrorCode = bits & NOT_READY.draining ? 'ORDER_DRAINING' : bits & NOT_READY.paused ? 'ORDER_PAUSED' : 'ORDER_STORE_UNAVAILABLE';
  return { code, message: `Not ready: ${reasons.join(', ')}`, retryAfterSec: 5 };
}

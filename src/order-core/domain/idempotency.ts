import { createHash } from 'node:crypto';
import type { NewOrder } from './types.js';

/**
 * JSON with object keys sorted at every level and undefined members dropped, so two bodies that
 * mean the same thing (key order, an explicit `undefined`) hash the same. Array order is kept:
 * it is part of what the client sent.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 (hex) of the canonical order body: the `requestHash` of an AcceptRequest. */
export function requestHash(order: NewOrder): string {
  return createHash('sha256').update(canonicalJson({ customerId: order.customerId, items: order.items, paymentToken: order.paymentToken })).digest('hex');
}

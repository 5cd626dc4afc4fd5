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

/**
 * The `requestHash` of an AcceptRequest: sha256 (base64url) of the order as the client meant it,
 * its fields in a fixed order (customerId, each item's [sku, qty] in the order sent, paymentToken
 * or null). Key order, whitespace and an explicit undefined do not matter; values and item order
 * do. The stored idempotency records hold this form, so changing it would turn a client's replay
 * after an upgrade into a 409.
 */
export function requestHash(order: NewOrder): string {
  const canonical = JSON.stringify([order.customerId, order.items.map((i) => [i.sku, i.qty]), order.paymentToken ?? null]);
  return createHash('sha256').update(canonical).digest('base64url');
}

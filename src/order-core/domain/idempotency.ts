import * as crypto from 'node:crypto';
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
  return sha256(canonical);
}

// crypto.hash (Node >= 20.12) hashes in one call, at less than half the cost of a Hash object:
// this runs for every order the intake takes.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;
const sha256 =
  oneShot !== undefined ? (text: string) => oneShot('sha256', text, 'base64url') : (text: string) => crypto.createHash('sha256').update(text).digest('base64url');

/**
 * A new order id: `ord_` + the creation time in base 36 (ids sort roughly by time) + 12 random
 * hex digits (they hash evenly across partitions, and an id is not guessable from another: the
 * status URL is not authenticated). Both order stores make their ids here.
 */
export function newOrderId(now: number): string {
  // randomUUID draws from a pre-filled entropy cache (randomBytes per order showed up in
  // profiles); its first 8 and next 4 hex digits are random (the version digit comes later).
  const u = crypto.randomUUID();
  return `ord_${now.toString(36)}${u.slice(0, 8)}${u.slice(9, 13)}`;
}

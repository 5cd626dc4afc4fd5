import { describe, expect, it } from 'vitest';
import { canonicalJson, requestHash } from './idempotency.js';
import { aggregateItems, decideReservation, oversoldUnits, type StockLevel } from './inventory.js';
import { assertTransition, AWAITING_PAYMENT, CANCELLABLE, canTransition, IllegalTransitionError, sourcesOf } from './state-machine.js';
import { ORDER_STATUSES, TERMINAL_STATUSES } from './types.js';

describe('order state machine', () => {
  it('allows the happy path and the waits and failures around payment', () => {
    expect(canTransition('accepted', 'reserved')).toBe(true);
    expect(canTransition('reserved', 'paid')).toBe(true);
    expect(canTransition('paid', 'confirmed')).toBe(true);
    expect(canTransition('reserved', 'payment_pending')).toBe(true);
    expect(canTransition('payment_pending', 'paid')).toBe(true);
    expect(canTransition('payment_pending', 'payment_failed')).toBe(true);
    expect(canTransition('accepted', 'sold_out')).toBe(true);
    expect(canTransition('reserved', 'cancelled')).toBe(true);
  });

  it('forbids skipping steps, going back, and leaving a final status', () => {
    expect(canTransition('accepted', 'paid')).toBe(false);
    expect(canTransition('accepted', 'confirmed')).toBe(false);
    expect(canTransition('paid', 'reserved')).toBe(false);
    expect(canTransition('paid', 'cancelled')).toBe(false);
    expect(canTransition('reserved', 'sold_out')).toBe(false);
    for (const from of TERMINAL_STATUSES) for (const to of ORDER_STATUSES) expect(canTransition(from, to)).toBe(false);
    expect(() => assertTransition('confirmed', 'cancelled')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('accepted', 'reserved')).not.toThrow();
  });

  it('derives the status lists the store guards its writes with from the transitions', () => {
    expect(sourcesOf('reserved')).toEqual(['accepted']);
    expect(sourcesOf('paid')).toEqual(['reserved', 'payment_pending']);
    expect(sourcesOf('accepted')).toEqual([]);
    expect([...AWAITING_PAYMENT]).toEqual(['reserved', 'payment_pending']);
    // an order awaiting payment holds stock the customer can still release, and nothing terminal awaits anything
    for (const s of AWAITING_PAYMENT) {
      expect(CANCELLABLE.has(s)).toBe(true);
      expect(TERMINAL_STATUSES.has(s)).toBe(false);
    }
  });
});

describe('inventory rules', () => {
  const levels = new Map<string, StockLevel>([
    ['A', { sku: 'A', stock: 10, reserved: 3, sold: 5 }],
    ['B', { sku: 'B', stock: 1, reserved: 0, sold: 0 }],
  ]);

  it('sums repeated skus of one order', () => {
    expect([...aggregateItems([{ sku: 'A', qty: 1 }, { sku: 'B', qty: 1 }, { sku: 'A', qty: 2 }])]).toEqual([
      ['A', 3],
      ['B', 1],
    ]);
  });

  it('reserves all or nothing and names the first sku short of stock', () => {
    expect(decideReservation(new Map([['A', 2], ['B', 1]]), (s) => levels.get(s))).toEqual({ ok: true });
    expect(decideReservation(new Map([['B', 1], ['A', 3]]), (s) => levels.get(s))).toEqual({ ok: false, sku: 'A', wanted: 3, available: 2 });
    expect(decideReservation(new Map([['Z', 1]]), (s) => levels.get(s))).toEqual({ ok: false, sku: 'Z', wanted: 1, available: 0 });
  });

  it('counts units sold beyond stock per sku', () => {
    expect(oversoldUnits([{ stock: 5, sold: 5 }, { stock: 2, sold: 0 }])).toBe(0);
    expect(oversoldUnits([{ stock: 5, sold: 7 }, { stock: 2, sold: 3 }, { stock: 4, sold: 1 }])).toBe(3);
  });
});

describe('idempotency hash', () => {
  it('ignores key order and undefined members but not values or item order', () => {
    const a = requestHash({ customerId: 'c1', items: [{ sku: 'A', qty: 1 }], paymentToken: undefined });
    const b = requestHash(JSON.parse('{"items":[{"qty":1,"sku":"A"}],"customerId":"c1"}') as never);
    expect(a).toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(requestHash({ customerId: 'c1', items: [{ sku: 'A', qty: 2 }] })).not.toBe(a);
    expect(requestHash({ customerId: 'c1', items: [{ sku: 'A', qty: 1 }], paymentToken: 'tok_x' })).not.toBe(a);
    expect(
      requestHash({ customerId: 'c1', items: [{ sku: 'A', qty: 1 }, { sku: 'B', qty: 1 }] }) === requestHash({ customerId: 'c1', items: [{ sku: 'B', qty: 1 }, { sku: 'A', qty: 1 }] }),
    ).toBe(false);
  });

  it('canonicalises nested objects deterministically', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":1,"f":2}]},"b":1}');
  });
});

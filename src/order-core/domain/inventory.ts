import type { OrderItem } from './types.js';

/** Stock of one sku as the store keeps it. `stock` is every unit ever put on the shelf. */
export interface StockLevel {
  sku: string;
  stock: number;
  reserved: number;
  sold: number;
}

export function available(level: StockLevel): number {
  return level.stock - level.reserved - level.sold;
}

/** Sums the quantities of repeated skus: an order listing a sku twice needs both amounts at once. */
export function aggregateItems(items: readonly OrderItem[]): Map<string, number> {
  const need = new Map<string, number>();
  for (const item of items) need.set(item.sku, (need.get(item.sku) ?? 0) + item.qty);
  return need;
}

export type ReserveDecision = { ok: true } | { ok: false; sku: string; wanted: number; available: number };

/**
 * All-or-nothing: an order is reserved only when every sku has enough units; the first sku
 * that falls short is named (in item order) so the sold_out reason is useful.
 */
export function decideReservation(need: ReadonlyMap<string, number>, levelOf: (sku: string) => StockLevel | undefined): ReserveDecision {
  for (const [sku, wanted] of need) {
    const level = levelOf(sku);
    const free = level === undefined ? 0 : available(level);
    if (free < wanted) return { ok: false, sku, wanted, available: Math.max(0, free) };
  }
  return { ok: true };
}

/** Units sold beyond stock, summed over skus: any value above 0 is a correctness bug. */
export function oversoldUnits(levels: Iterable<{ stock: number; sold: number }>): number {
  let over = 0;
  for (const l of levels) over += Math.max(0, l.sold - l.stock);
  return over;
}

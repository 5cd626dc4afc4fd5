import { allRequests, type RequestConfig, type Scenario } from './scenario.js';

/**
 * The request mix: a weighted choice among request kinds, and payload generators that build
 * bodies as strings (no per-request object graphs to serialise) with a unique Idempotency-Key
 * per create so every arrival is a new order.
 */

/** One request ready for undici's dispatch. */
export interface BuiltRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  readonly path: string;
  /** Flat [name, value, ...] list, the cheapest form undici accepts. */
  readonly headers: string[];
  readonly body: string | null;
  /** Orders this request tries to create (0 for reads); used for orders_accepted/rejected. */
  readonly orders: number;
  /** Whether the response body must be kept (to learn order ids or per-order results). */
  readonly readBody: boolean;
}

/** A request kind of the mix with its name tag. */
export interface MixEntry {
  readonly name: string;
  readonly config: RequestConfig;
  /** Cumulative weight share, 0..1, for the weighted draw. */
  readonly upTo: number;
}

/** Random source, injectable so tests are deterministic. Returns [0, 1). */
export type Random = () => number;

/** Remembers the most recent order ids (a ring), so get-status reads orders this run created. */
export class OrderIdRing {
  private readonly ids: string[] = [];
  private next = 0;
  constructor(private readonly capacity = 4096) {}
  add(id: string): void {
    if (this.ids.length < this.capacity) this.ids.push(id);
    else this.ids[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
  }
  get size(): number {
    return this.ids.length;
  }
  pick(random: Random): string | undefined {
    return this.ids.length === 0 ? undefined : this.ids[Math.floor(random() * this.ids.length)];
  }
}

export function defaultRequestName(c: RequestConfig): string {
  if (c.name) return c.name;
  switch (c.kind) {
    case 'create-order':
      return 'create_order';
    case 'batch-create':
      return 'batch_create';
    case 'get-status':
      return 'get_status';
    case 'http':
      return `${c.method} ${c.path}`;
  }
}

/** Cumulative weights of the mix. */
export function buildMix(requests: readonly RequestConfig[]): MixEntry[] {
  const total = requests.reduce((a, r) => a + r.weight, 0);
  let acc = 0;
  return requests.map((config, i) => {
    acc += config.weight;
    return { name: defaultRequestName(config), config, upTo: i === requests.length - 1 ? 1 : acc / total };
  });
}

export function pickFromMix(mix: readonly MixEntry[], random: Random): MixEntry {
  const r = random();
  for (const e of mix) if (r < e.upTo) return e;
  return mix[mix.length - 1]!;
}

/** The entry get-status is sent as until an order exists: the mix's first create kind. */
export function mixFallback(mix: readonly MixEntry[]): MixEntry | undefined {
  return mix.find((e) => e.config.kind === 'create-order' || e.config.kind === 'batch-create');
}

/** What payload generators draw from. */
export interface PayloadSource {
  readonly skus: readonly string[];
  readonly customers: number;
  readonly declineRatio: number;
  /** Prefix of idempotency keys: unique per run so reruns never replay old orders. */
  readonly runId: string;
}

/**
 * Builds requests for one run. `fallback` is the entry get-status uses before any order exists.
 */
export class RequestFactory {
  private seq = 0;
  readonly ring = new OrderIdRing();
  private readonly extraHeaders: string[];
  private readonly fallback: MixEntry | undefined;

  constructor(
    readonly mix: readonly MixEntry[],
    private readonly payload: PayloadSource,
    extraHeaders: Readonly<Record<string, string>>,
    private readonly random: Random = Math.random,
  ) {
    this.extraHeaders = Object.entries(extraHeaders).flat();
    this.fallback = mixFallback(mix);
  }

  /**
   * Draws an entry of a mix (default: the factory's own; a profile with `exec` passes its mix and
   * that mix's fallback); get-status becomes the first create kind until an order id is known.
   */
  draw(mix: readonly MixEntry[] = this.mix, fallback: MixEntry | undefined = this.fallback): MixEntry {
    const e = pickFromMix(mix, this.random);
    if (e.config.kind === 'get-status' && this.ring.size === 0 && fallback) return fallback;
    return e;
  }

  build(e: MixEntry): BuiltRequest {
    const c = e.config;
    switch (c.kind) {
      case 'create-order':
        return {
          method: 'POST',
          path: '/v1/orders',
          headers: ['content-type', 'application/json', 'idempotency-key', this.key(), ...this.extraHeaders],
          body: this.orderJson(c.items, c.qty),
          orders: 1,
          readBody: true,
        };
      case 'batch-create': {
        let body = '{"orders":[';
        for (let i = 0; i < c.batchSize; i++) {
          if (i > 0) body += ',';
          body += `{"idempotencyKey":"${this.key()}",` + this.orderJson(c.items, c.qty).slice(1);
        }
        body += ']}';
        return { method: 'POST', path: '/v1/orders/batch', headers: ['content-type', 'application/json', ...this.extraHeaders], body, orders: c.batchSize, readBody: true };
      }
      case 'get-status': {
        const id = this.ring.pick(this.random) ?? 'none';
        return { method: 'GET', path: `/v1/orders/${encodeURIComponent(id)}`, headers: this.extraHeaders, body: null, orders: 0, readBody: false };
      }
      case 'http': {
        const hasBody = c.body !== undefined;
        return {
          method: c.method,
          path: c.path,
          headers: hasBody ? ['content-type', 'application/json', ...this.extraHeaders] : this.extraHeaders,
          body: hasBody ? JSON.stringify(c.body) : null,
          orders: 0,
          readBody: false,
        };
      }
    }
  }

  private key(): string {
    return `${this.payload.runId}-${++this.seq}`;
  }

  /** `{"customerId":...,"items":[...]}` with distinct random skus. */
  orderJson(items: { min: number; max: number }, qty: { min: number; max: number }): string {
    const { skus, customers, declineRatio } = this.payload;
    const n = Math.min(skus.length, between(items.min, items.max, this.random));
    const customer = 1 + Math.floor(this.random() * customers);
    let out = `{"customerId":"c-${customer}","items":[`;
    // Distinct skus by probing from a random start: no Set per request.
    const start = Math.floor(this.random() * skus.length);
    const step = skus.length > 1 ? 1 + Math.floor(this.random() * (skus.length - 1)) : 1;
    const usedStep = gcd(step, skus.length) === 1 ? step : 1;
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ',';
      out += `{"sku":${JSON.stringify(skus[(start + i * usedStep) % skus.length])},"qty":${between(qty.min, qty.max, this.random)}}`;
    }
    out += ']';
    if (declineRatio > 0 && this.random() < declineRatio) out += ',"paymentToken":"tok_decline"';
    return out + '}';
  }
}

function between(min: number, max: number, random: Random): number {
  return min + Math.floor(random() * (max - min + 1));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

const ORDER_ID = /"orderId"\s*:\s*"([^"]+)"/;

/** Outcome of a create or batch response: orders accepted/rejected and the ids learned. */
export function readOrderResponse(req: BuiltRequest, status: number, body: string): { accepted: number; rejected: number; ids: string[] } {
  if (req.path === '/v1/orders/batch') {
    if (status !== 207) return { accepted: 0, rejected: req.orders, ids: [] };
    try {
      const parsed = JSON.parse(body) as { results?: { status?: number; orderId?: string }[] };
      let accepted = 0;
      const ids: string[] = [];
      for (const r of parsed.results ?? []) {
        if (r.status === 200 || r.status === 202) {
          accepted++;
          if (r.orderId) ids.push(r.orderId);
        }
      }
      return { accepted, rejected: req.orders - accepted, ids };
    } catch {
      return { accepted: 0, rejected: req.orders, ids: [] };
    }
  }
  if (status === 200 || status === 202) {
    const m = ORDER_ID.exec(body);
    return { accepted: 1, rejected: 0, ids: m?.[1] ? [m[1]] : [] };
  }
  return { accepted: 0, rejected: 1, ids: [] };
}

/** Whether the scenario's mix needs skus (any create kind). */
export function needsSkus(s: Scenario): boolean {
  return allRequests(s).some((r) => r.kind === 'create-order' || r.kind === 'batch-create');
}

/**
 * JSON schemas of the order API, compiled once by fastify's ajv (allErrors, no type coercion:
 * `"qty": "2"` is a client bug we report, not guess at). Limits keep one order small.
 */
export const orderItemSchema = {
  type: 'object',
  required: ['sku', 'qty'],
  additionalProperties: false,
  properties: {
    sku: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' },
    qty: { type: 'integer', minimum: 1, maximum: 1000 },
  },
} as const;

/**
 * Well-formed Unicode: no unpaired surrogate (`"\ud800"` is valid JSON but not text; SQLite's UTF-8
 * would store it as U+FFFD, so the order would come back different from what was acknowledged).
 * ajv compiles patterns with the `u` flag, so a proper pair is one code point outside this range.
 */
export const WELL_FORMED_PATTERN = '^[^\\uD800-\\uDFFF]*$';

const orderFields = {
  customerId: { type: 'string', minLength: 1, maxLength: 128, pattern: WELL_FORMED_PATTERN },
  items: { type: 'array', minItems: 1, maxItems: 100, items: orderItemSchema },
  paymentToken: { type: 'string', minLength: 1, maxLength: 256, pattern: WELL_FORMED_PATTERN },
} as const;

/** POST /v1/orders body. */
export const newOrderSchema = {
  $id: 'surgectl:new-order',
  type: 'object',
  required: ['customerId', 'items'],
  additionalProperties: false,
  properties: orderFields,
} as const;

/** One entry of POST /v1/orders/batch: an order plus its own idempotency key. */
export const batchOrderSchema = {
  type: 'object',
  required: ['idempotencyKey', 'customerId', 'items'],
  additionalProperties: false,
  properties: { idempotencyKey: { type: 'string', minLength: 1, maxLength: 200 }, ...orderFields },
} as const;

/** The batch envelope only; each order is validated on its own so one bad order fails alone. */
export const batchEnvelopeSchema = {
  type: 'object',
  required: ['orders'],
  additionalProperties: false,
  properties: { orders: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'object' } } },
} as const;

export const orderIdParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

export const workersBodySchema = {
  type: 'object',
  required: ['count'],
  additionalProperties: false,
  properties: { count: { type: 'integer', minimum: 0, maximum: 512 } },
} as const;

export const flagBodySchema = {
  type: 'object',
  required: ['enabled'],
  additionalProperties: false,
  properties: { enabled: { type: 'boolean' } },
} as const;

export const dropRequestsBodySchema = {
  type: 'object',
  required: ['ratio'],
  additionalProperties: false,
  properties: { ratio: { type: 'number', minimum: 0, maximum: 1 } },
} as const;

export const paymentFaultBodySchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    failureRate: { type: 'number', minimum: 0, maximum: 1 },
    latencyMs: { type: 'integer', minimum: 0, maximum: 600_000 },
  },
} as const;

/** Idempotency-Key: 1..200 visible ASCII characters (UUIDs, ULIDs, hashes all fit). */
export const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,200}$/;

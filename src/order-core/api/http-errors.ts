import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoreUnavailable } from '../domain/outcomes.js';
import { WELL_FORMED_PATTERN } from './schemas.js';

/**
 * Codes of the order API's error bodies (`{error:{code,message,details?},requestId}`); the
 * table with statuses is in docs/order-api.md (a test keeps the two in step).
 */
export const API_ERROR_CODES = [
  'ORDER_VALIDATION',
  'ORDER_INVALID_JSON',
  'ORDER_IDEMPOTENCY_KEY_REQUIRED',
  'ORDER_IDEMPOTENCY_CONFLICT',
  'ORDER_BODY_TOO_LARGE',
  'ORDER_BATCH_OVER_RATE_LIMIT',
  'ORDER_UNSUPPORTED_MEDIA_TYPE',
  'ORDER_UNKNOWN_SKU',
  'ORDER_NOT_FOUND',
  'ORDER_NOT_CANCELLABLE',
  'ORDER_POOL_DRAINING',
  'ORDER_FLAGS_FROM_UNLEASH',
  'ORDER_FAULT_UNSUPPORTED',
  'ORDER_RATE_LIMITED',
  'ORDER_SHED',
  'ORDER_PAUSED',
  'ORDER_DRAINING',
  'ORDER_FAULT_DROPPED',
  'ORDER_STORE_UNAVAILABLE',
  'ORDER_TOO_MANY_CONNECTIONS',
  'ORDER_UNAUTHORIZED',
  'ORDER_FLAG_NOT_FOUND',
  'ORDER_ROUTE_NOT_FOUND',
  'ORDER_BAD_REQUEST',
  'ORDER_INTERNAL',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface FieldProblem {
  /** Where in the request: `customerId`, `items[0].qty`, `headers.idempotency-key`. */
  path: string;
  message: string;
}

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; details?: FieldProblem[] | undefined };
  requestId: string;
}

/** The error body of a request (`req.id`, or the id of a request fastify has not seen). */
export function errorBody(req: FastifyRequest | string, code: ApiErrorCode, message: string, details?: FieldProblem[]): ApiErrorBody {
  const requestId = typeof req === 'string' ? req : req.id;
  return details && details.length > 0 ? { error: { code, message, details }, requestId } : { error: { code, message }, requestId };
}

/** A Retry-After value: whole seconds, at least 1 (every refusal of the order API writes it so). */
export function retryAfterValue(seconds: number): string {
  return String(Math.max(1, Math.ceil(seconds)));
}

export function sendError(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: ApiErrorCode,
  message: string,
  opts: { details?: FieldProblem[]; retryAfterSec?: number } = {},
): FastifyReply {
  if (opts.retryAfterSec !== undefined) reply.header('retry-after', retryAfterValue(opts.retryAfterSec));
  return reply.code(status).send(errorBody(req, code, message, opts.details));
}

interface AjvLikeError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/items/0/qty` -> `items[0].qty`. */
export function jsonPointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** Turns ajv errors into one problem per field, with messages a client developer can act on. */
export function fieldProblems(errors: readonly AjvLikeError[], prefix = ''): FieldProblem[] {
  const byPath = new Map<string, FieldProblem>();
  const out: FieldProblem[] = [];
  for (const e of errors) {
    let path = jsonPointerToPath(e.instancePath ?? '');
    let message = e.message ?? 'is invalid';
    const params = e.params ?? {};
    if (e.keyword === 'required' && typeof params.missingProperty === 'string') {
      path = join(path, params.missingProperty);
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      path = join(path, params.additionalProperty);
      message = 'is not a known field';
    } else if (e.keyword === 'pattern' && params.pattern === WELL_FORMED_PATTERN) {
      message = 'must be well-formed Unicode text (it holds an unpaired UTF-16 surrogate)';
    } else if (e.keyword === 'type' && typeof params.type === 'string') {
      message = `must be ${params.type === 'integer' || params.type === 'array' || params.type === 'object' ? 'an' : 'a'} ${params.type}`;
    }
    const full = prefix ? (path ? `${prefix}.${path}` : prefix) : path || '(body)';
    // One entry per field: a field failing two rules (empty and wrong pattern) reads as one problem.
    const existing = byPath.get(full);
    if (existing) {
      if (!existing.message.split('; ').includes(message)) existing.message += `; ${message}`;
      continue;
    }
    const problem = { path: full, message };
    byPath.set(full, problem);
    out.push(problem);
  }
  return out;
}

function join(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

export function summarize(problems: readonly FieldProblem[]): string {
  const first = problems.slice(0, 3).map((p) => `${p.path} ${p.message}`);
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
  return `Invalid request: ${first.join('; ')}${more}`;
}

/** The fastify error codes that mean "the client sent something wrong", with our status and code. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: ApiErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'ORDER_UNSUPPORTED_MEDIA_TYPE',
    message: 'Unsupported Content-Type: send the body as application/json',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'ORDER_BODY_TOO_LARGE', message: 'Request body is larger than 64 KiB' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'ORDER_INVALID_JSON',
    message: 'The body is empty but Content-Type is application/json: send a JSON object',
  },
  // fastify's parser also refuses valid JSON with prototype-poisoning keys, under the same code
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'ORDER_INVALID_JSON',
    message: 'The body is not valid JSON, or has a __proto__ or constructor.prototype key (refused)',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'ORDER_BAD_REQUEST',
    message: 'Content-Length does not match the body that was sent',
  },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'ORDER_UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type header is invalid' },
};

export interface ClassifiedError {
  status: number;
  code: ApiErrorCode;
  message: string;
  details?: FieldProblem[];
  /** For surgectl_orders_rejected_total; undefined for server errors. */
  reason?: string;
  /** Seconds for a Retry-After header (an outage the client should wait out); none when undefined. */
  retryAfterSec?: number;
}

/**
 * Maps any error reaching fastify's error handler to our status and body. Bad input is always a
 * 4xx; only a fault of ours is a 5xx.
 */
export function classifyError(err: FastifyError & { validation?: AjvLikeError[]; validationContext?: string }): ClassifiedError {
  if (Array.isArray(err.validation)) {
    const ctx = err.validationContext && err.validationContext !== 'body' ? err.validationContext : '';
    const details = fieldProblems(err.validation, ctx);
    return { status: 400, code: 'ORDER_VALIDATION', message: summarize(details), details, reason: 'validation' };
  }
  const known = err.code ? FASTIFY_CLIENT_ERRORS[err.code] : undefined;
  if (known) {
    const message =
      known.code === 'ORDER_INVALID_JSON' && err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? `${known.message}: ${err.message}` : known.message;
    return { status: known.status, code: known.code, message, reason: known.status === 413 ? 'too_large' : known.status === 415 ? 'unsupported_media_type' : 'validation' };
  }
  if (err instanceof SyntaxError || err.name === 'SyntaxError') {
    return { status: 400, code: 'ORDER_INVALID_JSON', message: `The body is not valid JSON: ${err.message}`, reason: 'validation' };
  }
  // A networked store that does not answer is an outage, not a bug: the client may retry as it is.
  if (err instanceof StoreUnavailable) {
    return { status: 503, code: 'ORDER_STORE_UNAVAILABLE', message: 'The order store is unavailable; retry later (an order with the same Idempotency-Key)', reason: 'store_unavailable', retryAfterSec: 1 };
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) return { status, code: 'ORDER_BAD_REQUEST', message: err.message || 'Bad request', reason: 'validation' };
  return { status: 500, code: 'ORDER_INTERNAL', message: 'Internal error; the request id identifies it in the stack log' };
}

/** A strict UTF-8 decoder: invalid bytes throw instead of becoming U+FFFD. */
export const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The 400 for a body that is not UTF-8, naming the fields that hold the bad bytes (found by
 * decoding with replacement and looking for U+FFFD); only bodies that failed pay for this.
 */
export function invalidUtf8Error(body: Buffer): Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return err as Error;
  }
  const message = 'must be valid UTF-8 text (it holds bytes that are not UTF-8)';
  const validation: { instancePath: string; keyword: string; message: string }[] = [];
  const walk = (v: unknown, pointer: string) => {
    if (typeof v === 'string') {
      if (v.includes('\uFFFD')) validation.push({ instancePath: pointer, keyword: 'utf8', message });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${pointer}/${i}`));
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\uFFFD')) validation.push({ instancePath: `${pointer}/${k}`, keyword: 'utf8', message: `has a name that is not UTF-8 text` });
        walk(x, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
      }
    }
  };
  walk(parsed, '');
  if (validation.length === 0) validation.push({ instancePath: '', keyword: 'utf8', message });
  return Object.assign(new Error('The body is not valid UTF-8'), { statusCode: 400, validation, validationContext: 'body' });
}

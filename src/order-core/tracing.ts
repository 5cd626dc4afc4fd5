import { ROOT_CONTEXT, SpanKind, SpanStatusCode, isSpanContextValid, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SERVICE_NAME, ATTR_URL_FULL } from '@opentelemetry/semantic-conventions';
import type { FastifyReply, FastifyRequest, onRequestHookHandler, onResponseHookHandler } from 'fastify';
import type { Logger } from 'pino';

/*
 * One trace per order. The intake request span (POST /v1/orders) is the root; its W3C traceparent
 * is stored with the order (orders.trace_parent), so the worker steps, which run later and maybe
 * in another process after a restart, continue the same trace: each step is a child of the intake
 * span, and the payment HTTP call a child of the pay span. Nothing here is global: the provider
 * is not registered with the API (no global tracer, propagator or context manager), context is
 * passed by hand. The module is loaded only when tracing is on, so a stack without tracing loads
 * no SDK and its hot paths see one `undefined` check.
 */

/** How the stack exports traces (built by the CLI from the standard OTEL_* variables). */
export interface TracingOptions {
  /** Where spans go: OTLP over HTTP, or one JSON-ish object per span on stdout. */
  exporter: 'otlp' | 'console';
  /** service.name of the spans. Default 'surgectl-stack'. */
  serviceName?: string | undefined;
  /** Full OTLP/HTTP traces URL. Default http://localhost:4318/v1/traces. */
  otlpTracesUrl?: string | undefined;
  /** OTLP encoding. Default 'http/protobuf' (the OTLP default). */
  otlpProtocol?: 'http/protobuf' | 'http/json' | undefined;
  /** Longest wait for the last spans to be exported when the stack stops, ms. Default 5 000. */
  flushTimeoutMs?: number | undefined;
}

/** A charge's HTTP call as the payment client sees it when it is traced. */
export interface TracedCall {
  /** The W3C traceparent header to send (the call's own span). */
  readonly traceparent: string;
  /** Records the gateway's HTTP status. */
  status(code: number): void;
}

/** Runs one HTTP call to `target` inside a client span. */
export type CallTracer = <T>(target: URL, send: (call: TracedCall) => Promise<T>) => Promise<T>;

/** The intake request's trace, as stored with its order(s). */
export interface IntakeTrace {
  /** W3C traceparent of the intake span: stored with the order. */
  readonly traceParent: string;
  /** 32 hex digits; logged as trace_id. */
  readonly traceId: string;
  /** Marks an order accepted (or replayed) by this request on its span. */
  accepted(orderId: string, replay: boolean): void;
}

/** The hooks of a traced order route and the trace of a request. */
export interface IntakeTracing {
  /** Starts the request's span (a root: a client's traceparent is not followed). */
  readonly onRequest: onRequestHookHandler;
  /** Ends it with the response status. */
  readonly onResponse: onResponseHookHandler;
  /** The request's trace; undefined when its span was not started. */
  of(req: FastifyRequest): IntakeTrace | undefined;
}

export type PipelineStep = 'reserve' | 'pay' | 'confirm' | 'notify';

/** A running step's span. */
export interface StepSpan {
  end(outcome: string): void;
  fail(err: unknown, outcome: string): void;
  /** Traces the payment call as a child of this span. */
  readonly traceCall: CallTracer;
}

/** One job's share of its order's trace. */
export interface JobTrace {
  /** 32 hex digits; logged as trace_id. */
  readonly traceId: string;
  step(name: PipelineStep): StepSpan;
  /** A step already done elsewhere (reserve in the lease commit, notify inside confirm's commit), `ms` long and ending now. */
  record(name: PipelineStep, ms: number, outcome: string): void;
}

export interface PipelineTracing {
  /** The trace of a job whose order carries a traceparent; undefined for orders accepted untraced. */
  job(orderId: string, traceParent: string | null | undefined): JobTrace | undefined;
}

/** A stack's tracing: an SDK tracer provider with its exporter, not registered globally. */
export interface StackTracing {
  readonly intake: IntakeTracing;
  readonly pipeline: PipelineTracing;
  /** Exports what is buffered and stops, within flushTimeoutMs; never throws. */
  shutdown(): Promise<void>;
}

export const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces';
const DEFAULT_FLUSH_TIMEOUT_MS = 5_000;
const SCOPE = 'surgectl.order-stack';
const ATTR_ORDER_ID = 'surgectl.order.id';
const ATTR_OUTCOME = 'surgectl.step.outcome';
const ATTR_ERROR_TYPE = 'error.type';
const ATTR_URL_TEMPLATE = 'url.template';

/** W3C traceparent of a span: version 00. */
export function formatTraceParent(span: Span): string {
  const sc = span.spanContext();
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The context a stored traceparent stands for; undefined when it is not a valid one. */
export function contextOfTraceParent(traceParent: string): Context | undefined {
  const m = TRACEPARENT_RE.exec(traceParent);
  if (m === null) return undefined;
  const sc = { traceId: m[1] as string, spanId: m[2] as string, traceFlags: Number.parseInt(m[3] as string, 16), isRemote: true };
  return isSpanContextValid(sc) ? trace.setSpanContext(ROOT_CONTEXT, sc) : undefined;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

function failSpan(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.setAttribute(ATTR_ERROR_TYPE, errorName(err));
  if (err instanceof Error) span.recordException(err);
}

/** OTLP/HTTP with protobuf bodies: exporter-trace-otlp-http speaks JSON only, so the same delegate with the protobuf serializer (as exporter-trace-otlp-proto builds it). */
function protobufExporter(url: string): SpanExporter {
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({ url }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    ProtobufTraceSerializer,
    'otlp_http_span_exporter',
    TraceExporterMetricsHelper,
    undefined,
  );
  return new OTLPExporterBase<ReadableSpan[]>(delegate);
}

/** Says so in the stack's log when spans cannot be delivered (the SDK itself stays silent), at most every 30 s. */
function reportingFailures(exporter: SpanExporter, logger: Logger, url: string): SpanExporter {
  let lastWarned = 0;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== 0) {
          const now = Date.now();
          if (now - lastWarned > 30_000) {
            lastWarned = now;
            logger.warn({ err: result.error, spans: spans.length, url }, 'trace export failed; these spans are dropped');
          }
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

function spanProcessor(opts: TracingOptions, logger: Logger): SpanProcessor {
  if (opts.exporter === 'console') return new SimpleSpanProcessor(new ConsoleSpanExporter());
  const url = opts.otlpTracesUrl ?? DEFAULT_OTLP_TRACES_URL;
  const exporter = (opts.otlpProtocol ?? 'http/protobuf') === 'http/json' ? new OTLPTraceExporter({ url }) : protobufExporter(url);
  return new BatchSpanProcessor(reportingFailures(exporter, logger, url));
}

/** Builds a stack's tracing from its options. */
export function createStackTracing(opts: TracingOptions, logger: Logger): StackTracing {
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName ?? 'surgectl-stack' })),
    spanProcessors: [spanProcessor(opts, logger)],
  });
  const tracer = provider.getTracer(SCOPE);
  let stopping: Promise<void> | undefined;
  return {
    intake: createIntakeTracing(tracer),
    pipeline: createPipelineTracing(tracer),
    shutdown() {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeoutMs = opts.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
        const gaveUp = new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), timeoutMs);
          timer.unref();
        });
        const done = provider.shutdown().then(
          () => 'ok' as const,
          (err: unknown) => {
            logger.warn({ err }, 'tracing did not shut down cleanly; the last spans may be lost');
            return 'failed' as const;
          },
        );
        const r = await Promise.race([done, gaveUp]);
        clearTimeout(timer);
        if (r === 'timeout') logger.warn({ timeoutMs }, 'the last spans were not exported in time; they are dropped');
      })();
      return stopping;
    },
  };
}

/** The root span of each traced order request, kept beside the request (never on it). */
function createIntakeTracing(tracer: Tracer): IntakeTracing {
  const traces = new WeakMap<FastifyRequest, { span: Span; trace: IntakeTrace }>();
  const onRequest: onRequestHookHandler = (req, _reply, done) => {
    const route = req.routeOptions.url ?? req.url;
    const span = tracer.startSpan(
      `${req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_HTTP_ROUTE]: route, 'http.request.id': req.id } },
      // A root on purpose: one trace per order, whatever traceparent a client sends.
      ROOT_CONTEXT,
    );
    const traceParent = formatTraceParent(span);
    traces.set(req, {
      span,
      trace: {
        traceParent,
        traceId: span.spanContext().traceId,
        accepted(orderId, replay) {
          span.addEvent(replay ? 'order replayed' : 'order accepted', { [ATTR_ORDER_ID]: orderId });
          span.setAttribute(ATTR_ORDER_ID, orderId);
        },
      },
    });
    done();
  };
  const onResponse: onResponseHookHandler = (req: FastifyRequest, reply: FastifyReply, done) => {
    const t = traces.get(req);
    if (t !== undefined) {
      traces.delete(req);
      t.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
      // A server span is in error for 5xx only: 4xx are the client's.
      if (reply.statusCode >= 500) t.span.setStatus({ code: SpanStatusCode.ERROR });
      t.span.end();
    }
    done();
  };
  return { onRequest, onResponse, of: (req) => traces.get(req)?.trace };
}

function createPipelineTracing(tracer: Tracer): PipelineTracing {
  const traceCallUnder =
    (parent: Context, orderId: string): CallTracer =>
    (target, send) => {
      const span = tracer.startSpan(
        `POST ${target.pathname}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            [ATTR_HTTP_REQUEST_METHOD]: 'POST',
            [ATTR_URL_FULL]: target.href,
            [ATTR_URL_TEMPLATE]: target.pathname,
            [ATTR_SERVER_ADDRESS]: target.hostname,
            [ATTR_SERVER_PORT]: Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
            [ATTR_ORDER_ID]: orderId,
          },
        },
        parent,
      );
      const call: TracedCall = {
        traceparent: formatTraceParent(span),
        status(code) {
          span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, code);
          // A client span is in error for any 4xx/5xx answer.
          if (code >= 400) {
            span.setStatus({ code: SpanStatusCode.ERROR });
            span.setAttribute(ATTR_ERROR_TYPE, String(code));
          }
        },
      };
      return send(call).then(
        (v) => {
          span.end();
          return v;
        },
        (err: unknown) => {
          if (span.isRecording()) failSpan(span, err);
          span.end();
          throw err;
        },
      );
    };

  return {
    job(orderId, traceParent) {
      if (traceParent === null || traceParent === undefined) return undefined;
      const parent = contextOfTraceParent(traceParent);
      if (parent === undefined) return undefined;
      const attributes = (name: PipelineStep): Attributes => ({ [ATTR_ORDER_ID]: orderId, 'surgectl.step': name });
      return {
        traceId: trace.getSpanContext(parent)?.traceId ?? '',
        step(name) {
          const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes: attributes(name) }, parent);
          return {
            end(outcome) {
              span.setAttribute(ATTR_OUTCOME, outcome);
              span.end();
            },
            fail(err, outcome) {
              span.setAttribute(ATTR_OUTCOME, outcome);
              failSpan(span, err);
              span.end();
            },
            traceCall: traceCallUnder(trace.setSpan(parent, span), orderId),
          };
        },
        record(name, ms, outcome) {
          const end = performance.timeOrigin + performance.now();
          const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes: { ...attributes(name), [ATTR_OUTCOME]: outcome }, startTime: end - ms }, parent);
          span.end(end);
        },
      };
    },
  };
}

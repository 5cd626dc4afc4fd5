import { SurgeError } from '../errors.js';
import type { TracingOptions } from '../order-core/tracing.js';

/**
 * The stack's tracing from the standard OpenTelemetry variables (the core reads no environment).
 * Off unless OTEL_TRACES_EXPORTER is otlp or console, or an OTLP endpoint is set; always off with
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 * @throws SurgeError SRG_CONFIG_INVALID for an exporter or protocol the stack cannot use (grpc among them).
 */
export function tracingFromEnv(env: Readonly<Record<string, string | undefined>>): TracingOptions | undefined {
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const tracesEndpoint = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  // A list is allowed by the spec; the stack exports to one place, so the first one it can use wins.
  const exporters = (get('OTEL_TRACES_EXPORTER') ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean);
  if (exporters.includes('none')) return undefined;
  const unknown = exporters.filter((e) => e !== 'otlp' && e !== 'console');
  if (unknown.length > 0) {
    throw new SurgeError('SRG_CONFIG_INVALID', `OTEL_TRACES_EXPORTER=${get('OTEL_TRACES_EXPORTER') ?? ''}: the stack exports traces with otlp or console only (not ${unknown.join(', ')})`, {
      hint: 'Set OTEL_TRACES_EXPORTER to otlp (the default when an OTLP endpoint is set), console or none.',
    });
  }
  const exporter = (exporters[0] as 'otlp' | 'console' | undefined) ?? (tracesEndpoint !== undefined || endpoint !== undefined ? 'otlp' : undefined);
  if (exporter === undefined) return undefined;
  const serviceName = get('OTEL_SERVICE_NAME');
  if (exporter === 'console') return { exporter, ...(serviceName !== undefined ? { serviceName } : {}) };

  const protocolVar = get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = get(protocolVar)?.toLowerCase() ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new SurgeError(
      'SRG_CONFIG_INVALID',
      protocol === 'grpc'
        ? `${protocolVar}=grpc: the stack exports traces over OTLP/HTTP only; grpc is not supported`
        : `${protocolVar}=${get(protocolVar) ?? ''} is not an OTLP protocol the stack speaks (http/protobuf or http/json)`,
      { hint: `Set ${protocolVar} to http/protobuf (the default) or http/json, and point the endpoint at the collector's OTLP/HTTP port (usually 4318).` },
    );
  }
  // The per-signal endpoint is used as given; the general one gets the signal's path appended (OTLP exporter spec).
  const url = tracesEndpoint ?? (endpoint !== undefined ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (url !== undefined) {
    const name = tracesEndpoint !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new SurgeError('SRG_CONFIG_INVALID', `${name}=${tracesEndpoint ?? endpoint ?? ''} is not an http(s) URL`, {
        hint: `Point ${name} at the collector's OTLP/HTTP endpoint, e.g. http://localhost:4318.`,
      });
    }
  }
  return {
    exporter,
    otlpProtocol: protocol,
    ...(url !== undefined ? { otlpTracesUrl: url } : {}),
    ...(serviceName !== undefined ? { serviceName } : {}),
  };
}

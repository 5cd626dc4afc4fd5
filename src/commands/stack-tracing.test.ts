import { describe, expect, it } from 'vitest';
import type { SurgeError } from '../errors.js';
import { tracingFromEnv } from './stack-tracing.js';

describe('tracingFromEnv', () => {
  it('is off unless an exporter or an OTLP endpoint is set', () => {
    expect(tracingFromEnv({})).toBeUndefined();
    expect(tracingFromEnv({ OTEL_SERVICE_NAME: 'shop', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBeUndefined();
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeUndefined();
    expect(tracingFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBeUndefined();
    expect(tracingFromEnv({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeUndefined();
  });

  it('maps the standard variables: the general endpoint gets /v1/traces, the traces endpoint is used as given', () => {
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({ exporter: 'otlp', otlpProtocol: 'http/protobuf', otlpTracesUrl: 'http://collector:4318/v1/traces' });
    expect(
      tracingFromEnv({
        OTEL_SDK_DISABLED: 'false',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/custom/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'shop-stack',
      }),
    ).toEqual({ exporter: 'otlp', otlpProtocol: 'http/json', otlpTracesUrl: 'https://collector/custom/traces', serviceName: 'shop-stack' });
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ exporter: 'otlp', otlpProtocol: 'http/protobuf' });
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'x' })).toEqual({ exporter: 'console', serviceName: 'x' });
  });

  it('refuses grpc by name, and exporters and URLs it cannot use', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        tracingFromEnv(env);
      } catch (err) {
        return err as SurgeError;
      }
      throw new Error('expected a refusal');
    };
    const grpc = refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(grpc.code).toBe('SRG_CONFIG_INVALID');
    expect(grpc.message).toMatch(/OTEL_EXPORTER_OTLP_PROTOCOL=grpc.*grpc is not supported/);
    expect(refusal({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }).message).toMatch(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc/);
    expect(refusal({ OTEL_TRACES_EXPORTER: 'zipkin' }).message).toMatch(/otlp or console only \(not zipkin\)/);
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }).message).toMatch(/not an http\(s\) URL/);
  });
});

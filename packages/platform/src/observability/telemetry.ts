import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface Telemetry {
  /** False when OTEL_SDK_DISABLED=true: no provider, spans are no-ops, nothing propagates. */
  readonly enabled: boolean;
  /** Where spans go (OTLP/HTTP JSON), or undefined when no endpoint is configured. */
  readonly endpoint: string | undefined;
  /** Exports spans still buffered; called in the last shutdown phase. */
  flush(): Promise<void>;
}

type Env = Record<string, string | undefined>;

let started: { provider: NodeTracerProvider | undefined; endpoint: string | undefined } | undefined;

/**
 * Tracing for the whole process, configured by the standard OTEL_* variables:
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT (no
 * exporter without one), OTEL_SERVICE_NAME (else `serviceName`),
 * OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*, OTEL_SDK_DISABLED. The tracer
 * provider is process-global (OpenTelemetry's API is), so a second call, as
 * when tests start several services in one process, returns a handle on the
 * first. With no endpoint and no explicit sampler, spans are not recorded but
 * still get ids, so logs carry trace ids and `traceparent` still propagates.
 */
export function startTelemetry(options: {
  serviceName: string;
  env?: Env;
  /** Receives every span at once as well (tests: an InMemorySpanExporter). */
  exporter?: SpanExporter;
}): Telemetry {
  const env = options.env ?? process.env;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol !== undefined && protocol !== 'http/json' && protocol !== 'http/protobuf') {
    throw new Error(
      `OTEL_EXPORTER_OTLP_PROTOCOL: ${protocol} is not supported; spans are sent as OTLP/HTTP JSON (http/json)`,
    );
  }
  if (!started) {
    if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
      started = { provider: undefined, endpoint: undefined };
    } else {
      const endpoint = tracesEndpoint(env);
      const spanProcessors: SpanProcessor[] = endpoint
        ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }) as unknown as SpanExporter)]
        : [];
      if (options.exporter) spanProcessors.push(new SimpleSpanProcessor(options.exporter));
      const provider = new NodeTracerProvider({
        resource: resourceFromAttributes({
          'service.name': env.OTEL_SERVICE_NAME || options.serviceName,
          ...resourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
        }),
        ...(spanProcessors.length > 0 || env.OTEL_TRACES_SAMPLER ? {} : { sampler: new AlwaysOffSampler() }),
        spanProcessors,
      });
      provider.register({ propagator: new W3CTraceContextPropagator() });
      started = { provider, endpoint };
    }
  }
  const { provider, endpoint } = started;
  return {
    enabled: provider !== undefined,
    endpoint,
    flush: async () => {
      await provider?.forceFlush();
    },
  };
}

function tracesEndpoint(env: Env): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function resourceAttributes(raw: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of (raw ?? '').split(',')) {
    const [key, ...rest] = pair.split('=');
    if (key?.trim() && rest.length > 0) attributes[key.trim()] = decodeURIComponent(rest.join('=').trim());
  }
  return attributes;
}

export * from './trace-context.ts';

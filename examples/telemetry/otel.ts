/**
 * OpenTelemetry: trace a run with the Node SDK, then print the span tree it exported.
 *
 *   npx tsx examples/telemetry/otel.ts
 *
 * Uses @opentelemetry/sdk-trace-node (which brings sdk-trace-base and the async context
 * manager). An in-memory exporter keeps the example offline; an app would export to a
 * collector instead (e.g. @opentelemetry/exporter-trace-otlp-http's OTLPTraceExporter).
 */
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { otelHooks } from '../../src/otel.js';
import { research } from './workflow.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

research.addHooks(otelHooks());

// The run's span is a child of whatever span is active when it starts.
await trace.getTracer('app').startActiveSpan('handle request', async (span) => {
  await research.execute({ topic: 'tracing', apiKey: 'sk-secret' });
  span.end();
});

function print(spans: ReadableSpan[], parent: string | undefined, depth: number) {
  for (const span of spans.filter((s) => s.parentSpanContext?.spanId === parent)) {
    const commits = span.events.filter((e) => e.name === 'set_state');
    const type = span.attributes['junjo.span_type'] ?? 'app';
    console.log(`${'  '.repeat(depth)}${span.name} (${type}) ${span.attributes['junjo.status'] ?? ''}`.trimEnd());
    for (const commit of commits) {
      console.log(`${'  '.repeat(depth + 1)}· ${commit.attributes?.['junjo.store.action']} ${commit.attributes?.['junjo.state_json_patch']}`);
    }
    print(spans, span.spanContext().spanId, depth + 1);
  }
}
const spans = exporter.getFinishedSpans();
print(spans, undefined, 0);
const run = spans.find((s) => s.attributes['junjo.span_type'] === 'workflow')!;
console.log(`\nthe workflow span's final state: ${run.attributes['junjo.workflow.state.end']}`);
await provider.shutdown();

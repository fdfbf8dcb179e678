/**
 * The OpenTelemetry trace context travels with a RunQueue run: a run submitted inside a span
 * is executed by a worker (started outside any span) whose workflow span is a child of that
 * span, in its trace, with the run's node spans under it; a run submitted outside any span
 * gets a trace of its own. Real Postgres, real pg-boss, the SDK's in-memory exporter.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import pg from 'pg';
import { otelHooks } from '../../src/otel.js';
import { RunQueue } from '../../src/postgres/index.js';
import { databaseUrl } from '../support/postgres.js';
import { NODES, tenSteps } from './fixtures/ten-steps.js';

const url = databaseUrl('postgres: RunQueue trace context');
const test = suite('postgres: RunQueue trace context');
const schema = `otel_${process.pid}`;

if (url) {
  test('a run submitted inside a span has its workflow span on the worker as that span’s child', async () => {
    const exporter = new InMemorySpanExporter();
    // Registers the W3C propagator and an AsyncLocalStorage context manager, as an app's SDK does.
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
    const queue = new RunQueue({ connectionString: url, workflows: [tenSteps], schema, queue: 'junjo-otel', leaseMs: 4000 });
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await queue.start();
      const request = await trace.getTracer('app').startActiveSpan('POST /orders', async (span) => {
        await queue.submit(tenSteps, undefined, { runId: 'traced-1' });
        span.end();
        return span.spanContext();
      });
      await queue.submit(tenSteps, undefined, { runId: 'untraced-1' });
      const carried = await admin.query(`SELECT trace_context FROM "${schema}".junjo_runs WHERE run_id = 'traced-1'`);
      assert.match(carried.rows[0].trace_context.traceparent, new RegExp(`^00-${request.traceId}-${request.spanId}-0[01]$`), 'stored as a W3C traceparent');

      const worker = await queue.work({ concurrency: 2, hooks: otelHooks() });
      await Promise.all([queue.result('traced-1'), queue.result('untraced-1')]);
      await worker.stop();

      const spans = exporter.getFinishedSpans();
      const runSpan = (runId: string) => spans.find((s) => s.name === 'TenSteps' && s.attributes['junjo.run_id'] === runId)!;
      const traced = runSpan('traced-1');
      assert.is(traced.spanContext().traceId, request.traceId, 'the run is in the submitter’s trace');
      assert.is(traced.parentSpanContext?.spanId, request.spanId, 'its parent is the submitting span');
      const nodes = spans.filter((s) => s.attributes['junjo.run_id'] === 'traced-1' && s.attributes['junjo.span_type'] === 'node');
      assert.equal(nodes.map((s) => s.name).sort(), [...NODES].sort());
      assert.ok(nodes.every((s) => s.parentSpanContext?.spanId === traced.spanContext().spanId), 'node spans are children of the run’s span');
      const untraced = runSpan('untraced-1');
      assert.is.not(untraced.spanContext().traceId, request.traceId);
      assert.is(untraced.parentSpanContext, undefined, 'a run submitted outside any span is a root');
    } finally {
      await queue.close();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });
}

test.run();

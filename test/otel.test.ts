import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { otelHooks } from '../src/otel.js';
import { Graph, WorkflowCancelledError, WorkflowExecutionError, Workflow, node, type StoreOf } from '../src/index.js';
import { LogStore, lifecycleWorkflow, type FailAt } from './fixtures/lifecycle-workflow.js';

const test = suite('otel');

function inMemory() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracer: provider.getTracer('test') };
}

/** The finished spans as an indented tree: `name [status] {events}` per line, children in start order. */
function tree(spans: ReadableSpan[]): string[] {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const span of [...spans].sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent !== undefined && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      const status = span.status.code === SpanStatusCode.ERROR ? 'ERROR' : span.status.code === SpanStatusCode.OK ? 'OK' : 'UNSET';
      const commits = span.events.filter((e) => e.name === 'set_state').map((e) => e.attributes!['junjo.store.action']);
      lines.push(`${'  '.repeat(depth)}${span.name} [${status} ${span.attributes['junjo.status']}]${commits.length ? ` {${commits.join(',')}}` : ''}`);
      walk(span.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines;
}

async function traced(failAt: FailAt, options: Parameters<typeof otelHooks>[0] = {}) {
  const { exporter, tracer } = inMemory();
  const outcome = await lifecycleWorkflow(failAt)
    .execute(undefined, { hooks: otelHooks({ tracer, ...options }) })
    .then((result) => ({ result, error: undefined }), (error: unknown) => ({ result: undefined, error }));
  return { spans: exporter.getFinishedSpans(), ...outcome };
}

const byName = (spans: ReadableSpan[], name: string) => spans.find((s) => s.name === name)!;

test('a completed run is one span tree: workflow → subflow / RunConcurrent → node, commits as events', async () => {
  const { spans, result } = await traced('nowhere');
  assert.equal(tree(spans), [
    'Life [UNSET completed]',
    '  Start [UNSET completed] {log,setState}',
    '  Sub [UNSET completed] {log,log}',
    '    Inner [UNSET completed] {log}',
    '  Both [UNSET completed]',
    '    Left [UNSET completed] {log}',
    '    Right [UNSET completed] {log}',
    '  End [UNSET completed] {log}',
  ]);
  assert.is(new Set(spans.map((s) => s.spanContext().traceId)).size, 1, 'one trace');
  const runId = result!.runId;
  assert.equal(byName(spans, 'Inner').attributes, {
    'junjo.span_type': 'node',
    'junjo.id': 'Life/Sub/Inner',
    'junjo.parent_id': 'Life/Sub',
    'junjo.run_id': runId,
    'junjo.execution_id': `${runId}/Sub#1/Inner#1`,
    'junjo.parent_execution_id': `${runId}/Sub#1`,
    'junjo.status': 'completed',
  });
  const life = byName(spans, 'Life');
  assert.is(life.attributes['junjo.span_type'], 'workflow');
  assert.is(life.attributes['junjo.workflow.state.start'], JSON.stringify({ log: [], password: null }));
  assert.is(life.attributes['junjo.workflow.state.end'], JSON.stringify(result!.state));
  // The graph travels with the trace, so the inspector can draw a run from its spans alone.
  const graph = JSON.parse(life.attributes['junjo.workflow.graph'] as string);
  assert.equal(graph, (lifecycleWorkflow('nowhere').machine.config.meta as { junjo: { graph: unknown } }).junjo.graph);
  assert.ok(typeof byName(spans, 'Sub').attributes['junjo.workflow.graph'] === 'string', 'a subflow span carries its own graph');
  assert.is(byName(spans, 'Both').attributes['junjo.span_type'], 'runConcurrent');
  assert.is(byName(spans, 'Sub').attributes['junjo.span_type'], 'subflow');

  const [pre, post] = byName(spans, 'Sub').events;
  assert.equal(pre!.attributes, {
    'junjo.store.action': 'log',
    'junjo.store.id': 'Life/Sub',
    'junjo.store.seq': 1,
    'junjo.state_json_patch': JSON.stringify([{ op: 'add', path: ['log', 0], value: 'pre' }]),
    'junjo.node': 'preRunActions',
  }, "pre-run actions commit on the subflow's own store: an event on the subflow span");
  assert.equal(
    [post!.attributes!['junjo.store.id'], post!.attributes!['junjo.node_id'], post!.attributes!['junjo.state_json_patch']],
    ['Life', 'Life/Sub', JSON.stringify([{ op: 'add', path: ['log', 1], value: 'sub said pre+inner' }])],
    "post-run actions commit on the parent's store, sent by the subflow: also on its span",
  );
});

test('a failure: ERROR with the exception on the failed node, its RunConcurrent and the workflow; the sibling is cancelled', async () => {
  const { spans, error } = await traced('Left');
  assert.instance(error, WorkflowExecutionError);
  assert.equal(tree(spans), [
    'Life [ERROR failed]',
    '  Start [UNSET completed] {log,setState}',
    '  Sub [UNSET completed] {log,log}',
    '    Inner [UNSET completed] {log}',
    '  Both [ERROR failed]',
    '    Left [ERROR failed] {log}',
    '    Right [UNSET cancelled]',
  ]);
  for (const name of ['Left', 'Both', 'Life']) {
    const span = byName(spans, name);
    assert.is(span.status.message, 'Left broke');
    const exception = span.events.find((e) => e.name === 'exception')!;
    assert.equal([exception.attributes!['exception.type'], exception.attributes!['exception.message']], ['Error', 'Left broke']);
  }
  assert.ok(byName(spans, 'Right').events.every((e) => e.name !== 'exception'), 'a cancelled span records no exception');
  // A simple span processor exports each span when it ends.
  assert.equal(spans.map((s) => s.name).slice(-4), ['Left', 'Right', 'Both', 'Life'], 'children end before their parents');
});

test('a failure inside a subflow fails the subflow span and the workflow span', async () => {
  const { spans } = await traced('Inner');
  assert.equal(tree(spans), [
    'Life [ERROR failed]',
    '  Start [UNSET completed] {log,setState}',
    '  Sub [ERROR failed] {log}',
    '    Inner [ERROR failed] {log}',
  ]);
});

test('a cancelled run: every span ends, marked cancelled, none with an error', async () => {
  const { exporter, tracer } = inMemory();
  const controller = new AbortController();
  // Cancelled on an event, not after a delay: Right waits for its signal, and Left completing
  // means both have started.
  const error = await lifecycleWorkflow('cancel')
    .execute(undefined, {
      signal: controller.signal,
      hooks: [otelHooks({ tracer }), { nodeCompleted: (e) => void (e.name === 'Left' && controller.abort()) }],
    })
    .catch((err: unknown) => err);
  assert.instance(error, WorkflowCancelledError);
  assert.equal(tree(exporter.getFinishedSpans()), [
    'Life [UNSET cancelled]',
    '  Start [UNSET completed] {log,setState}',
    '  Sub [UNSET completed] {log,log}',
    '    Inner [UNSET completed] {log}',
    '  Both [UNSET cancelled]',
    '    Left [UNSET completed] {log}',
    '    Right [UNSET cancelled]',
  ]);
});

test('a node throwing a value that cannot be turned into text: the spans still end, ERROR, with a description', async () => {
  const { exporter, tracer } = inMemory();
  const thrown = Object.create(null) as object;
  const workflow = new Workflow({
    name: 'Unprintable',
    graph: () => {
      const a = node<StoreOf<typeof LogStore>>('A', () => {
        throw thrown;
      });
      return new Graph({ source: a, sinks: [a], edges: [] });
    },
    store: () => LogStore.create(),
  });
  const error = await workflow.execute(undefined, { hooks: otelHooks({ tracer }) }).catch((err: unknown) => err);
  assert.instance(error, WorkflowExecutionError);
  assert.is((error as Error).cause, thrown);
  const spans = exporter.getFinishedSpans();
  assert.equal(tree(spans), ['Unprintable [ERROR failed]', '  A [ERROR failed]']);
  assert.type(byName(spans, 'A').status.message, 'string');
});

test('redact hides secrets from state attributes and patches', async () => {
  const { spans } = await traced('nowhere', {
    redact: (state) => ({ ...(state as object), password: (state as { password: string | null }).password && '***' }),
  });
  const all = JSON.stringify(spans.map((s) => [s.attributes, s.events.map((e) => e.attributes)]));
  assert.not.match(all, /hunter2/);
  const start = byName(spans, 'Start').events[1]!;
  assert.is(start.attributes!['junjo.state_json_patch'], JSON.stringify([{ op: 'replace', path: ['password'], value: '***' }]));
  assert.match(String(byName(spans, 'Life').attributes['junjo.workflow.state.end']), /"password":"\*\*\*"/);
});

test('with a registered SDK and no tracer given: the global tracer, the active span as the parent', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  try {
    const workflow = new Workflow({ name: 'Life', graph: lifecycleWorkflow().graph, store: () => LogStore.create() });
    const unsubscribe = workflow.addHooks(otelHooks());
    await trace.getTracer('app').startActiveSpan('request', async (span) => {
      await workflow.execute();
      span.end();
    });
    unsubscribe();
    await workflow.execute();
    const spans = exporter.getFinishedSpans();
    assert.equal(tree(spans).slice(0, 2), ['request [UNSET undefined]', '  Life [UNSET completed]']);
    assert.is(spans.length, 9, 'nothing traced after unsubscribing');
    assert.is(byName(spans, 'Life').instrumentationScope.name, 'junjo-xstate');
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  }
});

test('one otelHooks() serves concurrent runs: one separate tree each', async () => {
  const { exporter, tracer } = inMemory();
  const workflow = lifecycleWorkflow();
  const hooks = otelHooks({ tracer });
  const results = await Promise.all([1, 2, 3].map(() => workflow.execute(undefined, { hooks })));
  const spans = exporter.getFinishedSpans();
  assert.is(new Set(spans.map((s) => s.spanContext().traceId)).size, 3);
  for (const { runId } of results) {
    const own = spans.filter((s) => s.attributes['junjo.run_id'] === runId);
    assert.equal(tree(own), tree((await traced('nowhere')).spans));
  }
});

test('without an SDK the hooks are a no-op and the run is unchanged', async () => {
  const result = await lifecycleWorkflow().execute(undefined, { hooks: otelHooks() });
  assert.equal(result.state.log, ['start', 'sub said pre+inner', 'left', 'right', 'end']);
});

test.run();

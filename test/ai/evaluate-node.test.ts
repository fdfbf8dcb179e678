/**
 * evaluateNode: one node in a generated one-node workflow — the state after it, its commits,
 * its emits and attributes, with the hooks (and so the spans) a production run has; its store
 * given as a handle, a definition with a state, or a factory of an input.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { WorkflowExecutionError, defineStore, evaluateNode, node, waitFor, type StoreOf, type WorkflowEvent } from '../../src/index.js';
import { llm } from '../../src/ai/index.js';
import { otelHooks } from '../../src/otel.js';
import { scriptedModel } from '../support/mock-models.js';

const test = suite('ai: evaluateNode');

const Doc = defineStore({
  name: 'Doc',
  initial: { text: '', summary: '', words: 0 },
  actions: {
    setSummary: (d, summary: string) => void (d.summary = summary),
    count: (d) => void (d.words = d.text.split(' ').length),
  },
});
type DocStore = StoreOf<typeof Doc>;

const counter = () =>
  node<DocStore>('Count', async (store, ctx) => {
    ctx.emit('counting');
    await store.count();
    ctx.setAttributes({ 'eval.note': 'counted' });
  });

test('with a definition and a state: the state after the node, its commits, emits and attributes', async () => {
  const result = await evaluateNode(counter(), { store: Doc, state: { text: 'one two three' } });
  assert.is(result.state.words, 3);
  assert.equal(
    result.commits.map((c) => [c.action, c.seq, c.patches]),
    [['count', 1, [{ op: 'replace', path: ['words'], value: 3 }]]],
  );
  assert.equal(result.emitted, ['counting']);
  assert.equal(result.attributes, { 'eval.note': 'counted' });
  assert.type(result.runId, 'string');
});

test('with a store handle, and with a factory of an input', async () => {
  assert.is((await evaluateNode(counter(), { store: Doc.create({ text: 'a b' }) })).state.words, 2);
  const fromInput = await evaluateNode(counter(), { store: (input: { text: string }) => Doc.create(input), input: { text: 'x y z w' } });
  assert.is(fromInput.state.words, 4);
});

test('an llm node evaluated with production hooks: the prompt result and its span', async () => {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
  const { model } = scriptedModel([{ tokens: ['A ', 'summary'] }]);
  const summarize = llm('Summarize', { store: Doc, model, prompt: (s) => `Summarise: ${s.text}`, write: (store, r) => store.setSummary(r.text) });
  const events: WorkflowEvent[] = [];
  const result = await evaluateNode(summarize, {
    store: Doc,
    state: { text: 'long text' },
    hooks: [otelHooks({ tracer }), { onEvent: (e) => events.push(e) }],
  });
  assert.is(result.state.summary, 'A summary');
  assert.equal(result.emitted, [
    { type: 'llm.token', text: 'A ' },
    { type: 'llm.token', text: 'summary' },
  ]);
  assert.is(result.attributes['llm.model_name'], 'mock-model');
  assert.is(result.attributes['input.value'], 'Summarise: long text');
  const names = exporter.getFinishedSpans().map((s) => s.name).sort();
  assert.equal(names, ['Summarize', 'evaluate(Summarize)']);
  assert.ok(events.some((e) => e.type === 'nodeCompleted'));
});

test('a failing node rejects like a run: WorkflowExecutionError with the state before it', async () => {
  const failing = node<DocStore>('Fails', () => {
    throw new Error('bad prompt');
  });
  const error = await evaluateNode(failing, { store: Doc, state: { text: 'kept' } }).catch((e: unknown) => e);
  assert.instance(error, WorkflowExecutionError);
  assert.is((error as WorkflowExecutionError<{ text: string }>).state.text, 'kept');
  assert.match(String(((error as Error).cause as Error).message), /bad prompt/);
});

test('a WaitForEvent node is refused (it would wait forever), not run', async () => {
  const wait = waitFor<DocStore>('Wait', 'go', (store) => store.count());
  const error = await evaluateNode(wait, { store: Doc }).catch((e: unknown) => e);
  assert.match((error as Error).message, /evaluateNode\('Wait'\): a WaitForEvent node waits for an event/);
});

test('a wrong store option is a clear TypeError', async () => {
  await evaluateNode(counter(), { store: 42 } as never).then(
    () => assert.unreachable('rejected'),
    (e: unknown) => assert.match((e as Error).message, /evaluateNode\('Count'\): options.store must be/),
  );
});

test.run();

/**
 * The llm node over the AI SDK's mock models: tokens stream out in order between the node's
 * start and its commit, structured output is checked (a mismatch names the node), the model's
 * abortSignal aborts when the run is cancelled mid-stream, retries make a new request, and the
 * OpenInference attributes reach the node's events and span.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { LanguageModel } from 'ai';
import { Graph, Workflow, WorkflowCancelledError, defineStore, type LifecycleEvent, type NodeEmittedEvent } from '../../src/index.js';
import { LlmOutputError, llm, type LlmToken } from '../../src/ai/index.js';
import { otelHooks } from '../../src/otel.js';
import { failureOf } from '../helpers.js';
import { gatedModel, scriptedModel } from '../support/mock-models.js';

const test = suite('ai: llm node');

const Notes = defineStore({
  name: 'Notes',
  initial: { topic: 'otters', summary: '', facts: null as null | { title: string; count: number } },
  actions: {
    setSummary: (draft, summary: string) => void (draft.summary = summary),
    setFacts: (draft, facts: { title: string; count: number }) => void (draft.facts = facts),
  },
});

function summarizer(model: LanguageModel, extra: { stream?: boolean; retry?: { attempts: number } } = {}) {
  return new Workflow({
    name: 'Summarize',
    graph: () => {
      const summarize = llm('Summarize', {
        store: Notes,
        model,
        ...extra,
        prompt: (state) => `Summarise ${state.topic}`,
        // `store` and `result` are typed from `store: Notes`: setSummary takes a string.
        write: (store, result) => store.setSummary(result.text),
      });
      return new Graph({ source: summarize, sinks: [summarize], edges: [] });
    },
    store: () => Notes.create(),
  });
}

test('tokens stream out through ctx.emit in order, before the commit and the node’s end', async () => {
  const { model, calls } = scriptedModel([{ tokens: ['Otters ', 'hold ', 'hands.'] }]);
  const lines: string[] = [];
  let result;
  for await (const item of summarizer(model).stream()) {
    if (item.type === 'nodeEmitted') lines.push(`token ${(item.data as LlmToken).text}`);
    else if (item.type === 'result') result = item.result;
    else lines.push(item.type);
  }
  assert.equal(lines, [
    'workflowStarted',
    'nodeStarted',
    'token Otters ',
    'token hold ',
    'token hands.',
    'stateChanged',
    'nodeCompleted',
    'workflowCompleted',
  ]);
  assert.is(result!.state.summary, 'Otters hold hands.');
  assert.equal(JSON.stringify(calls[0]!.prompt), JSON.stringify([{ role: 'user', content: [{ type: 'text', text: 'Summarise otters' }] }]));
});

test('model name, token counts, prompt and answer on the completed event and the span (OpenInference names)', async () => {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
  const { model } = scriptedModel([{ tokens: ['Short', ' answer'] }], 'mock-gpt');
  const completed: LifecycleEvent[] = [];
  await summarizer(model).execute(undefined, { hooks: [otelHooks({ tracer }), { nodeCompleted: (e) => completed.push(e) }] });
  const expected = {
    'openinference.span.kind': 'LLM',
    'llm.model_name': 'mock-gpt',
    'input.value': 'Summarise otters',
    'llm.token_count.prompt': 10,
    'llm.token_count.completion': 2,
    'llm.token_count.total': 12,
    'output.value': 'Short answer',
  };
  assert.equal(completed[0]!.attributes, expected);
  const span = exporter.getFinishedSpans().find((s) => s.name === 'Summarize' && s.attributes['junjo.span_type'] === 'node')!;
  for (const [key, value] of Object.entries(expected)) assert.is(span.attributes[key], value, key);
  assert.is(span.attributes['junjo.emit.count'], 2);
});

test('stream: false uses generateText: the answer is written, no token is emitted', async () => {
  const { model, calls } = scriptedModel([{ tokens: ['All ', 'at once'] }]);
  const emitted: NodeEmittedEvent[] = [];
  const { state } = await summarizer(model, { stream: false }).execute(undefined, { hooks: { nodeEmitted: (e) => emitted.push(e) } });
  assert.is(state.summary, 'All at once');
  assert.is(emitted.length, 0);
  assert.is(calls.length, 1);
});

const Facts = z.object({ title: z.string(), count: z.number().int() });

function factsWorkflow(model: LanguageModel, schema: StandardSchemaV1<unknown, { title: string; count: number }> = Facts) {
  return new Workflow({
    name: 'Facts',
    graph: () => {
      const extract = llm('ExtractFacts', {
        store: Notes,
        model,
        schema,
        prompt: (state) => ({ system: 'Answer in JSON.', prompt: `Facts about ${state.topic}` }),
        write: (store, { output }) => store.setFacts(output),
      });
      return new Graph({ source: extract, sinks: [extract], edges: [] });
    },
    store: () => Notes.create(),
  });
}

test('structured output: a matching answer is parsed, typed by the schema and written', async () => {
  const { model, calls } = scriptedModel([{ tokens: ['{"title":"Otters",', '"count":3}'] }]);
  const { state } = await factsWorkflow(model).execute();
  assert.equal(state.facts, { title: 'Otters', count: 3 });
  // The provider was asked for JSON with the schema's JSON Schema.
  const format = calls[0]!.responseFormat as { type: string; schema?: { properties?: object } };
  assert.is(format.type, 'json');
  assert.ok(format.schema?.properties && 'count' in format.schema.properties);
});

test('structured output rejected by its schema: LlmOutputError names the node and the field', async () => {
  const { model } = scriptedModel([{ tokens: ['{"title":"Otters","count":"many"}'] }]);
  const error = await failureOf(factsWorkflow(model).execute());
  assert.instance(error.cause, LlmOutputError);
  const cause = error.cause as LlmOutputError;
  assert.is(cause.node, 'ExtractFacts');
  assert.match(cause.message, /llm 'ExtractFacts'/);
  assert.match(cause.message, /count/);
  assert.equal(error.state.facts, null, 'nothing was written');
});

test('structured output with a Standard Schema that has no JSON Schema: JSON mode, checked here', async () => {
  // A hand-written Standard Schema (no JSON Schema converter), as a minimal library would give.
  const handmade: StandardSchemaV1<unknown, { title: string; count: number }> = {
    '~standard': {
      version: 1,
      vendor: 'handmade',
      validate: (value) => {
        const v = value as { title?: unknown; count?: unknown };
        return typeof v?.title === 'string' && typeof v.count === 'number'
          ? { value: { title: v.title, count: v.count } }
          : { issues: [{ message: 'expected { title: string, count: number }', path: ['count'] }] };
      },
    },
  };
  const ok = scriptedModel([{ tokens: ['{"title":"T","count":1}'] }]);
  assert.equal((await factsWorkflow(ok.model, handmade).execute()).state.facts, { title: 'T', count: 1 });
  assert.is((ok.calls[0]!.responseFormat as { type: string }).type, 'json');
  const bad = scriptedModel([{ tokens: ['{"title":"T"}'] }]);
  const error = await failureOf(factsWorkflow(bad.model, handmade).execute());
  assert.instance(error.cause, LlmOutputError);
  assert.match((error.cause as Error).message, /llm 'ExtractFacts'.*count: expected/);
});

test('cancelled mid-stream: the model request’s abortSignal aborts and the run is cancelled', async () => {
  const gated = gatedModel();
  const controller = new AbortController();
  const tokens: string[] = [];
  let firstToken!: () => void;
  const sawFirst = new Promise<void>((resolve) => (firstToken = resolve));
  const run = summarizer(gated.model).execute(undefined, {
    signal: controller.signal,
    hooks: {
      nodeEmitted: (e) => {
        tokens.push((e.data as LlmToken).text);
        firstToken();
      },
    },
  });
  const call = await gated.requested;
  assert.is(call.abortSignal?.aborted, false);
  gated.push('Hal');
  await sawFirst;
  controller.abort();
  await run.then(
    () => assert.unreachable('cancelled'),
    (error) => assert.instance(error, WorkflowCancelledError),
  );
  assert.is(call.abortSignal?.aborted, true);
  assert.equal(tokens, ['Hal']);
});

test('a failed request is retried like any node: a new request, tokens of attempt 2', async () => {
  const { model, calls } = scriptedModel([{ error: new Error('503 overloaded') }, { tokens: ['second ', 'time'] }]);
  const attempts: number[] = [];
  const { state } = await summarizer(model, { retry: { attempts: 2 } }).execute(undefined, {
    hooks: { nodeEmitted: (e) => attempts.push(e.attempt) },
  });
  assert.is(state.summary, 'second time');
  assert.is(calls.length, 2);
  assert.equal(attempts, [2, 2]);
});

test('a failing request without retry fails the run with the provider’s error', async () => {
  const { model } = scriptedModel([{ error: new Error('401 bad key') }]);
  const error = await failureOf(summarizer(model).execute());
  assert.match(String((error.cause as Error).message), /401 bad key/);
});

test('llm() checks its options: a missing write or model is a clear TypeError naming the node', () => {
  const { model } = scriptedModel([]);
  assert.throws(() => llm('Broken', { model, prompt: () => 'x' } as never), /llm\('Broken'\).*write/);
  assert.throws(() => llm('NoModel', { prompt: () => 'x', write: () => {} } as never), /llm\('NoModel'\): model is missing/);
});

// Type-level: the store type comes from `store:` (or is given, `llm<H>(…)`); either way
// `prompt`'s state and the store's methods are checked.
export function typesOnly(model: LanguageModel) {
  type NotesStore = ReturnType<typeof Notes.create>;
  llm<NotesStore>('Explicit', {
    model,
    prompt: (state) => state.topic,
    write: (store, { text }) => store.setSummary(text),
  });
  llm('Wrong', {
    store: Notes,
    model,
    // @ts-expect-error there is no field 'nope'
    prompt: (state) => state.nope,
    // @ts-expect-error setSummary takes a string
    write: (store) => store.setSummary(1),
  });
}

test.run();

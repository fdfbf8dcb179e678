/**
 * The agent node kind (issue 16): every model request and every tool call of an agent node is
 * a child actor of the run of its own — in the run's snapshot while it runs, named by the
 * agent's key and its number (`Work/model#1`, `Work/tool#2`) — and is reported to hooks and
 * OpenTelemetry as a node inside the agent node, with the OpenInference attributes. A batch of
 * tool calls runs at once; limits fail the node with a clear error; stopping the run aborts
 * the model call's signal.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { createActor, type AnyActorRef } from 'xstate';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Graph, Workflow, WorkflowCancelledError, defineStore, type LifecycleEvent, type NodeEmittedEvent } from '../../src/index.js';
import { otelHooks } from '../../src/otel.js';
import { Agent, AgentLimitError, agentTool } from '../../src/ai/index.js';
import { gatedModel, scriptedModel } from '../support/mock-models.js';
import { failureOf } from '../helpers.js';

const test = suite('ai: the agent node kind');

const Job = defineStore({ name: 'Job', initial: { report: '' }, actions: { save: (d, r: string) => void (d.report = r) } });

/** The run's child actors other than its store, by id. */
const stepsOf = (actor: AnyActorRef) => Object.keys(actor.getSnapshot().children).filter((id) => id !== 'store').sort();

function oneAgentWorkflow(agent: Agent, name = 'AgentJob') {
  return new Workflow({
    name,
    graph: () => {
      const work = agent.node('Work', { store: Job, prompt: () => 'do the job', write: (store, r) => store.save(r.text) });
      return new Graph({ source: work, sinks: [work], edges: [] });
    },
    store: () => Job.create(),
  });
}

test('each model request and each tool call is a child actor of the run, named; two calls of one answer run at once', async () => {
  let actor!: AnyActorRef;
  const seen: { at: string; children: string[]; state: unknown }[] = [];
  const look = (at: string) => seen.push({ at, children: stepsOf(actor), state: actor.getSnapshot().value });
  const { model } = scriptedModel((n) => {
    look(`model ${n}`);
    return n === 1
      ? { toolCalls: [{ name: 'slow', input: { k: 'a' }, id: 'a' }, { name: 'slow', input: { k: 'b' }, id: 'b' }] }
      : { tokens: ['all ', 'done'] };
  });
  // Both calls wait until both have started: they can only finish if they run at once.
  const started: string[] = [];
  let bothStarted!: () => void;
  const both = new Promise<void>((resolve) => (bothStarted = resolve));
  const slow = agentTool({
    description: 'slow',
    parameters: z.object({ k: z.string() }),
    execute: async ({ k }) => {
      started.push(k);
      if (started.length === 2) {
        look('tools');
        bothStarted();
      }
      await both;
      return `got ${k}`;
    },
  });
  const workflow = oneAgentWorkflow(new Agent({ name: 'Worker', model, tools: { slow } }));
  actor = createActor(workflow.machine);
  const done = new Promise<{ state: { report: string } }>((resolve, reject) =>
    actor.subscribe({ error: reject, complete: () => resolve(actor.getSnapshot().output) }),
  );
  actor.start();
  const result = await done;
  assert.is(result.state.report, 'all done');
  assert.equal(seen, [
    { at: 'model 1', children: ['Work/model#1'], state: { Work: 'modelRequest' } },
    { at: 'tools', children: ['Work/tool#1', 'Work/tool#2'], state: { Work: 'toolCalls' } },
    { at: 'model 2', children: ['Work/model#2'], state: { Work: 'modelRequest' } },
  ]);
  assert.equal(stepsOf(actor), [], 'no step actor is left behind');
  assert.equal((actor.getSnapshot().context as { agents?: object }).agents, {}, 'the loop left the context with the node');
});

test('hooks and spans show each step inside the agent node, with OpenInference attributes; tokens name their step', async () => {
  const { model } = scriptedModel([{ toolCalls: [{ name: 'lookup', input: { topic: 'owls' }, id: 'l1' }] }, { tokens: ['Owls ', 'stare.'] }], 'mock-7');
  const lookup = agentTool({ description: 'finds a fact', parameters: z.object({ topic: z.string() }), execute: ({ topic }) => `${topic} are birds` });
  const workflow = oneAgentWorkflow(new Agent({ name: 'Reporter', model, tools: { lookup } }), 'Spans');
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
  const events: (LifecycleEvent | NodeEmittedEvent)[] = [];
  await workflow.execute(undefined, { hooks: [otelHooks({ tracer }), { onEvent: (e) => void (e.type !== 'stateChanged' && events.push(e as LifecycleEvent)) }] });

  const nodeEvents = events.filter((e) => e.kind === 'node' && e.type !== 'nodeEmitted').map((e) => `${e.type} ${e.name}`);
  assert.equal(nodeEvents, [
    'nodeStarted Work',
    'nodeStarted Work model 1',
    'nodeCompleted Work model 1',
    'nodeStarted Work tool 1: lookup',
    'nodeCompleted Work tool 1: lookup',
    'nodeStarted Work model 2',
    'nodeCompleted Work model 2',
    'nodeCompleted Work',
  ]);
  assert.equal(events.filter((e) => e.type === 'nodeStarted').map((e) => (e as LifecycleEvent).step), [undefined, 'model#1', 'tool#1', 'model#2']);
  const work = events.find((e) => e.type === 'nodeStarted' && e.name === 'Work')!;
  for (const step of events.filter((e) => e.type === 'nodeStarted' && e.name.startsWith('Work '))) {
    assert.is(step.parentExecutionId, work.executionId, `${step.name} is inside the agent node`);
  }
  const tokens = events.filter((e): e is NodeEmittedEvent => e.type === 'nodeEmitted' && (e.data as { type: string }).type === 'llm.token');
  assert.equal(tokens.map((e) => [e.step, (e.data as { text: string }).text]), [['model#2', 'Owls '], ['model#2', 'stare.']]);

  const spans = new Map(exporter.getFinishedSpans().map((s) => [s.name, s]));
  const model1 = spans.get('Work model 1')!.attributes;
  assert.is(model1['openinference.span.kind'], 'LLM');
  assert.is(model1['llm.model_name'], 'mock-7');
  assert.is(model1['llm.token_count.prompt'], 10);
  assert.match(String(model1['input.value']), /do the job/);
  assert.match(String(model1['output.value']), /lookup.*owls/);
  const tool = spans.get('Work tool 1: lookup')!.attributes;
  assert.is(tool['openinference.span.kind'], 'TOOL');
  assert.is(tool['input.value'], '{"topic":"owls"}');
  assert.is(tool['output.value'], '"owls are birds"');
  const model2 = spans.get('Work model 2')!.attributes;
  assert.is(model2['output.value'], 'Owls stare.');
  assert.is(model2['llm.token_count.completion'], 2);
  const node = spans.get('Work')!;
  assert.is(node.attributes['openinference.span.kind'], 'AGENT');
  assert.is(node.attributes['output.value'], 'Owls stare.');
  assert.is(node.attributes['junjo.agent.tool_calls'], 1);
  assert.is(spans.get('Work model 1')!.parentSpanContext?.spanId, node.spanContext().spanId, 'the step span is a child of the node span');
});

test('the node’s retry policy applies to each step: a failed model request and a failed tool call are tried again, alone', async () => {
  const { model, calls } = scriptedModel((n) =>
    n === 1 ? { error: new Error('rate limited') } : n === 2 ? { toolCalls: [{ name: 'flaky', input: {}, id: 'f1' }] } : { tokens: ['fine'] },
  );
  let tries = 0;
  const flaky = agentTool({ description: 'f', parameters: z.object({}), execute: () => (++tries === 1 ? Promise.reject(new Error('transient')) : 'ok') });
  const agent = new Agent({ name: 'Retrier', model, tools: { flaky } });
  const workflow = new Workflow({
    name: 'Retries',
    graph: () => {
      const work = agent.node('Work', { store: Job, prompt: () => 'go', write: (store, r) => store.save(r.text), retry: { attempts: 2 } });
      return new Graph({ source: work, sinks: [work], edges: [] });
    },
    store: () => Job.create(),
  });
  const events: LifecycleEvent[] = [];
  const { state } = await workflow.execute(undefined, { hooks: { onEvent: (e) => void (e.type !== 'stateChanged' && e.type !== 'nodeEmitted' && events.push(e as LifecycleEvent)) } });
  assert.is(state.report, 'fine');
  assert.is(calls.length, 3, 'request 1 twice, then request 2');
  assert.is(tries, 2);
  assert.equal(
    events.filter((e) => e.kind === 'node').map((e) => `${e.type} ${e.name}${e.attempt ? ` #${e.attempt}` : ''}`),
    [
      'nodeStarted Work #1',
      'nodeStarted Work model 1 #1',
      'nodeFailed Work model 1 #1',
      'nodeRetrying Work model 1 #1',
      'nodeStarted Work model 1 #2',
      'nodeCompleted Work model 1 #2',
      'nodeStarted Work tool 1: flaky #1',
      'nodeFailed Work tool 1: flaky #1',
      'nodeRetrying Work tool 1: flaky #1',
      'nodeStarted Work tool 1: flaky #2',
      'nodeCompleted Work tool 1: flaky #2',
      'nodeStarted Work model 2 #1',
      'nodeCompleted Work model 2 #1',
      'nodeCompleted Work #1',
    ],
  );
});

test('past limits.toolCalls the node fails with AgentLimitError: the calls within the limit ran, no more', async () => {
  const { model } = scriptedModel([{ toolCalls: [0, 1, 2].map((i) => ({ name: 'tick', input: {}, id: `t${i}` })) }]);
  let ticks = 0;
  const tick = agentTool({ description: 't', parameters: z.object({}), execute: () => ++ticks });
  const error = await failureOf(oneAgentWorkflow(new Agent({ name: 'Ticker', model, tools: { tick }, limits: { toolCalls: 2 } }), 'Limits').execute());
  assert.instance(error.cause, AgentLimitError);
  assert.match((error.cause as Error).message, /Agent 'Ticker': it needed more than 2 tool calls \(limits.toolCalls = 2\)/);
  assert.equal(error.path, ['Work']);
  assert.is(ticks, 2);
});

test('past limits.modelRequests the node fails with AgentLimitError naming the agent', async () => {
  const { model, calls } = scriptedModel(() => ({ toolCalls: [{ name: 'again', input: {} }] }));
  const again = agentTool({ description: 'a', parameters: z.object({}), execute: () => 'more' });
  const error = await failureOf(oneAgentWorkflow(new Agent({ name: 'Looper', model, tools: { again }, limits: { modelRequests: 3 } }), 'Loop').execute());
  assert.instance(error.cause, AgentLimitError);
  assert.match((error.cause as Error).message, /Agent 'Looper': it needed more than 3 model requests/);
  assert.is(calls.length, 3);
});

test('stopping the run mid-stream aborts the model call’s signal and cancels the step', async () => {
  const gated = gatedModel();
  const workflow = oneAgentWorkflow(new Agent({ name: 'Streamer', model: gated.model }), 'Stop');
  const events: LifecycleEvent[] = [];
  const controller = new AbortController();
  const run = workflow.execute(undefined, { signal: controller.signal, hooks: { onEvent: (e) => void (e.type !== 'stateChanged' && events.push(e as LifecycleEvent)) } });
  const call = await gated.requested;
  gated.push('half');
  assert.is(call.abortSignal?.aborted, false);
  controller.abort();
  assert.instance(await run.catch((e: unknown) => e), WorkflowCancelledError);
  assert.is(call.abortSignal?.aborted, true);
  const ends = events.filter((e) => e.kind === 'node' && e.status !== 'started' && e.type !== ('nodeEmitted' as string)).map((e) => `${e.name} ${e.status}`);
  assert.equal(ends, ['Work model 1 cancelled', 'Work cancelled']);
});

test.run();

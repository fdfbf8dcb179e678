/**
 * The Agent over the AI SDK's mock model: the tool loop (typed arguments, results back to the
 * model), limits on model requests and tool calls, tool errors (failing or reported), invalid
 * arguments reported to the model, cancellation into the model request and the running tool,
 * a tool that runs a Workflow, and the agent as a node in a workflow.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { Graph, Workflow, WorkflowCancelledError, defineStore, node, type NodeEmittedEvent, type StoreOf } from '../../src/index.js';
import {
  Agent,
  AgentLimitError,
  AgentToolError,
  agentTool,
  initialAgentState,
  planStep,
  workflowTool,
  type LlmToken,
} from '../../src/ai/index.js';
import { failureOf } from '../helpers.js';
import { gatedModel, scriptedModel } from '../support/mock-models.js';

const test = suite('ai: agent');

/** The tool results the model was sent in a request, as `tool: value`. */
function toolResultsIn(call: LanguageModelV3CallOptions): string[] {
  return call.prompt.flatMap((message) =>
    message.role === 'tool'
      ? message.content.flatMap((part) =>
          part.type === 'tool-result' ? [`${part.toolName}: ${JSON.stringify((part.output as { value: unknown }).value)}`] : [],
        )
      : [],
  );
}

const facts: Record<string, string> = { otters: 'Otters hold hands while sleeping.', owls: 'Owls cannot move their eyes.' };

function lookupTool(seen: string[] = []) {
  return agentTool({
    description: 'Finds a fact about an animal',
    parameters: z.object({ animal: z.string() }),
    // `animal` is typed from the schema: string.
    execute: ({ animal }) => {
      seen.push(animal);
      return { fact: facts[animal] ?? 'unknown' };
    },
  });
}

test('the loop: a tool call with typed arguments, its result sent back, then the answer', async () => {
  const { model, calls } = scriptedModel([
    { toolCalls: [{ name: 'lookup', input: { animal: 'otters' } }] },
    { tokens: ['Otters ', 'hold hands.'] },
  ]);
  const seen: string[] = [];
  const agent = new Agent({ name: 'Writer', model, tools: { lookup: lookupTool(seen) } });
  const emitted: unknown[] = [];
  const result = await agent.run('Tell me about otters', { emit: (d) => emitted.push(d) });
  assert.is(result.text, 'Otters hold hands.');
  assert.equal(seen, ['otters']);
  assert.is(result.modelRequests, 2);
  assert.is(result.toolCalls, 1);
  assert.equal(toolResultsIn(calls[1]!), [`lookup: {"fact":"${facts.otters}"}`]);
  // The model was told about the tool, with its JSON Schema.
  const declared = calls[0]!.tools?.[0] as { name: string; inputSchema: { properties?: object } };
  assert.is(declared.name, 'lookup');
  assert.ok(declared.inputSchema.properties && 'animal' in declared.inputSchema.properties);
  assert.equal(
    emitted.map((d) => ((d as { type: string }).type === 'llm.token' ? (d as LlmToken).text : (d as { kind: string }).kind)),
    ['model', 'tool', 'Otters ', 'hold hands.', 'model'],
  );
  assert.equal(result.usage, { inputTokens: 30, outputTokens: 2, totalTokens: 32 });
});

test('limits.modelRequests: a model that never stops calling tools fails with AgentLimitError', async () => {
  const { model, calls } = scriptedModel(() => ({ toolCalls: [{ name: 'lookup', input: { animal: 'owls' } }] }));
  const agent = new Agent({ name: 'Looper', model, tools: { lookup: lookupTool() }, limits: { modelRequests: 3, toolCalls: 100 } });
  const error = await agent.run('loop').then(
    () => assert.unreachable('past the limit'),
    (e: unknown) => e,
  );
  assert.instance(error, AgentLimitError);
  assert.is((error as AgentLimitError).limit, 'modelRequests');
  assert.match((error as Error).message, /Agent 'Looper'.*more than 3 model requests.*limits\.modelRequests/);
  assert.is(calls.length, 3, 'no fourth request was made');
});

test('limits.toolCalls: the call past the limit is not made', async () => {
  const { model } = scriptedModel([
    { toolCalls: [{ name: 'lookup', input: { animal: 'owls' } }, { name: 'lookup', input: { animal: 'otters' } }, { name: 'lookup', input: { animal: 'x' } }] },
  ]);
  const seen: string[] = [];
  const agent = new Agent({ name: 'Greedy', model, tools: { lookup: lookupTool(seen) }, limits: { toolCalls: 2 } });
  const error = await agent.run('go').catch((e: unknown) => e);
  assert.instance(error, AgentLimitError);
  assert.is((error as AgentLimitError).limit, 'toolCalls');
  assert.equal(seen, ['owls', 'otters']);
});

test('a tool that throws fails the agent with AgentToolError naming agent and tool', async () => {
  const { model, calls } = scriptedModel([{ toolCalls: [{ name: 'explode', input: {} }] }, { tokens: ['never'] }]);
  const explode = agentTool({
    description: 'fails',
    parameters: z.object({}),
    execute: () => {
      throw new Error('disk on fire');
    },
  });
  const agent = new Agent({ name: 'Careful', model, tools: { explode } });
  const error = await agent.run('go').catch((e: unknown) => e);
  assert.instance(error, AgentToolError);
  assert.match((error as Error).message, /Agent 'Careful': tool 'explode' failed \(disk on fire\).*toolErrors: 'report'/);
  assert.is(calls.length, 1);
});

test("toolErrors: 'report' hands the error to the model, which answers", async () => {
  const { model, calls } = scriptedModel([{ toolCalls: [{ name: 'explode', input: {} }] }, { tokens: ['Sorry, it failed.'] }]);
  const explode = agentTool({
    description: 'fails',
    parameters: z.object({}),
    execute: () => {
      throw new Error('disk on fire');
    },
  });
  const result = await new Agent({ name: 'Forgiving', model, tools: { explode }, toolErrors: 'report' }).run('go');
  assert.is(result.text, 'Sorry, it failed.');
  assert.equal(toolResultsIn(calls[1]!), ['explode: "disk on fire"']);
});

test('arguments the schema rejects, and unknown tools, are reported to the model, not run', async () => {
  const { model, calls } = scriptedModel([
    { toolCalls: [{ name: 'lookup', input: { animal: 42 } }, { name: 'teleport', input: {} }] },
    { tokens: ['ok'] },
  ]);
  const seen: string[] = [];
  const result = await new Agent({ name: 'Strict', model, tools: { lookup: lookupTool(seen) } }).run('go');
  assert.is(result.text, 'ok');
  assert.equal(seen, []);
  const results = toolResultsIn(calls[1]!);
  assert.is(results.length, 2, 'one result per call');
  assert.match(results.find((r) => r.startsWith('lookup'))!, /Invalid arguments for 'lookup': animal:/);
  // The AI SDK itself answers a call to a tool it was not given.
  assert.match(results.find((r) => r.startsWith('teleport'))!, /unavailable tool 'teleport'/);
  assert.is(result.toolCalls, 1, 'only the call that reached the loop counts');
});

test('cancellation reaches a running tool: its signal aborts and the agent rejects', async () => {
  const { model } = scriptedModel([{ toolCalls: [{ name: 'wait', input: {} }] }]);
  let toolSignal: AbortSignal | undefined;
  let entered!: () => void;
  const inTool = new Promise<void>((resolve) => (entered = resolve));
  const wait = agentTool({
    description: 'waits until cancelled',
    parameters: z.object({}),
    execute: (_args, ctx) => {
      toolSignal = ctx.signal;
      entered();
      return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    },
  });
  const controller = new AbortController();
  const run = new Agent({ name: 'Patient', model, tools: { wait } }).run('go', { signal: controller.signal });
  await inTool;
  controller.abort(new Error('user left'));
  const error = await run.catch((e: unknown) => e);
  assert.is(toolSignal?.aborted, true);
  assert.match((error as Error).message, /user left/);
  assert.not.instance(error, AgentToolError, 'a cancellation is not a tool failure');
});

test('cancellation reaches the model request mid-stream', async () => {
  const gated = gatedModel();
  const controller = new AbortController();
  const run = new Agent({ name: 'Streamer', model: gated.model }).run('go', { signal: controller.signal });
  const call = await gated.requested;
  gated.push('par');
  controller.abort();
  await run.then(
    () => assert.unreachable('cancelled'),
    () => {},
  );
  assert.is(call.abortSignal?.aborted, true);
});

const Tally = defineStore({ name: 'Tally', initial: { words: [] as string[], count: 0 }, actions: { set: (d, words: string[]) => void ((d.words = words), (d.count = words.length)) } });
type TallyStore = StoreOf<typeof Tally>;

test('workflowTool: a tool that runs a Workflow; the model gets the final state', async () => {
  const counter = new Workflow({
    name: 'CountWords',
    graph: () => {
      const count = node<TallyStore>('Count', async (store) => {
        await store.set([...store.getState().words]);
      });
      return new Graph({ source: count, sinks: [count], edges: [] });
    },
    store: (input: { text: string }) => Tally.create({ words: input.text.split(' ') }),
  });
  const { model, calls } = scriptedModel([{ toolCalls: [{ name: 'count', input: { text: 'one two three' } }] }, { tokens: ['3 words'] }]);
  const count = workflowTool({
    description: 'Counts words with a workflow',
    parameters: z.object({ text: z.string() }),
    workflow: counter,
    input: ({ text }) => ({ text }),
    result: (r) => ({ count: r.state.count }),
  });
  const result = await new Agent({ name: 'Counter', model, tools: { count } }).run('count them');
  assert.is(result.text, '3 words');
  assert.equal(toolResultsIn(calls[1]!), ['count: {"count":3}']);
});

const Report = defineStore({ name: 'Report', initial: { topic: 'owls', report: '', requests: 0 }, actions: { save: (d, text: string, requests: number) => void ((d.report = text), (d.requests = requests)) } });

test('agent.node(): runs in a workflow, its tokens and steps stream out, write commits the result', async () => {
  const { model } = scriptedModel([{ toolCalls: [{ name: 'lookup', input: { animal: 'owls' } }] }, { tokens: ['Owls ', 'stare.'] }]);
  const agent = new Agent({ name: 'Reporter', model, tools: { lookup: lookupTool() } });
  const workflow = new Workflow({
    name: 'Report',
    graph: () => {
      const write = agent.node('WriteReport', {
        store: Report,
        prompt: (state) => `Write about ${state.topic}`,
        write: (store, result) => store.save(result.text, result.modelRequests),
      });
      return new Graph({ source: write, sinks: [write], edges: [] });
    },
    store: () => Report.create(),
  });
  const emitted: NodeEmittedEvent[] = [];
  let state;
  for await (const item of workflow.stream()) {
    if (item.type === 'nodeEmitted') emitted.push(item);
    if (item.type === 'result') state = item.result.state;
  }
  assert.equal(state, { topic: 'owls', report: 'Owls stare.', requests: 2 });
  assert.equal(
    emitted.map((e) => (e.data as { type: string }).type),
    ['agent.step', 'agent.step', 'llm.token', 'llm.token', 'agent.step'],
  );
  assert.ok(emitted.every((e) => e.id === 'Report/WriteReport'));
});

test('planStep is the loop’s decision as data: model first, then the pending tools as one batch, done after a plain answer', () => {
  const { model } = scriptedModel([]);
  const agent = new Agent({ name: 'Plan', model, tools: { lookup: lookupTool() }, limits: { modelRequests: 1, toolCalls: 2 } });
  const start = initialAgentState('hi');
  assert.equal(planStep(agent, start), { kind: 'model' });
  const calls = ['c1', 'c2', 'c3'].map((toolCallId) => ({ toolCallId, toolName: 'lookup', input: { animal: 'owls' } }));
  const afterModel = { ...start, modelRequests: 1, pending: calls, messages: [...start.messages, { role: 'assistant' as const, content: '' }] };
  // Three calls, room for two: the batch stops at the limit; the third would pass it.
  assert.equal(planStep(agent, afterModel), { kind: 'tools', calls: [{ id: 'c1', name: 'lookup' }, { id: 'c2', name: 'lookup' }] });
  const atLimit = { ...afterModel, pending: [calls[2]!], toolCalls: 2 };
  const toolLimit = planStep(agent, atLimit);
  assert.is(toolLimit.kind, 'failed');
  assert.match((toolLimit as { error: Error }).error.message, /more than 2 tool calls/);
  const afterTool = { ...afterModel, pending: [], toolCalls: 1, messages: [...afterModel.messages, { role: 'tool' as const, content: [] }] };
  const modelLimit = planStep(agent, afterTool);
  assert.is(modelLimit.kind, 'failed');
  assert.match((modelLimit as { error: Error }).error.message, /more than 1 model requests/);
  assert.equal(planStep(agent, { ...afterModel, pending: [] }), { kind: 'done' });
  assert.is(JSON.parse(JSON.stringify(afterTool)).toolCalls, 1, 'the loop state is JSON');
});

test('Agent checks its options: tools without a schema, bad limits', () => {
  const { model } = scriptedModel([]);
  assert.throws(() => new Agent({ name: 'A', model, tools: { t: { description: '', execute: () => 1 } as never } }), /tool 't' needs/);
  assert.throws(() => new Agent({ name: 'B', model, limits: { modelRequests: 0 } }), /limits.modelRequests must be/);
});

// Type-level: the node's store methods are typed from `store: Report`.
export function typesOnly(agent: Agent) {
  agent.node('Typed', {
    store: Report,
    prompt: (state) => state.topic,
    // @ts-expect-error save takes (text: string, requests: number)
    write: (store) => store.save(42),
  });
}

test('cancelled inside a workflow: WorkflowCancelledError, the agent’s tool sees the abort', async () => {
  const { model } = scriptedModel([{ toolCalls: [{ name: 'wait', input: {} }] }]);
  let toolSignal: AbortSignal | undefined;
  let entered!: () => void;
  const inTool = new Promise<void>((resolve) => (entered = resolve));
  const wait = agentTool({
    description: 'waits',
    parameters: z.object({}),
    execute: (_a, ctx) => {
      toolSignal = ctx.signal;
      entered();
      return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    },
  });
  const agent = new Agent({ name: 'Waiter', model, tools: { wait } });
  const workflow = new Workflow({
    name: 'Cancel',
    graph: () => {
      const n = agent.node('Run', { store: Report, prompt: () => 'go', write: () => {} });
      return new Graph({ source: n, sinks: [n], edges: [] });
    },
    store: () => Report.create(),
  });
  const controller = new AbortController();
  const run = workflow.execute(undefined, { signal: controller.signal });
  await inTool;
  controller.abort();
  const error = await run.catch((e: unknown) => e);
  assert.instance(error, WorkflowCancelledError);
  assert.is(toolSignal?.aborted, true);
});

test('a tool failure inside a workflow fails the run with the AgentToolError as cause', async () => {
  const { model } = scriptedModel([{ toolCalls: [{ name: 'explode', input: {} }] }]);
  const explode = agentTool({ description: 'x', parameters: z.object({}), execute: () => Promise.reject(new Error('boom')) });
  const agent = new Agent({ name: 'Fragile', model, tools: { explode } });
  const workflow = new Workflow({
    name: 'Fail',
    graph: () => {
      const n = agent.node('Run', { store: Report, prompt: () => 'go', write: () => {} });
      return new Graph({ source: n, sinks: [n], edges: [] });
    },
    store: () => Report.create(),
  });
  const error = await failureOf(workflow.execute());
  assert.instance(error.cause, AgentToolError);
  assert.equal(error.path, ['Run']);
});

test.run();

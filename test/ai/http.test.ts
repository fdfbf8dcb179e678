/**
 * End to end over real HTTP on 127.0.0.1: the llm node and the Agent reach the local
 * chat-completions stand-in (examples/shared/chat-completions-server.ts) through
 * `@ai-sdk/openai-compatible`, with server-sent-event streaming and tool calls. Nothing leaves
 * the machine. Cancelling the run mid-stream closes the HTTP stream.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { Graph, Workflow, WorkflowCancelledError, defineStore, type LifecycleEvent } from '../../src/index.js';
import { Agent, agentTool, llm, type LlmToken } from '../../src/ai/index.js';
import { failureOf } from '../helpers.js';
import { startChatCompletionsServer, textOf, tokensOf, type ChatServer } from '../../examples/shared/chat-completions-server.js';

const test = suite('ai: over HTTP (chat-completions stand-in)');

const Notes = defineStore({
  name: 'Notes',
  initial: { topic: 'herons', summary: '' },
  actions: { setSummary: (d, s: string) => void (d.summary = s) },
});

const providerFor = (server: ChatServer) => createOpenAICompatible({ name: 'standin', baseURL: server.baseURL, apiKey: 'not-a-real-key', includeUsage: true });

function summarizer(server: ChatServer) {
  const model = providerFor(server).chatModel('standin-small');
  return new Workflow({
    name: 'Http',
    graph: () => {
      const summarize = llm('Summarize', { store: Notes, model, prompt: (s) => `Summarise ${s.topic}`, write: (store, r) => store.setSummary(r.text) });
      return new Graph({ source: summarize, sinks: [summarize], edges: [] });
    },
    store: () => Notes.create(),
  });
}

const ANSWER = 'Herons stand still for hours, then strike.';

test('llm node: SSE tokens arrive in order through ctx.emit; usage and model name from the response', async () => {
  const server = await startChatCompletionsServer({ respond: (req) => ({ text: `${ANSWER} (${textOf(req.messages.at(-1)!.content)})` }) });
  try {
    const tokens: string[] = [];
    const completed: LifecycleEvent[] = [];
    const { state } = await summarizer(server).execute(undefined, {
      hooks: { nodeEmitted: (e) => tokens.push((e.data as LlmToken).text), nodeCompleted: (e) => completed.push(e) },
    });
    const expected = `${ANSWER} (Summarise herons)`;
    assert.is(state.summary, expected);
    assert.equal(tokens, tokensOf(expected));
    assert.ok(tokens.length > 5);
    const request = server.requests[0]!;
    assert.is(request.stream, true);
    assert.is(request.model, 'standin-small');
    assert.equal(request.messages.map((m) => m.role), ['user']);
    const attributes = completed[0]!.attributes!;
    assert.is(attributes['llm.model_name'], 'standin-small');
    assert.is(attributes['llm.token_count.completion'], tokens.length);
    assert.type(attributes['llm.token_count.prompt'], 'number');
  } finally {
    await server.close();
  }
});

test('agent: tool calls streamed over HTTP, results sent back as tool messages, then the answer', async () => {
  const server = await startChatCompletionsServer({
    respond: (req) => {
      const results = req.messages.filter((m) => m.role === 'tool');
      if (results.length === 0) return { toolCalls: [{ name: 'lookup', arguments: { animal: 'herons' } }] };
      return { text: `Report: ${textOf(results[0]!.content)}` };
    },
  });
  try {
    const seen: string[] = [];
    const lookup = agentTool({
      description: 'Finds a fact about an animal',
      parameters: z.object({ animal: z.string() }),
      execute: ({ animal }) => {
        seen.push(animal);
        return { fact: `${animal} fish at dawn` };
      },
    });
    const agent = new Agent({ name: 'Reporter', model: providerFor(server).chatModel('standin-tools'), tools: { lookup } });
    const result = await agent.run('Write about herons');
    assert.equal(seen, ['herons']);
    assert.is(result.text, 'Report: {"fact":"herons fish at dawn"}');
    assert.is(server.requests.length, 2);
    assert.equal(server.requests[0]!.tools!.map((t) => t.function.name), ['lookup']);
    const second = server.requests[1]!;
    assert.equal(second.messages.map((m) => m.role), ['user', 'assistant', 'tool']);
    assert.is(second.messages[1]!.tool_calls![0]!.function.name, 'lookup');
  } finally {
    await server.close();
  }
});

test('cancelled mid-stream: the HTTP stream is closed, the run rejects as cancelled', async () => {
  const server = await startChatCompletionsServer({ respond: () => ({ text: 'one two three four five' }), gated: true });
  try {
    const controller = new AbortController();
    const tokens: string[] = [];
    let first!: () => void;
    const gotFirst = new Promise<void>((resolve) => (first = resolve));
    const run = summarizer(server).execute(undefined, {
      signal: controller.signal,
      hooks: {
        nodeEmitted: (e) => {
          tokens.push((e.data as LlmToken).text);
          first();
        },
      },
    });
    server.release(1);
    await gotFirst;
    assert.is(server.openStreams(), 1);
    controller.abort();
    await run.then(
      () => assert.unreachable('cancelled'),
      (error) => assert.instance(error, WorkflowCancelledError),
    );
    await server.whenIdle();
    assert.is(server.openStreams(), 0);
    assert.equal(tokens, ['one ']);
  } finally {
    await server.close();
  }
});

test('an HTTP error from the provider fails the node with the provider’s message', async () => {
  const server = await startChatCompletionsServer({ respond: () => ({ text: 'x' }) });
  try {
    const model = createOpenAICompatible({ name: 'standin', baseURL: `${server.baseURL}/missing`, apiKey: 'k' }).chatModel('m');
    const workflow = new Workflow({
      name: 'Broken',
      graph: () => {
        const n = llm('Summarize', { store: Notes, model, prompt: () => 'x', write: () => {} });
        return new Graph({ source: n, sinks: [n], edges: [] });
      },
      store: () => Notes.create(),
    });
    const error = await failureOf(workflow.execute());
    assert.match(String((error.cause as Error).message), /no route POST \/v1\/missing\/chat\/completions|Not Found/);
  } finally {
    await server.close();
  }
});

test.run();

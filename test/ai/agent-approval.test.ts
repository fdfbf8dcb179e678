/**
 * A tool that needs a person's approval: the agent node waits in its `approval` state with
 * nothing in flight — persistable there like any wait — until the run gets `agent.approve` or
 * `agent.reject`; then it goes on without repeating its model request: an approved call runs,
 * a rejected one is reported to the model. An event about another call leaves it waiting.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { createActor, type AnyActorRef } from 'xstate';
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { Graph, Workflow, defineStore } from '../../src/index.js';
import { Agent, agentTool, APPROVE_EVENT, REJECT_EVENT, type AgentLoopState } from '../../src/ai/index.js';
import { scriptedModel } from '../support/mock-models.js';

const test = suite('ai: a tool call waiting for approval');

const Post = defineStore({ name: 'Post', initial: { report: '' }, actions: { save: (draft, report: string) => void (draft.report = report) } });

const resultsIn = (call: LanguageModelV3CallOptions) =>
  call.prompt.flatMap((m) => (m.role === 'tool' ? m.content.map((p) => (p.type === 'tool-result' ? JSON.stringify(p.output) : '')) : []));

function setup() {
  const { model, calls } = scriptedModel((_n, call) => {
    const results = resultsIn(call);
    if (results.length === 0) return { toolCalls: [{ name: 'publish', input: { title: 'Otters' }, id: 'p1' }] };
    return { tokens: [`after: ${results[0]}`] };
  });
  const published: string[] = [];
  const agent = new Agent({
    name: 'Publisher',
    model,
    tools: {
      publish: agentTool({
        description: 'Publishes a post',
        parameters: z.object({ title: z.string() }),
        needsApproval: true,
        execute: ({ title }) => {
          published.push(title);
          return `published ${title}`;
        },
      }),
    },
  });
  const workflow = new Workflow({
    name: 'Publish',
    graph: () => {
      const work = agent.node('Work', { store: Post, prompt: () => 'publish the otter post', write: (store, r) => store.save(r.text) });
      return new Graph({ source: work, sinks: [work], edges: [] });
    },
    store: () => Post.create(),
  });
  return { workflow, calls, published };
}

/** Resolves when the agent node waits for a decision (on a snapshot, not a timer). */
function waitingForApproval(actor: AnyActorRef): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => actor.getSnapshot().matches({ Work: 'approval' });
    if (check()) return resolve();
    const sub = actor.subscribe({
      next: () => {
        if (check()) {
          sub.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
}

function finished(actor: AnyActorRef): Promise<{ state: { report: string }; executionCounts: Record<string, number> }> {
  return new Promise((resolve, reject) => actor.subscribe({ error: reject, complete: () => resolve(actor.getSnapshot().output) }));
}

test('approved after the waiting run was persisted and restored: the call runs once, no model request repeated', async () => {
  const { workflow, calls, published } = setup();
  const first = createActor(workflow.machine).start();
  await waitingForApproval(first);
  assert.equal(published, [], 'nothing published before the decision');
  assert.is(calls.length, 1);
  assert.equal(Object.keys(first.getSnapshot().children), ['store'], 'nothing in flight while it waits');
  const { agents } = first.getSnapshot().context as { agents: Record<string, { loop: AgentLoopState }> };
  assert.equal(agents.Work!.loop.pending, [{ toolCallId: 'p1', toolName: 'publish', input: { title: 'Otters' } }]);
  const json = JSON.stringify(first.getPersistedSnapshot());
  first.stop();

  const restored = createActor(workflow.machine, { snapshot: JSON.parse(json) }).start();
  const done = finished(restored);
  assert.ok(restored.getSnapshot().matches({ Work: 'approval' }), 'restored waiting');
  restored.send({ type: APPROVE_EVENT, toolCallId: 'p1', by: 'dana' });
  const result = await done;
  assert.equal(published, ['Otters']);
  assert.is(calls.length, 2, 'the first model request was not made again');
  assert.is(result.state.report, 'after: {"type":"json","value":"published Otters"}');
  assert.equal(result.executionCounts, { Work: 1 });
});

test('rejected: the tool does not run, the model is told who rejected it and why', async () => {
  const { workflow, calls, published } = setup();
  const actor = createActor(workflow.machine).start();
  const done = finished(actor);
  await waitingForApproval(actor);
  actor.send({ type: REJECT_EVENT, by: 'lee', reason: 'not today' });
  const result = await done;
  assert.equal(published, []);
  assert.is(calls.length, 2);
  assert.match(result.state.report, /A person rejected this call \(lee\): not today/);
});

test('a decision about another call or node is ignored: the node keeps waiting', async () => {
  const { workflow, published } = setup();
  const actor = createActor(workflow.machine).start();
  await waitingForApproval(actor);
  actor.send({ type: APPROVE_EVENT, toolCallId: 'other' });
  actor.send({ type: APPROVE_EVENT, node: 'SomeOtherNode' });
  assert.ok(actor.getSnapshot().matches({ Work: 'approval' }));
  assert.equal(published, []);
  actor.stop();
});

test('agent.run() cannot wait for a person: a clear error instead of an empty answer', async () => {
  const { model } = scriptedModel([{ toolCalls: [{ name: 't', input: {} }] }]);
  const agent = new Agent({
    name: 'Alone',
    model,
    tools: { t: agentTool({ description: 't', parameters: z.object({}), needsApproval: true, execute: () => 1 }) },
  });
  const error = await agent.run('go').catch((e: unknown) => e);
  assert.match((error as Error).message, /Agent 'Alone': tool 't' needs a person's approval.*run the agent as a node/);
});

test.run();

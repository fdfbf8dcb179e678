/**
 * A tool that needs a person's approval: the agent node stops at the call (its loop state in
 * the journal), the run waits in a `waitFor` node — persistable there like any wait — and the
 * decision, applied with `decide(journal, …)`, leads back to the agent, which goes on without
 * repeating its model request: an approved call runs, a rejected one is reported to the model.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { createActor, type AnyActorRef } from 'xstate';
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { Edge, Graph, Workflow, condition, defineStore, node, waitFor, type StoreOf } from '../../src/index.js';
import { Agent, agentTool, awaitingApprovalOf, decide, type AgentJournal } from '../../src/ai/index.js';
import { scriptedModel } from '../support/mock-models.js';

const test = suite('ai: a tool call waiting for approval');

const Post = defineStore({
  name: 'Post',
  initial: { report: '', journal: null as unknown },
  actions: {
    setJournal: (draft, journal: AgentJournal) => void (draft.journal = journal),
    save: (draft, report: string) => void (draft.report = report),
  },
});
type PostStore = StoreOf<typeof Post>;
type Decision = { type: 'approve' | 'reject'; by: string; reason?: string };

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
      const work = agent.node('Work', {
        store: Post,
        prompt: () => 'publish the otter post',
        write: (store, r) => store.save(r.text),
        journal: { read: (state) => state.journal, write: (store, journal) => store.setJournal(journal) },
      });
      const approve = waitFor<PostStore, Decision>('Approve', ['approve', 'reject'], (store, e) =>
        store.setJournal(decide(store.getState().journal, { approved: e.type === 'approve', by: e.by, ...(e.reason ? { reason: e.reason } : {}) })),
      );
      const done = node<PostStore>('Done', () => {});
      const awaits = condition<ReturnType<PostStore['getState']>>('AwaitsApproval', (s) => awaitingApprovalOf(s.journal) !== undefined);
      return new Graph({
        source: work,
        sinks: [done],
        edges: [
          new Edge({ tail: work, head: approve, condition: awaits }),
          new Edge({ tail: work, head: done }),
          new Edge({ tail: approve, head: work }),
        ],
      });
    },
    store: () => Post.create(),
  });
  return { workflow, calls, published };
}

/** Resolves when the run waits at Approve (on a snapshot, not a timer). */
function waitingAtApprove(actor: AnyActorRef): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => actor.getSnapshot().matches({ Approve: 'waiting' });
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

function finished(actor: AnyActorRef): Promise<{ state: { report: string; journal: unknown }; executionCounts: Record<string, number> }> {
  return new Promise((resolve, reject) => actor.subscribe({ error: reject, complete: () => resolve(actor.getSnapshot().output) }));
}

test('approved after the waiting run was persisted and restored: the call runs once, no model request repeated', async () => {
  const { workflow, calls, published } = setup();
  const first = createActor(workflow.machine).start();
  await waitingAtApprove(first);
  assert.equal(published, [], 'nothing published before the decision');
  assert.is(calls.length, 1);
  const journal = first.getSnapshot().context.store.getSnapshot().context.journal as AgentJournal;
  assert.equal(journal.awaiting, { toolCallId: 'p1', tool: 'publish', input: { title: 'Otters' } });
  const json = JSON.stringify(first.getPersistedSnapshot());
  first.stop();

  const restored = createActor(workflow.machine, { snapshot: JSON.parse(json) }).start();
  const done = finished(restored);
  assert.ok(restored.getSnapshot().matches({ Approve: 'waiting' }), 'restored waiting');
  restored.send({ type: 'approve', by: 'dana' });
  const result = await done;
  assert.equal(published, ['Otters']);
  assert.is(calls.length, 2, 'the first model request was not made again');
  assert.is(result.state.report, 'after: {"type":"json","value":"published Otters"}');
  assert.equal(result.executionCounts, { Work: 2, Approve: 1, Done: 1 });
});

test('rejected: the tool does not run, the model is told who rejected it and why', async () => {
  const { workflow, calls, published } = setup();
  const actor = createActor(workflow.machine).start();
  const done = finished(actor);
  await waitingAtApprove(actor);
  actor.send({ type: 'reject', by: 'lee', reason: 'not today' });
  const result = await done;
  assert.equal(published, []);
  assert.is(calls.length, 2);
  assert.match(result.state.report, /A person rejected this call \(lee\): not today/);
});

test('a tool needing approval without a journal is refused when the node is made', () => {
  const { model } = scriptedModel([]);
  const agent = new Agent({
    name: 'A',
    model,
    tools: { t: agentTool({ description: 't', parameters: z.object({}), needsApproval: true, execute: () => 1 }) },
  });
  assert.throws(() => agent.node('N', { store: Post, prompt: () => 'x', write: () => {} }), /tool 't' needs approval, so the node needs a journal/);
});

test('agent.run() cannot wait for a person: a clear error instead of an empty answer', async () => {
  const { model } = scriptedModel([{ toolCalls: [{ name: 't', input: {} }] }]);
  const agent = new Agent({
    name: 'Alone',
    model,
    tools: { t: agentTool({ description: 't', parameters: z.object({}), needsApproval: true, execute: () => 1 }) },
  });
  const error = await agent.run('go').catch((e: unknown) => e);
  assert.match((error as Error).message, /Agent 'Alone': tool 't' needs a person's approval.*as a node with a journal/);
});

test.run();

/**
 * A durable run resumed in the middle of an agent loop: with the agent node's `journal` (its
 * loop state kept in the store after each step, and so in every checkpoint), the resumed run
 * repeats no completed model request or tool call; only the tool call in flight when the run
 * was interrupted runs again (at least once, as any node in flight does).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { Graph, MemoryCheckpointStore, Workflow, defineStore, type CheckpointRecord } from '../../src/index.js';
import { Agent, agentTool, type AgentJournal } from '../../src/ai/index.js';
import { scriptedModel } from '../support/mock-models.js';

const test = suite('ai: agent resumed from a checkpoint');

const Job = defineStore({
  name: 'Job',
  // The journal is kept as it is written; its type stays opaque to the store.
  initial: { report: '', journal: null as unknown },
  actions: {
    setJournal: (draft, journal: AgentJournal) => void (draft.journal = journal),
    save: (draft, report: string) => void (draft.report = report),
  },
});

/** How many tool results the request carries: the script answers by where the loop is. */
const resultsIn = (call: LanguageModelV3CallOptions) => call.prompt.filter((m) => m.role === 'tool').length;

test('interrupted in its second tool call, resumed: model requests and the first tool are not repeated', async () => {
  const { model, calls } = scriptedModel((_n, call) =>
    resultsIn(call) === 0
      ? { toolCalls: [{ name: 'first', input: {}, id: 'c-first' }] }
      : resultsIn(call) === 1
        ? { toolCalls: [{ name: 'second', input: {}, id: 'c-second' }] }
        : { tokens: ['done'] },
  );
  const ran: string[] = [];
  let interrupt = true;
  let inSecond!: () => void;
  const enteredSecond = new Promise<void>((resolve) => (inSecond = resolve));
  const agent = new Agent({
    name: 'Durable',
    model,
    tools: {
      first: agentTool({ description: 'one', parameters: z.object({}), execute: () => {
        ran.push('first');
        return 'first ok';
      } }),
      second: agentTool({
        description: 'two',
        parameters: z.object({}),
        execute: (_a, ctx) => {
          ran.push('second');
          if (!interrupt) return 'second ok';
          inSecond();
          return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
        },
      }),
    },
  });
  const workflow = new Workflow({
    name: 'AgentJob',
    graph: () => {
      const work = agent.node('Work', {
        store: Job,
        prompt: () => 'do the job',
        write: (store, r) => store.save(r.text),
        journal: { read: (state) => state.journal, write: (store, journal) => store.setJournal(journal) },
      });
      return new Graph({ source: work, sinks: [work], edges: [] });
    },
    store: () => Job.create(),
  });

  // Interrupt once the checkpoint holds the journal of the step before the second tool call.
  let journalCheckpointed!: () => void;
  const checkpointed = new Promise<void>((resolve) => (journalCheckpointed = resolve));
  class Watching extends MemoryCheckpointStore {
    override put(record: CheckpointRecord): void {
      super.put(record);
      if (record.data.includes('"toolName":"second"') && record.data.includes('"modelRequests":2')) journalCheckpointed();
    }
  }
  const checkpoint = new Watching();
  const controller = new AbortController();
  const first = workflow.execute(undefined, { checkpoint, runId: 'job-1', signal: controller.signal });
  await Promise.all([enteredSecond, checkpointed]);
  controller.abort(new Error('the process died'));
  await first.catch(() => {});
  assert.equal(ran, ['first', 'second']);
  assert.is(calls.length, 2);
  assert.equal((await workflow.unfinishedRuns(checkpoint)).map((r) => r.status), ['cancelled']);

  interrupt = false;
  const result = await workflow.resume('job-1', { checkpoint });
  assert.is(result.state.report, "done");
  assert.equal(ran, ['first', 'second', 'second'], 'only the call in flight ran again');
  assert.is(calls.length, 3, 'no model request was repeated');
  assert.is(resultsIn(calls[2]!), 2);
  const journal = result.state.journal as AgentJournal;
  assert.is(journal.loop.modelRequests, 3);
  assert.is(journal.loop.toolCalls, 2);
});

test('a retried attempt goes on from the journal too: the completed tool call is not repeated', async () => {
  const { model, calls } = scriptedModel((_n, call) =>
    resultsIn(call) === 0
      ? { toolCalls: [{ name: 'first', input: {}, id: 'a' }] }
      : resultsIn(call) === 1
        ? { toolCalls: [{ name: 'flaky', input: {}, id: 'b' }] }
        : { tokens: ['fine'] },
  );
  const ran: string[] = [];
  const agent = new Agent({
    name: 'Retrying',
    model,
    tools: {
      first: agentTool({ description: '1', parameters: z.object({}), execute: () => void ran.push('first') }),
      flaky: agentTool({
        description: '2',
        parameters: z.object({}),
        execute: () => {
          ran.push('flaky');
          if (ran.filter((r) => r === 'flaky').length === 1) throw new Error('transient');
          return 'ok';
        },
      }),
    },
  });
  const workflow = new Workflow({
    name: 'RetryJob',
    graph: () => {
      const work = agent.node('Work', {
        store: Job,
        prompt: () => 'go',
        write: (store, r) => store.save(r.text),
        retry: { attempts: 2 },
        journal: { read: (state) => state.journal, write: (store, journal) => store.setJournal(journal) },
      });
      return new Graph({ source: work, sinks: [work], edges: [] });
    },
    store: () => Job.create(),
  });
  const { state } = await workflow.execute();
  assert.is(state.report, 'fine');
  assert.equal(ran, ['first', 'flaky', 'flaky']);
  assert.is(calls.length, 3);
});

test('without a journal, a resumed agent node starts its loop over (documented)', async () => {
  const { model, calls } = scriptedModel((_n, call) => (resultsIn(call) === 0 ? { toolCalls: [{ name: 'wait', input: {} }] } : { tokens: ['ok'] }));
  let interrupt = true;
  let entered!: () => void;
  const inTool = new Promise<void>((resolve) => (entered = resolve));
  const agent = new Agent({
    name: 'Forgetful',
    model,
    tools: {
      wait: agentTool({
        description: 'w',
        parameters: z.object({}),
        execute: (_a, ctx) => {
          if (!interrupt) return 'ok';
          entered();
          return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
        },
      }),
    },
  });
  const workflow = new Workflow({
    name: 'NoJournal',
    graph: () => {
      const work = agent.node('Work', { store: Job, prompt: () => 'go', write: (store, r) => store.save(r.text) });
      return new Graph({ source: work, sinks: [work], edges: [] });
    },
    store: () => Job.create(),
  });
  const checkpoint = new MemoryCheckpointStore();
  const controller = new AbortController();
  const run = workflow.execute(undefined, { checkpoint, runId: 'nj', signal: controller.signal });
  await inTool;
  controller.abort();
  await run.catch(() => {});
  interrupt = false;
  const result = await workflow.resume('nj', { checkpoint });
  assert.is(result.state.report, 'ok');
  assert.is(calls.length, 3, 'the first model request was made again');
});

test.run();

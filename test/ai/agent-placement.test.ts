/**
 * An agent node runs wherever a node can run in a graph's flow: beside a sibling in a
 * RunConcurrent (its step actors' done events are told apart from the sibling's), inside a
 * Subflow (its steps are actors of the subflow's run, an approval event reaches it through the
 * parent run), and alone through evaluateNode. It cannot be a RunMap item, and says so.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { createActor } from 'xstate';
import { Edge, Graph, RunConcurrent, RunMap, Subflow, Workflow, defineStore, evaluateNode, node, type StoreOf } from '../../src/index.js';
import { Agent, agentTool, APPROVE_EVENT } from '../../src/ai/index.js';
import { scriptedModel } from '../support/mock-models.js';

const test = suite('ai: where an agent node runs');

const Desk = defineStore({
  name: 'Desk',
  initial: { report: '', side: 0 },
  actions: { save: (d, r: string) => void (d.report = r), bump: (d) => void d.side++ },
});
type DeskStore = StoreOf<typeof Desk>;

function agentWith(needsApproval = false) {
  const { model, calls } = scriptedModel([{ toolCalls: [{ name: 'note', input: { text: 'x' }, id: 'n1' }] }, { tokens: ['written'] }]);
  const note = agentTool({ description: 'n', parameters: z.object({ text: z.string() }), needsApproval, execute: ({ text }) => `noted ${text}` });
  return { agent: new Agent({ name: 'Scribe', model, tools: { note } }), calls };
}

test('beside a sibling in a RunConcurrent', async () => {
  const { agent } = agentWith();
  const workflow = new Workflow({
    name: 'Beside',
    graph: () => {
      const write = agent.node('Write', { store: Desk, prompt: () => 'go', write: (s, r) => s.save(r.text) });
      const side = node<DeskStore>('Side', async (s) => {
        await s.bump();
        await s.bump();
      });
      const both = new RunConcurrent<DeskStore>({ name: 'Both', items: [write, side] });
      return new Graph({ source: both, sinks: [both], edges: [] });
    },
    store: () => Desk.create(),
  });
  const { state } = await workflow.execute();
  assert.equal(state, { report: 'written', side: 2 });
});

test('inside a Subflow, waiting for approval through the parent run', async () => {
  const { agent, calls } = agentWith(true);
  class Inner extends Subflow<DeskStore, DeskStore> {
    override async postRunActions(parent: DeskStore, sub: DeskStore) {
      await parent.save(`inner: ${sub.getState().report}`);
    }
  }
  const inner = new Inner({
    name: 'Inner',
    graph: () => {
      const write = agent.node('Write', { store: Desk, prompt: () => 'go', write: (s, r) => s.save(r.text) });
      return new Graph({ source: write, sinks: [write], edges: [] });
    },
    store: () => Desk.create(),
  });
  const workflow = new Workflow({
    name: 'Outer',
    graph: () => {
      const done = node<DeskStore>('Done', () => {});
      return new Graph({ source: inner, sinks: [done], edges: [new Edge({ tail: inner, head: done })] });
    },
    store: () => Desk.create(),
  });
  const actor = createActor(workflow.machine);
  const finished = new Promise<{ state: { report: string } }>((resolve, reject) => actor.subscribe({ error: reject, complete: () => resolve(actor.getSnapshot().output!) }));
  actor.start();
  // The subflow's run waits, not the parent's: watched on the subflow's actor.
  const sub = actor.getSnapshot().children.Inner!;
  await new Promise<void>((resolve) => {
    const check = () => sub.getSnapshot().matches({ Write: 'approval' }) && (resolve(), true);
    if (!check()) sub.subscribe(check);
  });
  actor.send({ type: APPROVE_EVENT });
  const { state } = await finished;
  assert.is(state.report, 'inner: written');
  assert.is(calls.length, 2);
});

test('alone through evaluateNode', async () => {
  const { agent } = agentWith();
  const write = agent.node('Write', { store: Desk, prompt: () => 'go', write: (s, r) => s.save(r.text) });
  const { state } = await evaluateNode(write, { store: Desk.create() });
  assert.is(state.report, 'written');
});

test('not as a RunMap item: a clear error naming the RunMap and the kind', async () => {
  const { agent } = agentWith();
  const workflow = new Workflow({
    name: 'Mapped',
    graph: () => {
      const map = new RunMap({ name: 'Each', items: () => [1, 2], node: (_, i) => agent.node(`Write${i}`, { store: Desk, prompt: () => 'go', write: (s, r) => s.save(r.text) }) });
      return new Graph({ source: map, sinks: [map], edges: [] });
    },
    store: () => Desk.create(),
  });
  const error = await workflow.execute().catch((e: unknown) => e);
  assert.match((error as Error).message, /failed at 'Each': RunMap 'Each': node\(item, 0\) must return one of: node, subflow; got Agent node/);
});

test.run();

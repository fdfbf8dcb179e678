import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, type AnyActorRef, type InspectionEvent } from 'xstate';
import {
  Edge,
  Graph,
  MaxIterationsError,
  RunConcurrent,
  Subflow,
  Workflow,
  WorkflowCancelledError,
  WorkflowExecutionError,
  condition,
  defineStore,
  node,
  type StateOf,
  type StoreOf,
} from '../src/index.js';
import { sampleWorkflow, type SampleState } from '../examples/sample-with-subflow/workflow.js';
import { activeTimers, failureOf, settle, sleep } from './helpers.js';

const test = suite('subflow');

const Tally = defineStore({
  name: 'Tally',
  initial: { total: 0, log: [] as string[] },
  actions: {
    add: (draft, n: number) => {
      draft.total += n;
    },
    log: (draft, line: string) => {
      draft.log.push(line);
    },
  },
});
type TallyHandle = StoreOf<typeof Tally>;
type TallyState = StateOf<typeof Tally>;

/** A subflow whose graph is one node; pre copies nothing, post adds its total to the parent's. */
class AddUp extends Subflow<TallyHandle, TallyHandle> {
  override async postRunActions(parent: TallyHandle, sub: TallyHandle) {
    for (let i = 0; i < sub.getState().total; i++) {
      await sleep(Math.random() * 2);
      await parent.add(1);
    }
    await parent.log(`${this.name} done`);
  }
}

const single = (name: string, fn: (store: TallyHandle) => unknown) => () => {
  const only = node<TallyHandle>(name, fn);
  return new Graph({ source: only, sinks: [only], edges: [] });
};

test("Junjo's base sample: exact final state and path for each branch", async () => {
  const cases: [string[], number, string, string][] = [
    [['a', 'b', 'c', 'd', 'e'], 15, 'CounterIs15Node', 'the counter is exactly 15'],
    [['a', 'b', 'c', 'd'], 14, 'EvenNode', 'the counter is even'],
    [['a', 'b', 'c'], 13, 'OddNode', 'the counter is odd'],
  ];
  for (const [items, counter, branch, outcome] of cases) {
    const result = await sampleWorkflow.execute({ items });
    const topic = items.join(' and ');
    assert.equal(result.state, {
      items,
      counter,
      joke: `Why did the ${topic} cross the road? To get to the other list.`,
      fact: `The words "${topic}" have ${topic.replace(/[^a-z]/gi, '').length} letters.`,
      outcome,
      path: ['CountItems', 'JokeAndFact', branch, 'Final'],
    } satisfies SampleState);
    assert.equal(result.executionCounts, {
      CountItems: 1,
      ChangeCounter: 1,
      Increment: 1,
      Decrement: 1,
      AddTen: 1,
      JokeAndFact: 1,
      [branch]: 1,
      Final: 1,
    });
    const sub = result.subflows.JokeAndFact!;
    assert.is(sub.length, 1);
    assert.equal(sub[0]!.executionCounts, { JokeAndFactTogether: 1, MakeJoke: 1, MakeFact: 1, JokeAndFactDone: 1 });
    assert.equal((sub[0]!.state as { topic: string }).topic, topic);
  }
});

test('two subflows in one RunConcurrent write to the parent through postRunActions and lose no update', async () => {
  const workflow = new Workflow({
    name: 'TwoSubflows',
    graph: () => {
      const left = new AddUp({ name: 'Left', graph: single('CountLeft', (s) => s.add(40)), store: () => Tally.create() });
      const right = new AddUp({ name: 'Right', graph: single('CountRight', (s) => s.add(60)), store: () => Tally.create() });
      const both = new RunConcurrent({ name: 'Both', items: [left, right] });
      const end = node<TallyHandle>('End', () => {});
      return new Graph({ source: both, sinks: [end], edges: [new Edge({ tail: both, head: end })] });
    },
    store: () => Tally.create(),
  });
  const result = await workflow.execute();
  assert.is(result.state.total, 100);
  assert.equal([...result.state.log].sort(), ['Left done', 'Right done']);
  assert.equal(result.subflows.Left![0]!.state, { total: 40, log: [] });
  assert.equal(result.subflows.Right![0]!.state, { total: 60, log: [] });
});

test("each subflow run gets a fresh store; its nodes see only their own store", async () => {
  const seen: unknown[] = [];
  const workflow = new Workflow({
    name: 'Fresh',
    graph: () => {
      const sub = new AddUp({
        name: 'Sub',
        graph: single('Look', async (s) => {
          seen.push(s.getState());
          await s.add(1);
        }),
        store: () => Tally.create(),
      });
      const again = condition<TallyState>('Again', (s) => s.total < 3);
      const end = node<TallyHandle>('End', () => {});
      return new Graph({
        source: sub,
        sinks: [end],
        edges: [new Edge({ tail: sub, head: sub, condition: again }), new Edge({ tail: sub, head: end })],
      });
    },
    store: () => Tally.create({ total: 0, log: ['parent only'] }),
  });
  const result = await workflow.execute();
  assert.is(result.state.total, 3);
  assert.equal(seen, [
    { total: 0, log: [] },
    { total: 0, log: [] },
    { total: 0, log: [] },
  ]);
  assert.is(result.executionCounts.Sub, 3);
  assert.is(result.subflows.Sub!.length, 3);
});

test('subflows nest three deep', async () => {
  const level = (depth: number): Graph => {
    if (depth === 0) {
      const leaf = node<TallyHandle>('Leaf', (s) => s.add(1));
      return new Graph({ source: leaf, sinks: [leaf], edges: [] });
    }
    const before = node<TallyHandle>(`Before${depth}`, (s) => s.add(10 ** depth));
    const inner = new AddUp({ name: `Level${depth}`, graph: () => level(depth - 1), store: () => Tally.create() });
    return new Graph({ source: before, sinks: [inner], edges: [new Edge({ tail: before, head: inner })] });
  };
  const workflow = new Workflow({ name: 'Deep', graph: () => level(3), store: () => Tally.create() });
  const result = await workflow.execute();
  // Each level adds its own 10^depth and what the level below it handed up.
  assert.is(result.state.total, 1000 + 100 + 10 + 1);
  const l2 = result.subflows.Level3![0]!;
  const l1 = l2.subflows.Level2![0]!;
  const l0 = l1.subflows.Level1![0]!;
  assert.equal(l0.executionCounts, { Leaf: 1 });
  assert.equal(l0.state, { total: 1, log: [] });
});

test('a subflow in a cycle is bounded by maxIterations, as a unit in its parent', async () => {
  const workflow = new Workflow({
    name: 'Loop',
    maxIterations: 4,
    graph: () => {
      const sub = new AddUp({ name: 'Sub', graph: single('One', (s) => s.add(1)), store: () => Tally.create() });
      const end = node<TallyHandle>('End', () => {});
      return new Graph({
        source: sub,
        sinks: [end],
        edges: [new Edge({ tail: sub, head: sub, condition: condition('Always', () => true) }), new Edge({ tail: sub, head: end })],
      });
    },
    store: () => Tally.create(),
  });
  const e = await failureOf(workflow.execute());
  assert.instance(e.cause, MaxIterationsError);
  assert.equal(e.path, ['Sub']);
  assert.match(e.message, /'Sub' would run a 5th time, past maxIterations \(4\)/);
  assert.is(e.state.total, 4);
});

test("maxIterations of a subflow bounds the nodes inside it", async () => {
  const workflow = new Workflow({
    name: 'InnerLoop',
    graph: () => {
      const sub = new AddUp({
        name: 'Sub',
        maxIterations: 3,
        graph: () => {
          const spin = node<TallyHandle>('Spin', (s) => s.add(1));
          const end = node<TallyHandle>('InnerEnd', () => {});
          return new Graph({
            source: spin,
            sinks: [end],
            edges: [new Edge({ tail: spin, head: spin, condition: condition('Always', () => true) }), new Edge({ tail: spin, head: end })],
          });
        },
        store: () => Tally.create(),
      });
      return new Graph({ source: sub, sinks: [sub], edges: [] });
    },
    store: () => Tally.create(),
  });
  try {
    await workflow.execute();
    assert.unreachable();
  } catch (err) {
    const e = err as WorkflowExecutionError;
    assert.instance(e.cause, MaxIterationsError);
    assert.equal(e.path, ['Sub', 'Spin']);
  }
});

test('a failure inside a subflow fails the parent with the original cause, naming subflow and node; postRunActions does not run', async () => {
  const original = new Error('model unavailable');
  let postRan = false;
  class Failing extends Subflow<TallyHandle, TallyHandle> {
    override async postRunActions() {
      postRan = true;
    }
  }
  const workflow = new Workflow({
    name: 'Parent',
    graph: () => {
      const first = node<TallyHandle>('First', (s) => s.add(5));
      const sub = new Failing({
        name: 'Inner',
        graph: () => {
          const ok = node<TallyHandle>('Fine', (s) => s.add(1));
          const bad = node<TallyHandle>('Broken', async () => {
            throw original;
          });
          return new Graph({ source: ok, sinks: [bad], edges: [new Edge({ tail: ok, head: bad })] });
        },
        store: () => Tally.create(),
      });
      return new Graph({ source: first, sinks: [sub], edges: [new Edge({ tail: first, head: sub })] });
    },
    store: () => Tally.create(),
  });
  const e = await failureOf(workflow.execute());
  assert.is(e.cause, original);
  assert.equal(e.path, ['Inner', 'Broken']);
  assert.match(e.message, /failed at 'Inner' → 'Broken': model unavailable/);
  assert.equal(e.state, { total: 5, log: [] });
  assert.is(postRan, false);
});

test('cancelling the parent cancels the nodes inside its subflow; nothing outlives the run', async () => {
  const timersBefore = activeTimers();
  let innerSignal: AbortSignal | undefined;
  const waiting = new Workflow({
    name: 'Cancel',
    graph: () => {
      const sub = new AddUp({
        name: 'Sub',
        graph: () => {
          const wait = node<TallyHandle>('Waiting', async (_s, ctx) => {
            innerSignal = ctx.signal;
            await sleep(60_000, ctx.signal);
          });
          return new Graph({ source: wait, sinks: [wait], edges: [] });
        },
        store: () => Tally.create(),
      });
      return new Graph({ source: sub, sinks: [sub], edges: [] });
    },
    store: () => Tally.create(),
  });
  const events: InspectionEvent[] = [];
  const controller = new AbortController();
  const run = waiting.execute(undefined, { signal: controller.signal, inspect: (e) => events.push(e) });
  await sleep(20);
  assert.is(innerSignal?.aborted, false);
  controller.abort();
  try {
    await run;
    assert.unreachable();
  } catch (err) {
    assert.instance(err, WorkflowCancelledError);
  }
  await settle();
  assert.is(innerSignal?.aborted, true);
  assert.is(activeTimers(), timersBefore);
  const actors = new Set<AnyActorRef>();
  for (const e of events) if (e.type === '@xstate.actor') actors.add(e.actorRef as AnyActorRef);
  for (const actor of actors) {
    assert.not.equal(actor.getSnapshot().status, 'active', `actor '${actor.id}' is still active`);
  }
});

test('with an inspect observer, the subflow is a child actor of the run and commits on its own store actor', async () => {
  const events: InspectionEvent[] = [];
  const actor = createActor(sampleWorkflow.machine, { input: { items: ['x', 'y'] }, inspect: (e) => events.push(e) });
  const done = new Promise<void>((resolve) => actor.subscribe({ complete: () => resolve() }));
  actor.start();
  await done;
  const created = events.filter((e) => e.type === '@xstate.actor').map((e) => e.actorRef as AnyActorRef);
  const subflow = created.find((a) => a.id === 'JokeAndFact')!;
  assert.ok(subflow, 'the subflow actor was created');
  assert.is(subflow._parent, actor);
  const stores = created.filter((a) => a.id === 'store');
  assert.is(stores.length, 2);
  const subStore = stores.find((s) => s._parent === subflow)!;
  assert.ok(subStore, "the subflow's store is its own child");
  const commitsOn = (store: AnyActorRef) =>
    events
      .filter((e) => e.type === '@xstate.event' && e.actorRef === store && !e.event.type.startsWith('xstate.'))
      .map((e) => (e as { event: { type: string } }).event.type);
  assert.equal(commitsOn(subStore).sort(), ['setFact', 'setJoke', 'setTopic']);
  assert.ok(commitsOn(stores.find((s) => s._parent === actor)!).includes('setJokeAndFact'));
  const innerNodes = created.filter((a) => a._parent === subflow).map((a) => a.id).sort();
  assert.equal(innerNodes, ['preRunActions', 'postRunActions', 'JokeAndFactDone', 'MakeFact', 'MakeJoke', 'store'].sort());
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import { createActor, waitFor as waitUntil, type InspectionEvent } from 'xstate';
import { z } from 'zod';
import {
  Condition,
  ConditionError,
  Edge,
  Graph,
  MaxIterationsError,
  NoMatchingEdgeError,
  Node,
  RunConcurrent,
  StoreUpdateError,
  Workflow,
  WorkflowCancelledError,
  WorkflowExecutionError,
  condition,
  defineStore,
  node,
  type NodeContext,
  type StateOf,
  type StoreOf,
} from '../src/index.js';
import { activeTimers, failureOf, settle, sleep } from './helpers.js';
import { EMPTY_RECORD } from '../src/empty-record.js';

const test = suite('workflow');

const CounterStore = defineStore({
  name: 'CounterStore',
  initial: { counter: 0, path: [] as string[], log: [] as string[] },
  schema: z.object({ counter: z.number().max(1_000_000), path: z.array(z.string()), log: z.array(z.string()) }),
  actions: {
    increment: (draft) => {
      draft.counter += 1;
    },
    setCounter: (draft, value: number) => {
      draft.counter = value;
    },
    visit: (draft, name: string) => {
      draft.path.push(name);
    },
    log: (draft, line: string) => {
      draft.log.push(line);
    },
  },
});
type Store = StoreOf<typeof CounterStore>;
type State = StateOf<typeof CounterStore>;

/** A node that records its name in `path`. */
class Visit extends Node<Store> {
  async service(store: Store) {
    await store.visit(this.name);
  }
}
const visit = (name: string) => new Visit({ name });

function workflowOf(build: () => Graph, extra: { maxIterations?: number } = {}) {
  return new Workflow({
    name: 'Test',
    graph: build,
    store: (input?: { counter?: number }) => CounterStore.create(input),
    ...extra,
  });
}

test('edges: first match wins, in declaration order, and later conditions are not evaluated', async () => {
  const evaluated: string[] = [];
  const spy = (name: string, holds: (s: State) => boolean) =>
    condition<State>(name, (s) => {
      evaluated.push(name);
      return holds(s);
    });
  const workflow = workflowOf(() => {
    const start = visit('Start');
    const big = visit('Big');
    const even = visit('Even');
    const other = visit('Other');
    return new Graph({
      source: start,
      sinks: [big, even, other],
      edges: [
        new Edge({ tail: start, head: big, condition: spy('IsBig', (s) => s.counter > 100) }),
        new Edge({ tail: start, head: even, condition: spy('IsEven', (s) => s.counter % 2 === 0) }),
        new Edge({ tail: start, head: other, condition: spy('Always', () => true) }),
        new Edge({ tail: start, head: other }),
      ],
    });
  });
  assert.equal((await workflow.execute({ counter: 4 })).state.path, ['Start', 'Even']);
  assert.equal(evaluated, ['IsBig', 'IsEven']);
  evaluated.length = 0;
  assert.equal((await workflow.execute({ counter: 3 })).state.path, ['Start', 'Other']);
  assert.equal(evaluated, ['IsBig', 'IsEven', 'Always']);
  evaluated.length = 0;
  assert.equal((await workflow.execute({ counter: 1000 })).state.path, ['Start', 'Big']);
  assert.equal(evaluated, ['IsBig']);
});

test('edges: conditions read the state committed by the tail node', async () => {
  const workflow = workflowOf(() => {
    const set = node<Store>('Set', async (store) => {
      await store.setCounter(42);
    });
    const yes = visit('Yes');
    const no = visit('No');
    return new Graph({
      source: set,
      sinks: [yes, no],
      edges: [
        new Edge({ tail: set, head: yes, condition: condition<State>('Is42', (s) => s.counter === 42) }),
        new Edge({ tail: set, head: no }),
      ],
    });
  });
  assert.equal((await workflow.execute()).state.path, ['Yes']);
});

test('edges: when no condition holds the run fails naming the node', async () => {
  const workflow = workflowOf(() => {
    const start = visit('Start');
    const end = visit('End');
    return new Graph({
      source: start,
      sinks: [end],
      edges: [new Edge({ tail: start, head: end, condition: condition<State>('Never', () => false) })],
    });
  });
  const e = await failureOf(workflow.execute());
  assert.instance(e.cause, NoMatchingEdgeError);
  assert.equal(e.path, ['Start']);
  assert.match(e.message, /at 'Start': No outgoing edge of 'Start' could be taken: none of its conditions held \(Never\)/);
  assert.equal(e.state.path, ['Start']);
});

test('edges: a condition that throws fails the run naming the node and the condition', async () => {
  const original = new RangeError('bad state');
  let lateNodeRan = false;
  const workflow = workflowOf(() => {
    const start = visit('Start');
    const end = visit('End');
    const other = node<Store>('Other', () => {
      lateNodeRan = true;
    });
    return new Graph({
      source: start,
      sinks: [end, other],
      edges: [
        new Edge({ tail: start, head: end, condition: condition<State>('Explodes', () => { throw original; }) }),
        new Edge({ tail: start, head: other }),
      ],
    });
  });
  const e = await failureOf(workflow.execute());
  assert.instance(e.cause, ConditionError);
  assert.is((e.cause as ConditionError).cause, original);
  assert.equal(e.path, ['Start']);
  assert.match(e.message, /Condition 'Explodes' of edge 'Start' → 'End' \[Explodes\] threw: bad state/);
  assert.equal(e.state.path, ['Start']);
  assert.is(lateNodeRan, false, 'no later edge is taken');
});

test('sinks: reaching any sink ends the run with the final state and counts', async () => {
  const workflow = workflowOf(() => {
    const a = visit('A');
    const b = visit('B');
    const c = visit('C');
    return new Graph({
      source: a,
      sinks: [b, c],
      edges: [new Edge({ tail: a, head: b }), new Edge({ tail: a, head: c })],
    });
  });
  const result = await workflow.execute();
  assert.equal(result.state.path, ['A', 'B']);
  assert.equal(result.executionCounts, { A: 1, B: 1 });
  assert.type(result.runId, 'string');
});

test('cycles run until a condition exits; a self-loop re-enters its node', async () => {
  const workflow = workflowOf(() => {
    const inc = node<Store>('Inc', async (store) => {
      await store.increment();
    });
    const end = visit('End');
    return new Graph({
      source: inc,
      sinks: [end],
      edges: [
        new Edge({ tail: inc, head: inc, condition: condition<State>('Below5', (s) => s.counter < 5) }),
        new Edge({ tail: inc, head: end }),
      ],
    });
  });
  const result = await workflow.execute();
  assert.is(result.state.counter, 5);
  assert.equal(result.executionCounts, { Inc: 5, End: 1 });
});

test('maxIterations stops a runaway loop, naming the node', async () => {
  const iterations: number[] = [];
  const workflow = workflowOf(
    () => {
      const a = node<Store>('Spin', async (store, ctx) => {
        iterations.push(ctx.iteration);
        await store.increment();
      });
      const b = visit('Back');
      const end = visit('End');
      return new Graph({
        source: a,
        sinks: [end],
        edges: [
          new Edge({ tail: a, head: b }),
          new Edge({ tail: b, head: a, condition: condition('Forever', () => true) }),
          new Edge({ tail: b, head: end }),
        ],
      });
    },
    { maxIterations: 7 },
  );
  const e = await failureOf(workflow.execute());
  assert.instance(e.cause, MaxIterationsError);
  assert.equal(e.path, ['Spin']);
  assert.match(e.message, /'Spin' would run a 8th time, past maxIterations \(7\)/);
  assert.is(e.state.counter, 7);
  assert.equal(iterations, [1, 2, 3, 4, 5, 6, 7]);
});

test('store: 50 nodes in one RunConcurrent, 20 increments each with random delays, end at exactly 1,000', async () => {
  const workflow = workflowOf(() => {
    const items = Array.from({ length: 50 }, (_, i) =>
      node<Store>(`Worker${i}`, async (store) => {
        for (let k = 0; k < 20; k++) {
          await sleep(Math.random() * 4);
          await store.increment();
        }
      }),
    );
    const all = new RunConcurrent({ name: 'All', items });
    const end = visit('End');
    return new Graph({ source: all, sinks: [end], edges: [new Edge({ tail: all, head: end })] });
  });
  const result = await workflow.execute();
  assert.is(result.state.counter, 1000);
  assert.is(result.executionCounts.All, 1);
  assert.is(result.executionCounts.Worker49, 1);
});

test('store: an invalid update rejects in the node with the state unchanged; uncaught, it fails the run with the last committed state', async () => {
  let caught: unknown;
  const workflow = workflowOf(() => {
    const careful = node<Store>('Careful', async (store) => {
      await store.setCounter(10);
      try {
        await store.setCounter(2_000_000);
      } catch (err) {
        caught = err;
      }
      await store.log(`after: ${store.getState().counter}`);
    });
    const careless = node<Store>('Careless', async (store) => {
      await store.setCounter(5_000_000);
    });
    const end = visit('End');
    return new Graph({
      source: careful,
      sinks: [end],
      edges: [new Edge({ tail: careful, head: careless }), new Edge({ tail: careless, head: end })],
    });
  });
  try {
    await workflow.execute();
    assert.unreachable();
  } catch (err) {
    assert.instance(caught, StoreUpdateError);
    assert.is((caught as StoreUpdateError).node, 'Careful');
    assert.instance(err, WorkflowExecutionError);
    const e = err as WorkflowExecutionError<State>;
    assert.instance(e.cause, StoreUpdateError);
    assert.is((e.cause as StoreUpdateError).action, 'setCounter');
    assert.is((e.cause as StoreUpdateError).node, 'Careless');
    assert.equal(e.path, ['Careless']);
    assert.equal(e.state, { counter: 10, path: [], log: ['after: 10'] });
  }
});

test('RunConcurrent: the first failure aborts the siblings, fails with the original error, and no later sibling result is applied', async () => {
  const aborted: string[] = [];
  const boom = new Error('count failed');
  let lateAttempt: PromiseSettledResult<unknown> | undefined;
  let lateAttempted!: () => void;
  const attempted = new Promise<void>((resolve) => (lateAttempted = resolve));
  const workflow = workflowOf(() => {
    const slow = (name: string) =>
      node<Store>(name, async (store, ctx: NodeContext) => {
        ctx.signal.addEventListener('abort', () => aborted.push(name));
        await store.visit(`${name}:start`);
        // Carries on once cancelled, ignoring its signal on purpose: its update must be refused.
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        [lateAttempt] = await Promise.allSettled([store.visit(`${name}:late`)]);
        lateAttempted();
      });
    const failing = node<Store>('Failing', async () => {
      await sleep(5);
      throw boom;
    });
    const group = new RunConcurrent({ name: 'Group', items: [slow('SlowA'), failing, slow('SlowB')] });
    const end = visit('End');
    return new Graph({ source: group, sinks: [end], edges: [new Edge({ tail: group, head: end })] });
  });
  const e = await failureOf(workflow.execute());
  assert.is(e.cause, boom);
  assert.equal(e.path, ['Group', 'Failing']);
  assert.equal(e.state.path, ['SlowA:start', 'SlowB:start']);
  assert.equal(aborted.sort(), ['SlowA', 'SlowB']);
  await attempted;
  assert.is(lateAttempt?.status, 'rejected');
});

test('cancellation: aborting the signal aborts every node in flight and rejects with WorkflowCancelledError; nothing is left behind', async () => {
  const timersBefore = activeTimers();
  const aborted: string[] = [];
  const controller = new AbortController();
  const workflow = workflowOf(() => {
    const wait = (name: string) =>
      node<Store>(name, async (store, ctx) => {
        await store.visit(name);
        try {
          await sleep(60_000, ctx.signal);
        } finally {
          if (ctx.signal.aborted) aborted.push(name);
        }
      });
    const group = new RunConcurrent({ name: 'Group', items: [wait('One'), wait('Two')] });
    const end = visit('End');
    return new Graph({ source: group, sinks: [end], edges: [new Edge({ tail: group, head: end })] });
  });
  const run = workflow.execute(undefined, { signal: controller.signal });
  await sleep(20);
  controller.abort(new Error('user hit stop'));
  try {
    await run;
    assert.unreachable();
  } catch (err) {
    assert.instance(err, WorkflowCancelledError);
    const e = err as WorkflowCancelledError<State>;
    assert.match(e.message, /was cancelled: user hit stop/);
    assert.equal(e.state.path, ['One', 'Two']);
  }
  await settle();
  assert.equal(aborted.sort(), ['One', 'Two']);
  assert.is(activeTimers(), timersBefore);
  assert.is(getEventListeners(controller.signal, 'abort').length, 0);
});

test('cancellation: a finished run removes its abort listener', async () => {
  const controller = new AbortController();
  const workflow = workflowOf(() => {
    const a = visit('A');
    return new Graph({ source: a, sinks: [a], edges: [] });
  });
  await workflow.execute(undefined, { signal: controller.signal });
  assert.is(getEventListeners(controller.signal, 'abort').length, 0);
  const aborted = new AbortController();
  aborted.abort();
  try {
    await workflow.execute(undefined, { signal: aborted.signal });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, WorkflowCancelledError);
  }
});

test('cancellation: stopping the actor aborts the node in flight', async () => {
  let signal: AbortSignal | undefined;
  const workflow = workflowOf(() => {
    const wait = node<Store>('Wait', async (_store, ctx) => {
      signal = ctx.signal;
      await sleep(60_000, ctx.signal);
    });
    const end = visit('End');
    return new Graph({ source: wait, sinks: [end], edges: [new Edge({ tail: wait, head: end })] });
  });
  const actor = createActor(workflow.machine).start();
  await sleep(5);
  assert.is(signal?.aborted, false);
  actor.stop();
  await settle();
  assert.is(signal?.aborted, true);
  assert.is(actor.getSnapshot().status, 'stopped');
});

test('isolation: 500 runs of one Workflow at once keep separate stores', async () => {
  const workflow = workflowOf(() => {
    const bump = node<Store>('Bump', async (store) => {
      const start = store.getState().counter;
      await sleep(Math.random() * 5);
      await store.setCounter(start * 2);
      await store.visit(`seen ${start}`);
    });
    return new Graph({ source: bump, sinks: [bump], edges: [] });
  });
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => workflow.execute({ counter: i })));
  results.forEach((result, i) => {
    assert.is(result.state.counter, i * 2);
    assert.equal(result.state.path, [`seen ${i}`]);
  });
  assert.is(new Set(results.map((r) => r.runId)).size, 500);
});

test('isolation: retry attempts and applied updates of one run never show in another', async () => {
  // Runs start with shared empty records (src/empty-record.ts); a write must give a run its own.
  let failuresLeft = 1;
  const workflow = workflowOf(() => {
    const flaky = node<Store>(
      'Flaky',
      async (store) => {
        if (failuresLeft-- > 0) throw new Error('transient');
        await store.increment();
      },
      { retry: { attempts: 2 } },
    );
    const wait = node<Store>('Wait', (_store, ctx) => sleep(60_000, ctx.signal));
    return new Graph({ source: flaky, sinks: [wait], edges: [new Edge({ tail: flaky, head: wait })] });
  });
  const retried = createActor(workflow.machine).start();
  const plain = createActor(workflow.machine).start();
  // Both runs wait in 'Wait', with Flaky's retry and update behind them.
  await Promise.all([retried, plain].map((actor) => waitUntil(actor, (snapshot) => snapshot.matches('Wait'))));
  const contextOf = (actor: typeof retried) => actor.getSnapshot().context;
  const appliedOf = (actor: typeof retried) => (contextOf(actor).store.getSnapshot() as unknown as { applied: object }).applied;
  assert.equal(contextOf(retried).attempts, { 'Flaky#1': 2 });
  assert.equal(contextOf(plain).attempts, {});
  assert.equal(appliedOf(retried), { 'Flaky#1': 1 });
  assert.equal(appliedOf(plain), { 'Flaky#1': 1 });
  assert.is.not(appliedOf(retried), appliedOf(plain));
  retried.stop();
  plain.stop();

  const result = await workflowOf(() => {
    const only = visit('Only');
    return new Graph({ source: only, sinks: [only], edges: [] });
  }).execute();
  assert.equal(result.subflows, {});
  // Results are frozen (issue 13), each with records of its own, never the shared empty one.
  assert.ok(Object.isFrozen(result.subflows));
  assert.is.not(result.subflows, EMPTY_RECORD);
});

test('isolation: every run gets fresh nodes from the factory', async () => {
  const instances = new Set<unknown>();
  class Remember extends Node<Store> {
    service() {
      instances.add(this);
    }
  }
  const workflow = workflowOf(() => {
    const a = new Remember();
    return new Graph({ source: a, sinks: [a], edges: [] });
  });
  await Promise.all([workflow.execute(), workflow.execute(), workflow.execute()]);
  assert.is(instances.size, 3);
});

test('machine: state ids are node names, meta carries kind and name, the inspector sees commits on the store actor', async () => {
  const workflow = workflowOf(() => {
    const a = node<Store>('Count Things', async (store) => {
      await store.increment();
      await store.setState({ counter: 10 });
    });
    const group = new RunConcurrent({ name: 'Both', items: [visit('Left'), visit('Right')] });
    return new Graph({ source: a, sinks: [group], edges: [new Edge({ tail: a, head: group })] });
  });
  const machine = workflow.machine;
  assert.equal(Object.keys(machine.states), ['Count Things', 'Both', '$done', '$failed']);
  assert.equal(machine.states['Both']!.meta, { junjo: { kind: 'runConcurrent', name: 'Both', key: 'Both' } });
  assert.ok(machine.getStateNodeById('Left'));
  const events: InspectionEvent[] = [];
  const actor = createActor(machine, { inspect: (e) => events.push(e) });
  const done = new Promise((resolve) => actor.subscribe({ complete: () => resolve(actor.getSnapshot()) }));
  actor.start();
  await done;
  const storeEvents = events
    .filter((e) => e.type === '@xstate.event' && (e.actorRef as { id?: string }).id === 'store' && !e.event.type.startsWith('xstate.'))
    .map((e) => (e as { event: { type: string; node?: string } }).event)
    .map(({ type, node }) => ({ type, node }));
  assert.equal(storeEvents, [
    { type: 'increment', node: 'Count Things' },
    { type: 'setState', node: 'Count Things' },
    { type: 'visit', node: 'Left' },
    { type: 'visit', node: 'Right' },
  ]);
  const output = actor.getSnapshot().output as { state: State };
  assert.equal(output.state.path, ['Left', 'Right']);
});

test('a Condition subclass works like condition()', async () => {
  class IsPositive extends Condition<State> {
    evaluate(state: State) {
      return state.counter > 0;
    }
  }
  const workflow = workflowOf(() => {
    const a = visit('A');
    const pos = visit('Pos');
    const neg = visit('Neg');
    return new Graph({
      source: a,
      sinks: [pos, neg],
      edges: [new Edge({ tail: a, head: pos, condition: new IsPositive() }), new Edge({ tail: a, head: neg })],
    });
  });
  assert.equal((await workflow.execute({ counter: 1 })).state.path, ['A', 'Pos']);
  assert.equal((await workflow.execute({ counter: 0 })).state.path, ['A', 'Neg']);
});

test('a node that throws fails the run with the original error and its node', async () => {
  const original = new TypeError('bad thing');
  const workflow = workflowOf(() => {
    const a = visit('A');
    const b = node<Store>('Thrower', async () => {
      throw original;
    });
    return new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: b })] });
  });
  try {
    await workflow.execute();
    assert.unreachable();
  } catch (err) {
    const e = err as WorkflowExecutionError<State>;
    assert.instance(e, WorkflowExecutionError);
    assert.is(e.cause, original);
    assert.equal(e.path, ['Thrower']);
    assert.equal(e.state.path, ['A']);
    assert.is(e.workflow, 'Test');
    assert.type(e.runId, 'string');
    // Plain JSON keeps what an inspector or a log needs.
    const json = JSON.parse(JSON.stringify(e));
    assert.is(json.name, 'WorkflowExecutionError');
    assert.match(json.message, /failed at 'Thrower': bad thing/);
    assert.equal(json.path, ['Thrower']);
    assert.equal(json.cause, { name: 'TypeError', message: 'bad thing' });
  }
});

test('a condition must return a boolean', async () => {
  const workflow = workflowOf(() => {
    const a = visit('A');
    const b = visit('B');
    return new Graph({
      source: a,
      sinks: [b],
      edges: [new Edge({ tail: a, head: b, condition: condition<State>('Sloppy', (s) => s.counter as unknown as boolean) })],
    });
  });
  try {
    await workflow.execute();
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /Condition 'Sloppy' of edge 'A' → 'B' \[Sloppy\] threw: it returned number, not a boolean/);
  }
});

test('a store factory must make a new store each run; a graph factory must keep its shape', async () => {
  const shared = CounterStore.create();
  const sharing = new Workflow({
    name: 'Sharing',
    graph: () => {
      const a = visit('A');
      return new Graph({ source: a, sinks: [a], edges: [] });
    },
    store: () => shared,
  });
  await sharing.execute();
  try {
    await sharing.execute();
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /Store 'CounterStore' is already in use by another run: a store factory must return a new store every time/);
  }
  let calls = 0;
  const shifting = new Workflow({
    name: 'Shifting',
    graph: () => {
      const a = visit(calls++ === 0 ? 'A' : 'B');
      return new Graph({ source: a, sinks: [a], edges: [] });
    },
    store: () => CounterStore.create(),
  });
  try {
    await shifting.execute();
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /Workflow 'Shifting': the graph factory returned a graph of another shape than before/);
  }
});

test('runId can be given; factories are checked', async () => {
  const workflow = workflowOf(() => {
    const a = visit('A');
    return new Graph({ source: a, sinks: [a], edges: [] });
  });
  assert.is((await workflow.execute(undefined, { runId: 'my-run' })).runId, 'my-run');
  const broken = new Workflow({ name: 'Broken', graph: () => ({}) as Graph, store: () => CounterStore.create() });
  assert.throws(() => broken.machine, /Workflow 'Broken': the graph factory must return a Graph, got an object/);
  const badStore = new Workflow({
    name: 'BadStore',
    graph: () => {
      const a = visit('A');
      return new Graph({ source: a, sinks: [a], edges: [] });
    },
    store: () => ({ counter: 0 }) as never,
  });
  try {
    await badStore.execute();
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /Workflow 'BadStore': the store factory must return a store/);
  }
});

test.run();

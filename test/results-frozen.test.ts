// A run's result is immutable, as Junjo's ExecutionResult is: the result, its state, its
// execution counts and its subflows' results, whether the run just finished or its result
// was read back from a checkpoint; and a store state restored from a checkpoint is frozen too.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Edge, Graph, MemoryCheckpointStore, Subflow, Workflow, defineStore, node, type StoreOf } from '../src/index.js';
import { settle } from './helpers.js';

const test = suite('results are frozen');

const Counter = defineStore({
  name: 'Counter',
  initial: { counter: 0, tags: [] as string[] },
  actions: {
    increment: (draft) => {
      draft.counter += 1;
    },
  },
});
type CounterStore = StoreOf<typeof Counter>;

function workflow() {
  return new Workflow({
    name: 'Frozen',
    graph: () => {
      const a = node<CounterStore>('A', (s) => s.increment().then(() => {}));
      const sub = new Subflow<CounterStore, CounterStore>({
        name: 'Sub',
        graph: () => {
          const inner = node<CounterStore>('Inner', (s) => s.increment().then(() => {}));
          return new Graph({ source: inner, sinks: [inner], edges: [] });
        },
        store: () => Counter.create(),
      });
      return new Graph({ source: a, sinks: [sub], edges: [new Edge({ tail: a, head: sub })] });
    },
    store: () => Counter.create(),
  });
}

function assertFrozen(result: { state: unknown; executionCounts: object; subflows: Record<string, unknown[]> }) {
  assert.ok(Object.isFrozen(result), 'the result');
  assert.ok(Object.isFrozen(result.state), 'its state');
  assert.ok(Object.isFrozen(result.executionCounts), 'its executionCounts');
  assert.ok(Object.isFrozen(result.subflows), 'its subflows');
  for (const runs of Object.values(result.subflows)) {
    assert.ok(Object.isFrozen(runs), 'a subflow run list');
    for (const run of runs) assert.ok(Object.isFrozen(run), 'a subflow result');
  }
}

test('a completed run resolves with a deeply frozen result', async () => {
  const result = await workflow().execute();
  assert.is(result.state.counter, 1);
  assert.equal(Object.keys(result.subflows), ['Sub']);
  assertFrozen(result);
  assert.throws(() => {
    (result.executionCounts as Record<string, number>).A = 99;
  });
});

test('a completed run read back from its checkpoint is frozen too', async () => {
  const checkpoint = new MemoryCheckpointStore();
  const wf = workflow();
  const first = await wf.execute(undefined, { checkpoint, runId: 'frozen-1' });
  const again = await wf.resume(first.runId, { checkpoint });
  assert.equal(again.state, first.state);
  assertFrozen(again);
});

test('a store state restored from a checkpoint is frozen', async () => {
  const checkpoint = new MemoryCheckpointStore();
  let seen: unknown;
  let entered!: () => void;
  const inA = new Promise<void>((resolve) => (entered = resolve));
  const wf = new Workflow({
    name: 'Restored',
    graph: () => {
      const start = node<CounterStore>('Start', (s) => s.increment().then(() => {}));
      const a = node<CounterStore>('A', (s, ctx) => {
        if (ctx.attempt > 1) {
          seen = s.getState();
          return;
        }
        entered();
        return new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      });
      return new Graph({ source: start, sinks: [a], edges: [new Edge({ tail: start, head: a })] });
    },
    store: () => Counter.create(),
  });
  const controller = new AbortController();
  const run = wf.execute(undefined, { checkpoint, runId: 'restored-1', signal: controller.signal });
  await inA;
  await settle();
  controller.abort();
  await run.catch(() => {});
  const result = await wf.resume('restored-1', { checkpoint });
  assert.is(result.state.counter, 1);
  assert.equal(seen, { counter: 1, tags: [] });
  assert.ok(Object.isFrozen(seen), 'the restored state');
  assert.ok(Object.isFrozen((seen as { tags: string[] }).tags), 'and what it holds');
});

test.run();

/** A RunConcurrent too wide for a parallel state runs on the fan-out actor with the same semantics. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { defineStore, Edge, Graph, node, RunConcurrent, Subflow, Workflow, WorkflowExecutionError, type StoreOf } from '../src/index.js';
import { failureOf, settle, sleep } from './helpers.js';

const CountStore = defineStore({
  name: 'CountStore',
  initial: { counter: 0, buckets: Array.from({ length: 50 }, () => 0) },
  actions: {
    increment: (draft, index: number) => {
      draft.counter += 1;
      draft.buckets[index % 50]! += 1;
    },
  },
});
type Count = StoreOf<typeof CountStore>;

function wide(items: (i: number) => ReturnType<typeof node<Count>> | Subflow, size: number) {
  return new Workflow({
    name: 'Wide',
    graph: () => {
      const all = new RunConcurrent({ name: 'All', items: Array.from({ length: size }, (_, i) => items(i)) });
      const end = node<Count>('End', () => {});
      return new Graph({ source: all, sinks: [end], edges: [new Edge({ tail: all, head: end })] });
    },
    store: () => CountStore.create(),
  });
}

test('a RunConcurrent of 1,000 items completes with the right state and counts', async () => {
  const workflow = wide((i) => node<Count>(`Item${i}`, (store) => store.increment(i)), 1000);
  const seen = new Set<string>();
  const { state, executionCounts } = await workflow.execute(undefined, {
    inspect: (event: InspectionEvent) => {
      if (event.type === '@xstate.actor' && (event.actorRef as AnyActorRef)._parent?.id === 'All') seen.add((event.actorRef as AnyActorRef).id);
    },
  });
  assert.is(state.counter, 1000);
  assert.ok(state.buckets.every((n) => n === 20));
  assert.is(executionCounts.All, 1);
  assert.is(executionCounts.Item0, 1);
  assert.is(executionCounts.Item999, 1);
  assert.is(executionCounts.End, 1);
  // Each item is its own actor, under the group, with the item's key as its id.
  assert.is(seen.size, 1000);
  assert.ok(seen.has('Item0') && seen.has('Item999'));
});

test('wide RunConcurrent: the first failure aborts the siblings, fails with the original error, applies no late result', async () => {
  const boom = new Error('item 7 broke');
  let aborted = 0;
  const refused: unknown[] = [];
  const workflow = wide(
    (i) =>
      node<Count>(`Item${i}`, async (store, ctx) => {
        ctx.signal.addEventListener('abort', () => aborted++);
        if (i === 7) {
          await sleep(2);
          throw boom;
        }
        // Waits for the cancel, not for a time: then tries the late update.
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        await store.increment(i).catch((err) => {
          refused.push(err);
          throw err;
        });
      }),
    100,
  );
  const error = await failureOf(workflow.execute());
  assert.instance(error, WorkflowExecutionError);
  assert.is(error.cause, boom);
  assert.equal(error.path, ['All', 'Item7']);
  assert.is(error.state.counter, 0);
  assert.is(aborted, 99);
  await settle();
  assert.is(refused.length, 99);
});

test('wide RunConcurrent: subflow items run with their own stores and report their results', async () => {
  const Sub = defineStore({ name: 'Sub', initial: { n: 0 }, actions: { set: (d, n: number) => void (d.n = n) } });
  type SubStore = StoreOf<typeof Sub>;
  class Item extends Subflow<SubStore, Count> {
    constructor(readonly i: number) {
      super({
        name: `Sub${i}`,
        graph: () => {
          const only = node<SubStore>('Set', (store) => store.set(i));
          return new Graph({ source: only, sinks: [only], edges: [] });
        },
        store: () => Sub.create(),
      });
    }
    override async postRunActions(parent: Count, sub: SubStore) {
      await parent.increment(sub.getState().n);
    }
  }
  const workflow = wide((i) => new Item(i), 40);
  const { state, subflows } = await workflow.execute();
  assert.is(state.counter, 40);
  assert.is(Object.keys(subflows).length, 40);
  assert.equal((subflows.Sub39![0] as { state: { n: number } }).state, { n: 39 });
});

test.run();

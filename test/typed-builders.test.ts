// The store-bound builders (Store.node, Store.condition, Store.waitFor) make real nodes and
// conditions that run like node() and condition() do; Store.subflowResults reads a subflow's
// results and refuses results of another store instead of handing out a mistyped state.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor } from 'xstate';
import { Condition, Edge, Graph, Node, Subflow, WaitForEvent, Workflow, defineStore } from '../src/index.js';

const test = suite('store-bound builders');

const Counter = defineStore({
  name: 'Counter',
  initial: { counter: 0, path: [] as string[] },
  actions: {
    increment: (draft) => {
      draft.counter += 1;
    },
    visit: (draft, name: string) => {
      draft.path.push(name);
    },
  },
});
const Joke = defineStore({ name: 'Joke', initial: { joke: '' }, actions: { tell: (d, joke: string) => void (d.joke = joke) } });

test('Store.node and Store.condition make nodes and conditions that run in a workflow', async () => {
  const workflow = new Workflow({
    name: 'Bound',
    graph: () => {
      const bump = Counter.node('Bump', (store) => store.increment(), { retry: { attempts: 2 } });
      const even = Counter.node('Even', (store) => store.visit('even'));
      const odd = Counter.node('Odd', (store) => store.visit('odd'));
      assert.instance(bump, Node);
      assert.equal(bump.retry, { attempts: 2 });
      const isEven = Counter.condition('IsEven', (s) => s.counter % 2 === 0);
      assert.instance(isEven, Condition);
      return new Graph({ source: bump, sinks: [even, odd], edges: [
        new Edge({ tail: bump, head: even, condition: isEven }),
        new Edge({ tail: bump, head: odd }),
      ] });
    },
    store: () => Counter.create(),
  });
  const { state } = await workflow.execute();
  assert.equal(state, { counter: 1, path: ['odd'] });
});

test('Store.waitFor makes a WaitForEvent that applies its event', async () => {
  const workflow = new Workflow({
    name: 'BoundWait',
    graph: () => {
      const wait = Counter.waitFor<{ type: 'named'; name: string }>('Wait', 'named', (store, event) => store.visit(event.name));
      assert.instance(wait, WaitForEvent);
      return new Graph({ source: wait, sinks: [wait], edges: [] });
    },
    store: () => Counter.create(),
  });
  const actor = createActor(workflow.machine).start();
  actor.send({ type: 'named', name: 'dana' });
  const output = await new Promise((resolve, reject) => actor.subscribe({ complete: () => resolve(actor.getSnapshot().output), error: reject }));
  assert.equal((output as { state: unknown }).state, { counter: 0, path: ['dana'] });
});

test("Store.subflowResults reads a subflow's results, and refuses those of another store", async () => {
  const workflow = new Workflow({
    name: 'WithSubflow',
    graph: () => {
      const sub = new Subflow({
        name: 'Teller',
        graph: () => {
          const tell = Joke.node('Tell', (store) => store.tell('knock knock'));
          return new Graph({ source: tell, sinks: [tell], edges: [] });
        },
        store: () => Joke.create(),
      });
      return new Graph({ source: sub, sinks: [sub], edges: [] });
    },
    store: () => Counter.create(),
  });
  const result = await workflow.execute();
  const runs = Joke.subflowResults(result, 'Teller');
  assert.is(runs.length, 1);
  assert.is(runs[0]!.state.joke, 'knock knock');
  assert.equal(Joke.subflowResults(result, 'Nobody'), []);
  assert.throws(() => Counter.subflowResults(result, 'Teller'), /run 0 of subflow 'Teller' is not a 'Counter' state \(its fields are joke, not counter,path\)/);
});

test.run();

/**
 * Junjo's base sample with a subflow: count the items, then change the counter three ways at
 * once (increment, decrement, add ten), then a subflow writes a joke and a fact about the
 * items in its own store, and first-match edges pick a branch: counter is 15, counter is even,
 * or the fallback. The joke and fact nodes stand in for LLM calls.
 */
import {
  Edge,
  Graph,
  Node,
  RunConcurrent,
  Subflow,
  Workflow,
  condition,
  defineStore,
  node,
  type NodeContext,
  type StateOf,
  type StoreOf,
} from '../../src/index.js';
import { modelLatency } from '../shared/model-latency.js';

export const SampleStore = defineStore({
  name: 'SampleStore',
  initial: {
    items: [] as string[],
    counter: 0,
    joke: null as string | null,
    fact: null as string | null,
    outcome: null as string | null,
    path: [] as string[],
  },
  actions: {
    setCounter: (draft, value: number) => {
      draft.counter = value;
    },
    increment: (draft) => {
      draft.counter += 1;
    },
    decrement: (draft) => {
      draft.counter -= 1;
    },
    addTen: (draft) => {
      draft.counter += 10;
    },
    setJokeAndFact: (draft, joke: string | null, fact: string | null) => {
      draft.joke = joke;
      draft.fact = fact;
    },
    setOutcome: (draft, outcome: string) => {
      draft.outcome = outcome;
    },
    visited: (draft, node: string) => {
      draft.path.push(node);
    },
  },
});
export type SampleStoreHandle = StoreOf<typeof SampleStore>;
export type SampleState = StateOf<typeof SampleStore>;

export const JokeStore = defineStore({
  name: 'JokeStore',
  initial: { topic: '', joke: null as string | null, fact: null as string | null },
  actions: {
    setTopic: (draft, topic: string) => {
      draft.topic = topic;
    },
    setJoke: (draft, joke: string) => {
      draft.joke = joke;
    },
    setFact: (draft, fact: string) => {
      draft.fact = fact;
    },
  },
});
export type JokeStoreHandle = StoreOf<typeof JokeStore>;

class CountItemsNode extends Node<SampleStoreHandle> {
  async service(store: SampleStoreHandle) {
    await store.visited('CountItems');
    await store.setCounter(store.getState().items.length);
  }
}

class MakeJokeNode extends Node<JokeStoreHandle> {
  async service(store: JokeStoreHandle, ctx: NodeContext) {
    await modelLatency(15, ctx.signal);
    await store.setJoke(`Why did the ${store.getState().topic} cross the road? To get to the other list.`);
  }
}

class MakeFactNode extends Node<JokeStoreHandle> {
  async service(store: JokeStoreHandle, ctx: NodeContext) {
    await modelLatency(10, ctx.signal);
    const topic = store.getState().topic;
    await store.setFact(`The words "${topic}" have ${topic.replace(/[^a-z]/gi, '').length} letters.`);
  }
}

/** Writes a joke and a fact about the parent's items, in its own store. */
export class JokeAndFactSubflow extends Subflow<JokeStoreHandle, SampleStoreHandle> {
  override async preRunActions(parent: SampleStoreHandle, sub: JokeStoreHandle) {
    await sub.setTopic(parent.getState().items.join(' and '));
  }
  override async postRunActions(parent: SampleStoreHandle, sub: JokeStoreHandle) {
    const { joke, fact } = sub.getState();
    await parent.setJokeAndFact(joke, fact);
    await parent.visited('JokeAndFact');
  }
}

export function jokeAndFactGraph(): Graph {
  const joke = new MakeJokeNode({ name: 'MakeJoke' });
  const fact = new MakeFactNode({ name: 'MakeFact' });
  const both = new RunConcurrent({ name: 'JokeAndFactTogether', items: [joke, fact] });
  const done = node<JokeStoreHandle>('JokeAndFactDone', () => {});
  return new Graph({ source: both, sinks: [done], edges: [new Edge({ tail: both, head: done })] });
}

export const counterIs15 = condition<SampleState>('CounterIs15', (s) => s.counter === 15);
export const counterIsEven = condition<SampleState>('CounterIsEven', (s) => s.counter % 2 === 0);

export function sampleGraph(): Graph {
  const countItems = new CountItemsNode({ name: 'CountItems' });
  const change = new RunConcurrent({
    name: 'ChangeCounter',
    items: [
      node<SampleStoreHandle>('Increment', (store) => store.increment()),
      node<SampleStoreHandle>('Decrement', (store) => store.decrement()),
      node<SampleStoreHandle>('AddTen', (store) => store.addTen()),
    ],
  });
  const jokeAndFact = new JokeAndFactSubflow({
    name: 'JokeAndFact',
    graph: jokeAndFactGraph,
    store: () => JokeStore.create(),
  });
  const outcome = (name: string, text: string) =>
    node<SampleStoreHandle>(name, async (store) => {
      await store.visited(name);
      await store.setOutcome(text);
    });
  const is15 = outcome('CounterIs15Node', 'the counter is exactly 15');
  const even = outcome('EvenNode', 'the counter is even');
  const odd = outcome('OddNode', 'the counter is odd');
  const final = node<SampleStoreHandle>('Final', (store) => store.visited('Final'));
  return new Graph({
    source: countItems,
    sinks: [final],
    edges: [
      new Edge({ tail: countItems, head: change }),
      new Edge({ tail: change, head: jokeAndFact }),
      new Edge({ tail: jokeAndFact, head: is15, condition: counterIs15 }),
      new Edge({ tail: jokeAndFact, head: even, condition: counterIsEven }),
      new Edge({ tail: jokeAndFact, head: odd }),
      new Edge({ tail: is15, head: final }),
      new Edge({ tail: even, head: final }),
      new Edge({ tail: odd, head: final }),
    ],
  });
}

export const sampleWorkflow = new Workflow({
  name: 'SampleWithSubflow',
  graph: sampleGraph,
  store: (input: { items: string[] }) => SampleStore.create({ items: input.items }),
});

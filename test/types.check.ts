/**
 * Type-level checks of the public API, verified by `tsc -p .` (part of CI), not run by uvu.
 * Each `@ts-expect-error` fails the type check if the error it expects goes away.
 */
import { condition, defineStore, Edge, Graph, node, Workflow, type StateOf, type StoreOf } from '../src/index.js';

const Store = defineStore({
  name: 'TypesStore',
  initial: { counter: 0, label: null as string | null },
  actions: {
    increment: (draft) => {
      draft.counter += 1;
    },
    setLabel: (draft, label: string) => {
      draft.label = label;
    },
  },
});
type Handle = StoreOf<typeof Store>;
type State = StateOf<typeof Store>;

// Store methods infer from the actions: argument types and the committed state.
node<Handle>('Typed', async (store) => {
  const state: State = await store.setLabel('x');
  const counter: number = state.counter;
  // @ts-expect-error setLabel takes a string
  await store.setLabel(3);
  // @ts-expect-error there is no such action
  await store.decrement();
  // @ts-expect-error the committed state is read-only
  store.getState().counter = counter;
});

// Conditions see the state type.
condition<State>('HasLabel', (s) => s.label !== null);

const graph = () => {
  const only = node<Handle>('Only', () => {});
  return new Graph({ source: only, sinks: [only], edges: [] });
};

// A store factory that needs input makes the input required…
const needsInput = new Workflow({ name: 'NeedsInput', graph, store: (input: { label: string }) => Store.create(input) });
void needsInput.execute({ label: 'ok' });
// @ts-expect-error input is required
void needsInput.execute();
// @ts-expect-error input has the factory's type
void needsInput.execute({ label: 1 });

// …and one that does not makes it optional. The result's state is typed.
const noInput = new Workflow({ name: 'NoInput', graph, store: () => Store.create() });
void noInput.execute().then((result) => {
  const label: string | null = result.state.label;
  return label;
});

// ---- issue 13: types that tie a graph to its store ----

const Other = defineStore({
  name: 'OtherStore',
  initial: { q: '' },
  actions: {
    setQ: (draft, q: string) => {
      draft.q = q;
    },
  },
});
type OtherHandle = StoreOf<typeof Other>;
type OtherState = StateOf<typeof Other>;

// A workflow whose graph holds a node of another store does not type-check…
new Workflow({
  name: 'Mixed',
  // @ts-expect-error the graph's node needs an OtherStore, the workflow's store is a TypesStore
  graph: () => {
    const foreign = node<OtherHandle>('Foreign', (s) => s.setQ('x'));
    return new Graph({ source: foreign, sinks: [foreign], edges: [] });
  },
  store: () => Store.create(),
});

// …nor one mixing both stores in one graph…
() => {
  const mine = node<Handle>('Mine', () => {});
  const foreign = node<OtherHandle>('Foreign', () => {});
  // @ts-expect-error an edge between nodes of two stores
  return new Edge({ tail: mine, head: foreign });
};

// …nor an edge whose condition reads another store's state.
() => {
  const a = node<Handle>('A', () => {});
  const b = node<Handle>('B', () => {});
  const hasQ = condition<OtherState>('HasQ', (s) => s.q !== '');
  // @ts-expect-error the condition reads an OtherStore state
  return new Edge({ tail: a, head: b, condition: hasQ });
};

// A node that needs no store (or only part of one) fits any graph; so does a condition over
// part of the state.
new Workflow({
  name: 'Fits',
  graph: () => {
    const plain = node('Plain', () => {});
    const typed = node<Handle>('Typed', (s) => s.increment());
    const positive = condition<{ counter: number }>('Positive', (s) => s.counter > 0);
    return new Graph({ source: plain, sinks: [typed], edges: [new Edge({ tail: plain, head: typed, condition: positive })] });
  },
  store: () => Store.create(),
});

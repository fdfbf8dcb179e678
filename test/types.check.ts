/**
 * Type-level checks of the public API, verified by `tsc -p .` (part of CI), not run by uvu.
 * Each `@ts-expect-error` fails the type check if the error it expects goes away.
 */
import { z } from 'zod';
import { createActor, type ActorRefFrom } from 'xstate';
import { useSelector } from '@xstate/react';
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

// Nodes and conditions made by the store definition need no annotation at all.
new Workflow({
  name: 'Inferred',
  graph: () => {
    const bump = Store.node('Bump', async (store) => {
      await store.increment();
      // @ts-expect-error setLabel takes a string
      await store.setLabel(1);
    });
    const done = Store.node('Done', () => {});
    const labelled = Store.condition('Labelled', (s) => s.label !== null);
    // @ts-expect-error the state has no field q
    Store.condition('HasQ', (s) => s.q !== '');
    return new Graph({ source: bump, sinks: [done], edges: [new Edge({ tail: bump, head: done, condition: labelled })] });
  },
  store: () => Store.create(),
});
new Workflow({
  name: 'InferredButForeign',
  // @ts-expect-error Other.node makes a node of OtherStore
  graph: () => {
    const foreign = Other.node('Foreign', (s) => s.setQ('x'));
    return new Graph({ source: foreign, sinks: [foreign], edges: [] });
  },
  store: () => Store.create(),
});
() => {
  const a = Store.node('A', () => {});
  // @ts-expect-error a condition of another store
  return new Edge({ tail: a, head: a, condition: Other.condition('HasQ', (s) => s.q !== '') });
};

// A schema types the state: initial and every action are checked against it.
const Schema = z.object({ count: z.number(), label: z.string().nullable() });
const Schematic = defineStore({
  name: 'Schematic',
  schema: Schema,
  initial: { count: 0, label: null },   // `label: null` needs no cast: the schema types it
  actions: {
    setLabel: (draft, label: string) => {
      draft.label = label;
    },
    bad: (draft) => {
      // @ts-expect-error count is a number
      draft.count = 'x';
    },
  },
});
Schematic.node('UsesIt', async (store) => {
  const label: string | null = (await store.setLabel('y')).label;
  return label;
});
// @ts-expect-error initial does not match the schema
defineStore({ name: 'Mismatch', schema: Schema, initial: { count: 'zero', label: null }, actions: {} });
// @ts-expect-error a schema of another state altogether
defineStore({ name: 'Unrelated', schema: z.object({ q: z.string() }), initial: { count: 0 }, actions: {} });

// redact sees the run's state (or a subflow's store state): spreading it type-checks.
const Secret = defineStore({ name: 'Secret', initial: { apiKey: 'k', n: 0 }, actions: {} });
new Workflow({
  name: 'Redacted',
  graph: () => {
    const only = Secret.node('Only', () => {});
    return new Graph({ source: only, sinks: [only], edges: [] });
  },
  store: () => Secret.create(),
  redact: (state) => ({ ...state, apiKey: '[redacted]' }),
});

// A run's store state, selected from its actor, is typed — as React's useSelector reads it.
declare const run: ActorRefFrom<typeof noInput.machine>;
const selected = useSelector(useSelector(run, (s) => s.context.store), (s) => s.context);
const selectedLabel: string | null = selected.label;
// @ts-expect-error the state has no field q
void selected.q;
void selectedLabel;
const direct: number = createActor(noInput.machine).getSnapshot().context.store.getSnapshot().context.counter;
void direct;

// Subflow results, read through the subflow's store definition, are typed.
void noInput.execute().then((result) => {
  const runs = Other.subflowResults(result, 'Inner');
  const q: string = runs[0]!.state.q;
  // @ts-expect-error an OtherStore state has no counter
  void runs[0]!.state.counter;
  return q;
});

// Reducers are synchronous: an async one does not type-check (and is refused at run time).
// @ts-expect-error an async reducer returns a promise, not a state
defineStore({ name: 'AsyncReducer', initial: { n: 0 }, actions: { later: async (d) => void (d.n = 1) } });

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { createActor } from 'xstate';
import { StoreUpdateError, defineStore } from '../src/index.js';
import { logicOf } from '../src/store/handle.js';
import { sleep } from './helpers.js';

const test = suite('store');

const CounterStore = defineStore({
  name: 'CounterStore',
  initial: { items: [] as string[], counter: 0, joke: null as string | null },
  actions: {
    increment: (draft) => {
      draft.counter += 1;
    },
    setCounter: (draft, value: number) => {
      draft.counter = value;
    },
    addItem: (draft, item: string) => {
      draft.items.push(item);
    },
    explode: () => {
      throw new Error('boom');
    },
  },
});

test('create() merges overrides into the initial state and freezes it', () => {
  const store = CounterStore.create({ items: ['a'] });
  const state = store.getState();
  assert.equal(state, { items: ['a'], counter: 0, joke: null });
  assert.ok(Object.isFrozen(state));
  assert.ok(Object.isFrozen(state.items));
  assert.equal(CounterStore.create().getState().items, []);
});

test('actions resolve with the committed state; getState is synchronous and frozen', async () => {
  const store = CounterStore.create();
  const after = await store.increment();
  assert.is(after.counter, 1);
  assert.is(store.getState(), after);
  await store.addItem('x');
  assert.equal(store.getState().items, ['x']);
  assert.ok(Object.isFrozen(store.getState().items));
  assert.throws(() => {
    (store.getState() as { counter: number }).counter = 5;
  });
});

test('setState shallow-merges top-level fields', async () => {
  const store = CounterStore.create({ items: ['a'], counter: 3 });
  await store.setState({ joke: 'knock knock' });
  assert.equal(store.getState(), { items: ['a'], counter: 3, joke: 'knock knock' });
});

test('concurrent increments never lose an update', async () => {
  const store = CounterStore.create();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      for (let i = 0; i < 20; i++) {
        await sleep(Math.random() * 3);
        await store.increment();
      }
    }),
  );
  assert.is(store.getState().counter, 1000);
});

test('an update that changes nothing commits nothing', async () => {
  const store = CounterStore.create({ counter: 4 });
  const commits: number[] = [];
  store.subscribe((_state, commit) => commits.push(commit.seq));
  const before = store.getState();
  const after = await store.setCounter(4);
  assert.is(after, before);
  await store.setCounter(5);
  assert.equal(commits, [1]);
});

test('commits carry action name, node and immer patches', async () => {
  const store = CounterStore.create();
  const seen: unknown[] = [];
  store.subscribe((state, commit) => seen.push({ commit, counter: state.counter }));
  await store.setCounter(7);
  await store.addItem('z');
  assert.equal(seen, [
    { commit: { seq: 1, action: 'setCounter', node: null, patches: [{ op: 'replace', path: ['counter'], value: 7 }] }, counter: 7 },
    { commit: { seq: 2, action: 'addItem', node: null, patches: [{ op: 'add', path: ['items', 0], value: 'z' }] }, counter: 7 },
  ]);
});

test('a throwing reducer rejects with StoreUpdateError and leaves the state as it was', async () => {
  const store = CounterStore.create({ counter: 2 });
  const before = store.getState();
  try {
    await store.explode();
    assert.unreachable();
  } catch (err) {
    assert.instance(err, StoreUpdateError);
    const e = err as StoreUpdateError;
    assert.is(e.action, 'explode');
    assert.is(e.store, 'CounterStore');
    assert.match(e.message, /Store 'CounterStore' rejected action 'explode': its reducer threw: boom/);
  }
  assert.is(store.getState(), before);
});

const Validated = defineStore({
  name: 'Validated',
  initial: { count: 0, label: 'ok' },
  schema: z.object({ count: z.number().int().min(0), label: z.string().min(1) }),
  actions: {
    add: (draft, n: number) => {
      draft.count += n;
    },
  },
});

test('schema: an invalid commit is rejected naming action and field; state unchanged', async () => {
  const store = Validated.create();
  await store.add(2);
  const before = store.getState();
  try {
    await store.add(-5);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, StoreUpdateError);
    const e = err as StoreUpdateError;
    assert.is(e.action, 'add');
    assert.is(e.reasons.length, 1);
    assert.match(e.reasons[0]!, /^field 'count': /);
  }
  try {
    await store.setState({ label: '' });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /rejected action 'setState': field 'label'/);
  }
  assert.is(store.getState(), before);
  assert.equal(store.getState(), { count: 2, label: 'ok' });
});

test('schema: the initial state is checked too', () => {
  assert.throws(() => Validated.create({ count: -1 }), /Store 'Validated' rejected action '\(initial state\)': field 'count'/);
});

test('schema: each commit is validated against the exact state it applies to', async () => {
  // Two concurrent updates, each valid alone from the initial state, but the second is
  // applied after the first, so it must be checked against the sum.
  const Bounded = defineStore({
    name: 'Bounded',
    initial: { n: 0 },
    schema: z.object({ n: z.number().max(10) }),
    actions: { add: (d, k: number) => void (d.n += k) },
  });
  const store = Bounded.create();
  const results = await Promise.allSettled([store.add(6), store.add(6)]);
  assert.is(results[0]!.status, 'fulfilled');
  assert.is(results[1]!.status, 'rejected');
  assert.is(store.getState().n, 6);
});

test('defineStore refuses reserved action names and bad schemas', () => {
  assert.throws(
    () => defineStore({ name: 'X', initial: {}, actions: { setState: () => {} } }),
    /action 'setState' clashes with a built-in name/,
  );
  assert.throws(
    () => defineStore({ name: 'X', initial: {}, actions: {}, schema: {} as never }),
    /schema must be a Standard Schema/,
  );
});

test('the store actor: events named after actions, unknown actions reported', async () => {
  const actor = createActor(logicOf(CounterStore), { input: { state: CounterStore.initial } }).start();
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (msg: string) => warnings.push(msg);
  try {
    actor.send({ type: 'increment' });
    actor.send({ type: 'nope' });
  } finally {
    console.warn = warn;
  }
  assert.is(actor.getSnapshot().context.counter, 1);
  assert.is(actor.getSnapshot().commit?.action, 'increment');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /rejected action 'nope': it has no action named 'nope' \(its actions: setState, increment/);
  actor.stop();
});

test.run();

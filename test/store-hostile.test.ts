// Hostile input to the store (issue 13): a schema that throws, reducers that return the wrong
// thing, an initial state the schema refuses, unprintable thrown values, and updates a node
// forgot to await or sent after it completed. Each must end in a clear StoreUpdateError (or a
// failed run carrying it), with the state unchanged and no unhandled rejection.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import {
  Edge,
  Graph,
  StoreUpdateError,
  Workflow,
  WorkflowCancelledError,
  WorkflowExecutionError,
  defineStore,
  node,
  Subflow,
  condition,
  type StoreOf,
} from '../src/index.js';
import { describe } from '../src/describe.js';
import { failureOf, settle } from './helpers.js';

const test = suite('store under hostile input');

/** A Standard Schema whose validate throws once `counter` reaches `limit`. */
function throwingSchema(limit: number): StandardSchemaV1<unknown, unknown> {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate(value) {
        if ((value as { counter: number }).counter >= limit) throw new Error('validator exploded');
        return { value };
      },
    },
  };
}

const Throwing = defineStore({
  name: 'Throwing',
  initial: { counter: 0, label: 'x' },
  schema: throwingSchema(1),
  actions: {
    increment: (draft) => {
      draft.counter += 1;
    },
  },
});

test('a schema whose validate throws: StoreUpdateError naming the action, state unchanged, the promise settles', async () => {
  const store = Throwing.create();
  const err = await store.increment().then(
    () => assert.unreachable('the update should be rejected'),
    (e: unknown) => e,
  );
  assert.instance(err, StoreUpdateError);
  const error = err as StoreUpdateError;
  assert.is(error.action, 'increment');
  assert.match(error.message, /schema threw: validator exploded/);
  assert.instance(error.cause, Error);
  assert.equal(store.getState(), { counter: 0, label: 'x' });
  // The store actor survived: it still applies (and refuses) updates.
  await store.setState({ label: 'y' });
  assert.is(store.getState().label, 'y');
});

test('a schema whose validate throws, in a run: WorkflowExecutionError with the last committed state, naming the node', async () => {
  const workflow = new Workflow({
    name: 'ThrowingSchema',
    graph: () => {
      const label = node<StoreOf<typeof Throwing>>('Label', (s) => s.setState({ label: 'before' }).then(() => {}));
      const bump = node<StoreOf<typeof Throwing>>('Bump', (s) => s.increment().then(() => {}));
      return new Graph({ source: label, sinks: [bump], edges: [new Edge({ tail: label, head: bump })] });
    },
    store: () => Throwing.create(),
  });
  const error = await failureOf(workflow.execute());
  assert.equal(error.state, { counter: 0, label: 'before' });
  assert.instance(error.cause, StoreUpdateError);
  assert.is((error.cause as StoreUpdateError).node, 'Bump');
  assert.is((error.cause as StoreUpdateError).action, 'increment');
  assert.match(error.message, /run .+ failed at 'Bump'/);
});

const Shape = defineStore({
  name: 'Shape',
  initial: { counter: 0, items: [] as string[] },
  actions: {
    toNumber: () => 42 as never,
    partial: () => ({ counter: 5 }) as never,
    toNull: () => null as never,
    toArray: () => [] as never,
    whole: (draft) => ({ counter: draft.counter + 1, items: ['new'] }),
  },
});

test('a reducer returning a non-object is refused, saying to mutate the draft or return the whole state', async () => {
  for (const action of ['toNumber', 'toArray'] as const) {
    const store = Shape.create();
    const err = await store[action]().then(() => null, (e: unknown) => e);
    assert.instance(err, StoreUpdateError, action);
    assert.match((err as Error).message, new RegExp(`rejected action '${action}'`));
    assert.match((err as Error).message, /mutate the draft or return the whole state/);
    assert.equal(store.getState(), { counter: 0, items: [] });
  }
});

test('a reducer returning null is refused too (not taken for "no change")', async () => {
  const store = Shape.create();
  const err = await store.toNull().then(() => null, (e: unknown) => e);
  assert.instance(err, StoreUpdateError);
  assert.match((err as Error).message, /returned null/);
  assert.equal(store.getState(), { counter: 0, items: [] });
});

test('a reducer returning a partial object is refused, naming the missing fields', async () => {
  const store = Shape.create();
  const err = await store.partial().then(() => null, (e: unknown) => e);
  assert.instance(err, StoreUpdateError);
  assert.match((err as Error).message, /missing field 'items'/);
  assert.match((err as Error).message, /mutate the draft or return the whole state/);
  assert.equal(store.getState(), { counter: 0, items: [] });
});

test('a reducer returning a whole new state is still allowed', async () => {
  const store = Shape.create();
  const state = await store.whole();
  assert.equal(state, { counter: 1, items: ['new'] });
});

test('an async reducer is refused saying reducers are synchronous, with no unhandled rejection', async () => {
  const Async = defineStore({
    name: 'Async',
    initial: { n: 0 },
    actions: {
      // The types refuse an async reducer; JavaScript callers (and casts) can still pass one.
      later: (async (draft: { n: number }) => {
        await null;
        draft.n = 5;
      }) as unknown as (draft: { n: number }) => void,
    },
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const store = Async.create();
    const err = await store.later().then(() => null, (e: unknown) => e);
    assert.instance(err, StoreUpdateError);
    assert.match((err as Error).message, /returned a promise \(reducers run synchronously/);
    await settle();
    await settle();
    assert.equal(unhandled, []);
    assert.equal(store.getState(), { n: 0 });
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a subscriber that throws is reported and does not crash the process; the store goes on', async () => {
  const store = Shape.create();
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  const errors: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void errors.push(args.join(' '));
  try {
    const seen: number[] = [];
    store.subscribe(() => {
      throw new Error('listener broke');
    });
    store.subscribe((state) => seen.push(state.counter));
    await store.whole();
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(uncaught, []);
    assert.equal(seen, [1], 'the other subscriber still got the commit');
    assert.match(String(errors[0]), /a subscriber of store 'Shape' threw on commit 1 \(whole\).*listener broke/);
  } finally {
    console.error = original;
    process.off('uncaughtException', onUncaught);
  }
});

test('a schema returning something that is not a result refuses the update instead of passing it', async () => {
  const Garbage = defineStore({
    name: 'Garbage',
    initial: { n: 0 },
    schema: { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ((value as { n: number }).n > 0 ? undefined : { value }) } } as unknown as StandardSchemaV1<unknown, unknown>,
    actions: { bump: (d) => void (d.n += 1) },
  });
  const store = Garbage.create();
  const err = await store.bump().then(() => null, (e: unknown) => e);
  assert.instance(err, StoreUpdateError);
  assert.match((err as Error).message, /its schema returned undefined, not a Standard Schema result/);
  assert.equal(store.getState(), { n: 0 });
});

const Strict = defineStore({
  name: 'Strict',
  initial: { counter: -1 },
  schema: {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) =>
        (value as { counter: number }).counter < 0 ? { issues: [{ message: 'must be >= 0', path: ['counter'] }] } : { value },
    },
  } as StandardSchemaV1<unknown, unknown>,
  actions: {},
});

test('the initial state is checked against the schema even when create() gets no overrides', () => {
  assert.throws(() => Strict.create(), (e: unknown) => e instanceof StoreUpdateError && /field 'counter': must be >= 0/.test(e.message));
  assert.throws(() => Strict.create({}), (e: unknown) => e instanceof StoreUpdateError);
  assert.is(Strict.create({ counter: 0 }).getState().counter, 0);
});

test('an initial state whose schema throws is reported as a StoreUpdateError', () => {
  const Boom = defineStore({ name: 'Boom', initial: { counter: 5 }, schema: throwingSchema(0), actions: {} });
  assert.throws(() => Boom.create(), (e: unknown) => e instanceof StoreUpdateError && /schema threw/.test(e.message));
});

/** Values that cannot be turned into text. */
const nullProto = (): unknown => Object.create(null);
const throwingToString = (): unknown => ({
  toString() {
    throw new Error('no text for you');
  },
});
const throwingMessage = (): unknown => {
  const e = new Error('x');
  Object.defineProperty(e, 'message', {
    get() {
      throw new Error('no message either');
    },
  });
  return e;
};

test('describe() never throws, whatever it is given', () => {
  for (const make of [nullProto, throwingToString, throwingMessage]) {
    const text = describe(make());
    assert.type(text, 'string');
    assert.ok(text.length > 0);
  }
  assert.is(describe('plain'), 'plain');
  assert.is(describe(new Error('msg')), 'msg');
  assert.is(describe(Symbol('s')), 'Symbol(s)');
  assert.is(describe(12n), '12');
});

test('a reducer throwing an unprintable value: StoreUpdateError with the original as cause', async () => {
  for (const make of [nullProto, throwingToString, throwingMessage]) {
    const thrown = make();
    const Bad = defineStore({
      name: 'Bad',
      initial: { n: 0 },
      actions: {
        explode: () => {
          throw thrown;
        },
      },
    });
    const store = Bad.create();
    const err = await store.explode().then(() => null, (e: unknown) => e);
    assert.instance(err, StoreUpdateError);
    assert.is((err as Error).cause, thrown);
    assert.match((err as Error).message, /its reducer threw/);
  }
});

test('a node throwing an unprintable value fails the run with it as the cause', async () => {
  const Plain = defineStore({ name: 'Plain', initial: { n: 0 }, actions: {} });
  for (const make of [nullProto, throwingToString, throwingMessage]) {
    const thrown = make();
    const workflow = new Workflow({
      name: 'Unprintable',
      graph: () => {
        const a = node<StoreOf<typeof Plain>>('A', () => {
          throw thrown;
        });
        return new Graph({ source: a, sinks: [a], edges: [] });
      },
      store: () => Plain.create(),
    });
    const error = await failureOf(workflow.execute());
    assert.is(error.cause, thrown);
    assert.match(error.message, /failed at 'A'/);
    assert.ok(JSON.stringify(error.toJSON()));
  }
});

test('a run cancelled with an unprintable reason rejects with WorkflowCancelledError, the reason as cause', async () => {
  const Plain = defineStore({ name: 'Plain', initial: { n: 0 }, actions: {} });
  for (const make of [nullProto, throwingToString]) {
    const reason = make();
    const controller = new AbortController();
    const workflow = new Workflow({
      name: 'CancelUnprintable',
      graph: () => {
        const a = node<StoreOf<typeof Plain>>('A', (_s, ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())));
        return new Graph({ source: a, sinks: [a], edges: [] });
      },
      store: () => Plain.create(),
    });
    const run = workflow.execute(undefined, { signal: controller.signal });
    await settle();
    controller.abort(reason);
    const err = await run.then(() => null, (e: unknown) => e);
    assert.instance(err, WorkflowCancelledError);
    assert.is((err as Error).cause, reason);
    assert.match((err as Error).message, /was cancelled/);
  }
});

const Checked = defineStore({
  name: 'Checked',
  initial: { counter: 0, log: [] as string[] },
  schema: {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) =>
        (value as { counter: number }).counter > 10 ? { issues: [{ message: 'too big', path: ['counter'] }] } : { value },
    },
  } as StandardSchemaV1<unknown, unknown>,
  actions: {
    setCounter: (draft, n: number) => {
      draft.counter = n;
    },
    log: (draft, line: string) => {
      draft.log.push(line);
    },
  },
});
type CheckedStore = StoreOf<typeof Checked>;

test('an update a node forgot to await that the schema rejects fails the node and the run with the StoreUpdateError', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const workflow = new Workflow({
      name: 'Forgot',
      graph: () => {
        const a = node<CheckedStore>('A', (store) => {
          void store.setCounter(99); // not awaited, and refused by the schema
        });
        const b = node<CheckedStore>('B', (store) => store.log('B ran').then(() => {}));
        return new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: b })] });
      },
      store: () => Checked.create(),
    });
    const error = await failureOf(workflow.execute());
    assert.instance(error.cause, StoreUpdateError);
    assert.is((error.cause as StoreUpdateError).node, 'A');
    assert.is((error.cause as StoreUpdateError).action, 'setCounter');
    assert.equal(error.state, { counter: 0, log: [] });
    // Give an unhandled rejection every chance to surface.
    await settle();
    await settle();
    assert.equal(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('an update a node forgot to await that succeeds is committed before the next node runs', async () => {
  const workflow = new Workflow({
    name: 'ForgotButFine',
    graph: () => {
      const a = node<CheckedStore>('A', (store) => {
        void store.setCounter(3);
      });
      const b = node<CheckedStore>('B', (store) => store.log(`saw ${store.getState().counter}`).then(() => {}));
      return new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: b })] });
    },
    store: () => Checked.create(),
  });
  const { state } = await workflow.execute();
  assert.equal(state, { counter: 3, log: ['saw 3'] });
});

test('an update sent after its node completed is refused with a clear error, not applied', async () => {
  let late: Promise<unknown> | undefined;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const workflow = new Workflow({
    name: 'Stray',
    graph: () => {
      let kept: CheckedStore | undefined;
      const a = node<CheckedStore>('A', (store) => {
        kept = store;
      });
      const b = node<CheckedStore>('B', async () => {
        late = kept!.log('from a stray timer');
        await late.catch(() => {});
        await released;
      });
      return new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: b })] });
    },
    store: () => Checked.create(),
  });
  const run = workflow.execute();
  while (!late) await settle();
  const err = await late.then(() => null, (e: unknown) => e);
  release();
  const { state } = await run;
  assert.instance(err, StoreUpdateError);
  assert.is((err as StoreUpdateError).node, 'A');
  assert.match((err as Error).message, /node 'A' already completed/);
  assert.equal(state.log, []);
});

test('a forgotten update that a reducer rejects in a run leaves no unhandled rejection and fails the run', async () => {
  const Explode = defineStore({
    name: 'Explode',
    initial: { n: 0 },
    actions: {
      explode: () => {
        throw new Error('bad');
      },
    },
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const workflow = new Workflow({
      name: 'ForgotReducer',
      graph: () => {
        const a = node<StoreOf<typeof Explode>>('A', (store) => {
          void store.explode();
        });
        return new Graph({ source: a, sinks: [a], edges: [] });
      },
      store: () => Explode.create(),
    });
    const error = await failureOf(workflow.execute());
    assert.instance(error, WorkflowExecutionError);
    assert.instance(error.cause, StoreUpdateError);
    await settle();
    await settle();
    assert.equal(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a subflow postRunActions that forgets an update the parent schema rejects fails the run', async () => {
  const Sub = defineStore({ name: 'Sub', initial: { n: 0 }, actions: {} });
  class Forgetful extends Subflow<StoreOf<typeof Sub>, CheckedStore> {
    override postRunActions(parent: CheckedStore) {
      void parent.setCounter(99);
    }
  }
  const workflow = new Workflow({
    name: 'ForgetfulSubflow',
    graph: () => {
      const sub = new Forgetful({
        name: 'Inner',
        graph: () => {
          const a = node<StoreOf<typeof Sub>>('A', () => {});
          return new Graph({ source: a, sinks: [a], edges: [] });
        },
        store: () => Sub.create(),
      });
      return new Graph({ source: sub, sinks: [sub], edges: [] });
    },
    store: () => Checked.create(),
  });
  const error = await failureOf(workflow.execute());
  assert.instance(error.cause, StoreUpdateError);
  assert.is((error.cause as StoreUpdateError).action, 'setCounter');
  assert.equal(error.state.counter, 0);
});

test('a condition returning a null-prototype object fails the run with a ConditionError saying what it returned', async () => {
  const Plain = defineStore({ name: 'Plain', initial: { n: 0 }, actions: {} });
  const workflow = new Workflow({
    name: 'OddCondition',
    graph: () => {
      const a = node<StoreOf<typeof Plain>>('A', () => {});
      const b = node<StoreOf<typeof Plain>>('B', () => {});
      const odd = condition('Odd', () => Object.create(null) as boolean);
      return new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: b, condition: odd })] });
    },
    store: () => Plain.create(),
  });
  const error = await failureOf(workflow.execute());
  assert.match(error.message, /Condition 'Odd' .* threw: it returned an object, not a boolean/);
});

test.run();

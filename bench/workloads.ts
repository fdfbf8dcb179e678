/**
 * The benchmark's workloads, each implemented four ways: with junjo-xstate, as a hand-written
 * XState machine of the same shape, as plain async code, and with LangGraph.js. Every
 * implementation is a function that performs one repetition and returns how long the timed
 * part took (setup, such as compiling a graph, happens outside the timed part and is cached).
 */
import { Annotation, END, Send, START, StateGraph } from '@langchain/langgraph';
import { produce } from 'immer';
import {
  createActor,
  fromPromise,
  fromTransition,
  setup,
  type ActorLogic,
  type AnyActorLogic,
  type AnyActorRef,
  type AnyStateMachine,
  type InspectionEvent,
} from 'xstate';
import { defineStore, Edge, Graph, node, RunConcurrent, RunMap, Workflow, type StoreOf } from '../src/index.js';

export type Impl = 'junjo' | 'xstate' | 'plain' | 'langgraph';

const noop = async (): Promise<void> => {};

/** A promise that resolves when `open()` is called: holds runs in flight for the heap workload. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

// ---------------------------------------------------------------- junjo-xstate

const CounterStore = defineStore({
  name: 'CounterStore',
  initial: { counter: 0, items: [] as number[] },
  actions: { increment: (draft) => void (draft.counter += 1) },
});
type Counter = StoreOf<typeof CounterStore>;
type CounterState = ReturnType<Counter['getState']>;

/** A chain of `n` no-op nodes; `first` replaces the first node's service (to hold runs). */
function chainWorkflow(n: number, first: () => Promise<void> = noop): Workflow<void, Counter> {
  // Made once, as the string literals naming the nodes of a real graph factory are.
  const names = Array.from({ length: n }, (_, i) => `N${i}`);
  return new Workflow({
    name: `Chain${n}`,
    maxIterations: 1,
    graph: () => {
      const nodes = names.map((name, i) => node<Counter>(name, i === 0 ? first : noop));
      const edges = nodes.slice(1).map((head, i) => new Edge({ tail: nodes[i]!, head }));
      return new Graph({ source: nodes[0]!, sinks: [nodes[n - 1]!], edges });
    },
    store: () => CounterStore.create(),
  });
}

function mapWorkflow(concurrency?: number): Workflow<number, Counter> {
  return new Workflow({
    name: 'Map',
    graph: () => {
      const each = new RunMap({
        name: 'Each',
        items: (state: CounterState) => state.items,
        node: () => node<Counter>('Item', noop),
        ...(concurrency ? { concurrency } : {}),
      });
      return new Graph({ source: each, sinks: [each], edges: [] });
    },
    store: (n: number) => CounterStore.create({ counter: 0, items: Array.from({ length: n }, (_, i) => i) }),
  });
}

function concurrentWorkflow(items: number, service: (store: Counter) => Promise<unknown>): Workflow<void, Counter> {
  return new Workflow({
    name: `Concurrent${items}`,
    graph: () => {
      const group = new RunConcurrent({
        name: 'Group',
        items: Array.from({ length: items }, (_, i) => node<Counter>(`Item${i}`, service)),
      });
      return new Graph({ source: group, sinks: [group], edges: [] });
    },
    store: () => CounterStore.create(),
  });
}

const cached = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

const junjo = {
  chain1000: cached(() => chainWorkflow(1000)),
  chain10: cached(() => chainWorkflow(10)),
  maps: new Map<number | undefined, Workflow<number, Counter>>(),
  group10: cached(() => concurrentWorkflow(10, noop)),
  updates: cached(() =>
    concurrentWorkflow(100, async (store) => {
      for (let i = 0; i < 1000; i++) await store.increment();
    }),
  ),
};
const mapOf = (limit?: number) => {
  let wf = junjo.maps.get(limit);
  if (!wf) junjo.maps.set(limit, (wf = mapWorkflow(limit)));
  return wf;
};

// ---------------------------------------------------------------- hand-written XState

const xsNoop = fromPromise(noop);

/** `n` states in a row, each invoking a no-op; `store`, when given, is invoked for the whole run. */
function xsChain(n: number, first: AnyActorLogic = xsNoop, store?: AnyActorLogic): AnyStateMachine {
  const states: Record<string, object> = {};
  for (let i = 0; i < n; i++) states[`s${i}`] = { invoke: { src: i === 0 ? 'first' : 'noop', onDone: `s${i + 1}` } };
  states[`s${n}`] = { type: 'final' };
  return setup({ actors: { noop: xsNoop, first, store: store ?? xsNoop } }).createMachine({
    initial: 's0',
    states,
    ...(store ? { invoke: { id: 'store', src: 'store' } } : {}),
  });
}

/** A counter store the XState way: a fromTransition actor applying immer reducers. */
const xsCounterStore = fromTransition(
  (state: { counter: number }, _event: { type: 'increment' }) => produce(state, (d) => void (d.counter += 1)),
  { counter: 0 },
);

function xsParallel(n: number): AnyStateMachine {
  const regions: Record<string, object> = {};
  for (let i = 0; i < n; i++) {
    regions[`r${i}`] = { initial: 'run', states: { run: { invoke: { src: 'noop', onDone: 'done' } }, done: { type: 'final' } } };
  }
  return setup({ actors: { noop: xsNoop } }).createMachine({
    initial: 'group',
    states: { group: { type: 'parallel', states: regions, onDone: 'end' }, end: { type: 'final' } },
  });
}

/**
 * The least a hand-written XState fan-out can do: one actor that spawns a promise actor per
 * item as its child and counts their done events. (A parallel state is far slower: DESIGN.md.)
 */
function xsFanOut(n: number, limit = Infinity): AnyStateMachine {
  const parent: ActorLogic<{ status: 'active' | 'done'; output: undefined; error: undefined }, { type: string }> = {
    getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined }),
    start: (_snapshot, { self }) => {
      started.set(self, 0);
      left.set(self, n);
      for (let i = 0; i < Math.min(n, limit); i++) spawn(self);
    },
    transition: (snapshot, event, { self }) => {
      if (!event.type.startsWith('xstate.done.actor.')) return snapshot;
      const remaining = left.get(self)! - 1;
      left.set(self, remaining);
      if (started.get(self)! < n) spawn(self);
      return remaining === 0 ? { ...snapshot, status: 'done' } : snapshot;
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
  const started = new Map<AnyActorRef, number>();
  const left = new Map<AnyActorRef, number>();
  const spawn = (self: AnyActorRef) => {
    const i = started.get(self)!;
    started.set(self, i + 1);
    createActor(xsNoop, { parent: self, id: `item[${i}]` }).start();
  };
  return setup({ actors: { fanOut: parent } }).createMachine({
    initial: 'each',
    states: { each: { invoke: { src: 'fanOut', onDone: 'end' } }, end: { type: 'final' } },
  });
}

function runActor(logic: AnyStateMachine, inspect?: (event: InspectionEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const actor = createActor(logic, inspect ? { inspect } : {});
    actor.subscribe({ complete: () => resolve(), error: reject });
    actor.start();
  });
}

const xs = {
  chain1000: cached(() => xsChain(1000)),
  chain10: cached(() => xsChain(10)),
  parallel10: cached(() => xsParallel(10)),
  fanOuts: new Map<string, AnyStateMachine>(),
};
const xsFanOutOf = (n: number, limit?: number) => {
  const key = `${n}/${limit}`;
  let machine = xs.fanOuts.get(key);
  if (!machine) xs.fanOuts.set(key, (machine = xsFanOut(n, limit)));
  return machine;
};

/** Store updates the XState way: sent to one counter store actor. */
async function xsUpdates(workers: number, updates: number): Promise<void> {
  const store = createActor(xsCounterStore).start();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < updates; i++) {
        store.send({ type: 'increment' });
        await null;
      }
    }),
  );
  if (store.getSnapshot().context.counter !== workers * updates) throw new Error('lost updates');
  store.stop();
}

// ---------------------------------------------------------------- plain async

async function plainChain(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await noop();
}

async function plainPool(n: number, limit: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, limit) }, async () => {
      while (next < n) {
        next++;
        await noop();
      }
    }),
  );
}

async function plainUpdates(workers: number, updates: number): Promise<void> {
  let state = { counter: 0 };
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < updates; i++) {
        state = produce(state, (d) => void (d.counter += 1));
        await null;
      }
    }),
  );
  if (state.counter !== workers * updates) throw new Error('lost updates');
}

// ---------------------------------------------------------------- LangGraph.js

const LgState = Annotation.Root({
  items: Annotation<number[]>({ reducer: (_a, b) => b, default: () => [] }),
  done: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
});

function lgChain(n: number, first: () => Promise<void> = noop) {
  // StateGraph's builder types track every node name; a loop over generated names cannot.
  const graph = new StateGraph(LgState) as unknown as StateGraph<typeof LgState.spec, any, any, string>;
  for (let i = 0; i < n; i++) {
    const run = i === 0 ? first : noop;
    graph.addNode(`n${i}`, async () => {
      await run();
      return {};
    });
  }
  graph.addEdge(START, 'n0');
  for (let i = 1; i < n; i++) graph.addEdge(`n${i - 1}`, `n${i}`);
  graph.addEdge(`n${n - 1}`, END);
  return graph.compile();
}

function lgFanOut() {
  return new StateGraph(LgState)
    .addNode('item', async () => ({ done: 1 }))
    .addConditionalEdges(START, (state) => state.items.map((item) => new Send('item', { items: [item] })))
    .addEdge('item', END)
    .compile();
}

function lgParallel(n: number) {
  const graph = new StateGraph(LgState) as unknown as StateGraph<typeof LgState.spec, any, any, string>;
  for (let i = 0; i < n; i++) {
    graph.addNode(`n${i}`, async () => ({ done: 1 }));
    graph.addEdge(START, `n${i}`);
    graph.addEdge(`n${i}`, END);
  }
  return graph.compile();
}

const lg = {
  chain1000: cached(() => lgChain(1000)),
  chain10: cached(() => lgChain(10)),
  fanOut: cached(lgFanOut),
  parallel10: cached(() => lgParallel(10)),
};

// ---------------------------------------------------------------- workloads

export interface Workload {
  name: string;
  /** What the numbers are: ms per repetition, unless `perSecond` turns them into a rate. */
  unit: string;
  reps: number;
  /** Fewer repetitions for LangGraph.js where it takes seconds. */
  langgraphReps?: number;
  /** Skip LangGraph.js's warm-up where one repetition takes seconds (its code is warm by then). */
  langgraphWarmup?: boolean;
  impls: Partial<Record<Impl, () => Promise<number>>>;
  /** Turns a time in ms into the reported value (e.g. updates per second). */
  report?: (ms: number) => number;
}

const all = <T>(n: number, fn: () => Promise<T>) => Promise.all(Array.from({ length: n }, fn));

export function workloads(): Workload[] {
  const fanOut = (n: number, limit?: number, langgraph = true): Workload => ({
    name: `3. fan-out of ${n.toLocaleString('en')} no-op items${limit ? `, limit ${limit}` : ''}`,
    unit: 'ms',
    reps: n >= 10_000 ? 3 : 9,
    langgraphReps: n >= 1000 ? 2 : 3,
    langgraphWarmup: n < 1000,
    impls: {
      junjo: () => time(() => mapOf(limit).execute(n)),
      xstate: () => time(() => runActor(xsFanOutOf(n, limit))),
      plain: () => time(() => plainPool(n, limit ?? n)),
      ...(langgraph
        ? {
            langgraph: () =>
              time(() =>
                lg.fanOut().invoke(
                  { items: Array.from({ length: n }, (_, i) => i) },
                  limit ? { maxConcurrency: limit, recursionLimit: 10 } : { recursionLimit: 10 },
                ),
              ),
          }
        : {}),
    },
  });
  return [
    {
      name: '1. 1,000 sequential no-op nodes',
      unit: 'ms',
      reps: 9,
      langgraphReps: 2,
      langgraphWarmup: false,
      impls: {
        junjo: () => time(() => junjo.chain1000().execute()),
        xstate: () => time(() => runActor(xs.chain1000())),
        plain: () => time(() => plainChain(1000)),
        langgraph: () => time(() => lg.chain1000().invoke({}, { recursionLimit: 2000 })),
      },
    },
    {
      name: '2. 1,000 concurrent runs of 10 nodes',
      unit: 'ms',
      reps: 5,
      langgraphReps: 3,
      langgraphWarmup: false,
      impls: {
        junjo: () => time(() => all(1000, () => junjo.chain10().execute())),
        xstate: () => time(() => all(1000, () => runActor(xs.chain10()))),
        plain: () => time(() => all(1000, () => plainChain(10))),
        langgraph: () => time(() => all(1000, () => lg.chain10().invoke({}))),
      },
    },
    fanOut(100),
    fanOut(1000),
    fanOut(10_000, undefined, false),
    fanOut(1000, 50),
    {
      name: '4. RunConcurrent of 10 items (per run, 100 runs in a row)',
      unit: 'ms/run',
      reps: 9,
      langgraphReps: 3,
      impls: {
        junjo: async () => (await time(async () => { for (let i = 0; i < 100; i++) await junjo.group10().execute(); })) / 100,
        xstate: async () => (await time(async () => { for (let i = 0; i < 100; i++) await runActor(xs.parallel10()); })) / 100,
        plain: async () => (await time(async () => { for (let i = 0; i < 100; i++) await all(10, noop); })) / 100,
        langgraph: async () => (await time(async () => { for (let i = 0; i < 100; i++) await lg.parallel10().invoke({}); })) / 100,
      },
    },
    {
      name: '5. 100 concurrent nodes × 1,000 store updates',
      unit: 'updates/s',
      reps: 3,
      report: (ms) => 100_000 / (ms / 1000),
      impls: {
        junjo: () =>
          time(async () => {
            const { state } = await junjo.updates().execute();
            if (state.counter !== 100_000) throw new Error(`lost updates: ${state.counter}`);
          }),
        xstate: () => time(() => xsUpdates(100, 1000)),
        plain: () => time(() => plainUpdates(100, 1000)),
      },
    },
  ];
}

// ---------------------------------------------------------------- heap per in-flight run

/**
 * Starts `runs` runs that all wait in their first node; returns the heap they hold, per run.
 * `xstate+store` is the hand-written machine with one store actor invoked for the whole run,
 * as every junjo-xstate run has (DESIGN.md): the least such a run can hold in XState.
 */
export async function heapPerRun(impl: Impl | 'xstate+store', runs: number): Promise<number> {
  const g = globalThis.gc;
  if (!g) throw new Error('run the bench with node --expose-gc (npm run bench does)');
  let hold = gate();
  const waiting = () => hold.wait;
  const builders: Record<Impl | 'xstate+store', () => () => Promise<unknown>> = {
    junjo: () => {
      const wf = chainWorkflow(10, waiting);
      wf.machine;
      return () => wf.execute();
    },
    xstate: () => {
      const machine = xsChain(10, fromPromise(waiting));
      return () => runActor(machine);
    },
    'xstate+store': () => {
      const machine = xsChain(10, fromPromise(waiting), xsCounterStore);
      return () => runActor(machine);
    },
    plain: () => async () => {
      await waiting();
      await plainChain(9);
    },
    langgraph: () => {
      const app = lgChain(10, waiting);
      return () => app.invoke({});
    },
  };
  const build = builders[impl]();
  // One run first, through an open gate, so compiled code and caches are not counted.
  hold.open();
  await build();
  hold = gate();
  for (let i = 0; i < 3; i++) g();
  const before = process.memoryUsage().heapUsed;
  const settle = all(runs, build);
  // Let every run reach its waiting node.
  await new Promise((resolve) => setTimeout(resolve, impl === 'langgraph' ? 500 : 100));
  for (let i = 0; i < 3; i++) g();
  const after = process.memoryUsage().heapUsed;
  hold.open();
  await settle;
  return (after - before) / runs;
}

// ---------------------------------------------------------------- inspector overhead

/**
 * An inspection observer that does what @statelyai/inspect does with each event: turn it into
 * JSON for the wire. It runs synchronously and never awaits, so it cannot block the run.
 */
export function serializingObserver(): { observer: (event: InspectionEvent) => void; bytes: () => number } {
  let bytes = 0;
  const observer = (event: InspectionEvent) => {
    const message: Record<string, unknown> = { type: event.type, sessionId: event.actorRef.sessionId };
    if (event.type === '@xstate.snapshot') {
      message.snapshot = event.snapshot;
      message.event = event.event;
    } else if (event.type === '@xstate.event') {
      message.event = event.event;
      message.source = event.sourceRef?.sessionId;
    }
    bytes += JSON.stringify(message).length;
  };
  return { observer, bytes: () => bytes };
}

export function inspectorWorkload(): Workload {
  return {
    name: '7. 1,000 sequential nodes, inspector observer attached',
    unit: 'ms',
    reps: 9,
    impls: {
      junjo: () => time(() => junjo.chain1000().execute(undefined, { inspect: serializingObserver().observer })),
      xstate: () => time(() => runActor(xs.chain1000(), serializingObserver().observer)),
    },
  };
}

// ---------------------------------------------------------------- ctx.emit (issue 16)

const EMITS = 10_000;

/** One node that calls `send(i)` EMITS times; `send` is `ctx.emit` or a bare callback. */
function emitterWorkflow(viaEmit: boolean, sink: (value: unknown) => void): Workflow<void, Counter> {
  return new Workflow({
    name: viaEmit ? 'Emit' : 'BareLoop',
    graph: () => {
      const talk = node<Counter>('Talk', (_store, ctx) => {
        const send = viaEmit ? ctx.emit : sink;
        for (let i = 0; i < EMITS; i++) send(i);
      });
      return new Graph({ source: talk, sinks: [talk], edges: [] });
    },
    store: () => CounterStore.create(),
  });
}

/**
 * 8. A node emitting 10,000 small values to a `junjo.emit` listener on its run actor, against
 * the same one-node run whose node calls a bare callback 10,000 times instead ("plain").
 */
export function emitWorkload(): Workload {
  let received = 0;
  const count = () => void received++;
  const viaEmit = emitterWorkflow(true, count);
  const bare = emitterWorkflow(false, count);
  const run = (workflow: Workflow<void, Counter>, listen: boolean) =>
    time(
      () =>
        new Promise<void>((resolve, reject) => {
          received = 0;
          const actor = workflow.createRun();
          if (listen) actor.on('junjo.emit', count);
          actor.subscribe({
            complete: () => (received === EMITS ? resolve() : reject(new Error(`received ${received} of ${EMITS}`))),
            error: reject,
          });
          actor.start();
        }),
    );
  return {
    name: `8. one node emitting ${EMITS.toLocaleString('en')} values (ctx.emit, one listener)`,
    unit: 'ms',
    reps: 15,
    impls: { junjo: () => run(viaEmit, true), plain: () => run(bare, false) },
  };
}

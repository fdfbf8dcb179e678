/** RunMap, the data-driven fan-out: results, concurrency limit, failure, collected failures, inspection. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import {
  defineStore,
  Edge,
  Graph,
  node,
  RunMap,
  RunMapError,
  StoreUpdateError,
  Subflow,
  Workflow,
  WorkflowExecutionError,
  waitFor,
  type StoreOf,
} from '../src/index.js';
import { failureOf, settle, sleep } from './helpers.js';

const DocsStore = defineStore({
  name: 'DocsStore',
  initial: { docs: [] as number[], results: {} as Record<number, number>, done: 0, log: [] as string[] },
  actions: {
    record: (draft, index: number, value: number) => {
      draft.results[index] = value;
      draft.done += 1;
    },
    log: (draft, line: string) => {
      draft.log.push(line);
    },
  },
});
type Docs = StoreOf<typeof DocsStore>;
type DocsState = ReturnType<Docs['getState']>;

/** A workflow: Start → the RunMap → End, over `docs` given as input. */
function mapWorkflow(map: () => RunMap<DocsState, number, Docs>, name = 'Map') {
  return new Workflow({
    name,
    graph: () => {
      const start = node<Docs>('Start', () => {});
      const each = map();
      const end = node<Docs>('End', () => {});
      return new Graph({
        source: start,
        sinks: [end],
        edges: [new Edge({ tail: start, head: each }), new Edge({ tail: each, head: end })],
      });
    },
    store: (docs: number[]) => DocsStore.create({ docs, results: {}, done: 0, log: [] }),
  });
}

test('fan-out of 10,000 items produces exactly 10,000 results', async () => {
  // Results go into 100 buckets: immer copies a changed object whole, so one object of 10,000
  // keys would make each commit cost O(n) and the whole fan-out quadratic.
  const BucketStore = defineStore({
    name: 'BucketStore',
    initial: { docs: [] as number[], buckets: [] as Record<number, number>[], done: 0 },
    actions: {
      record: (draft, index: number, value: number) => {
        draft.buckets[index % 100]![index] = value;
        draft.done += 1;
      },
    },
  });
  type Buckets = StoreOf<typeof BucketStore>;
  const workflow = new Workflow({
    name: 'Wide',
    graph: () => {
      const double = new RunMap({
        name: 'Double',
        items: (state: ReturnType<Buckets['getState']>) => state.docs,
        node: (doc, index) => node<Buckets>('DoubleOne', (store) => store.record(index, doc * 2)),
      });
      return new Graph({ source: double, sinks: [double], edges: [] });
    },
    store: (docs: number[]) => BucketStore.create({ docs, buckets: Array.from({ length: 100 }, () => ({})), done: 0 }),
  });
  const docs = Array.from({ length: 10_000 }, (_, i) => i);
  const { state, executionCounts } = await workflow.execute(docs);
  assert.is(state.done, 10_000);
  const results = new Map<number, number>();
  for (const bucket of state.buckets) for (const [index, value] of Object.entries(bucket)) results.set(Number(index), value);
  assert.is(results.size, 10_000);
  for (let i = 0; i < 10_000; i++) assert.is(results.get(i), i * 2);
  assert.equal(executionCounts, { Double: 1 });
});

test('an empty list completes the RunMap at once', async () => {
  const workflow = mapWorkflow(
    () => new RunMap({ name: 'Each', items: (s: DocsState) => s.docs, node: () => node<Docs>('One', () => {}) }),
  );
  const { state, executionCounts } = await workflow.execute([]);
  assert.is(state.done, 0);
  assert.is(executionCounts.End, 1);
});

test('the concurrency limit is never exceeded, and every item still runs', async () => {
  let inFlight = 0;
  let peak = 0;
  const workflow = mapWorkflow(
    () =>
      new RunMap({
        name: 'Limited',
        items: (s: DocsState) => s.docs,
        concurrency: 7,
        node: (doc, index) =>
          node<Docs>('Slow', async (store) => {
            inFlight++;
            peak = Math.max(peak, inFlight);
            try {
              await sleep(1 + (doc % 5));
              await store.record(index, doc);
            } finally {
              inFlight--;
            }
          }),
      }),
  );
  const { state } = await workflow.execute(Array.from({ length: 200 }, (_, i) => i));
  assert.is(state.done, 200);
  assert.is(peak, 7);
  assert.is(inFlight, 0);
});

test('the first failure cancels the rest: signals abort, no late update applies, the original error is the cause', async () => {
  const aborted = new Set<number>();
  const boom = new Error('item 3 broke');
  const lateUpdates: unknown[] = [];
  const workflow = mapWorkflow(
    () =>
      new RunMap({
        name: 'Fragile',
        items: (s: DocsState) => s.docs,
        node: (doc, index) =>
          node<Docs>('Item', async (store, ctx) => {
            ctx.signal.addEventListener('abort', () => aborted.add(index));
            if (index === 3) {
              await sleep(5);
              throw boom;
            }
            // Carries on once cancelled, as a node ignoring its signal would.
            await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
            await store.record(index, doc).catch((err) => {
              lateUpdates.push(err);
              throw err;
            });
          }),
      }),
  );
  const error = await failureOf(workflow.execute([0, 1, 2, 3, 4, 5]));
  assert.instance(error, WorkflowExecutionError);
  const failure = error as WorkflowExecutionError<DocsState>;
  assert.is(failure.cause, boom);
  assert.equal(failure.path, ['Fragile', 'Fragile[3]']);
  assert.equal(failure.state.done, 0);
  assert.equal([...aborted].sort(), [0, 1, 2, 4, 5]);
  await settle();
  // The cancelled items' updates were refused, never applied.
  assert.is(lateUpdates.length, 5);
  for (const err of lateUpdates) assert.instance(err, StoreUpdateError);
});

test('a limited fan-out that fails starts no further items', async () => {
  const started: number[] = [];
  const workflow = mapWorkflow(
    () =>
      new RunMap({
        name: 'Limited',
        items: (s: DocsState) => s.docs,
        concurrency: 2,
        node: (_doc, index) =>
          node<Docs>('Item', async () => {
            started.push(index);
            if (index === 1) throw new Error('no');
            await sleep(10);
          }),
      }),
  );
  await workflow.execute(Array.from({ length: 20 }, (_, i) => i)).catch(() => {});
  await sleep(20);
  assert.equal(started, [0, 1]);
});

test('collectFailures runs every item, then fails with a RunMapError listing each failure by index', async () => {
  const workflow = mapWorkflow(
    () =>
      new RunMap({
        name: 'Tolerant',
        items: (s: DocsState) => s.docs,
        collectFailures: true,
        concurrency: 3,
        node: (doc, index) =>
          node<Docs>('Item', async (store) => {
            await sleep(doc % 3);
            if (index % 4 === 1) throw new Error(`item ${index} failed`);
            await store.record(index, doc);
          }),
      }),
  );
  const error = await failureOf(workflow.execute(Array.from({ length: 12 }, (_, i) => i)));
  assert.instance(error.cause, RunMapError);
  const cause = error.cause as RunMapError;
  assert.equal(
    cause.failures.map((f) => [f.index, f.id, (f.error as Error).message]),
    [
      [1, 'Tolerant[1]', 'item 1 failed'],
      [5, 'Tolerant[5]', 'item 5 failed'],
      [9, 'Tolerant[9]', 'item 9 failed'],
    ],
  );
  assert.is(cause.errors.length, 3);
  assert.match(cause.message, "RunMap 'Tolerant': 3 of 12 items failed");
  assert.equal(error.path, ['Tolerant']);
  // Every other item ran and committed.
  assert.is(error.state.done, 9);
});

test('the inspection observer sees one actor per item, each starting and finishing', async () => {
  const workflow = mapWorkflow(
    () =>
      new RunMap({
        name: 'Seen',
        items: (s: DocsState) => s.docs,
        node: (doc, index) => node<Docs>('Item', (store) => store.record(index, doc)),
      }),
  );
  const actors = new Map<string, string>();
  const finished = new Set<string>();
  await workflow.execute([10, 20, 30, 40, 50], {
    inspect: (event: InspectionEvent) => {
      if (event.type === '@xstate.actor') actors.set((event.actorRef as AnyActorRef).id, (event.actorRef as AnyActorRef)._parent?.id ?? '');
      if (event.type === '@xstate.snapshot' && event.snapshot.status === 'done') finished.add((event.actorRef as AnyActorRef).id);
    },
  });
  const items = [...actors.keys()].filter((id) => id.startsWith('Seen['));
  assert.equal(items, ['Seen[0]', 'Seen[1]', 'Seen[2]', 'Seen[3]', 'Seen[4]']);
  for (const id of items) {
    assert.is(actors.get(id), 'Seen', `${id} is a child of the fan-out actor`);
    assert.ok(finished.has(id), `${id} finished`);
  }
});

test('items may be subflows, each with its own store, writing back through postRunActions', async () => {
  const SquareStore = defineStore({
    name: 'SquareStore',
    initial: { n: 0, square: 0 },
    actions: { square: (draft) => void (draft.square = draft.n * draft.n) },
  });
  type Square = StoreOf<typeof SquareStore>;
  class SquareOne extends Subflow<Square, Docs> {
    constructor(n: number, private readonly index: number) {
      super({
        name: 'SquareOne',
        graph: () => {
          const only = node<Square>('Square', (store) => store.square());
          return new Graph({ source: only, sinks: [only], edges: [] });
        },
        store: () => SquareStore.create({ n, square: 0 }),
      });
    }
    override async postRunActions(parent: Docs, sub: Square) {
      await parent.record(this.index, sub.getState().square);
    }
  }
  const workflow = mapWorkflow(
    () =>
      new RunMap({
        name: 'Squares',
        items: (s: DocsState) => s.docs,
        concurrency: 4,
        node: (doc, index) => new SquareOne(doc, index),
      }),
  );
  const { state, subflows } = await workflow.execute([1, 2, 3, 4, 5, 6]);
  assert.equal(state.results, { 0: 1, 1: 4, 2: 9, 3: 16, 4: 25, 5: 36 });
  assert.equal(Object.keys(subflows).sort(), ['Squares[0]', 'Squares[1]', 'Squares[2]', 'Squares[3]', 'Squares[4]', 'Squares[5]']);
});

test('a RunMap is a vertex like any other: it loops under maxIterations and is named when it exceeds it', async () => {
  const workflow = new Workflow({
    name: 'Loop',
    maxIterations: 3,
    graph: () => {
      const each = new RunMap({
        name: 'Each',
        items: (s: DocsState) => s.docs,
        node: (doc) => node<Docs>('One', (store) => store.log(`doc ${doc}`)),
      });
      const end = node<Docs>('End', () => {});
      return new Graph({ source: each, sinks: [end], edges: [new Edge({ tail: each, head: each }), new Edge({ tail: each, head: end })] });
    },
    store: () => DocsStore.create({ docs: [1, 2], results: {}, done: 0, log: [] }),
  });
  const error = await failureOf(workflow.execute());
  assert.match(String((error.cause as Error).message), "'Each' would run a 4th time");
  assert.is(error.state.log.length, 6);
});

test('stopping the run cancels every item in flight', async () => {
  const aborted: number[] = [];
  const workflow = mapWorkflow(
    () =>
      new RunMap({
        name: 'Long',
        items: (s: DocsState) => s.docs,
        node: (_doc, index) =>
          node<Docs>('Wait', (_store, ctx) =>
            sleep(10_000, ctx.signal).catch(() => {
              aborted.push(index);
            }),
          ),
      }),
  );
  const controller = new AbortController();
  const run = workflow.execute([1, 2, 3], { signal: controller.signal });
  await sleep(5);
  controller.abort();
  await run.then(
    () => assert.unreachable('the run should be cancelled'),
    (err: Error) => assert.is(err.name, 'WorkflowCancelledError'),
  );
  await settle();
  assert.equal(aborted.sort(), [0, 1, 2]);
});

test('RunMap options are checked, naming the RunMap', () => {
  assert.throws(
    () => new RunMap({ name: 'Bad', items: (s: DocsState) => s.docs, node: () => node('x', () => {}), concurrency: 0 }),
    /RunMap 'Bad': concurrency must be a positive integer/,
  );
  assert.throws(
    () => new RunMap({ name: 'Bad', items: 'docs' as never, node: () => node('x', () => {}) }),
    /RunMap 'Bad': items must be a function/,
  );
});

test('hooks see the RunMap as a group and its items inside it', async () => {
  const workflow = mapWorkflow(
    () =>
      new RunMap({
        name: 'Each',
        items: (s: DocsState) => s.docs,
        node: (doc, index) => node<Docs>('Item', (store) => store.record(index, doc * 2)),
      }),
    'Hooked',
  );
  const seen: string[] = [];
  await workflow.execute([1, 2], {
    hooks: {
      onEvent: (e) => {
        if (e.type !== 'stateChanged' && e.kind !== 'workflow') seen.push(`${e.type} ${e.id} in ${e.parentId}`);
      },
    },
  });
  assert.equal(seen, [
    'nodeStarted Hooked/Start in Hooked',
    'nodeCompleted Hooked/Start in Hooked',
    'runConcurrentStarted Hooked/Each in Hooked',
    'nodeStarted Hooked/Each[0] in Hooked/Each',
    'nodeStarted Hooked/Each[1] in Hooked/Each',
    'nodeCompleted Hooked/Each[0] in Hooked/Each',
    'nodeCompleted Hooked/Each[1] in Hooked/Each',
    'runConcurrentCompleted Hooked/Each in Hooked',
    'nodeStarted Hooked/End in Hooked',
    'nodeCompleted Hooked/End in Hooked',
  ]);
});

test.run();

test('a RunMap whose items are subflows that wait for an event fails naming them, instead of waiting forever', async () => {
  const Signed = defineStore({ name: 'Signed', initial: { signed: false }, actions: { sign: (d) => void (d.signed = true) } });
  type SignedHandle = StoreOf<typeof Signed>;
  const workflow = mapWorkflow(
    () =>
      new RunMap({
        name: 'Sign',
        items: (s: DocsState) => s.docs,
        node: () =>
          new Subflow<SignedHandle, Docs>({
            name: 'SignOne',
            graph: () => {
              const wait = waitFor<SignedHandle, { type: 'sign' }>('AwaitSignature', ['sign'], (store) => store.sign());
              return new Graph({ source: wait, sinks: [wait], edges: [] });
            },
            store: () => Signed.create(),
          }),
      }),
  );
  const error = await failureOf(workflow.execute([1, 2]));
  assert.instance(error, WorkflowExecutionError);
  assert.match(String((error.cause as Error).message), /Subflow 'SignOne' \(item Sign\[0\]\) waits for 'sign'.*cannot run as an item of a RunMap/);
});

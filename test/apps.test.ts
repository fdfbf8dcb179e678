/**
 * Workflows as actors inside an app's own machines: invoked (done, error, a parent's event
 * reaching a waiting node), spawned by the hundred, stopped with their parent, persisted with
 * their parent and restored — and what restoring does to a node that was in flight.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { assign, createActor, sendTo, setup, spawnChild, waitFor as until, type AnyActorRef } from 'xstate';
import { Edge, Graph, Subflow, Workflow, WorkflowExecutionError, defineStore, node, waitFor, type StoreOf } from '../src/index.js';
import { orderApp, runOf } from '../examples/app-actors/app.js';
import { PRICES, orderWorkflow, type OrderInput, type OrderState } from '../examples/app-actors/workflow.js';
import { activeTimers, settle } from './helpers.js';
import { LogStore } from './fixtures/stores.js';

const test = suite('workflows in apps');

/** A parent that invokes one order run (id 'run') and forwards reviewers' events to it. */
const parentOf = (order: OrderInput) =>
  setup({
    types: {
      context: {} as { total: number | null; reviewer: string | null; error: unknown },
      events: {} as { type: 'review'; verdict: 'approve' | 'reject'; by: string },
    },
    actors: { order: orderWorkflow.machine },
  }).createMachine({
    context: { total: null, reviewer: null, error: null },
    initial: 'processing',
    states: {
      processing: {
        invoke: {
          id: 'run',
          src: 'order',
          input: order,
          onDone: {
            target: 'done',
            actions: assign(({ event }) => {
              // Typed without casts: the output is an ExecutionResult of the order store's state.
              const total: number | null = event.output.state.total;
              const reviewer: string | null = event.output.state.reviewer;
              return { total, reviewer };
            }),
          },
          onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) },
        },
        on: {
          review: { actions: sendTo('run', ({ event }) => ({ type: event.verdict, by: event.by })) },
        },
      },
      done: { type: 'final' },
      failed: { type: 'final' },
    },
  });

// The invoke's input has the store factory's input type.
setup({ actors: { order: orderWorkflow.machine } }).createMachine({
  // @ts-expect-error quantity is a number
  invoke: { src: 'order', input: { orderId: 'x', item: 'book', quantity: 'three' } },
});

const runIn = (parent: AnyActorRef, id = 'run') => parent.getSnapshot().children[id] as AnyActorRef;
const atApproval = (run: AnyActorRef) => until(run, (s) => s.matches({ Approval: 'waiting' }));

test('invoke: the parent gets the run’s ExecutionResult when it is done', async () => {
  const parent = createActor(parentOf({ orderId: 'o1', item: 'book', quantity: 2 })).start();
  const snapshot = await until(parent, (s) => s.status === 'done');
  assert.equal(snapshot.context, { total: 24, reviewer: null, error: null });
});

test('invoke: the parent gets the WorkflowExecutionError when the run fails', async () => {
  const parent = createActor(parentOf({ orderId: 'o2', item: 'sofa', quantity: 1 })).start();
  const { context, value } = await until(parent, (s) => s.status === 'done');
  assert.is(value, 'failed');
  const error = context.error;
  assert.instance(error, WorkflowExecutionError);
  if (!(error instanceof WorkflowExecutionError)) return;
  assert.equal(error.path, ['Price']);
  assert.is((error.state as OrderState).item, 'sofa');
  assert.match(String(error.cause), /unknown item 'sofa'/);
});

test('invoke: a parent’s event sent to the run reaches its waiting node and resumes it', async () => {
  const parent = createActor(parentOf({ orderId: 'o3', item: 'desk', quantity: 1 })).start();
  await atApproval(runIn(parent));
  parent.send({ type: 'review', verdict: 'approve', by: 'dana' });
  const { context } = await until(parent, (s) => s.status === 'done');
  assert.equal(context, { total: 240, reviewer: 'dana', error: null });
});

// A node that holds until it is cancelled, recording its signal.
const HoldStore = defineStore({ name: 'HoldStore', initial: { label: '' }, actions: {} });
const signals: AbortSignal[] = [];
const holding = new Workflow({
  name: 'Holding',
  graph: () => {
    const hold = node<StoreOf<typeof HoldStore>>('Hold', (_store, ctx) => {
      signals.push(ctx.signal);
      return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
    });
    return new Graph({ source: hold, sinks: [hold], edges: [] });
  },
  store: (input: { label: string }) => HoldStore.create(input),
});

test('stopping the parent cancels its invoked and spawned runs: every node’s signal aborts', async () => {
  signals.length = 0;
  const timersBefore = activeTimers();
  const parent = createActor(
    setup({ actors: { hold: holding.machine } }).createMachine({
      invoke: { id: 'invoked', src: 'hold', input: { label: 'invoked' } },
      entry: [
        spawnChild('hold', { id: 'spawned-1', input: { label: 'one' } }),
        spawnChild('hold', { id: 'spawned-2', input: { label: 'two' } }),
      ],
    }),
  ).start();
  await settle();
  assert.is(signals.length, 3, 'three runs are holding');
  const runs = ['invoked', 'spawned-1', 'spawned-2'].map((id) => runIn(parent, id));
  assert.ok(signals.every((s) => !s.aborted));
  parent.stop();
  assert.ok(signals.every((s) => s.aborted), 'every node in flight was aborted');
  assert.equal(runs.map((r) => r.getSnapshot().status), ['stopped', 'stopped', 'stopped']);
  await settle();
  assert.is(activeTimers(), timersBefore);
});

/** Orders 0…n-1: every third one large enough to wait for approval. */
const manyOrders = (n: number): OrderInput[] =>
  Array.from({ length: n }, (_, i) => ({
    orderId: `order-${i}`,
    item: i % 3 === 0 ? 'desk' : 'book',
    quantity: 1 + (i % 5),
  }));

test('200 runs spawned at once by the app, each with its own store; reviewers’ events reach each', async () => {
  const orders = manyOrders(200);
  const app = createActor(orderApp).start();
  for (const order of orders) app.send({ type: 'order.received', order });
  const large = orders.filter((o) => o.item === 'desk');
  await Promise.all(large.map((o) => atApproval(runOf(app.getSnapshot(), o.orderId)!)));
  large.forEach((o, i) => app.send({ type: i % 2 ? 'order.reject' : 'order.approve', orderId: o.orderId, by: `reviewer-${i}` }));
  const { context } = await until(app, (s) => Object.values(s.context.orders).every((o) => o.status !== 'processing'));
  app.stop();
  assert.is(Object.keys(context.orders).length, 200);
  for (const o of orders) {
    const record = context.orders[o.orderId]!;
    const i = large.indexOf(o);
    assert.is(record.total, PRICES[o.item]! * o.quantity, `${o.orderId} priced from its own input`);
    assert.is(record.status, i >= 0 && i % 2 ? 'rejected' : 'shipped', `${o.orderId} outcome`);
    assert.is(record.reviewer, i >= 0 ? `reviewer-${i}` : null, `${o.orderId} reviewer`);
  }
});

test('an app persisted with waiting runs restores them; they finish as uninterrupted runs do', async () => {
  const orders = manyOrders(4); // order-0 and order-3 wait for approval
  const review = (app: AnyActorRef) => {
    app.send({ type: 'order.approve', orderId: 'order-0', by: 'kim' });
    app.send({ type: 'order.reject', orderId: 'order-3', by: 'kim' });
  };
  const settled = (app: typeof first) =>
    until(app, (s) => Object.values(s.context.orders).every((o) => o.status !== 'processing'));

  const uninterrupted = createActor(orderApp).start();
  for (const order of orders) uninterrupted.send({ type: 'order.received', order });
  await Promise.all(['order-0', 'order-3'].map((id) => atApproval(runOf(uninterrupted.getSnapshot(), id)!)));
  review(uninterrupted);
  const expected = (await settled(uninterrupted)).context;
  uninterrupted.stop();

  const first = createActor(orderApp).start();
  for (const order of orders) first.send({ type: 'order.received', order });
  await Promise.all(['order-0', 'order-3'].map((id) => atApproval(runOf(first.getSnapshot(), id)!)));
  await until(first, (s) => ['order-1', 'order-2'].every((id) => s.context.orders[id]!.status === 'shipped'));
  const json = JSON.stringify(first.getPersistedSnapshot());
  first.stop();

  const restored = createActor(orderApp, { snapshot: JSON.parse(json) }).start();
  const run = runOf(restored.getSnapshot(), 'order-0')!;
  assert.ok(run.getSnapshot().matches({ Approval: 'waiting' }), 'the restored run waits where it was');
  assert.is(run.getSnapshot().context.store.getSnapshot().context.total, 240, 'with its store state');
  review(restored);
  const result = (await settled(restored)).context;
  restored.stop();
  assert.equal(result, expected);
});

test('a node in flight when the run is persisted runs again from its start when restored', async () => {
  let calls = 0;
  let gates = 0;
  let release = () => {};
  const gated = new Workflow({
    name: 'Gated',
    graph: () => {
      const step = node<StoreOf<typeof LogStore>>('Step', async (store, ctx) => {
        calls++;
        await store.log(`started (call ${calls})`);
        await new Promise<void>((resolve, reject) => {
          gates++;
          release = resolve;
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
        await store.log('finished');
      });
      return new Graph({ source: step, sinks: [step], edges: [] });
    },
    store: () => LogStore.create(),
  });

  const first = createActor(gated.machine).start();
  await until(first.getSnapshot().context.store, (s) => s.context.log.length === 1);
  const json = JSON.stringify(first.getPersistedSnapshot());
  first.stop();

  const restored = createActor(gated.machine, { snapshot: JSON.parse(json) }).start();
  while (gates < 2) await settle();
  release();
  const { output } = await until(restored, (s) => s.status === 'done');
  assert.is(calls, 2, 'the service was called again');
  // The store kept what the first call committed; the second call's first update, which the
  // first call had committed already, was acknowledged without being applied again.
  assert.equal(output!.state.log, ['started (call 1)', 'finished']);
  assert.equal(output!.executionCounts, { Step: 1 }, 'entering the node is not repeated, only its service');
});

test('a run waiting inside a subflow: the event sent to the run reaches it, also after a restore', async () => {
  const ReviewStore = defineStore({
    name: 'ReviewStore',
    initial: { by: null as string | null, log: [] as string[] },
    actions: {
      by: (d, by: string) => void (d.by = by),
      log: (d, line: string) => void d.log.push(line),
    },
  });
  type Review = StoreOf<typeof ReviewStore>;
  class ReviewStep extends Subflow<Review, Review> {
    override async postRunActions(parent: Review, sub: Review) {
      await parent.by(sub.getState().by!);
    }
  }
  const reviewed = new Workflow({
    name: 'Reviewed',
    graph: () => {
      const draft = node<Review>('Draft', (s) => s.log('drafted'));
      const review = new ReviewStep({
        name: 'Review',
        store: () => ReviewStore.create(),
        graph: () => {
          const sign = waitFor<Review, { type: 'sign'; by: string }>('SignOff', 'sign', (s, e) => s.by(e.by));
          return new Graph({ source: sign, sinks: [sign], edges: [] });
        },
      });
      const publish = node<Review>('Publish', (s) => s.log(`published, signed by ${s.getState().by}`));
      return new Graph({
        source: draft,
        sinks: [publish],
        edges: [new Edge({ tail: draft, head: review }), new Edge({ tail: review, head: publish })],
      });
    },
    store: () => ReviewStore.create(),
  });
  const signOff = async (run: AnyActorRef) => {
    const { children } = await until(run, (s) => 'Review' in s.children);
    await until(children.Review, (s) => s.matches({ SignOff: 'waiting' }));
  };
  const expected = { by: 'ari', log: ['drafted', 'published, signed by ari'] };

  const direct = createActor(reviewed.machine).start();
  await signOff(direct);
  direct.send({ type: 'sign', by: 'ari' });
  assert.equal((await until(direct, (s) => s.status === 'done')).output!.state, expected);

  const first = createActor(reviewed.machine).start();
  await signOff(first);
  const json = JSON.stringify(first.getPersistedSnapshot());
  first.stop();
  const restored = createActor(reviewed.machine, { snapshot: JSON.parse(json) }).start();
  assert.ok(restored.getSnapshot().children.Review!.getSnapshot().matches({ SignOff: 'waiting' }));
  restored.send({ type: 'sign', by: 'ari' });
  assert.equal((await until(restored, (s) => s.status === 'done')).output!.state, expected);
});

test('examples/app-actors: npm run example:app-actors prints each order’s outcome', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/app-actors/main.ts'], { timeout: 60_000 });
  assert.match(stdout, /^waiting for approval: A-2, A-4$/m);
  assert.match(stdout, /^A-1 +3 × book +36 +shipped +no review needed$/m);
  assert.match(stdout, /^A-2 +1 × desk +240 +shipped +reviewed by dana$/m);
  assert.match(stdout, /^A-4 +4 × chair +340 +rejected +reviewed by lee$/m);
  assert.match(stdout, /^A-5 +1 × sofa +- +failed +Error: unknown item 'sofa'/m);
});

test.run();

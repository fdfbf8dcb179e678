import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, type AnyActorRef } from 'xstate';
import { Edge, Graph, RunConcurrent, Workflow, condition, defineStore, node, waitFor, type StateOf, type StoreOf } from '../src/index.js';
import { sleep } from './helpers.js';

const test = suite('waitFor and persistence');

const OrderStore = defineStore({
  name: 'OrderStore',
  initial: { order: '', total: 0, approved: null as boolean | null, by: null as string | null, log: [] as string[] },
  actions: {
    price: (d, total: number) => {
      d.total = total;
    },
    decide: (d, approved: boolean, by: string) => {
      d.approved = approved;
      d.by = by;
    },
    log: (d, line: string) => {
      d.log.push(line);
    },
  },
});
type OrderHandle = StoreOf<typeof OrderStore>;
type OrderState = StateOf<typeof OrderStore>;
type Decision = { type: 'approve' | 'reject'; by: string };

let priced = 0;
const orders = new Workflow({
  name: 'Orders',
  graph: () => {
    const price = node<OrderHandle>('Price', async (s) => {
      priced++;
      await s.price(s.getState().order.length * 10);
    });
    const approval = waitFor<OrderHandle, Decision>('Approval', ['approve', 'reject'], (s, e) =>
      s.decide(e.type === 'approve', e.by),
    );
    const ship = node<OrderHandle>('Ship', (s) => s.log(`shipped, approved by ${s.getState().by}`));
    const cancel = node<OrderHandle>('Cancel', (s) => s.log(`cancelled by ${s.getState().by}`));
    return new Graph({
      source: price,
      sinks: [ship, cancel],
      edges: [
        new Edge({ tail: price, head: approval }),
        new Edge({ tail: approval, head: ship, condition: condition<OrderState>('Approved', (s) => s.approved === true) }),
        new Edge({ tail: approval, head: cancel }),
      ],
    });
  },
  store: (input: { order: string }) => OrderStore.create(input),
});

function finished(actor: AnyActorRef): Promise<{ state: OrderState; executionCounts: Record<string, number> }> {
  return new Promise((resolve, reject) =>
    actor.subscribe({
      error: reject,
      complete: () => resolve(actor.getSnapshot().output),
    }),
  );
}

async function waiting(actor: AnyActorRef) {
  for (let i = 0; i < 100 && !actor.getSnapshot().matches({ Approval: 'waiting' }); i++) await sleep(1);
  assert.ok(actor.getSnapshot().matches({ Approval: 'waiting' }), 'the run waits at Approval');
}

test('a waiting node resumes on its event and applies it to the store', async () => {
  const actor = createActor(orders.machine, { input: { order: 'books' } }).start();
  const done = finished(actor);
  await waiting(actor);
  actor.send({ type: 'approve', by: 'dana' });
  const result = await done;
  assert.equal(result.state, { order: 'books', total: 50, approved: true, by: 'dana', log: ['shipped, approved by dana'] });
  assert.equal(result.executionCounts, { Price: 1, Approval: 1, Ship: 1 });
});

test('events the waiting node does not accept are ignored', async () => {
  const actor = createActor(orders.machine, { input: { order: 'pens' } }).start();
  const done = finished(actor);
  await waiting(actor);
  actor.send({ type: 'something else' });
  assert.ok(actor.getSnapshot().matches({ Approval: 'waiting' }));
  actor.send({ type: 'reject', by: 'lee' });
  assert.equal((await done).state.log, ['cancelled by lee']);
});

test('a waitFor as a RunConcurrent branch waits there while the other branch runs, and the group ends once its event is applied', async () => {
  const parallel = new Workflow({
    name: 'ParallelApproval',
    graph: () => {
      const approval = waitFor<OrderHandle, Decision>('Approval', ['approve', 'reject'], (s, e) => s.decide(e.type === 'approve', e.by));
      const price = node<OrderHandle>('Price', (s) => s.price(10));
      const both = new RunConcurrent({ name: 'Both', items: [approval, price] });
      const ship = node<OrderHandle>('Ship', (s) => s.log(`shipped at ${s.getState().total}, approved by ${s.getState().by}`));
      return new Graph({ source: both, sinks: [ship], edges: [new Edge({ tail: both, head: ship })] });
    },
    store: (input: { order: string }) => OrderStore.create(input),
  });
  const actor = createActor(parallel.machine, { input: { order: 'desk' } }).start();
  const done = finished(actor);
  for (let i = 0; i < 100 && !actor.getSnapshot().matches({ Both: { Approval: { running: 'waiting' }, Price: 'done' } }); i++) await sleep(1);
  assert.ok(actor.getSnapshot().matches({ Both: { Approval: { running: 'waiting' }, Price: 'done' } }), 'the waitFor branch waits; the other is done');
  actor.send({ type: 'approve', by: 'kim' });
  const result = await done;
  assert.equal(result.state.log, ['shipped at 10, approved by kim']);
  assert.equal(result.executionCounts, { Both: 1, Approval: 1, Price: 1, Ship: 1 });
});

test('a waiting run persisted to JSON and restored in a new actor ends as an uninterrupted run does', async () => {
  const uninterrupted = createActor(orders.machine, { input: { order: 'lamp' } }).start();
  const uninterruptedDone = finished(uninterrupted);
  await waiting(uninterrupted);
  uninterrupted.send({ type: 'approve', by: 'kim' });
  const expected = await uninterruptedDone;

  const first = createActor(orders.machine, { input: { order: 'lamp' } }).start();
  await waiting(first);
  const json = JSON.stringify(first.getPersistedSnapshot());
  first.stop();

  const pricedBefore = priced;
  // XState's types ask for input whenever a machine takes one; a restored actor ignores it.
  const restored = createActor(orders.machine, { snapshot: JSON.parse(json), input: { order: 'lamp' } }).start();
  const done = finished(restored);
  assert.ok(restored.getSnapshot().matches({ Approval: 'waiting' }));
  assert.equal(restored.getSnapshot().context.store.getSnapshot().context, { order: 'lamp', total: 40, approved: null, by: null, log: [] });
  restored.send({ type: 'approve', by: 'kim' });
  const result = await done;
  assert.equal(result.state, expected.state);
  assert.equal(result.executionCounts, expected.executionCounts);
  assert.is(priced, pricedBefore, 'completed nodes do not run again');
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor } from 'xstate';
import { Cancellation } from '../actors/node-runner.js';
import { Edge, Graph, StoreUpdateError, Workflow, node, type NodeContext } from '../src/index.js';
import { settle, sleep } from './helpers.js';
import { LogStore, type Log } from './fixtures/stores.js';

const test = suite('node-runner');

test('Cancellation: a signal asked for before the abort aborts with it, with its reason', () => {
  const cancel = new Cancellation();
  const signal = cancel.signal;
  let heard: unknown;
  signal.addEventListener('abort', () => (heard = signal.reason));
  assert.is(cancel.aborted, false);
  assert.is(signal.aborted, false);
  const reason = new Error('sibling failed');
  cancel.abort(reason);
  assert.is(cancel.aborted, true);
  assert.is(signal.aborted, true);
  assert.is(heard, reason);
  assert.is(cancel.signal, signal, 'one signal per cancellation');
});

test('Cancellation: a signal first asked for after the abort is already aborted, with the first reason', () => {
  const cancel = new Cancellation();
  const first = new Error('first');
  cancel.abort(first);
  cancel.abort(new Error('second'));
  assert.is(cancel.signal.aborted, true);
  assert.is(cancel.signal.reason, first);
});

test('Cancellation: aborting without a reason gives the AbortError an AbortController would', () => {
  const cancel = new Cancellation();
  cancel.abort();
  const reason = cancel.signal.reason as DOMException;
  assert.instance(reason, DOMException);
  assert.is(reason.name, 'AbortError');
});


test('a node that reads ctx.signal only after its run was stopped sees it aborted, and its update is refused', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let ctxSeen: NodeContext | undefined;
  let signalAfterStop: AbortSignal | undefined;
  let lateUpdate: Promise<unknown> | undefined;
  const workflow = new Workflow({
    name: 'LateReader',
    graph: () => {
      const wait = node<Log>('Wait', async (store, ctx) => {
        ctxSeen = ctx;
        await gate;
        signalAfterStop = ctx.signal;
        lateUpdate = store.log('too late').then(
          () => 'applied',
          (error: unknown) => error,
        );
      });
      const end = node<Log>('End', async () => {});
      return new Graph({ source: wait, sinks: [end], edges: [new Edge({ tail: wait, head: end })] });
    },
    store: () => LogStore.create(),
  });
  const actor = createActor(workflow.machine).start();
  await sleep(5);
  assert.ok(ctxSeen, 'the node started');
  actor.stop();
  release();
  await settle();
  assert.is(signalAfterStop?.aborted, true);
  const refusal = await lateUpdate;
  assert.instance(refusal, StoreUpdateError);
  assert.match((refusal as Error).message, /node 'Wait' was cancelled/);
});

test('ctx spread into another object keeps a live signal', async () => {
  let spread: { signal: AbortSignal } | undefined;
  const workflow = new Workflow({
    name: 'Spread',
    graph: () => {
      const only = node<Log>('Only', async (_store, ctx) => {
        spread = { ...ctx };
        await sleep(60_000, spread.signal);
      });
      return new Graph({ source: only, sinks: [only], edges: [] });
    },
    store: () => LogStore.create(),
  });
  const actor = createActor(workflow.machine).start();
  await sleep(5);
  assert.instance(spread?.signal, AbortSignal);
  assert.is(spread!.signal.aborted, false);
  actor.stop();
  await settle();
  assert.is(spread!.signal.aborted, true);
});

test.run();

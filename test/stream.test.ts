import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import {
  Graph,
  Workflow,
  WorkflowCancelledError,
  WorkflowExecutionError,
  node,
  type WorkflowEvent,
} from '../src/index.js';
import { LogStore, lifecycleWorkflow, untilAborted, type LogHandle } from './fixtures/lifecycle-workflow.js';
import { activeTimers, settle } from './helpers.js';

const test = suite('stream');

const describe = (item: { type: string; id?: string }) => `${item.type} ${item.id ?? ''}`.trim();

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** What hooks see of one run, to compare with what a stream yields. */
async function hookEvents(workflow: Workflow<void, LogHandle>): Promise<string[]> {
  const events: WorkflowEvent[] = [];
  await workflow.execute(undefined, { hooks: { onEvent: (e) => events.push(e) } }).catch(() => {});
  return events.map(describe);
}

test('yields the same events as hooks, in order, then the result', async () => {
  const workflow = lifecycleWorkflow();
  const items = await collect(workflow.stream());
  const last = items.at(-1)!;
  assert.is(last.type, 'result');
  if (last.type !== 'result') return;
  assert.equal(last.result.state.log, ['start', 'sub said pre+inner', 'left', 'right', 'end']);
  assert.equal(items.slice(0, -1).map(describe), await hookEvents(workflow));
  assert.is(items.at(-2)!.type, 'workflowCompleted');
  assert.ok(items.slice(0, -1).every((e) => e.type !== 'result' && e.runId === last.result.runId));
});

test("throws the run's error after yielding every event up to the failure", async () => {
  const workflow = lifecycleWorkflow('Left');
  const items: string[] = [];
  let error: unknown;
  try {
    for await (const item of workflow.stream()) items.push(describe(item));
  } catch (err) {
    error = err;
  }
  assert.instance(error, WorkflowExecutionError);
  assert.is((error as Error & { cause: Error }).cause.message, 'Left broke');
  assert.equal(items, await hookEvents(workflow));
  assert.is(items.at(-1), 'workflowFailed Life');
});

/** A run whose node `Forever` runs until its signal aborts; records whether it did. */
function forever() {
  const seen = { aborted: false };
  const workflow = new Workflow({
    name: 'Forever',
    store: () => LogStore.create(),
    graph: () => {
      const only = node<LogHandle>('Forever', async (store, ctx) => {
        await store.log('waiting');
        ctx.signal.addEventListener('abort', () => (seen.aborted = true));
        await untilAborted(ctx.signal);
      });
      return new Graph({ source: only, sinks: [only], edges: [] });
    },
  });
  return { workflow, seen };
}

test('break cancels the run: the node signal aborts, the run ends cancelled, no more events', async () => {
  const { workflow, seen } = forever();
  const ends: string[] = [];
  const unsubscribe = workflow.addHooks({ onEvent: (e) => e.type !== 'stateChanged' && e.status !== 'started' && ends.push(describe(e)) });
  const timers = activeTimers();
  const items: string[] = [];
  for await (const item of workflow.stream()) {
    items.push(describe(item));
    if (item.type === 'stateChanged') break;
  }
  unsubscribe();
  assert.equal(items, ['workflowStarted Forever', 'nodeStarted Forever/Forever', 'stateChanged Forever']);
  assert.ok(seen.aborted, "the node's signal aborted");
  assert.equal(ends, ['nodeCancelled Forever/Forever', 'workflowCancelled Forever'], 'the run had ended when the loop was left');
  await settle();
  assert.is(activeTimers(), timers);
});

test('return() while a next() is pending ends both at once and cancels the run', async () => {
  const { workflow, seen } = forever();
  const stream = workflow.stream();
  for (let i = 0; i < 3; i++) await stream.next();
  const pending = stream.next();
  assert.equal(await stream.return(), { done: true, value: undefined });
  assert.equal(await pending, { done: true, value: undefined });
  assert.ok(seen.aborted);
  assert.equal(await stream.next(), { done: true, value: undefined }, 'a closed stream stays closed');
});

test("the caller's signal cancels the run and the loop throws WorkflowCancelledError; its listener is removed", async () => {
  const { workflow, seen } = forever();
  const controller = new AbortController();
  const items: string[] = [];
  let error: unknown;
  try {
    for await (const item of workflow.stream(undefined, { signal: controller.signal })) {
      items.push(describe(item));
      if (item.type === 'stateChanged') controller.abort(new Error('enough'));
    }
  } catch (err) {
    error = err;
  }
  assert.instance(error, WorkflowCancelledError);
  assert.ok(seen.aborted);
  assert.equal(items.slice(-2), ['nodeCancelled Forever/Forever', 'workflowCancelled Forever']);
  assert.is(getEventListeners(controller.signal, 'abort').length, 0);
});

test('nothing runs until the first next(); a stream closed before it never starts', async () => {
  let started = 0;
  const workflow = new Workflow({
    name: 'Lazy',
    store: () => LogStore.create(),
    graph: () => {
      const only = node<LogHandle>('Only', () => {
        started++;
      });
      return new Graph({ source: only, sinks: [only], edges: [] });
    },
  });
  const unread = workflow.stream();
  await settle();
  assert.is(started, 0);
  await unread.return();
  assert.equal(await unread.next(), { done: true, value: undefined });
  assert.is(started, 0);
  const items = [];
  for await (const item of workflow.stream()) items.push(item.type);
  assert.is(started, 1);
  assert.equal(items, ['workflowStarted', 'nodeStarted', 'nodeCompleted', 'workflowCompleted', 'result']);
});

test('per-run hooks still get every event next to the stream', async () => {
  const seen: string[] = [];
  const streamed: string[] = [];
  for await (const item of lifecycleWorkflow().stream(undefined, { hooks: { onEvent: (e) => seen.push(describe(e)) } })) {
    if (item.type !== 'result') streamed.push(describe(item));
  }
  assert.equal(seen, streamed);
});

test.run();

/** Per-node retries and timeouts, with real timers. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Edge,
  Graph,
  NodeTimeoutError,
  Workflow,
  WorkflowCancelledError,
  WorkflowExecutionError,
  node,
  type NodeOptions,
  type NodeContext,
  type WorkflowEvent,
} from '../../src/index.js';
import { activeTimers, settle, sleep } from '../helpers.js';
import { LogStore, type Log } from '../fixtures/stores.js';

const test = suite('durable: retries and timeouts');


/** A workflow of one node (then a last node), with hooks recording every event. */
function oneNode(service: (store: Log, ctx: NodeContext) => unknown, options: Omit<NodeOptions, 'name'>) {
  const events: WorkflowEvent[] = [];
  const workflow = new Workflow({
    name: 'OneNode',
    graph: () => {
      const work = node<Log>('Work', service, options);
      const end = node<Log>('End', (s) => s.log('end'));
      return new Graph({ source: work, sinks: [end], edges: [new Edge({ tail: work, head: end })] });
    },
    store: () => LogStore.create(),
    hooks: { onEvent: (e) => void events.push(e) },
  });
  const nodeEvents = () =>
    events
      .filter((e) => e.type.startsWith('node') && 'name' in e && e.name === 'Work')
      .map((e) => `${e.type}@${(e as { attempt?: number }).attempt}`);
  return { workflow, events, nodeEvents };
}

test('a flaky node succeeds on its third attempt; each attempt is reported, with its number', async () => {
  const attempts: number[] = [];
  const { workflow, nodeEvents } = oneNode(
    async (store, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error(`flake ${ctx.attempt}`);
      await store.log(`worked on attempt ${ctx.attempt}`);
    },
    { retry: { attempts: 5, backoff: (n) => n * 5 } },
  );
  const inspected: string[] = [];
  const result = await workflow.execute(undefined, {
    inspect: (e) => {
      if (e.type === '@xstate.event' && e.event.type === 'junjo.attempt') inspected.push(`${e.event.execution}@${e.event.attempt}`);
    },
  });
  assert.equal(attempts, [1, 2, 3]);
  assert.equal(result.state.log, ['worked on attempt 3', 'end']);
  assert.equal(result.executionCounts, { Work: 1, End: 1 }, 'retries are attempts of one execution');
  assert.equal(nodeEvents(), [
    'nodeStarted@1', 'nodeFailed@1', 'nodeRetrying@1',
    'nodeStarted@2', 'nodeFailed@2', 'nodeRetrying@2',
    'nodeStarted@3', 'nodeCompleted@3',
  ]);
  assert.equal(inspected, ['Work#1@2', 'Work#1@3'], 'the inspector sees each retry as an event to the run');
});

test('the backoff is waited for between attempts', async () => {
  const times: number[] = [];
  const { workflow, events } = oneNode(
    () => {
      times.push(performance.now());
      if (times.length < 2) throw new Error('once');
    },
    { retry: { attempts: 2, backoff: 30 } },
  );
  await workflow.execute();
  const retrying = events.find((e) => e.type === 'nodeRetrying') as { delayMs: number; error: Error };
  assert.is(retrying.delayMs, 30);
  assert.is(retrying.error.message, 'once');
  assert.ok(times[1]! - times[0]! >= 29, `the second attempt came ${times[1]! - times[0]!} ms after the first`);
});

test('when attempts run out, the last error fails the run', async () => {
  const { workflow, nodeEvents } = oneNode(
    (_s, ctx) => {
      throw new Error(`failure ${ctx.attempt}`);
    },
    { retry: { attempts: 2 } },
  );
  const error = await workflow.execute().catch((e) => e);
  assert.instance(error, WorkflowExecutionError);
  assert.is(error.cause.message, 'failure 2');
  assert.equal(error.path, ['Work']);
  assert.equal(nodeEvents(), ['nodeStarted@1', 'nodeFailed@1', 'nodeRetrying@1', 'nodeStarted@2', 'nodeFailed@2']);
});

test('a hanging node is timed out: its signal aborts and the run fails with a NodeTimeoutError', async () => {
  let aborted: unknown;
  const { workflow } = oneNode(
    (_s, ctx) =>
      new Promise((_, reject) => {
        // Hangs until aborted; ignoring the abort would not help it either (see next test).
        ctx.signal.addEventListener('abort', () => {
          aborted = ctx.signal.reason;
          reject(ctx.signal.reason);
        });
      }),
    { timeoutMs: 20 },
  );
  const timers = activeTimers();
  const error = await workflow.execute().catch((e) => e);
  assert.instance(error, WorkflowExecutionError);
  assert.instance(error.cause, NodeTimeoutError);
  assert.match(error.cause.message, /Node 'Work' timed out after 20 ms \(attempt 1\)/);
  assert.is(aborted, error.cause, 'the attempt was aborted through ctx.signal, with the timeout as reason');
  await settle();
  assert.is(activeTimers(), timers, 'no timer outlives the run');
});

test('a node that ignores its signal is still timed out, and its late updates are refused', async () => {
  let late: unknown;
  const { workflow } = oneNode(
    async (store, ctx) => {
      if (ctx.attempt === 1) {
        await sleep(60);
        late = await store.log('late').catch((e) => e);
        return;
      }
      await store.log(`attempt ${ctx.attempt}`);
    },
    { timeoutMs: 20, retry: { attempts: 2 } },
  );
  const result = await workflow.execute();
  assert.equal(result.state.log, ['attempt 2', 'end']);
  await sleep(60);
  assert.match(String(late), /was cancelled, so its update was not applied/);
});

test('retries never run after the run is cancelled, even mid-backoff', async () => {
  const attempts: number[] = [];
  const { workflow, nodeEvents } = oneNode(
    (_s, ctx) => {
      attempts.push(ctx.attempt);
      throw new Error('always');
    },
    { retry: { attempts: 10, backoff: 40 } },
  );
  const controller = new AbortController();
  const timers = activeTimers();
  // Cancelled the moment attempt 2 failed: in the backoff before attempt 3.
  const hooks = { nodeRetrying: (e: { attempt: number }) => void (e.attempt === 2 && controller.abort()) };
  const error = await workflow.execute(undefined, { signal: controller.signal, hooks }).catch((e) => e);
  assert.instance(error, WorkflowCancelledError);
  await sleep(120);
  assert.equal(attempts, [1, 2], 'no attempt after the cancellation');
  assert.not.ok(nodeEvents().includes('nodeStarted@3'));
  assert.is(activeTimers(), timers, 'the backoff timer was cleared');
});

test('an update an earlier attempt committed is not applied again by the next one', async () => {
  const { workflow } = oneNode(
    async (store, ctx) => {
      await store.log('first update');
      if (ctx.attempt === 1) throw new Error('failed after its first update');
      await store.log('second update');
    },
    { retry: { attempts: 2 } },
  );
  assert.equal((await workflow.execute()).state.log, ['first update', 'second update', 'end']);
});

test('bad retry and timeout options are refused, naming the node', () => {
  assert.throws(() => node('A', () => {}, { retry: { attempts: 0 } }), /Node 'A': retry.attempts must be a positive integer/);
  assert.throws(() => node('B', () => {}, { retry: { attempts: 2, backoff: -1 } }), /Node 'B': retry.backoff must be milliseconds/);
  assert.throws(() => node('C', () => {}, { timeoutMs: 0 }), /Node 'C': timeoutMs must be a positive number/);
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { InspectionEvent } from 'xstate';
import {
  Graph,
  RunConcurrent,
  Subflow,
  Workflow,
  WorkflowCancelledError,
  WorkflowExecutionError,
  node,
  type LifecycleEvent,
  type StateChangedEvent,
  type WorkflowEvent,
  type WorkflowHooks,
} from '../src/index.js';
import type { AnyStoreHandle } from '../src/store/handle.js';
import { LogStore, lifecycleWorkflow, untilAborted, type LogHandle } from './fixtures/lifecycle-workflow.js';

const test = suite('hooks');

/** Runs `workflow` with a hook recording every event; resolves with the events and the outcome. */
async function record<H extends AnyStoreHandle>(workflow: Workflow<void, H>, options: { signal?: AbortSignal; hooks?: WorkflowHooks } = {}) {
  const events: WorkflowEvent[] = [];
  const hooks = [{ onEvent: (e: WorkflowEvent) => events.push(e) }, ...(options.hooks ? [options.hooks] : [])];
  const outcome = await workflow.execute(undefined, { ...options, hooks }).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return { events, ...outcome };
}

/** `type id` per event; stateChanged as `stateChanged id action@node`. */
const lines = (events: WorkflowEvent[]) =>
  events.map((e) => (e.type === 'stateChanged' ? `stateChanged ${e.id} ${e.action}@${e.node}` : `${e.type} ${e.id}`));

/** Every end comes after the ends of everything that started inside it, and each execution ends once. */
function assertWellNested(events: WorkflowEvent[]) {
  const open = new Map<string, LifecycleEvent>();
  const ended = new Set<string>();
  for (const e of events) {
    if (e.type === 'stateChanged') continue;
    if (e.status === 'started') {
      assert.ok(e.parentExecutionId === null || open.has(e.parentExecutionId), `${e.executionId} starts inside an open parent`);
      open.set(e.executionId, e);
      continue;
    }
    assert.ok(open.has(e.executionId), `${e.type} of ${e.executionId} follows its start, once`);
    for (const child of open.values()) {
      assert.is.not(child.parentExecutionId, e.executionId, `${child.executionId} ended before its parent ${e.executionId}`);
    }
    open.delete(e.executionId);
    ended.add(e.executionId);
  }
  assert.is(open.size, 0, `still open: ${[...open.keys()].join(', ')}`);
}

test('a completed run: every event in order, parents and execution ids linked', async () => {
  const { events, result } = await record(lifecycleWorkflow());
  assert.equal(result!.state.log, ['start', 'sub said pre+inner', 'left', 'right', 'end']);
  assert.equal(lines(events), [
    'workflowStarted Life',
    'nodeStarted Life/Start',
    'stateChanged Life log@Start',
    'stateChanged Life setState@Start',
    'nodeCompleted Life/Start',
    'subflowStarted Life/Sub',
    'stateChanged Life/Sub log@preRunActions',
    'nodeStarted Life/Sub/Inner',
    'stateChanged Life/Sub log@Inner',
    'nodeCompleted Life/Sub/Inner',
    'stateChanged Life log@Sub',
    'subflowCompleted Life/Sub',
    'runConcurrentStarted Life/Both',
    'nodeStarted Life/Left',
    'stateChanged Life log@Left',
    'nodeStarted Life/Right',
    'nodeCompleted Life/Left',
    'stateChanged Life log@Right',
    'nodeCompleted Life/Right',
    'runConcurrentCompleted Life/Both',
    'nodeStarted Life/End',
    'stateChanged Life log@End',
    'nodeCompleted Life/End',
    'workflowCompleted Life',
  ]);
  assertWellNested(events);
  const runId = result!.runId;
  const byType = (type: string, id: string) => events.find((e) => e.type === type && e.id === id) as LifecycleEvent;
  assert.equal(
    [byType('workflowStarted', 'Life'), byType('subflowStarted', 'Life/Sub'), byType('nodeStarted', 'Life/Sub/Inner'), byType('nodeStarted', 'Life/Left')].map(
      (e) => [e.kind, e.name, e.parentId, e.executionId, e.parentExecutionId],
    ),
    [
      ['workflow', 'Life', null, runId, null],
      ['subflow', 'Sub', 'Life', `${runId}/Sub#1`, runId],
      ['node', 'Inner', 'Life/Sub', `${runId}/Sub#1/Inner#1`, `${runId}/Sub#1`],
      ['node', 'Left', 'Life/Both', `${runId}/Left#1`, `${runId}/Both#1`],
    ],
  );
  assert.ok(events.every((e) => e.runId === runId), 'every event carries the top-level run id');
  const inner = events.find((e) => e.type === 'stateChanged' && e.node === 'Inner') as StateChangedEvent;
  assert.equal([inner.nodeId, inner.executionId, inner.seq, inner.state], ['Life/Sub/Inner', `${runId}/Sub#1`, 2, { log: ['pre', 'inner'], password: null }]);
  assert.equal(inner.patches, [{ op: 'add', path: ['log', 1], value: 'inner' }]);
  const pre = events.find((e) => e.type === 'stateChanged' && e.node === 'preRunActions') as StateChangedEvent;
  assert.is(pre.nodeId, null, 'pre-run actions are not a vertex of the graph');
  const done = byType('workflowCompleted', 'Life');
  assert.equal(done.state, result!.state);
  assert.is(done.error, undefined);
});

test('a failing RunConcurrent item: node failed → sibling cancelled → RunConcurrent failed → workflow failed', async () => {
  const { events, error } = await record(lifecycleWorkflow('Left'));
  assert.instance(error, WorkflowExecutionError);
  assert.equal(lines(events).slice(-9), [
    'subflowCompleted Life/Sub',
    'runConcurrentStarted Life/Both',
    'nodeStarted Life/Left',
    'stateChanged Life log@Left',
    'nodeStarted Life/Right',
    'nodeFailed Life/Left',
    'nodeCancelled Life/Right',
    'runConcurrentFailed Life/Both',
    'workflowFailed Life',
  ]);
  assertWellNested(events);
  const cause = (error as WorkflowExecutionError).cause;
  const failed = events.filter((e): e is LifecycleEvent => e.type !== 'stateChanged' && e.status === 'failed');
  assert.equal(failed.map((e) => [e.id, e.error]), [
    ['Life/Left', cause],
    ['Life/Both', cause],
    ['Life', cause],
  ]);
  const cancelled = events.find((e) => e.type === 'nodeCancelled') as LifecycleEvent;
  assert.is(cancelled.error, undefined, 'a cancelled node carries no error');
});

test('a failing node inside a subflow: node failed → subflow failed → workflow failed, nothing after', async () => {
  const { events, error } = await record(lifecycleWorkflow('Inner'));
  assert.instance(error, WorkflowExecutionError);
  assert.equal((error as WorkflowExecutionError).path, ['Sub', 'Inner']);
  assert.equal(lines(events).slice(5), [
    'subflowStarted Life/Sub',
    'stateChanged Life/Sub log@preRunActions',
    'nodeStarted Life/Sub/Inner',
    'stateChanged Life/Sub log@Inner',
    'nodeFailed Life/Sub/Inner',
    'subflowFailed Life/Sub',
    'workflowFailed Life',
  ]);
  assertWellNested(events);
  const subflowFailed = events.find((e) => e.type === 'subflowFailed') as LifecycleEvent;
  assert.equal(subflowFailed.state, { log: ['pre', 'inner'], password: null }, "a subflow's end carries its own store's state");
});

/** Both [Sub (Inner runs until cancelled), Other]: for failures and cancellations of a subflow item. */
function subflowInGroup(otherFails: boolean) {
  return new Workflow({
    name: 'Group',
    store: () => LogStore.create(),
    graph: () => {
      const sub = new Subflow<LogHandle, LogHandle>({
        name: 'Sub',
        graph: () => {
          const inner = node<LogHandle>('Inner', (_store, ctx) => untilAborted(ctx.signal));
          return new Graph({ source: inner, sinks: [inner], edges: [] });
        },
        store: () => LogStore.create(),
      });
      const other = node<LogHandle>('Other', async (store, ctx) => {
        await store.log('other');
        if (otherFails) throw new Error('Other broke');
        await untilAborted(ctx.signal);
      });
      const both = new RunConcurrent({ name: 'Both', items: [sub, other] });
      return new Graph({ source: both, sinks: [both], edges: [] });
    },
  });
}

test('a failing sibling cancels a subflow item: its node, then the subflow, then the RunConcurrent fails', async () => {
  const { events } = await record(subflowInGroup(true));
  assert.equal(lines(events), [
    'workflowStarted Group',
    'runConcurrentStarted Group/Both',
    'subflowStarted Group/Sub',
    'nodeStarted Group/Other',
    'stateChanged Group log@Other',
    'nodeStarted Group/Sub/Inner',
    'nodeFailed Group/Other',
    'nodeCancelled Group/Sub/Inner',
    'subflowCancelled Group/Sub',
    'runConcurrentFailed Group/Both',
    'workflowFailed Group',
  ]);
  assertWellNested(events);
});

test('an aborted signal: everything in flight is cancelled, innermost first, the workflow last', async () => {
  const controller = new AbortController();
  const { events, error } = await record(subflowInGroup(false), {
    signal: controller.signal,
    hooks: { stateChanged: () => setImmediate(() => controller.abort()) },
  });
  assert.instance(error, WorkflowCancelledError);
  assert.equal(lines(events).slice(5), [
    'nodeStarted Group/Sub/Inner',
    'nodeCancelled Group/Sub/Inner',
    'subflowCancelled Group/Sub',
    'nodeCancelled Group/Other',
    'runConcurrentCancelled Group/Both',
    'workflowCancelled Group',
  ]);
  assertWellNested(events);
});

test('stateChanged fires once per commit of every store actor, subflows included', async () => {
  const commits: string[] = [];
  const lastSeq = new Map<unknown, number>();
  const inspect = (e: InspectionEvent) => {
    if (e.type !== '@xstate.snapshot') return;
    const commit = (e.snapshot as { commit?: { seq: number; action: string } | null }).commit;
    if (!commit || lastSeq.get(e.actorRef) === commit.seq) return;
    lastSeq.set(e.actorRef, commit.seq);
    commits.push(`${commit.seq} ${commit.action}`);
  };
  const seen: string[] = [];
  const result = await lifecycleWorkflow().execute(undefined, {
    inspect,
    hooks: { stateChanged: (e) => seen.push(`${e.seq} ${e.action}`) },
  });
  assert.is(commits.length, 8, '6 commits on the run store (5 logs, 1 setState), 2 on the subflow store');
  assert.equal(seen, commits);
  assert.is(result.state.log.length, 5);
});

test('structural ids are equal across runs; run and execution ids differ', async () => {
  const workflow = lifecycleWorkflow();
  const a = (await record(workflow)).events.filter((e): e is LifecycleEvent => e.type !== 'stateChanged');
  const b = (await record(workflow)).events.filter((e): e is LifecycleEvent => e.type !== 'stateChanged');
  assert.equal(a.map((e) => [e.type, e.id, e.parentId]), b.map((e) => [e.type, e.id, e.parentId]));
  assert.is.not(a[0]!.runId, b[0]!.runId);
  const runtimeA = new Set(a.map((e) => e.executionId));
  assert.ok(b.every((e) => !runtimeA.has(e.executionId)), 'no execution id repeats across runs');
  assert.is(new Set(a.map((e) => e.id)).size, 8, 'Life, Start, Sub, Sub/Inner, Both, Left, Right, End');
});

test('a throwing hook is reported with console.error and changes nothing', async () => {
  const reported: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => reported.push(args);
  let withThrower;
  try {
    withThrower = await record(lifecycleWorkflow('Left'), {
      hooks: {
        nodeStarted: () => {
          throw new Error('hook bug');
        },
        stateChanged: () => {
          throw new Error('hook bug');
        },
      },
    });
  } finally {
    console.error = original;
  }
  const plain = await record(lifecycleWorkflow('Left'));
  assert.equal(lines(withThrower.events), lines(plain.events), 'the other hooks saw every event');
  assert.is((withThrower.error as Error).message.replace(/run \S+/, ''), (plain.error as Error).message.replace(/run \S+/, ''));
  assert.equal((withThrower.error as WorkflowExecutionError).state, (plain.error as WorkflowExecutionError).state);
  const nodeStarts = plain.events.filter((e) => e.type === 'nodeStarted').length;
  const commits = plain.events.filter((e) => e.type === 'stateChanged').length;
  assert.is(reported.length, nodeStarts + commits);
  assert.match(String(reported[0]![0]), /the 'nodeStarted' hook threw on nodeStarted of 'Life\/Start'; the run goes on/);
  assert.is((reported[0]![1] as Error).message, 'hook bug');
});

test('addHooks returns an unsubscribe function; named hooks get their events', async () => {
  const workflow = lifecycleWorkflow();
  const started: string[] = [];
  const unsubscribe = workflow.addHooks({ nodeStarted: (e) => started.push(e.id), workflowCompleted: (e) => started.push(`done ${e.id}`) });
  await workflow.execute();
  assert.equal(started, ['Life/Start', 'Life/Sub/Inner', 'Life/Left', 'Life/Right', 'Life/End', 'done Life']);
  unsubscribe();
  await workflow.execute();
  assert.is(started.length, 6, 'nothing after unsubscribing');
});

test('redact hides a secret from every state and patch, never from the result', async () => {
  const redact = (state: unknown) => {
    const s = state as { password?: string | null };
    return s.password ? { ...s, password: '***' } : s;
  };
  const workflow = new Workflow({ name: 'Life', graph: lifecycleWorkflow().graph, store: () => LogStore.create(), redact });
  const { events, result } = await record(workflow);
  assert.is(result!.state.password, 'hunter2');
  assert.not.match(JSON.stringify(events), /hunter2/);
  const set = events.find((e) => e.type === 'stateChanged' && e.action === 'setState') as StateChangedEvent;
  assert.equal(set.patches, [{ op: 'replace', path: ['password'], value: '***' }]);
  assert.is((events.at(-1) as LifecycleEvent & { state: { password: string } }).state.password, '***');
  // A per-run redact replaces the workflow's.
  const plain = await record(workflow, {});
  assert.match(JSON.stringify(plain.events), /\*\*\*/);
  const own = await lifecycleWorkflow().execute(undefined, {
    hooks: { stateChanged: (e) => assert.not.match(JSON.stringify(e), /hunter2/) },
    redact: () => ({ hidden: true }),
  });
  assert.is(own.state.password, 'hunter2');
});

test.run();

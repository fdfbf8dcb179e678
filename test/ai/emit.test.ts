/**
 * ctx.emit (issue 16): values a running node sends out reach `stream()`, hooks, the top-level
 * run actor's emitted events (`junjo.emit`) and OpenTelemetry — from subflows and RunMap items
 * too — in order, never after the node ended, and never into a checkpoint.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  EMIT_EVENT,
  Edge,
  Graph,
  MemoryCheckpointStore,
  RunConcurrent,
  RunMap,
  Subflow,
  Workflow,
  WorkflowCancelledError,
  defineStore,
  node,
  type CheckpointRecord,
  type NodeEmitEvent,
  type NodeEmittedEvent,
  type StoreOf,
  type WorkflowEvent,
} from '../../src/index.js';
import { EMIT_EVENTS, EMIT_PREVIEW_CHARS, otelHooks } from '../../src/otel.js';

const test = suite('ai: ctx.emit');

const Docs = defineStore({
  name: 'Docs',
  initial: { docs: ['a', 'b', 'c'], done: [] as string[] },
  actions: { done: (draft, doc: string) => void draft.done.push(doc) },
});
type DocsStore = StoreOf<typeof Docs>;

const Inner = defineStore({ name: 'Inner', initial: { n: 0 }, actions: { bump: (d) => void (d.n += 1) } });
type InnerStore = StoreOf<typeof Inner>;

/** Start → a subflow whose node emits → a RunMap of nodes that emit → a RunMap of subflows. */
function nestedWorkflow() {
  const subflowOf = (name: string, tag: string) =>
    new Subflow<InnerStore, DocsStore>({
      name,
      graph: () => {
        const say = node<InnerStore>('Say', async (store, { emit }) => {
          emit(`${tag}:1`);
          await store.bump();
          emit(`${tag}:2`);
        });
        return new Graph({ source: say, sinks: [say], edges: [] });
      },
      store: () => Inner.create(),
    });
  return new Workflow({
    name: 'Nested',
    graph: () => {
      const start = node<DocsStore>('Start', (_s, ctx) => {
        ctx.emit({ step: 'start' });
      });
      const sub = subflowOf('Sub', 'sub');
      const map = new RunMap({
        name: 'Map',
        items: (s: DocsStore extends { getState(): infer S } ? S : never) => s.docs,
        node: (doc: string) =>
          node<DocsStore>('One', async (store, ctx) => {
            ctx.emit(`${doc}:1`);
            await store.done(doc);
            ctx.emit(`${doc}:2`);
          }),
      });
      const subs = new RunMap({
        name: 'Subs',
        items: (s: { docs: readonly string[] }) => s.docs.slice(0, 2),
        node: (doc: string) => subflowOf('PerDoc', `item-${doc}`),
      });
      return new Graph({
        source: start,
        sinks: [subs],
        edges: [new Edge({ tail: start, head: sub }), new Edge({ tail: sub, head: map }), new Edge({ tail: map, head: subs })],
      });
    },
    store: () => Docs.create(),
  });
}

test('stream(): started, each emitted value in order with its seq, then completed', async () => {
  const workflow = new Workflow({
    name: 'Order',
    graph: () => {
      const talk = node<DocsStore>('Talk', async (store, ctx) => {
        for (const word of ['one', 'two', 'three']) {
          assert.is(ctx.emit(word), true);
          await store.done(word);
        }
      });
      return new Graph({ source: talk, sinks: [talk], edges: [] });
    },
    store: () => Docs.create(),
  });
  const items = [];
  for await (const item of workflow.stream()) items.push(item);
  const lines = items.map((i) => (i.type === 'nodeEmitted' ? `emit ${String(i.data)} #${i.seq}` : i.type));
  assert.equal(lines, [
    'workflowStarted',
    'nodeStarted',
    'emit one #1',
    'stateChanged',
    'emit two #2',
    'stateChanged',
    'emit three #3',
    'stateChanged',
    'nodeCompleted',
    'workflowCompleted',
    'result',
  ]);
  const started = items.find((i) => i.type === 'nodeStarted') as WorkflowEvent & { executionId: string };
  const emitted = items.filter((i): i is NodeEmittedEvent => i.type === 'nodeEmitted');
  for (const e of emitted) {
    assert.is(e.executionId, started.executionId);
    assert.is(e.id, 'Order/Talk');
    assert.is(e.node, 'Talk');
    assert.is(e.name, 'Talk');
    assert.is(e.runId, (items.at(-1) as { result: { runId: string } }).result.runId);
    assert.is(e.parentExecutionId, e.runId);
    assert.is(e.attempt, 1);
  }
});

test('subflow and RunMap emits reach the root run actor as junjo.emit events, and hooks, with the same ids', async () => {
  const workflow = nestedWorkflow();
  const hooked: NodeEmittedEvent[] = [];
  const actor = workflow.createRun(undefined, { hooks: { nodeEmitted: (e) => hooked.push(e) } });
  const onActor: NodeEmitEvent[] = [];
  actor.on(EMIT_EVENT, (e) => onActor.push(e));
  const done = new Promise<void>((resolve, reject) => actor.subscribe({ complete: resolve, error: reject }));
  actor.start();
  await done;
  const runId = actor.getSnapshot().context.runId;
  const ids = onActor.map((e) => `${e.id} ${String(typeof e.data === 'string' ? e.data : JSON.stringify(e.data))}`);
  assert.equal(ids.slice(0, 3), ['Nested/Start {"step":"start"}', 'Nested/Sub/Say sub:1', 'Nested/Sub/Say sub:2']);
  // RunMap items run side by side: each item's own values are in order.
  for (const doc of ['a', 'b', 'c']) {
    const index = ['a', 'b', 'c'].indexOf(doc);
    assert.equal(
      ids.filter((line) => line.startsWith(`Nested/Map[${index}] `)),
      [`Nested/Map[${index}] ${doc}:1`, `Nested/Map[${index}] ${doc}:2`],
    );
  }
  for (const [index, doc] of ['a', 'b'].entries()) {
    assert.equal(
      ids.filter((line) => line.startsWith(`Nested/Subs[${index}]/`)),
      [`Nested/Subs[${index}]/Say item-${doc}:1`, `Nested/Subs[${index}]/Say item-${doc}:2`],
    );
  }
  assert.is(onActor.length, 1 + 2 + 6 + 4);
  assert.ok(onActor.every((e) => e.type === EMIT_EVENT && e.runId === runId));
  // Hooks saw the same values, with the same structural and execution ids.
  assert.equal(
    hooked.map((e) => [e.id, e.executionId, e.seq, e.data]),
    onActor.map((e) => [e.id, e.executionId, e.seq, e.data]),
  );
  assert.is(hooked.find((e) => e.id === 'Nested/Sub/Say')!.executionId, `${runId}/Sub#1/Say#1`);
});

test('a node inside a RunConcurrent: its emitted events carry the same parents as its nodeStarted', async () => {
  const workflow = new Workflow({
    name: 'Group',
    graph: () => {
      const left = node<DocsStore>('Left', (_s, { emit }) => void emit('l'));
      const right = node<DocsStore>('Right', (_s, { emit }) => void emit('r'));
      const both = new RunConcurrent({ name: 'Both', items: [left, right] });
      return new Graph({ source: both, sinks: [both], edges: [] });
    },
    store: () => Docs.create(),
  });
  const events: WorkflowEvent[] = [];
  const actor = workflow.createRun(undefined, { hooks: { onEvent: (e) => events.push(e) } });
  const onActor: NodeEmitEvent[] = [];
  actor.on(EMIT_EVENT, (e) => onActor.push(e));
  const done = new Promise<void>((resolve) => actor.subscribe({ complete: resolve }));
  actor.start();
  await done;
  for (const name of ['Left', 'Right']) {
    const started = events.find((e) => e.type === 'nodeStarted' && e.name === name) as WorkflowEvent & { parentId: string; parentExecutionId: string };
    const emitted = events.find((e) => e.type === 'nodeEmitted' && e.name === name) as NodeEmittedEvent;
    assert.is(emitted.parentId, started.parentId);
    assert.is(emitted.parentId, 'Group/Both');
    assert.is(emitted.parentExecutionId, started.parentExecutionId);
    assert.is(onActor.find((e) => e.name === name)!.parentExecutionId, started.parentExecutionId);
  }
});

test('a subflow that is the source, whose first node emits synchronously as it starts, reaches the root', async () => {
  const workflow = new Workflow({
    name: 'SourceSub',
    graph: () => {
      const sub = new Subflow<InnerStore, DocsStore>({
        name: 'Sub',
        graph: () => {
          const first = node<InnerStore>('First', (_s, { emit }) => void emit('at once'));
          return new Graph({ source: first, sinks: [first], edges: [] });
        },
        store: () => Inner.create(),
      });
      return new Graph({ source: sub, sinks: [sub], edges: [] });
    },
    store: () => Docs.create(),
  });
  const actor = workflow.createRun();
  const seen: string[] = [];
  actor.on(EMIT_EVENT, (e) => seen.push(`${e.id} ${String(e.data)}`));
  const done = new Promise<void>((resolve, reject) => actor.subscribe({ complete: resolve, error: reject }));
  actor.start();
  await done;
  assert.equal(seen, ['SourceSub/Sub/First at once']);
});

test('without any hooks the run actor still emits every value (parent ids null)', async () => {
  const actor = nestedWorkflow().createRun();
  const seen: NodeEmitEvent[] = [];
  actor.on(EMIT_EVENT, (e) => seen.push(e));
  const done = new Promise<void>((resolve, reject) => actor.subscribe({ complete: resolve, error: reject }));
  actor.start();
  await done;
  assert.is(seen.length, 13);
  assert.ok(seen.every((e) => e.parentId === null && e.parentExecutionId === null));
  assert.ok(seen.some((e) => e.id === 'Nested/Subs[1]/Say'));
});

test('a value emitted after the node finished is dropped: emit returns false, nobody sees it', async () => {
  let late: ((data: unknown) => boolean) | undefined;
  const events: WorkflowEvent[] = [];
  const workflow = new Workflow({
    name: 'Late',
    graph: () => {
      const first = node<DocsStore>('First', (_s, { emit }) => {
        emit('in time');
        late = emit;
      });
      const second = node<DocsStore>('Second', () => {
        assert.is(late!('too late'), false);
      });
      return new Graph({ source: first, sinks: [second], edges: [new Edge({ tail: first, head: second })] });
    },
    store: () => Docs.create(),
  });
  const actor = workflow.createRun(undefined, { hooks: { onEvent: (e) => events.push(e) } });
  const onActor: unknown[] = [];
  actor.on(EMIT_EVENT, (e) => onActor.push(e.data));
  const done = new Promise<void>((resolve) => actor.subscribe({ complete: resolve }));
  actor.start();
  await done;
  assert.is(late!('after the run'), false);
  assert.equal(onActor, ['in time']);
  assert.equal(
    events.filter((e) => e.type === 'nodeEmitted').map((e) => (e as NodeEmittedEvent).data),
    ['in time'],
  );
});

test('a cancelled node cannot emit: after the run is stopped, emit returns false', async () => {
  let emitLater: ((data: unknown) => boolean) | undefined;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const workflow = new Workflow({
    name: 'Cancelled',
    graph: () => {
      const wait = node<DocsStore>('Wait', (_s, ctx) => {
        emitLater = ctx.emit;
        ctx.emit('before');
        started();
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      });
      return new Graph({ source: wait, sinks: [wait], edges: [] });
    },
    store: () => Docs.create(),
  });
  const controller = new AbortController();
  const seen: unknown[] = [];
  const run = workflow.execute(undefined, {
    signal: controller.signal,
    hooks: { nodeEmitted: (e) => seen.push(e.data) },
  });
  await running;
  controller.abort();
  await run.then(
    () => assert.unreachable('the run was cancelled'),
    (error) => assert.instance(error, WorkflowCancelledError),
  );
  assert.is(emitLater!('after'), false);
  assert.equal(seen, ['before']);
});

test('a retried node emits per attempt: seq restarts, attempt says which', async () => {
  const seen: string[] = [];
  const workflow = new Workflow({
    name: 'Retry',
    graph: () => {
      const flaky = node<DocsStore>(
        'Flaky',
        (_s, ctx) => {
          ctx.emit(`try ${ctx.attempt}`);
          if (ctx.attempt === 1) throw new Error('first attempt fails');
        },
        { retry: { attempts: 2 } },
      );
      return new Graph({ source: flaky, sinks: [flaky], edges: [] });
    },
    store: () => Docs.create(),
  });
  await workflow.execute(undefined, { hooks: { nodeEmitted: (e) => seen.push(`${String(e.data)} a${e.attempt} #${e.seq}`) } });
  assert.equal(seen, ['try 1 a1 #1', 'try 2 a2 #1']);
});

test('no checkpoint contains an emitted value, and emitting writes no checkpoint', async () => {
  class Recording extends MemoryCheckpointStore {
    readonly writes: CheckpointRecord[] = [];
    override put(record: CheckpointRecord): void {
      this.writes.push(record);
      super.put(record);
    }
  }
  const quiet = new Recording();
  const chatty = new Recording();
  const build = (emits: number) =>
    new Workflow({
      name: 'Durable',
      graph: () => {
        const talk = node<DocsStore>('Talk', async (store, ctx) => {
          for (let i = 0; i < emits; i++) ctx.emit(`SECRET-TOKEN-${i}`);
          await store.done('x');
          for (let i = 0; i < emits; i++) ctx.emit({ marker: `SECRET-OBJECT-${i}` });
        });
        return new Graph({ source: talk, sinks: [talk], edges: [] });
      },
      store: () => Docs.create(),
    });
  await build(0).execute(undefined, { checkpoint: quiet, runId: 'quiet' });
  const seen: unknown[] = [];
  await build(500).execute(undefined, { checkpoint: chatty, runId: 'chatty', hooks: { nodeEmitted: (e) => seen.push(e.data) } });
  assert.is(seen.length, 1000);
  assert.ok(chatty.writes.length > 0);
  for (const record of chatty.writes) assert.not.match(record.data, /SECRET-/);
  assert.is(chatty.writes.length, quiet.writes.length, 'emitting writes no extra checkpoint');
});

test('OpenTelemetry: a bounded emit summary and the node attributes on the node span', async () => {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
  const workflow = new Workflow({
    name: 'Spans',
    graph: () => {
      const talk = node<DocsStore>('Talk', (_s, ctx) => {
        for (let i = 0; i < 5000; i++) ctx.emit('tok ');
        ctx.setAttributes({ 'llm.model_name': 'mock-model', 'llm.token_count.prompt': 7 });
      });
      return new Graph({ source: talk, sinks: [talk], edges: [] });
    },
    store: () => Docs.create(),
  });
  const completed: WorkflowEvent[] = [];
  await workflow.execute(undefined, { hooks: [otelHooks({ tracer }), { nodeCompleted: (e) => completed.push(e) }] });
  const span = exporter.getFinishedSpans().find((s) => s.name === 'Talk')!;
  assert.is(span.attributes['junjo.emit.count'], 5000);
  assert.is((span.attributes['junjo.emit.preview'] as string).length, EMIT_PREVIEW_CHARS);
  assert.is(span.events.filter((e) => e.name === 'junjo.emit').length, EMIT_EVENTS);
  assert.is(span.attributes['llm.model_name'], 'mock-model');
  assert.is(span.attributes['llm.token_count.prompt'], 7);
  assert.equal((completed[0] as { attributes?: unknown }).attributes, { 'llm.model_name': 'mock-model', 'llm.token_count.prompt': 7 });
});

test('10,000 values from one node all arrive, in order, through stream()', async () => {
  const workflow = new Workflow({
    name: 'Many',
    graph: () => {
      const talk = node<DocsStore>('Talk', (_s, { emit }) => {
        for (let i = 0; i < 10_000; i++) emit(i);
      });
      return new Graph({ source: talk, sinks: [talk], edges: [] });
    },
    store: () => Docs.create(),
  });
  const values: unknown[] = [];
  for await (const item of workflow.stream()) if (item.type === 'nodeEmitted') values.push(item.data);
  assert.is(values.length, 10_000);
  assert.ok(values.every((v, i) => v === i));
});

test.run();

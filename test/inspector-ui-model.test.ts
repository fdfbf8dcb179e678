/**
 * The page's model of a machine mid-transition (inspector/ui/model.ts): between an event a
 * machine receives and the snapshot XState sends once it has acted on it, the machine's record
 * says which event it is acting on and which children it started since; events no machine acts
 * on (a node's emitted values, the inspector's own notes), and events after a machine ended,
 * start no transition. And on a real run's events, a junjo store's updates (sent from inside a
 * node's promise, so XState knows no sender) are filed as sent by the node that made them.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Model } from '../inspector/ui/model.js';
import { LOST_EVENT_TYPE } from '../inspector/send-queue.js';
import type { Envelope, WireEvent } from '../inspector/protocol.js';
import { withoutSupersededSnapshots } from '../inspector/coalesce.js';
import { ImpliedEventsReader, ImpliedEventsWriter } from '../inspector/implied-events.js';
import type { InspectionEvent } from 'xstate';
import { Edge, Graph, RunMap, Subflow, Workflow, defineStore, node, type StoreOf } from '../src/index.js';

const test = suite('inspector page model: transitions');
const source = 'app:1';
const definition = JSON.stringify({ id: 'm', states: { A: { invoke: [{ id: 'a' }] }, B: { invoke: [{ id: 'b' }] }, done: { type: 'final' } } });
const envelope = (event: Record<string, unknown>): Envelope => ({ source, event: { rootId: 'x:0', createdAt: '1', ...event } as Envelope['event'] });
const root = (model: Model) => model.actors.get(`${source} x:0`)!;

function started(): Model {
  const model = new Model();
  model.ingest(envelope({ type: '@xstate.actor', sessionId: 'x:0', name: 'm', definition }));
  model.ingest(envelope({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'xstate.init' } }));
  model.ingest(envelope({ type: '@xstate.actor', sessionId: 'x:1', parentId: 'x:0', name: 'a' }));
  model.ingest(envelope({ type: '@xstate.snapshot', sessionId: 'x:0', snapshot: { status: 'active', value: 'A' } }));
  return model;
}

test('an event, the children started since, then the snapshot that ends the transition', () => {
  const model = started();
  assert.is(root(model).transition, undefined, 'the first snapshot ended the first transition');
  model.ingest(envelope({ type: '@xstate.event', sessionId: 'x:0', sourceId: 'x:1', event: { type: 'xstate.done.actor.a' } }));
  assert.equal(root(model).transition, { event: 'xstate.done.actor.a', started: [] });
  model.ingest(envelope({ type: '@xstate.actor', sessionId: 'x:2', parentId: 'x:0', name: 'b' }));
  assert.equal(root(model).transition, { event: 'xstate.done.actor.a', started: ['b'] });
  model.ingest(envelope({ type: '@xstate.snapshot', sessionId: 'x:0', snapshot: { status: 'active', value: 'B' } }));
  assert.is(root(model).transition, undefined);
  assert.is(root(model).snapshot?.value, 'B');
});

test('a copy (a keyframe) and the model it came from go on with transitions of their own', () => {
  const model = started();
  model.ingest(envelope({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'go' } }));
  const copy = model.fork();
  copy.ingest(envelope({ type: '@xstate.actor', sessionId: 'x:2', parentId: 'x:0', name: 'b' }));
  assert.equal(root(copy).transition?.started, ['b']);
  assert.equal(root(model).transition?.started, []);
});

test("emitted values, the inspector's notes and events after the end start no transition", () => {
  const model = started();
  model.ingest(envelope({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'junjo.emit', node: 'A', data: 1 } }));
  model.ingest(envelope({ type: '@xstate.event', sessionId: 'x:0', event: { type: LOST_EVENT_TYPE, count: 3 } }));
  assert.is(root(model).transition, undefined);
  model.ingest(envelope({ type: '@xstate.snapshot', sessionId: 'x:0', snapshot: { status: 'done', value: 'done' } }));
  model.ingest(envelope({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'late' } }));
  assert.is(root(model).transition, undefined);
});

test('an actor that is not a machine (no states) is never mid-transition', () => {
  const model = started();
  model.ingest(envelope({ type: '@xstate.event', sessionId: 'x:1', event: { type: 'xstate.promise.resolve' } }));
  assert.is(model.actors.get(`${source} x:1`)!.transition, undefined);
});

const Tally = defineStore({ name: 'Tally', initial: { n: 0, items: [1, 2] }, actions: { add: (d) => void (d.n += 1) } });
type Handle = StoreOf<typeof Tally>;
const mixed = new Workflow({
  name: 'Mixed',
  graph: () => {
    const start = node<Handle>('Start', (s) => s.add());
    const sub = new Subflow<Handle, Handle>({
      name: 'Sub',
      graph: () => {
        const inner = node<Handle>('Inner', (s) => s.add());
        return new Graph({ source: inner, sinks: [inner], edges: [] });
      },
      store: () => Tally.create(),
    });
    const each = new RunMap({ name: 'PerItem', items: (s: { items: number[] }) => s.items, node: (_, i) => node<Handle>(`Each${i}`, (s) => s.add()) });
    return new Graph({ source: start, sinks: [each], edges: [new Edge({ tail: start, head: sub }), new Edge({ tail: sub, head: each })] });
  },
  store: () => Tally.create(),
});

test("a junjo store's updates are sent by the node that made them: a node, a subflow's node, a RunMap's items", async () => {
  const batch: InspectionEvent[] = [];
  await mixed.execute(undefined, { inspect: { next: (e) => batch.push(e) } });
  const model = new Model();
  const reader = new ImpliedEventsReader();
  new ImpliedEventsWriter(JSON.stringify).write(withoutSupersededSnapshots(batch), (wire) =>
    reader.expand({ source, event: JSON.parse(JSON.stringify(wire)) as WireEvent }, (e) => model.ingest(e)),
  );
  const [run] = [...model.runs.values()];
  const name = (key: string | undefined) => (key === undefined ? undefined : model.actors.get(key)?.name);
  const parentName = (key: string) => name(model.actors.get(key)!.parentKey);
  const updates = run!.events.filter((e) => e.type === 'add').map((e) => [name(e.sourceKey), parentName(e.sourceKey!), name(e.actorKey), parentName(e.actorKey)]);
  assert.equal(updates, [
    ['Start', 'Mixed', 'store', 'Mixed'],
    ['Inner', 'Sub', 'store', 'Sub'],
    ['PerItem[0]', 'PerItem', 'store', 'Mixed'],
    ['PerItem[1]', 'PerItem', 'store', 'Mixed'],
  ]);
  // An event to an actor that is not a junjo store is not given a sender for naming a node.
  model.ingest(envelope({ type: '@xstate.event', sessionId: run!.key.split(' ')[1]!, rootId: run!.key.split(' ')[1]!, event: { type: 'poke', node: 'Start' } }));
  assert.is(run!.events.at(-1)!.sourceKey, undefined);
});

test.run();

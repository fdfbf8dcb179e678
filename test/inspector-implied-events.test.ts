/**
 * Implied events left out by the client and put back by the page (inspector/implied-events.ts),
 * on real runs' inspection events: a RunMap whose items commit and one fails, and a plain
 * XState machine with an invoked promise and a spawned callback actor. What the page gets back
 * is every event the plain conversion sends, in its order and with its content (and for the
 * RunMap, far fewer were sent); and a snapshot pointing at an event that never arrived says so instead of failing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assign, createActor, fromCallback, fromPromise, setup, toPromise, type InspectionEvent } from 'xstate';
import { withoutSupersededSnapshots } from '../inspector/coalesce.js';
import { DONE_TO_MARK, INIT_MARK, ImpliedEventsReader, ImpliedEventsWriter, LAST_EVENT_MARK, RECEIVED_MARK, UNKNOWN_EVENT } from '../inspector/implied-events.js';
import type { Envelope, WireEvent } from '../inspector/protocol.js';
import { toWireEvent } from '../inspector/wire-event.js';
import { Edge, Graph, RunMap, Workflow, defineStore, node, type StoreOf } from '../src/index.js';

const test = suite('inspector implied events');
const MARKS = [INIT_MARK, RECEIVED_MARK, LAST_EVENT_MARK, DONE_TO_MARK];

/** A wire event as JSON would carry it, without the marks and the conversion time. */
function comparable(event: WireEvent): unknown {
  const copy = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  for (const mark of MARKS) delete copy[mark];
  delete copy.createdAt;
  if (copy.sourceId === null) delete copy.sourceId;
  return copy;
}

/** Sends `batch` through the writer, JSON and the reader; returns what was sent and what came back. */
function roundTrip(batch: InspectionEvent[]): { sent: string[]; back: WireEvent[]; plain: WireEvent[] } {
  const kept = withoutSupersededSnapshots(batch);
  const plain = kept.flatMap((e) => toWireEvent(e, JSON.stringify) ?? []) as unknown as WireEvent[];
  const sent: string[] = [];
  new ImpliedEventsWriter(JSON.stringify).write(kept, (wire) => sent.push(JSON.stringify(wire)));
  const back: WireEvent[] = [];
  const reader = new ImpliedEventsReader();
  for (const text of sent) reader.expand({ source: 'app:1', event: JSON.parse(text) as WireEvent }, (e: Envelope) => back.push(e.event));
  return { sent, back, plain };
}

function assertSameEvents(back: WireEvent[], plain: WireEvent[]): void {
  assert.is(back.length, plain.length, 'as many events come back as the plain conversion sends');
  for (let i = 0; i < plain.length; i++) assert.equal(comparable(back[i]!), comparable(plain[i]!), `event ${i} (${plain[i]!.type} ${plain[i]!.event?.type ?? ''} of ${plain[i]!.sessionId})`);
}

const Tally = defineStore({ name: 'Tally', initial: { n: 0, items: [1, 2, 3, 4, 5, 6] }, actions: { add: (d) => void (d.n += 1) } });
type Handle = StoreOf<typeof Tally>;
const map = new Workflow({
  name: 'MapWithAFailure',
  graph: () => {
    const start = node<Handle>('Start', async () => {});
    const each = new RunMap({
      name: 'PerItem',
      items: (s: { items: number[] }) => s.items,
      node: (item: number, i) =>
        node<Handle>(`Each${i}`, async (s) => {
          await s.add();
          if (item === 4) throw new Error('item 4 is broken');
        }),
    });
    return new Graph({ source: start, sinks: [each], edges: [new Edge({ tail: start, head: each })] });
  },
  store: () => Tally.create(),
});

test('a RunMap run: every event comes back as the plain conversion sends it, and a third fewer were sent', async () => {
  const batch: InspectionEvent[] = [];
  const failure = await map.execute(undefined, { inspect: { next: (e) => batch.push(e) } }).then(() => undefined, (error: unknown) => error);
  assert.match(String(failure), /item 4 is broken/, 'the run failed on item 4');
  const { sent, back, plain } = roundTrip(batch);
  assertSameEvents(back, plain);
  for (const mark of MARKS) assert.ok(sent.some((text) => text.includes(`"${mark}"`)), `some event carries ${mark}`);
  assert.ok(sent.length <= plain.length * 0.7, `sent ${sent.length} of ${plain.length}`);
  // The failure travels whole: its error event is not a done event, so nothing implies it.
  assert.ok(sent.some((text) => text.includes('xstate.error.actor') && text.includes('item 4 is broken')));
});

test('a plain XState machine with an invoked promise and a spawned callback: every event comes back', async () => {
  const machine = setup({
    actors: {
      fetchIt: fromPromise(async ({ input }: { input: number }) => input * 2),
      ticker: fromCallback(({ sendBack }) => {
        sendBack({ type: 'tick' });
        return () => {};
      }),
    },
  }).createMachine({
    id: 'plain',
    context: { doubled: 0, ticks: 0 },
    initial: 'fetching',
    entry: assign({ ticks: ({ spawn }) => (spawn('ticker', { id: 'ticker' }), 0) }),
    on: { tick: { actions: assign({ ticks: ({ context }) => context.ticks + 1 }) } },
    states: {
      fetching: { invoke: { src: 'fetchIt', input: 21, onDone: { target: 'done', actions: assign({ doubled: ({ event }) => event.output }) } } },
      done: { type: 'final' },
    },
  });
  const batch: InspectionEvent[] = [];
  const actor = createActor(machine, { inspect: { next: (e) => batch.push(e) } });
  actor.start();
  await toPromise(actor);
  // XState starts a machine's children after its first state, so here no event is next to the
  // one that implies it and all are sent: what matters is that they all come back as they were.
  const { back, plain } = roundTrip(batch);
  assertSameEvents(back, plain);
  const doneOfFetch = back.find((e) => e.type === '@xstate.event' && e.event?.type.startsWith('xstate.done.actor.'));
  assert.equal(doneOfFetch?.event?.output, 42, "the promise's done event comes back with its output");
});

test('a snapshot pointing at an event the page never got says the event is unknown', () => {
  const back: WireEvent[] = [];
  const snapshot = { type: '@xstate.snapshot', sessionId: 'x:7', rootId: 'x:0', snapshot: { status: 'active' }, [LAST_EVENT_MARK]: true } as unknown as WireEvent;
  new ImpliedEventsReader().expand({ source: 'app:1', event: snapshot }, (e) => back.push(e.event));
  assert.is(back.length, 1);
  assert.equal(back[0]!.event, UNKNOWN_EVENT);
});

test('marks that are not what junjo writes imply nothing: the event itself still goes on', () => {
  const back: WireEvent[] = [];
  const reader = new ImpliedEventsReader();
  const take = (e: Envelope) => back.push(e.event);
  const odd = [
    { type: '@xstate.actor', sessionId: 'x:1', rootId: 'x:0', name: 'a', [INIT_MARK]: 'not an event' },
    { type: '@xstate.actor', sessionId: 'x:2', rootId: 'x:0', name: 'b', [INIT_MARK]: { type: 7 } },
    { type: '@xstate.snapshot', sessionId: 'x:1', rootId: 'x:0', event: { type: 'e' }, snapshot: { status: 'done' }, [RECEIVED_MARK]: 42, [DONE_TO_MARK]: { not: 'an id' } },
    { type: '@xstate.snapshot', sessionId: 'x:2', rootId: 'x:0', event: 'no object', snapshot: 5, [RECEIVED_MARK]: null, [DONE_TO_MARK]: '' },
  ];
  for (const event of odd) reader.expand({ source: 'app:1', event: event as unknown as WireEvent }, take);
  assert.equal(back.map((e) => e.sessionId), ['x:1', 'x:2', 'x:1', 'x:2'], 'each event once, nothing implied');
});

test.run();

/**
 * Superseded snapshots left out of a batch (inspector/coalesce.ts), on a real run's inspection
 * events: a RunMap's item and fan-out actors keep their last snapshot of the batch, while a
 * machine's and a store's snapshots all stay, and no other event is touched.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { InspectionEvent } from 'xstate';
import { withoutSupersededSnapshots } from '../inspector/coalesce.js';
import { Edge, Graph, RunMap, Workflow, defineStore, node, type StoreOf } from '../src/index.js';

const test = suite('inspector coalesce');
const Tally = defineStore({ name: 'Tally', initial: { n: 0, items: [1, 2, 3, 4, 5] }, actions: { add: (d) => void (d.n += 1) } });
type Handle = StoreOf<typeof Tally>;
const map = new Workflow({
  name: 'SmallMap',
  graph: () => {
    const start = node<Handle>('Start', async () => {});
    const each = new RunMap({ name: 'PerItem', items: (s: { items: number[] }) => s.items, node: (_, i) => node<Handle>(`Each${i}`, (s) => s.add()) });
    return new Graph({ source: start, sinks: [each], edges: [new Edge({ tail: start, head: each })] });
  },
  store: () => Tally.create(),
});

test('non-machine actors keep their last snapshot of the batch; machines, stores and other events all stay', async () => {
  const batch: InspectionEvent[] = [];
  await map.execute(undefined, { inspect: { next: (e) => batch.push(e) } });
  const kept = withoutSupersededSnapshots(batch);
  const snapshotsBy = (events: InspectionEvent[], pick: (e: InspectionEvent) => boolean) => events.filter((e) => e.type === '@xstate.snapshot' && pick(e));
  const idOf = (e: InspectionEvent) => (e.actorRef as unknown as { id: string }).id;
  const isItem = (e: InspectionEvent) => /^PerItem\[\d\]$/.test(idOf(e));
  // Each item actor had several snapshots; one (its last, done) is left.
  assert.ok(snapshotsBy(batch, isItem).length > 5);
  const items = snapshotsBy(kept, isItem);
  assert.is(items.length, 5);
  for (const e of items) assert.is((e as unknown as { snapshot: { status: string } }).snapshot.status, 'done');
  const fanOut = snapshotsBy(kept, (e) => idOf(e) === 'PerItem');
  assert.is(fanOut.length, 1);
  assert.is((fanOut[0] as unknown as { snapshot: { completed: number } }).snapshot.completed, 5);
  // The root machine's and the store's snapshots are all kept, and so is every other event.
  for (const id of ['store', idOf(batch[0]!)]) assert.is(snapshotsBy(kept, (e) => idOf(e) === id).length, snapshotsBy(batch, (e) => idOf(e) === id).length);
  assert.is(kept.filter((e) => e.type !== '@xstate.snapshot').length, batch.filter((e) => e.type !== '@xstate.snapshot').length);
  // Order is kept.
  assert.equal(kept, batch.filter((e) => kept.includes(e)));
});

test.run();

/**
 * Superseded snapshots left out of a batch (inspector/coalesce.ts), on a real run's inspection
 * events: a RunMap's item and fan-out actors keep their last snapshot between two store
 * commits, while a machine's and a store's snapshots all stay, and no other event is touched.
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

test('a non-machine actor keeps only its last snapshot between two store commits; machines, stores and other events all stay', async () => {
  const batch: InspectionEvent[] = [];
  await map.execute(undefined, { inspect: { next: (e) => batch.push(e) } });
  const kept = withoutSupersededSnapshots(batch);
  const keptSet = new Set(kept);
  const idOf = (e: InspectionEvent) => (e.actorRef as unknown as { id: string }).id;
  const snapshotOf = (e: InspectionEvent) => (e as unknown as { snapshot: Record<string, unknown> }).snapshot;
  const isCommit = (e: InspectionEvent) => e.type === '@xstate.snapshot' && !!snapshotOf(e).commit;
  const supersedable = (e: InspectionEvent) => e.type === '@xstate.snapshot' && !('value' in snapshotOf(e)) && !('commit' in snapshotOf(e));
  // Walk the batch segment by segment (split at store commits): per actor, only the last stays.
  let segment: InspectionEvent[] = [];
  let dropped = 0;
  const check = () => {
    const lastOf = new Map<string, InspectionEvent>();
    for (const e of segment) if (supersedable(e)) lastOf.set(e.actorRef.sessionId, e);
    for (const e of segment) {
      if (!supersedable(e)) assert.ok(keptSet.has(e), `${e.type} of ${idOf(e)} is kept`);
      else if (lastOf.get(e.actorRef.sessionId) === e) assert.ok(keptSet.has(e), `the last snapshot of ${idOf(e)} in its segment is kept`);
      else {
        assert.not.ok(keptSet.has(e), `an earlier snapshot of ${idOf(e)} in its segment is left out`);
        dropped++;
      }
    }
    segment = [];
  };
  for (const e of batch) {
    if (isCommit(e)) check();
    segment.push(e);
  }
  check();
  assert.ok(dropped > 0, 'the run had superseded snapshots');
  assert.is(kept.length, batch.length - dropped);
  // Every store commit and every machine snapshot is there, in order.
  assert.equal(kept.filter(isCommit).length, batch.filter(isCommit).length);
  assert.equal(kept, batch.filter((e) => keptSet.has(e)));
});

test.run();

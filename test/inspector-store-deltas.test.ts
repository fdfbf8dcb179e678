/**
 * Store commits sent as patches: which snapshots go out whole and which without their state,
 * on a real workflow's store actor.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { InspectionEvent } from 'xstate';
import { DELTA_MARKER, StoreDeltas } from '../inspector/store-deltas.js';
import { Graph, Workflow, defineStore, node, type StoreOf } from '../src/index.js';

const test = suite('inspector store deltas');
const Counter = defineStore({ name: 'Counter', initial: { n: 0, big: Array.from({ length: 100 }, (_, i) => i) }, actions: { add: (d) => void (d.n += 1) } });
type Handle = StoreOf<typeof Counter>;
const counting = new Workflow({
  name: 'Counting',
  graph: () => {
    const many = node<Handle>('Many', async (s) => {
      for (let i = 0; i < 30; i++) await s.add();
    });
    return new Graph({ source: many, sinks: [many], edges: [] });
  },
  store: () => Counter.create(),
});

test('a store sends its first commit whole, then whole ones further apart as the run grows (gap = the last whole seq, from n to 10n), the rest as patches; other actors are untouched', async () => {
  const deltas = new StoreDeltas(1);
  const sent: { seq: number | null; whole: boolean; status: string }[] = [];
  let otherSnapshots = 0;
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.snapshot') return;
    const out = deltas.slim(event) as InspectionEvent & { snapshot: Record<string, unknown> };
    const commit = (event.snapshot as { commit?: { seq: number } | null }).commit;
    if (commit === undefined) {
      otherSnapshots++;
      assert.is(out, event);
      return;
    }
    if (commit === null) return;
    const whole = out.snapshot[DELTA_MARKER] !== true;
    assert.is('context' in out.snapshot, whole);
    assert.equal((out.snapshot.commit as { seq: number }).seq, commit.seq);
    sent.push({ seq: commit.seq, whole, status: String(out.snapshot.status) });
  };
  const result = await counting.execute(undefined, { inspect });
  assert.is(result.state.n, 30);
  assert.ok(otherSnapshots > 0);
  const active = sent.filter((s) => s.status === 'active');
  assert.is(active.length, 30);
  // Gaps 1, 2, 4, 8, then 10 (ten times fullEvery) at most.
  assert.equal(active.filter((s) => s.whole).map((s) => s.seq), [1, 2, 4, 8, 16, 26]);
  // Whatever ends the store (stopped or done) goes out whole.
  for (const end of sent.filter((s) => s.status !== 'active')) assert.ok(end.whole);
});

test.run();

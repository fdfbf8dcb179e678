/**
 * A run's snapshots serialized after the run show its in-place records (executionCounts,
 * subflows) as they were when each snapshot was observed (inspector/as-observed.ts), not as
 * they are at the end: the inspector's client serializes a turn after the events.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { InspectionEvent } from 'xstate';
import { asObserved } from '../inspector/as-observed.js';
import { Edge, Graph, Subflow, Workflow, defineStore, node, type StoreOf } from '../src/index.js';

const test = suite('inspector as observed');
const Log = defineStore({ name: 'Log', initial: { seen: [] as string[] }, actions: { saw: (d, name: string) => void d.seen.push(name) } });
type Handle = StoreOf<typeof Log>;
const step = (name: string) => node<Handle>(name, async (s) => s.saw(name));
const line = new Workflow({
  name: 'Line',
  graph: () => {
    const inner = new Subflow({ name: 'Inner', graph: () => { const x = step('X'); return new Graph({ source: x, sinks: [x], edges: [] }); }, store: () => Log.create() });
    const [a, b, c] = [step('A'), step('B'), step('C')];
    return new Graph({ source: a, sinks: [c], edges: [new Edge({ tail: a, head: b }), new Edge({ tail: b, head: inner }), new Edge({ tail: inner, head: c })] });
  },
  store: () => Log.create(),
});

test("each root snapshot, serialized after the run, counts the nodes started by then and keeps the subflow results it had", async () => {
  const events: InspectionEvent[] = [];
  let root: string | undefined;
  await line.execute(undefined, { inspect: { next: (e) => events.push(asObserved(e)) } });
  const shown = events
    .filter((e) => e.type === '@xstate.snapshot' && (root ??= e.rootId) === e.actorRef.sessionId)
    .map((e) => JSON.parse(JSON.stringify((e as { snapshot: unknown }).snapshot)) as { value: unknown; context: { executionCounts: Record<string, number>; subflows: Record<string, unknown[]> } });
  const order = ['A', 'B', 'Inner', 'C'];
  let checked = 0;
  for (const { value, context } of shown) {
    if (typeof value !== 'string' || !order.includes(value)) continue;
    const started = order.slice(0, order.indexOf(value) + 1);
    assert.equal(context.executionCounts, Object.fromEntries(started.map((n) => [n, 1])), `at ${value}`);
    assert.is(Object.keys(context.subflows).length, value === 'C' ? 1 : 0, `subflow results at ${value}`);
    checked++;
  }
  assert.ok(checked >= 4, `${checked} snapshots checked`);
});

test('other snapshots and events pass as they are', async () => {
  const events: InspectionEvent[] = [];
  await line.execute(undefined, { inspect: { next: (e) => events.push(e) } });
  const untouched = events.filter((e) => asObserved(e) === e);
  assert.ok(untouched.length > 0 && untouched.length < events.length);
  for (const e of untouched) assert.not.ok(e.type === '@xstate.snapshot' && (e.snapshot as { context?: { runId?: unknown } }).context?.runId, 'a run snapshot is copied');
});

test.run();

/**
 * The seed's SampleStore: SetData, Increment and Decrement nodes run concurrently against one
 * store, many times over, and no update is lost, because the store actor applies updates one
 * at a time and every reducer sees the latest committed state.
 */
import { Edge, Graph, Node, RunConcurrent, Workflow, defineStore, node, type NodeContext, type StoreOf } from '../../src/index.js';

export const SampleStore = defineStore({
  name: 'SampleStore',
  initial: { data: null as string | null, count: 0 },
  actions: {
    setData: (draft, payload: string) => {
      draft.data = payload;
    },
    setCount: (draft, payload: number) => {
      draft.count = payload;
    },
    increment: (draft) => {
      draft.count += 1;
    },
    decrement: (draft) => {
      draft.count -= 1;
    },
  },
});
type SampleStoreHandle = StoreOf<typeof SampleStore>;

/** A random pause of up to 3 ms that ends early, without leaking a listener, on abort. */
const jitter = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.random() * 3);
    signal.addEventListener('abort', done, { once: true });
  });

class SetDataNode extends Node<SampleStoreHandle> {
  async service(store: SampleStoreHandle, ctx: NodeContext) {
    await jitter(ctx.signal);
    await store.setData(`fetched while count was ${store.getState().count}`);
  }
}

/** Sends one store action `times` times, pausing between updates so the nodes interleave. */
class RepeatNode extends Node<SampleStoreHandle> {
  constructor(
    readonly action: 'increment' | 'decrement',
    readonly times: number,
    name: string,
  ) {
    super({ name });
  }
  async service(store: SampleStoreHandle, ctx: NodeContext) {
    for (let i = 0; i < this.times; i++) {
      await jitter(ctx.signal);
      await store[this.action]();
    }
  }
}

export const counterWorkflow = new Workflow({
  name: 'Counter',
  graph: () => {
    // The graph's shape cannot depend on input; the node counts are fixed here.
    const items = [
      new SetDataNode({ name: 'SetData' }),
      ...Array.from({ length: 8 }, (_, i) => new RepeatNode('increment', 25, `Increment${i + 1}`)),
      ...Array.from({ length: 3 }, (_, i) => new RepeatNode('decrement', 25, `Decrement${i + 1}`)),
    ];
    const together = new RunConcurrent({ name: 'AllAtOnce', items });
    const report = node<SampleStoreHandle>('Report', () => {});
    return new Graph({ source: together, sinks: [report], edges: [new Edge({ tail: together, head: report })] });
  },
  store: (input?: { count: number }) => SampleStore.create(input),
});

/** What the count must be after a run: 8 × 25 increments and 3 × 25 decrements. */
export const expectedCount = (start: number) => start + 8 * 25 - 3 * 25;

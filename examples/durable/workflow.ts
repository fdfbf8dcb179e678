/**
 * A slow workflow worth making durable: it writes a report in eight steps (an outline, five
 * sections, a review, publishing), each taking a while, like the model calls they stand in
 * for. Publishing is flaky: its first attempt fails, and its retry policy tries again.
 */
import { Edge, Graph, Workflow, defineStore, node, type NodeContext, type StoreOf } from '../../src/index.js';

export const ReportStore = defineStore({
  name: 'ReportStore',
  initial: { topic: '', outline: [] as string[], sections: [] as string[], reviewed: false, url: null as string | null },
  actions: {
    outline: (d, headings: string[]) => void (d.outline = headings),
    section: (d, text: string) => void d.sections.push(text),
    reviewed: (d) => void (d.reviewed = true),
    published: (d, url: string) => void (d.url = url),
  },
});
type Report = StoreOf<typeof ReportStore>;

/** How long each step works (ms); the example's test makes it short. */
const STEP_MS = Number(process.env.DURABLE_STEP_MS ?? 700);

/** Stands in for a model call: takes a while, and stops when the node is cancelled. */
function work(signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, STEP_MS);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

const HEADINGS = ['Why', 'What', 'How', 'Costs', 'Next steps'];

export const report = new Workflow({
  name: 'DurableReport',
  graph: () => {
    const outline = node<Report>('Outline', async (store, ctx) => {
      await work(ctx.signal);
      await store.outline(HEADINGS);
    });
    const sections = HEADINGS.map((heading, i) =>
      node<Report>(`Section ${i + 1}`, async (store, ctx: NodeContext) => {
        await work(ctx.signal);
        await store.section(`${heading}: a paragraph about ${store.getState().topic}`);
      }),
    );
    const review = node<Report>('Review', async (store, ctx) => {
      await work(ctx.signal);
      await store.reviewed();
    }, { timeoutMs: 10 * STEP_MS });
    const publish = node<Report>(
      'Publish',
      async (store, ctx) => {
        await work(ctx.signal);
        if (ctx.attempt === 1) throw new Error('the publishing service is busy');
        await store.published(`https://example.com/reports/${encodeURIComponent(store.getState().topic)}`);
      },
      { retry: { attempts: 3, backoff: STEP_MS / 2 } },
    );
    const chain = [outline, ...sections, review, publish];
    return new Graph({
      source: outline,
      sinks: [publish],
      edges: chain.slice(1).map((head, i) => new Edge({ tail: chain[i]!, head })),
    });
  },
  store: (input: { topic: string }) => ReportStore.create(input),
});

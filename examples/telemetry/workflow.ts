/**
 * The workflow the telemetry examples watch: research a topic with an API key kept in the
 * state (a secret to redact), two searches at once, then a subflow that drafts a summary in
 * its own store. The searches stand in for network calls: short delays that abort with the node.
 *
 *   Plan → Search [SearchWeb, SearchPapers] → Summarize (subflow: Draft) → Done
 */
import { Edge, Graph, RunConcurrent, Subflow, Workflow, defineStore, node, type StoreOf } from '../../src/index.js';

export const ResearchStore = defineStore({
  name: 'ResearchStore',
  initial: { topic: '', apiKey: '', sources: [] as string[], summary: null as string | null },
  actions: {
    addSource: (draft, source: string) => {
      draft.sources.push(source);
    },
  },
});
type Research = StoreOf<typeof ResearchStore>;

const DraftStore = defineStore({
  name: 'DraftStore',
  initial: { sources: [] as string[], draft: '' },
  actions: {
    write: (draft, text: string) => {
      draft.draft = text;
    },
  },
});
type Draft = StoreOf<typeof DraftStore>;

/** Stands in for a network call: resolves after `ms`, rejects as soon as the node is cancelled. */
function call(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

class Summarize extends Subflow<Draft, Research> {
  override async preRunActions(parent: Research, sub: Draft) {
    await sub.setState({ sources: [...parent.getState().sources] });
  }
  override async postRunActions(parent: Research, sub: Draft) {
    await parent.setState({ summary: sub.getState().draft });
  }
}

export function researchGraph(): Graph {
  const plan = node<Research>('Plan', (store) => store.addSource(`notes on ${store.getState().topic}`));
  const web = node<Research>('SearchWeb', async (store, ctx) => {
    await call(10, ctx.signal);
    await store.addSource('a web page');
  });
  const papers = node<Research>('SearchPapers', async (store, ctx) => {
    await call(20, ctx.signal);
    await store.addSource('a paper');
  });
  const search = new RunConcurrent({ name: 'Search', items: [web, papers] });
  const summarize = new Summarize({
    name: 'Summarize',
    graph: () => {
      const draft = node<Draft>('Draft', (store) => store.write(`${store.getState().sources.length} sources: ${store.getState().sources.join(', ')}`));
      return new Graph({ source: draft, sinks: [draft], edges: [] });
    },
    store: () => DraftStore.create(),
  });
  const done = node<Research>('Done', () => {});
  return new Graph({
    source: plan,
    sinks: [done],
    edges: [new Edge({ tail: plan, head: search }), new Edge({ tail: search, head: summarize }), new Edge({ tail: summarize, head: done })],
  });
}

export const research = new Workflow({
  name: 'Research',
  graph: researchGraph,
  store: (input: { topic: string; apiKey: string }) => ResearchStore.create(input),
  // What hooks, streams and spans see of each state: never the key.
  // (The subflow's states pass through it too; they have no key.)
  redact: (state) => ('apiKey' in state ? { ...state, apiKey: '[redacted]' } : state),
});

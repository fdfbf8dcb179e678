/**
 * The research-agent example's workflow: a RunMap summarises each document with a model node
 * (`llm`), then an agent with two tools writes a report from the summaries. The model is a
 * parameter: the local chat-completions stand-in by default, a real provider when configured
 * (see main.ts).
 */
import { z } from 'zod';
import type { LanguageModel } from 'ai';
import { Edge, Graph, RunMap, Workflow, defineStore, node, type StoreOf } from '../../src/index.js';
import { Agent, agentTool, llm, workflowTool } from '../../src/ai/index.js';

export interface Doc {
  title: string;
  text: string;
}

export const DOCUMENTS: Doc[] = [
  { title: 'Otters', text: 'Sea otters hold hands while they sleep so they do not drift apart. They use rocks as tools to open shells.' },
  { title: 'Herons', text: 'Herons stand motionless in shallow water for long stretches, then strike fish with a fast jab of the beak.' },
  { title: 'Beavers', text: 'Beavers build dams that turn streams into ponds, creating wetlands that shelter many other species.' },
  { title: 'Owls', text: 'Owls cannot move their eyes, so they turn their heads up to 270 degrees to look around.' },
];

export const ResearchStore = defineStore({
  name: 'ResearchStore',
  initial: { question: '', documents: [] as Doc[], summaries: [] as (string | null)[], report: '' },
  actions: {
    setSummary: (draft, index: number, summary: string) => void (draft.summaries[index] = summary),
    setReport: (draft, report: string) => void (draft.report = report),
  },
});
export type ResearchHandle = StoreOf<typeof ResearchStore>;

/** The tiny workflow the `count_words` tool runs: a tool can be a whole Workflow. */
const WordsStore = defineStore({
  name: 'WordsStore',
  initial: { text: '', words: 0 },
  actions: { setWords: (draft, words: number) => void (draft.words = words) },
});
export const countWordsWorkflow = new Workflow({
  name: 'CountWords',
  graph: () => {
    const count = node<StoreOf<typeof WordsStore>>('Count', (store) => store.setWords(store.getState().text.split(/\s+/).filter(Boolean).length));
    return new Graph({ source: count, sinks: [count], edges: [] });
  },
  store: (input: { text: string }) => WordsStore.create(input),
});

export function writerAgent(model: LanguageModel): Agent {
  return new Agent({
    name: 'Writer',
    model,
    system:
      'You write a short research report from document summaries. Call lookup_document for details of a document, ' +
      'and count_words to check the report is short. Then answer with the report only.',
    tools: {
      lookup_document: agentTool({
        description: 'Returns the full text of a document, by its title',
        parameters: z.object({ title: z.string() }),
        execute: ({ title }) => DOCUMENTS.find((d) => d.title.toLowerCase() === title.toLowerCase())?.text ?? `No document titled '${title}'.`,
      }),
      count_words: workflowTool({
        description: 'Counts the words of a text',
        parameters: z.object({ text: z.string() }),
        workflow: countWordsWorkflow,
        input: ({ text }) => ({ text }),
        result: (r) => ({ words: r.state.words }),
      }),
    },
    limits: { modelRequests: 6, toolCalls: 8 },
  });
}

export function researchWorkflow(model: LanguageModel) {
  const writer = writerAgent(model);
  return new Workflow({
    name: 'Research',
    graph: () => {
      const summarize = new RunMap({
        name: 'Summarize',
        items: (state: ReturnType<ResearchHandle['getState']>) => state.documents,
        concurrency: 2,
        node: (doc: Doc, index: number) =>
          llm('SummarizeDoc', {
            store: ResearchStore,
            model,
            prompt: () => `Summarise this document in one sentence.\nTitle: ${doc.title}\n\n${doc.text}`,
            write: (store, { text }) => store.setSummary(index, text.trim()),
            retry: { attempts: 2 },
          }),
      });
      const report = writer.node('WriteReport', {
        store: ResearchStore,
        prompt: (state) =>
          `Question: ${state.question}\n\nSummaries:\n${state.documents.map((d, i) => `- ${d.title}: ${state.summaries[i]}`).join('\n')}`,
        write: (store, { text }) => store.setReport(text.trim()),
      });
      return new Graph({ source: summarize, sinks: [report], edges: [new Edge({ tail: summarize, head: report })] });
    },
    store: (input: { question: string; documents?: Doc[] }) =>
      ResearchStore.create({ question: input.question, documents: input.documents ?? DOCUMENTS, summaries: [] }),
  });
}

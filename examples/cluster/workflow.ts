/**
 * The workflow of the cluster example: a short "report" of six steps, each taking 100 ms (a
 * model call's shape) and committing what it wrote. Workers load this module with
 * `junjo-xstate worker examples/cluster/workflow.ts`; the steps print where they run.
 */
import { Edge, Graph, Workflow, defineStore, node, sleep, type StoreOf } from '../../src/index.js';

export const ReportStore = defineStore({
  name: 'ReportStore',
  initial: { topic: '', sections: [] as string[] },
  actions: { write: (d, section: string) => void d.sections.push(section) },
});
type Report = StoreOf<typeof ReportStore>;

export const STEPS = ['Outline', 'Research', 'Draft', 'Review', 'Revise', 'Publish'];

export const report = new Workflow({
  name: 'Report',
  graph: () => {
    const steps = STEPS.map((name) =>
      node<Report>(name, async (store, ctx) => {
        process.stdout.write(`  [worker ${process.pid}] ${ctx.runId} ${name}${ctx.attempt > 1 ? ` (attempt ${ctx.attempt})` : ''}\n`);
        await sleep(100, ctx.signal);
        await store.write(`${name} of ${store.getState().topic}`);
      }),
    );
    return new Graph({ source: steps[0]!, sinks: [steps.at(-1)!], edges: steps.slice(1).map((head, i) => new Edge({ tail: steps[i]!, head })) });
  },
  store: (input?: { topic: string }) => ReportStore.create({ topic: input?.topic ?? 'nothing' }),
});

/**
 * `node bench/main.mjs agent` (npm run bench:agent): what the agent node kind costs over the
 * same loop in one promise. One agent, 10 tool calls (one per model answer, so 11 model
 * requests) against the AI SDK's mock model: as an agent node in a workflow — each request
 * and call a child actor of the run, the loop's state in the run's context — against
 * `agent.run()`, the loop with no workflow. Medians of alternating repetitions, as a ratio and
 * as the time added per step.
 */
import { z } from 'zod';
import { Graph, Workflow, defineStore } from '../src/index.js';
import { Agent, agentTool } from '../src/ai/index.js';
import { scriptedModel } from '../test/support/mock-models.js';

const CALLS = 10;
const REPS = 21;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

function agentOf() {
  const { model } = scriptedModel((n) => (n <= CALLS ? { toolCalls: [{ name: 'step', input: { n } }] } : { tokens: ['done'] }));
  const step = agentTool({ description: 's', parameters: z.object({ n: z.number() }), execute: ({ n }) => n });
  return new Agent({ name: 'Bench', model, tools: { step }, limits: { modelRequests: CALLS + 1, toolCalls: CALLS } });
}

const Out = defineStore({ name: 'Out', initial: { text: '' }, actions: { save: (d, t: string) => void (d.text = t) } });

async function asNode(): Promise<number> {
  const agent = agentOf();
  const workflow = new Workflow({
    name: 'AgentBench',
    graph: () => {
      const work = agent.node('Work', { store: Out, prompt: () => 'go', write: (s, r) => s.save(r.text) });
      return new Graph({ source: work, sinks: [work], edges: [] });
    },
    store: () => Out.create(),
  });
  const start = performance.now();
  const { state } = await workflow.execute();
  const ms = performance.now() - start;
  if (state.text !== 'done') throw new Error(`the agent node answered ${state.text}`);
  return ms;
}

async function alone(): Promise<number> {
  const agent = agentOf();
  const start = performance.now();
  const result = await agent.run('go');
  const ms = performance.now() - start;
  if (result.toolCalls !== CALLS) throw new Error(`agent.run made ${result.toolCalls} tool calls`);
  return ms;
}

const samples = { node: [] as number[], run: [] as number[] };
await asNode();
await alone();
for (let rep = 0; rep < REPS; rep++) {
  samples.node.push(await asNode());
  samples.run.push(await alone());
}
const node = median(samples.node);
const run = median(samples.run);
const steps = 2 * CALLS + 1;
console.log(`9. an agent with ${CALLS} tool calls (${steps} steps): agent node ${node.toFixed(2)} ms; agent.run() ${run.toFixed(2)} ms`);
console.log(`ratio ${(node / run).toFixed(2)}×, ${((node - run) / steps).toFixed(3)} ms more per step (medians of ${REPS})`);

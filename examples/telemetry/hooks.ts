/**
 * Lifecycle hooks: print every event of a run as it happens.
 *
 *   npx tsx examples/telemetry/hooks.ts
 */
import type { WorkflowEvent } from '../../src/index.js';
import { research } from './workflow.js';

const show = (event: WorkflowEvent): string =>
  event.type === 'stateChanged'
    ? `  ${event.id} ${event.action} from ${event.node ?? '(outside)'}: ${JSON.stringify(event.patches)}`
    : `${event.type.padEnd(22)} ${event.id}`;

// For every run of the workflow, until unsubscribed.
const unsubscribe = research.addHooks({ onEvent: (event) => console.log(show(event)) });

// For one run only: named hooks, next to the workflow's.
let nodes = 0;
const result = await research.execute(
  { topic: 'statecharts', apiKey: 'sk-secret' },
  { hooks: { nodeCompleted: () => void nodes++ } },
);
unsubscribe();

console.log(`\n${nodes} nodes completed; summary: ${result.state.summary}`);

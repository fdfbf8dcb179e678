/**
 * Streaming: read a run as an async iterable, then stop a second run early.
 *
 *   npx tsx examples/telemetry/stream.ts
 */
import { research } from './workflow.js';

for await (const item of research.stream({ topic: 'actors', apiKey: 'sk-secret' })) {
  if (item.type === 'result') console.log(`result: ${item.result.state.summary}`);
  else if (item.type === 'stateChanged') console.log(`  ${item.action} ${JSON.stringify(item.state)}`);
  else console.log(`${item.type} ${item.id}`);
}

// Leaving the loop cancels the run: the searches in flight see their signal abort.
const seen: string[] = [];
research.addHooks({ onEvent: (e) => e.type.endsWith('Cancelled') && seen.push(`${e.type} ${e.id}`) });
for await (const item of research.stream({ topic: 'patience', apiKey: 'sk-secret' })) {
  if (item.type === 'nodeCompleted' && item.name === 'SearchWeb') break;
}
console.log(`\nstopped early: ${seen.join(', ')}`);

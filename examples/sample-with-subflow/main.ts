/**
 * Runs Junjo's base sample with a subflow for three inputs, one per branch:
 *
 *   npx tsx examples/sample-with-subflow/main.ts
 */
import { sampleWorkflow } from './workflow.js';

for (const items of [
  ['laundry', 'groceries', 'dishes', 'email', 'taxes'], // 5 + 10 = 15
  ['apples', 'pears', 'plums', 'figs'], // 4 + 10 = 14, even
  ['red', 'green', 'blue'], // 3 + 10 = 13, odd
]) {
  const result = await sampleWorkflow.execute({ items });
  const jokeRuns = result.subflows.JokeAndFact ?? [];
  console.log(`items: ${items.join(', ')}`);
  console.log(`  path:    ${result.state.path.join(' → ')}`);
  console.log(`  counter: ${result.state.counter} (${result.state.outcome})`);
  console.log(`  joke:    ${result.state.joke}`);
  console.log(`  fact:    ${result.state.fact}`);
  console.log(`  subflow counts: ${JSON.stringify(jokeRuns[0]?.executionCounts)}\n`);
}

/**
 * Runs the counter workflow: 8 nodes incrementing and 3 decrementing, 25 times each, all at
 * once, with random delays between updates.
 *
 *   npx tsx examples/counter/main.ts
 */
import { counterWorkflow, expectedCount } from './workflow.js';

let commits = 0;
const result = await counterWorkflow.execute({ count: 0 }, { hooks: { stateChanged: () => void commits++ } });
console.log(`count: ${result.state.count} (expected ${expectedCount(0)}) after ${commits} commits`);
console.log(`data:  ${result.state.data}`);
if (result.state.count !== expectedCount(0)) process.exitCode = 1;

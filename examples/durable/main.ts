/**
 * A durable run you can interrupt: it checkpoints to a SQLite file after every step, so
 * Ctrl-C (or a crash) loses nothing that was committed.
 *
 *   npm run example:durable            starts a run; press Ctrl-C whenever you like
 *   npm run example:durable:resume     resumes every unfinished run where it stopped
 *
 * The file is examples/durable/runs.sqlite (or $DURABLE_DB).
 */
import { SqliteCheckpointStore } from '../../src/durable/sqlite.js';
import { messageOf, type ExecutionResult, type WorkflowHooks } from '../../src/index.js';
import { report } from './workflow.js';

const file = process.env.DURABLE_DB ?? new URL('./runs.sqlite', import.meta.url).pathname;
const checkpoint = new SqliteCheckpointStore(file);

const hooks: WorkflowHooks = {
  nodeCompleted: (e) => console.log(`  ✓ ${e.name}${e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`),
  nodeRetrying: (e) => console.log(`  ↻ ${e.name} failed (${messageOf(e.error)}); attempt ${e.attempt + 1} in ${e.delayMs} ms`),
};

function show(result: ExecutionResult<unknown>) {
  console.log(`Run ${result.runId} completed. Final state:`);
  console.log(JSON.stringify(result.state, null, 2));
}

if (process.argv.includes('--resume')) {
  const unfinished = await report.unfinishedRuns(checkpoint);
  if (unfinished.length === 0) console.log(`Nothing to resume in ${file}.`);
  for (const run of unfinished) {
    console.log(`Resuming run ${run.runId}, started ${new Date(run.createdAt).toLocaleTimeString()}:`);
    show(await report.resume(run.runId, { checkpoint, hooks }));
  }
} else {
  const runId = `report-${Date.now().toString(36)}`;
  console.log(`Run ${runId} checkpoints to ${file}.`);
  console.log('Press Ctrl-C at any time, then resume it with: npm run example:durable:resume');
  // Say how to go on where the reader pressed Ctrl-C; then die of the signal as before, so a
  // shell (and a test) still sees an interrupted process.
  process.once('SIGINT', () => {
    console.log(`\nInterrupted. Everything committed is in ${file}; resume run ${runId} with: npm run example:durable:resume`);
    checkpoint.close();
    process.kill(process.pid, 'SIGINT');
  });
  show(await report.execute({ topic: process.argv[2] ?? 'durable runs' }, { checkpoint, runId, hooks }));
}
checkpoint.close();

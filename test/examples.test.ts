import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { recordWorkoutActivity } from '../examples/record-workout-activity/workflow.js';
import { counterWorkflow, expectedCount } from '../examples/counter/workflow.js';

const run = promisify(execFile);
const test = suite('examples');

/** Runs an example's main.ts as a user would, through tsx. */
async function runExample(path: string, args: string[] = []) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path, ...args], { timeout: 60_000 });
  return stdout;
}

test('record-workout-activity: several activities go through the query splitter', async () => {
  const result = await recordWorkoutActivity.execute({ message: 'Ran 5k this morning, then did 20 pushups and yoga' });
  assert.equal(result.state, {
    message: 'Ran 5k this morning, then did 20 pushups and yoga',
    activityCount: 3,
    when: 'this morning',
    queries: ['log activity: Ran 5k this morning', 'log activity: did 20 pushups', 'log activity: yoga'],
    summary: 'Recorded 3 activities for this morning (3 queries)',
  });
  assert.equal(result.executionCounts, {
    'Initial Analysis': 1,
    CountActivities: 1,
    DetermineWhen: 1,
    ActivityQuerySplitter: 1,
    Final: 1,
  });
});

test('record-workout-activity: one activity goes straight to the final node', async () => {
  const result = await recordWorkoutActivity.execute({ message: 'swam 2k yesterday' });
  assert.is(result.state.summary, 'Recorded 1 activity for yesterday');
  assert.equal(result.state.queries, []);
  assert.is(result.executionCounts.ActivityQuerySplitter, undefined);
});

test('npm start prints each node starting and finishing, each state change, then the final state', async () => {
  const out = await runExample('examples/record-workout-activity/main.ts', ['rode 20k and swam 1k yesterday']);
  const lines = out.split('\n');
  const index = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
  for (const node of ['CountActivities', 'DetermineWhen', 'ActivityQuerySplitter', 'Final']) {
    assert.ok(index(new RegExp(`started +node '${node}'`)) >= 0, `${node} started`);
    assert.ok(index(new RegExp(`completed +node '${node}'`)) > index(new RegExp(`started +node '${node}'`)), `${node} completed after it started`);
  }
  assert.ok(index(/state +setActivityCount from CountActivities: activityCount = 2/) >= 0);
  assert.ok(index(/state +addQuery from ActivityQuerySplitter: queries.1 = "log activity: swam 1k yesterday"/) >= 0);
  assert.ok(index(/completed workflow 'RecordWorkoutActivity'/) < index(/^Final state:/));
  assert.match(out, /"summary": "Recorded 2 activities for yesterday \(2 queries\)"/);
});

test('counter: concurrent increments and decrements never race', async () => {
  for (const start of [0, 7]) {
    const result = await counterWorkflow.execute({ count: start });
    assert.is(result.state.count, expectedCount(start));
    assert.match(result.state.data ?? "", /^fetched while count was -?\d+$/);
  }
  assert.match(await runExample('examples/counter/main.ts'), /^count: 125 \(expected 125\) after 276 commits/);
});

test('sample-with-subflow runs all three branches', async () => {
  const out = await runExample('examples/sample-with-subflow/main.ts');
  assert.match(out, /path: +CountItems → JokeAndFact → CounterIs15Node → Final/);
  assert.match(out, /path: +CountItems → JokeAndFact → EvenNode → Final/);
  assert.match(out, /path: +CountItems → JokeAndFact → OddNode → Final/);
});

test('research-agent (issue 16): a RunMap of model nodes, then an agent with two tools, offline over HTTP', async () => {
  const out = await runExample('examples/research-agent/main.ts', ['What do these animals do?']);
  assert.match(out, /model: the local chat-completions stand-in at http:\/\/127\.0\.0\.1:\d+\/v1/);
  for (let i = 0; i < 4; i++) assert.match(out, new RegExp(`\\[Research/Summarize\\[${i}\\]\\] \\S`), `document ${i} streamed`);
  assert.match(out, /\(model request 1 done\)\s+\(tool lookup_document done\)\s+\(tool count_words done\)/);
  assert.match(out, /✓ WriteReport: \d+ tokens/);
  assert.match(out, /Report:\nReport on "What do these animals do\?"\. Otters: Sea otters hold hands.*\(Sources: 4 documents, \d+ words of notes\.\)/);
});

test.run();

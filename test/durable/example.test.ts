/** examples/durable as a reader uses it: start it, interrupt it with Ctrl-C (SIGINT), resume it. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToEnd } from '../support/processes.js';

const test = suite('durable: example');
const dir = mkdtempSync(join(tmpdir(), 'junjo-example-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the example; `interruptWhen(out)` may return true to send it SIGINT. */
async function example(args: string[], env: Record<string, string>, interruptWhen?: (out: string) => boolean) {
  const run = await runToEnd('examples/durable/main.ts', args, env, interruptWhen);
  if (run.code !== 0 && run.signal === null) throw new Error(`the example exited with ${run.code}:\n${run.out}\n${run.err}`);
  return run;
}

test('Ctrl-C interrupts a run; resume finishes it without redoing the steps it had done', async () => {
  const env = { DURABLE_DB: join(dir, 'runs.sqlite'), DURABLE_STEP_MS: '40' };
  const first = await example([], env, (out) => out.includes('✓ Section 2'));
  assert.is(first.signal, 'SIGINT', 'the first run was interrupted');
  assert.not.match(first.out, /completed\. Final state/);
  const runId = /Run (report-\w+) checkpoints/.exec(first.out)![1];

  const resumed = await example(['--resume'], env);
  assert.match(resumed.out, new RegExp(`Resuming run ${runId}`));
  assert.not.match(resumed.out, /✓ Outline|✓ Section 1\b/, 'steps done before Ctrl-C are not done again');
  assert.match(resumed.out, /✓ Section 5/);
  assert.match(resumed.out, /↻ Publish failed \(the publishing service is busy\); attempt 2/);
  const state = JSON.parse(resumed.out.slice(resumed.out.indexOf('{')));
  assert.equal(state, {
    topic: 'durable runs',
    outline: ['Why', 'What', 'How', 'Costs', 'Next steps'],
    sections: ['Why', 'What', 'How', 'Costs', 'Next steps'].map((h) => `${h}: a paragraph about durable runs`),
    reviewed: true,
    url: 'https://example.com/reports/durable%20runs',
  });

  const again = await example(['--resume'], env);
  assert.match(again.out, /Nothing to resume/);
});

test.run();

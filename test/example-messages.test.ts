// What the examples tell a reader at the end: the flagship example must not claim it sent the
// run to an inspector nobody listens at, and Ctrl-C in the durable example says how to resume.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToEnd } from './support/processes.js';

const test = suite('example messages');
const dir = mkdtempSync(join(tmpdir(), 'junjo-messages-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an example through tsx; `interruptWhen(out)` may return true to send it SIGINT. */
const example = runToEnd;

/** A local port nothing listens at (it was free a moment ago). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('npm start -- --inspect with no inspector running does not say it sent the run there', async () => {
  const port = await freePort();
  const run = await example('examples/record-workout-activity/main.ts', ['--inspect'], { JUNJO_INSPECTOR_URL: `ws://127.0.0.1:${port}/` });
  assert.is(run.code, 0, run.err);
  assert.match(run.err, /nothing listens/);
  assert.not.match(run.out, /Sent to the inspector/);
  assert.match(run.out, /Not shown in the inspector: start it with `npm run inspector`/);
});

test('Ctrl-C in the durable example says how to resume the run, and the process still ends by SIGINT', async () => {
  const env = { DURABLE_DB: join(dir, 'runs.sqlite'), DURABLE_STEP_MS: '40' };
  const run = await example('examples/durable/main.ts', [], env, (out) => out.includes('✓ Outline'));
  assert.is(run.signal, 'SIGINT');
  const runId = /Run (report-\w+) checkpoints/.exec(run.out)![1];
  assert.match(run.out, new RegExp(`Interrupted\\..*resume run ${runId} with: npm run example:durable:resume`));
});

test.run();

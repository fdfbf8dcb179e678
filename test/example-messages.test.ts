// What the examples tell a reader at the end: the flagship example must not claim it sent the
// run to an inspector nobody listens at, and Ctrl-C in the durable example says how to resume.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const test = suite('example messages');
const dir = mkdtempSync(join(tmpdir(), 'junjo-messages-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an example through tsx; `interruptWhen(out)` may return true to send it SIGINT. */
function example(path: string, args: string[], env: Record<string, string>, interruptWhen?: (out: string) => boolean) {
  return new Promise<{ out: string; err: string; signal: NodeJS.Signals | null; code: number | null }>((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let interrupted = false;
    const guard = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!interrupted && interruptWhen?.(out)) {
        interrupted = true;
        proc.kill('SIGINT');
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ out, err, signal, code });
    });
  });
}

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

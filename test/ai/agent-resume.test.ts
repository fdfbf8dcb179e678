/**
 * A durable agent run killed in the middle of its loop and resumed in another process: the
 * loop's state is in the run's snapshot (src/compile/kinds/agent.ts), so the resumed run repeats
 * no completed model request or tool call; only the tool call in flight when the process died
 * runs again (at least once, as any node in flight does). Real processes, a real SIGKILL, a
 * SQLite checkpoint file; each process appends its requests and calls to a log.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from '../support/processes.js';

const test = suite('ai: agent resumed after its process was killed');
const dir = mkdtempSync(join(tmpdir(), 'junjo-agent-crash-'));
const child = 'test/ai/fixtures/agent-crash-child.ts';

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('SIGKILLed in its second tool call, resumed elsewhere: model requests and the first tool are not repeated', async () => {
  const db = join(dir, 'runs.sqlite');
  const log = join(dir, 'steps.log');
  const first = startChild(child, ['start', db, log]);
  // Killed only once the checkpoint holds the loop with the second call in flight.
  await Promise.all([first.line(/^in second$/), first.line(/^checkpointed tool#2$/)]);
  first.proc.kill('SIGKILL');
  assert.is((await first.exited).signal, 'SIGKILL');
  assert.equal(readFileSync(log, 'utf8').trim().split('\n'), [
    'start model after 0 tool results',
    'start tool first',
    'start model after 1 tool results',
    'start tool second',
  ]);

  const second = startChild(child, ['resume', db, log]);
  const result = await second.line(/^result /);
  assert.is((await second.exited).code, 0);
  assert.equal(JSON.parse(result.slice('result '.length)), { report: 'done' });
  assert.equal(readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.startsWith('resume ')), [
    'resume tool second',
    'resume model after 2 tool results',
  ], 'only the call in flight ran again; no model request was repeated');
});

test.run();

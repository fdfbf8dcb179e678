/**
 * What only the SQLite file store can meet: a file that is not a database, or was cut short,
 * is refused and left byte for byte as it was. Everything every store must do is in
 * conformance.test.ts, run against the memory, SQLite and Postgres stores alike.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, type Workflow } from '../../src/index.js';
import { SqliteCheckpointStore } from '../../src/durable/sqlite.js';
import { nested, type Trace } from './fixtures/nested.js';

const test = suite('durable: the SQLite file');
const dir = mkdtempSync(join(tmpdir(), 'junjo-checkpoint-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A SQLite file holding one interrupted run of `nested`, closed (so all of it is in the file). */
async function interruptedRunFile(name: string): Promise<string> {
  const path = join(dir, `${name}.db`);
  const store = new SqliteCheckpointStore(path);
  const controller = new AbortController();
  let seen = 0;
  const hooks = { stateChanged: () => void (++seen === 5 && queueMicrotask(() => controller.abort())) };
  await nested.execute(undefined, { checkpoint: store, runId: 'r', signal: controller.signal, hooks }).catch(() => {});
  store.close();
  return path;
}

function fileState(path: string) {
  const hash = createHash('sha1').update(readFileSync(path)).digest('hex');
  return { hash, wal: existsSync(`${path}-wal`) };
}

async function refused(path: string, workflow: Workflow<void, Trace>): Promise<CheckpointError> {
  const before = fileState(path);
  let error: unknown;
  try {
    const store = new SqliteCheckpointStore(path);
    error = await workflow.resume('r', { checkpoint: store }).catch((e) => e);
    store.close();
  } catch (e) {
    error = e;
  }
  assert.equal(fileState(path), before, 'the file is left byte for byte as it was');
  assert.instance(error, CheckpointError);
  return error as CheckpointError;
}

test('a file that is not a database, or was cut short, is refused', async () => {
  const garbage = join(dir, 'garbage.db');
  writeFileSync(garbage, 'not a database at all '.repeat(300));
  assert.match((await refused(garbage, nested)).message, /'.*garbage\.db' is not a usable checkpoint database \(SQLite says: file is not a database\)/);

  const cut = await interruptedRunFile('cut');
  truncateSync(cut, 3000);
  const error = await refused(cut, nested);
  assert.is(error.problem, 'corrupt');
  assert.match(error.message, /is not a usable checkpoint database \(SQLite says: .*malformed/);
});

test.run();

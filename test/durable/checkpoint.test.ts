/**
 * Checkpointed runs in one process: what is written and when, resuming after a cancellation
 * at every commit (through a subflow and a RunConcurrent), how a run's end is recorded, and
 * the checkpoints that are refused (SQLite file left byte for byte as it was).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointError,
  Edge,
  Graph,
  MemoryCheckpointStore,
  RunConcurrent,
  Subflow,
  Workflow,
  defineStore,
  node,
  type CheckpointRecord,
  type CheckpointStore,
  type NodeContext,
  type StoreOf,
} from '../../src/index.js';
import { SqliteCheckpointStore } from '../../src/durable/sqlite.js';
import { sleep } from '../helpers.js';

const test = suite('durable: checkpoints and resume');
const dir = mkdtempSync(join(tmpdir(), 'junjo-checkpoint-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const TraceStore = defineStore({
  name: 'TraceStore',
  initial: { log: [] as string[], fromSub: null as string | null },
  actions: {
    add: (d, id: string) => void d.log.push(id),
    fromSub: (d, text: string) => void (d.fromSub = text),
  },
});
type Trace = StoreOf<typeof TraceStore>;
const SubStore = defineStore({
  name: 'SubStore',
  initial: { topic: '', notes: [] as string[] },
  actions: {
    topic: (d, t: string) => void (d.topic = t),
    note: (d, n: string) => void d.notes.push(n),
  },
});
type Sub = StoreOf<typeof SubStore>;

/** Runs per node execution, across processes of this file: proves which nodes ran again. */
const runs: string[] = [];
function step<H extends Trace | Sub>(name: string, write: (s: H, id: string) => Promise<unknown>) {
  return node<H>(name, async (store, ctx: NodeContext) => {
    runs.push(`${name}@${ctx.attempt}`);
    await write(store, `${name}.1`);
    await sleep(2, ctx.signal);
    await write(store, `${name}.2`);
  });
}

class Notes extends Subflow<Sub, Trace> {
  override async preRunActions(parent: Trace, sub: Sub) {
    await sub.topic(parent.getState().log.join(','));
  }
  override async postRunActions(parent: Trace, sub: Sub) {
    await parent.fromSub(sub.getState().notes.join(' '));
  }
}

function makeWorkflow(name = 'Nested', extraNode = false) {
  return new Workflow({
    name,
    graph: () => {
      const a = step<Trace>('A', (s, id) => s.add(id));
      const notes = new Notes({
        name: 'Notes',
        graph: () => {
          const s1 = step<Sub>('S1', (s, id) => s.note(id));
          const s2 = step<Sub>('S2', (s, id) => s.note(id));
          return new Graph({ source: s1, sinks: [s2], edges: [new Edge({ tail: s1, head: s2 })] });
        },
        store: () => SubStore.create(),
      });
      const fan = new RunConcurrent({ name: 'Fan', items: ['P', 'Q'].map((n) => step<Trace>(n, (s, id) => s.add(id))) });
      const z = step<Trace>('Z', (s, id) => s.add(id));
      const chain = extraNode ? [a, notes, fan, step<Trace>('Extra', (s, id) => s.add(id)), z] : [a, notes, fan, z];
      return new Graph({
        source: a,
        sinks: [z],
        edges: chain.slice(1).map((head, i) => new Edge({ tail: chain[i]!, head })),
      });
    },
    store: () => TraceStore.create(),
  });
}
const nested = makeWorkflow();

/** The log without the interleaving of the RunConcurrent's items. */
const normal = (state: { log: readonly string[]; fromSub: string | null }) => ({ ...state, log: [...state.log].sort() });

test('a checkpointed run is written after its commits and transitions, and ends as completed with its result', async () => {
  const store = new MemoryCheckpointStore();
  const written: { status: string; value: unknown }[] = [];
  const spy: CheckpointStore = {
    ...store,
    put: (r) => {
      written.push({ status: r.status, value: JSON.parse(r.data).snapshot.value });
      store.put(r);
    },
    get: (id) => store.get(id),
    list: (f) => store.list(f),
    delete: (id) => store.delete(id),
  };
  const result = await nested.execute(undefined, { checkpoint: spy, runId: 'w1' });
  assert.ok(written.length >= 8, `${written.length} writes`);
  assert.equal(written.at(-1), { status: 'completed', value: '$done' });
  assert.ok(written.slice(0, -1).every((w) => w.status === 'running'));
  assert.equal(store.list(), [{ runId: 'w1', workflow: 'Nested', status: 'completed', createdAt: store.list()[0]!.createdAt, updatedAt: store.list()[0]!.updatedAt }]);
  assert.equal(await nested.unfinishedRuns(store), []);
  runs.length = 0;
  assert.equal(await nested.resume('w1', { checkpoint: store }), result, 'resuming a completed run gives its result');
  assert.equal(runs, [], 'without running anything');
});

test('keepCompleted: false deletes the checkpoint of a completed run', async () => {
  const store = new MemoryCheckpointStore();
  await nested.execute(undefined, { checkpoint: store, keepCompleted: false });
  assert.equal(store.list(), []);
});

test('a run cancelled at any commit, in the subflow or the RunConcurrent, resumes to the uninterrupted state', async () => {
  const expected = await nested.execute();
  let commits = 0;
  await nested.execute(undefined, { hooks: { stateChanged: () => void commits++ } });
  assert.ok(commits >= 12, `${commits} commits`);

  for (let k = 1; k <= commits; k++) {
    const store = new MemoryCheckpointStore();
    const controller = new AbortController();
    let seen = 0;
    const hooks = { stateChanged: () => void (++seen === k && queueMicrotask(() => controller.abort())) };
    await nested.execute(undefined, { checkpoint: store, runId: `cancel-${k}`, signal: controller.signal, hooks }).catch((e) => e);
    assert.equal((await nested.unfinishedRuns(store)).map((r) => [r.runId, r.status]), [[`cancel-${k}`, 'cancelled']]);
    runs.length = 0;
    const result = await nested.resume(`cancel-${k}`, { checkpoint: store });
    assert.equal(normal(result.state), normal(expected.state), `cancelled at commit ${k}: the same final state`);
    assert.equal(result.executionCounts, expected.executionCounts, `cancelled at commit ${k}: each node counted once`);
    assert.equal(result.subflows.Notes![0]!.state, expected.subflows.Notes![0]!.state, `cancelled at commit ${k}: the subflow's state`);
    assert.ok(runs.every((r) => /@[12]$/.test(r)), `cancelled at commit ${k}: ${runs.join(' ')}`);
    assert.equal((await nested.unfinishedRuns(store)), []);
  }
});

test('a failed run keeps its checkpoint as failed, and is not resumed', async () => {
  const failing = new Workflow({
    name: 'Failing',
    graph: () => {
      const a = node<Trace>('A', (s) => s.add('a'));
      const b = node<Trace>('B', () => {
        throw new Error('boom');
      });
      return new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: b })] });
    },
    store: () => TraceStore.create(),
  });
  const store = new MemoryCheckpointStore();
  await failing.execute(undefined, { checkpoint: store, runId: 'f1' }).catch(() => {});
  assert.equal(store.list().map((r) => [r.status, r.error]), [['failed', "Workflow 'Failing' (run f1) failed at 'B': boom"]]);
  const error = await failing.resume('f1', { checkpoint: store }).catch((e) => e);
  assert.instance(error, CheckpointError);
  assert.is(error.problem, 'finished');
  assert.match(error.message, /Run 'f1' of workflow 'Failing' failed \(.*boom\), and a failed run is not resumed: start a new run/);
});

test('a run id that already has a checkpoint is not reused, and a missing one is named', async () => {
  const store = new MemoryCheckpointStore();
  await nested.execute(undefined, { checkpoint: store, runId: 'taken' });
  const error = await nested.execute(undefined, { checkpoint: store, runId: 'taken' }).catch((e) => e);
  assert.instance(error, CheckpointError);
  assert.match(error.message, /Run 'taken' already has a checkpoint \(workflow 'Nested', completed\)/);
  const missing = await nested.resume('nope', { checkpoint: store }).catch((e) => e);
  assert.is(missing.problem, 'missing');
  assert.match(missing.message, /no checkpoint of run 'nope'.*workflow.unfinishedRuns\(store\)/);
});

test('a checkpoint that cannot be written stops the run with a CheckpointError', async () => {
  const store = new MemoryCheckpointStore();
  let puts = 0;
  const broken: CheckpointStore = {
    put: (r: CheckpointRecord) => {
      if (++puts === 3) throw new Error('disk full');
      store.put(r);
    },
    get: (id) => store.get(id),
    list: (f) => store.list(f),
    delete: (id) => store.delete(id),
  };
  const error = await nested.execute(undefined, { checkpoint: broken, runId: 'b1' }).catch((e) => e);
  assert.instance(error, CheckpointError);
  assert.is(error.problem, 'write');
  assert.match(error.message, /could not be written \(disk full\), so the run was stopped/);
  assert.is(puts, 3, 'nothing was written after the failure');
});

// --- Refused checkpoints, SQLite file untouched --------------------------------------------

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

function rawUpdate(path: string, sql: string, ...params: unknown[]) {
  const db = new Database(path);
  db.prepare(sql).run(...params);
  db.close();
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

test('sanity: an interrupted run in a SQLite file resumes', async () => {
  const path = await interruptedRunFile('sane');
  const store = new SqliteCheckpointStore(path);
  const result = await nested.resume('r', { checkpoint: store });
  store.close();
  assert.equal(normal(result.state), normal((await nested.execute()).state));
});

test('a truncated checkpoint record is refused, naming the run and what to do', async () => {
  const path = await interruptedRunFile('truncated');
  rawUpdate(path, `UPDATE junjo_checkpoints SET data = substr(data, 1, length(data) / 2)`);
  const error = await refused(path, nested);
  assert.is(error.problem, 'corrupt');
  assert.match(error.message, /checkpoint of run 'r' in '.*truncated\.db' is corrupt \(its data does not match its checksum.*delete the checkpoint \(checkpoint.delete\('r'\)\)/);
});

test('a corrupt checkpoint record (with a matching checksum) is refused', async () => {
  const path = await interruptedRunFile('corrupt');
  const db = new Database(path);
  const { data } = db.prepare('SELECT data FROM junjo_checkpoints').get() as { data: string };
  const garbled = data.replace('"children":', '"children":!');
  db.prepare('UPDATE junjo_checkpoints SET data = ?, checksum = ?').run(garbled, createHash('sha1').update(garbled).digest('base64'));
  db.close();
  const error = await refused(path, nested);
  assert.is(error.problem, 'corrupt');
  assert.match(error.message, /checkpoint of run 'r' is corrupt \(its data is not valid JSON.*\), so the run cannot be resumed/);
});

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

test("another workflow's checkpoint is refused", async () => {
  const path = await interruptedRunFile('other');
  const other = makeWorkflow('OtherWorkflow');
  const error = await refused(path, other);
  assert.is(error.problem, 'workflow');
  assert.match(error.message, /checkpoint of run 'r' belongs to workflow 'Nested', not 'OtherWorkflow': resume it with workflow 'Nested'/);
});

test("a checkpoint of an older graph of the workflow is refused", async () => {
  const path = await interruptedRunFile('older');
  const changed = makeWorkflow('Nested', true);
  assert.is.not(changed.fingerprint, nested.fingerprint);
  const error = await refused(path, changed);
  assert.is(error.problem, 'graph');
  assert.match(error.message, /written by another version of workflow 'Nested': its graph \(fingerprint \w+\) differs from this one \(\w+\).*Resume it with the version of the code that started it/);
});

test('the SQLite file stays consistent while 100 runs checkpoint at once, through 4 connections', async () => {
  const path = join(dir, 'many.db');
  const stores = Array.from({ length: 4 }, () => new SqliteCheckpointStore(path));
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) => nested.execute(undefined, { checkpoint: stores[i % 4]!, runId: `many-${i}` })),
  );
  const expected = normal(results[0]!.state);
  assert.ok(results.every((r) => JSON.stringify(normal(r.state)) === JSON.stringify(expected)));
  const db = new Database(path);
  assert.equal(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  assert.equal(db.prepare(`SELECT status, count(*) AS n FROM junjo_checkpoints GROUP BY status`).all(), [{ status: 'completed', n: 100 }]);
  db.close();
  for (const store of stores) {
    assert.is(store.list({ status: 'completed' }).length, 100);
    store.close();
  }
});

test.run();

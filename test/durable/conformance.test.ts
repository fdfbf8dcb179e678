/**
 * One conformance suite for every durable store — memory, SQLite, PostgreSQL — run case for
 * case against each: what is written and when, resuming after a cancellation at every commit
 * (through a subflow and a RunConcurrent), how a run's end is recorded, failed writes, and the
 * checkpoints that are refused with the backing left exactly as it was (the SQLite file byte
 * for byte, every Postgres row). Without Postgres its suite is skipped with a notice (CI fails).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckpointError, Edge, Graph, Workflow, node, type CheckpointRecord, type CheckpointStore } from '../../src/index.js';
import { backends, type Backend } from './fixtures/backends.js';
import { TraceStore, makeWorkflow, nested, normal, runs, type Trace } from './fixtures/nested.js';

/** Wraps `store` so that every write goes through `onPut` first. */
function watched(store: CheckpointStore, onPut: (record: CheckpointRecord) => void): CheckpointStore {
  return {
    put: (r) => {
      onPut(r);
      return store.put(r);
    },
    get: (id) => store.get(id),
    list: (f) => store.list(f),
    delete: (id) => store.delete(id),
  };
}

/** A store holding one run 'r' of `nested`, cancelled at its fifth commit; all stores closed after. */
async function interruptedRun(backend: Backend): Promise<void> {
  const store = await backend.open();
  const controller = new AbortController();
  let seen = 0;
  const hooks = { stateChanged: () => void (++seen === 5 && queueMicrotask(() => controller.abort())) };
  await nested.execute(undefined, { checkpoint: store, runId: 'r', signal: controller.signal, hooks }).catch(() => {});
  await backend.closeAll();
}

/** Resumes 'r' with `workflow` from a fresh store: it must be refused, the backing left as it was. */
async function refused(backend: Backend, workflow: Workflow<void, Trace>): Promise<CheckpointError> {
  const before = await backend.contents();
  let error: unknown;
  try {
    const store = await backend.open();
    error = await workflow.resume('r', { checkpoint: store }).catch((e) => e);
  } catch (e) {
    error = e;
  }
  await backend.closeAll();
  assert.is(await backend.contents(), before, 'the record is left exactly as it was');
  assert.instance(error, CheckpointError);
  return error as CheckpointError;
}

function conformance(make: () => Backend) {
  const backend = make();
  const test = suite(`durable: checkpoint store conformance (${backend.name})`);
  test.after.each(() => backend.closeAll());
  test.after(() => backend.teardown());

  test('a checkpointed run is written after its commits and transitions, and ends as completed with its result', async () => {
    const store = await backend.open();
    const written: { status: string; value: unknown }[] = [];
    const spy = watched(store, (r) => written.push({ status: r.status, value: JSON.parse(r.data).snapshot.value }));
    const result = await nested.execute(undefined, { checkpoint: spy, runId: 'w1' });
    assert.ok(written.length >= 8, `${written.length} writes`);
    assert.equal(written.at(-1), { status: 'completed', value: '$done' });
    assert.ok(written.slice(0, -1).every((w) => w.status === 'running'));
    const [summary] = await store.list();
    assert.equal(await store.list(), [{ runId: 'w1', workflow: 'Nested', status: 'completed', createdAt: summary!.createdAt, updatedAt: summary!.updatedAt }]);
    assert.ok(summary!.updatedAt >= summary!.createdAt);
    assert.equal(await nested.unfinishedRuns(store), []);
    runs.length = 0;
    assert.equal(await nested.resume('w1', { checkpoint: store }), result, 'resuming a completed run gives its result');
    assert.equal(runs, [], 'without running anything');
  });

  test('keepCompleted: false deletes the checkpoint of a completed run', async () => {
    const store = await backend.open();
    await nested.execute(undefined, { checkpoint: store, runId: 'k1', keepCompleted: false });
    assert.equal(await store.get('k1'), undefined);
    assert.equal((await store.list()).filter((s) => s.runId === 'k1'), []);
  });

  test('list filters by workflow and status, oldest first; delete says whether there was a record', async () => {
    const store = await backend.open();
    const base = { workflow: 'W', createdAt: 1, updatedAt: 1, data: '{}' };
    await store.put({ ...base, runId: 'l2', status: 'running', createdAt: 20 });
    await store.put({ ...base, runId: 'l1', status: 'failed', createdAt: 10, error: 'boom' });
    await store.put({ ...base, runId: 'l3', status: 'running', workflow: 'V', createdAt: 30 });
    assert.equal((await store.list({ workflow: 'W' })).map((s) => s.runId), ['l1', 'l2']);
    assert.equal((await store.list({ workflow: 'W', status: 'running' })).map((s) => s.runId), ['l2']);
    assert.equal((await store.list({ status: ['failed', 'running'] })).filter((s) => s.runId.startsWith('l')).map((s) => s.runId), ['l1', 'l2', 'l3']);
    assert.equal((await store.list({ status: [] })).length, 0);
    assert.equal((await store.list({ workflow: 'W', status: 'failed' }))[0], { runId: 'l1', workflow: 'W', status: 'failed', createdAt: 10, updatedAt: 1, error: 'boom' });
    assert.equal(await store.get('l2'), { ...base, runId: 'l2', status: 'running', createdAt: 20 });
    assert.is(await store.delete('l1'), true);
    assert.is(await store.delete('l1'), false);
    assert.equal(await store.get('l1'), undefined);
    for (const id of ['l2', 'l3']) await store.delete(id);
  });

  test('a run cancelled at any commit, in the subflow or the RunConcurrent, resumes to the uninterrupted state', async () => {
    const expected = await nested.execute();
    let commits = 0;
    await nested.execute(undefined, { hooks: { stateChanged: () => void commits++ } });
    assert.ok(commits >= 12, `${commits} commits`);
    const store = await backend.open();

    for (let k = 1; k <= commits; k++) {
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
      assert.equal(await nested.unfinishedRuns(store), []);
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
    const store = await backend.open();
    await failing.execute(undefined, { checkpoint: store, runId: 'f1' }).catch(() => {});
    assert.equal((await store.list({ workflow: 'Failing' })).map((r) => [r.status, r.error]), [['failed', "Workflow 'Failing' (run f1) failed at 'B': boom"]]);
    const error = await failing.resume('f1', { checkpoint: store }).catch((e) => e);
    assert.instance(error, CheckpointError);
    assert.is(error.problem, 'finished');
    assert.match(error.message, /Run 'f1' of workflow 'Failing' failed \(.*boom\), and a failed run is not resumed: start a new run/);
  });

  test('a run id that already has a checkpoint is not reused, and a missing one is named', async () => {
    const store = await backend.open();
    await nested.execute(undefined, { checkpoint: store, runId: 'taken' });
    const error = await nested.execute(undefined, { checkpoint: store, runId: 'taken' }).catch((e) => e);
    assert.instance(error, CheckpointError);
    assert.match(error.message, /Run 'taken' already has a checkpoint \(workflow 'Nested', completed\)/);
    const missing = await nested.resume('nope', { checkpoint: store }).catch((e) => e);
    assert.is(missing.problem, 'missing');
    assert.match(missing.message, /no checkpoint of run 'nope'.*workflow.unfinishedRuns\(store\)/);
  });

  test('a checkpoint that cannot be written stops the run with a CheckpointError', async () => {
    const store = await backend.open();
    let puts = 0;
    const broken = watched(store, () => {
      if (++puts === 3) throw new Error('disk full');
    });
    const error = await nested.execute(undefined, { checkpoint: broken, runId: 'b1' }).catch((e) => e);
    assert.instance(error, CheckpointError);
    assert.is(error.problem, 'write');
    assert.match(error.message, /could not be written \(disk full\), so the run was stopped/);
    assert.is(puts, 3, 'nothing was written after the failure');
    const kept = await store.get('b1');
    assert.is(JSON.parse(kept!.data).snapshot.status, 'active', 'the last good checkpoint stays, to resume from');
  });

  test('sanity: an interrupted run resumes from a store opened afresh', async () => {
    await interruptedRun(backend);
    const store = await backend.open();
    const result = await nested.resume('r', { checkpoint: store });
    assert.equal(normal(result.state), normal((await nested.execute()).state));
    await store.delete('r');
  });

  test('a truncated checkpoint record is refused, naming the run and what to do', async () => {
    await interruptedRun(backend);
    await backend.truncate('r');
    const error = await refused(backend, nested);
    assert.is(error.problem, 'corrupt');
    assert.match(error.message, backend.truncatedMessage);
    await (await backend.open()).delete('r');
  });

  test('a corrupt checkpoint record (with a matching checksum) is refused', async () => {
    await interruptedRun(backend);
    await backend.rewrite('r', (data) => data.replace('"children":', '"children":!'));
    const error = await refused(backend, nested);
    assert.is(error.problem, 'corrupt');
    assert.match(error.message, /checkpoint of run 'r' is corrupt \(its data is not valid JSON.*\), so the run cannot be resumed/);
    await (await backend.open()).delete('r');
  });

  test('a record that is JSON but not a run snapshot is refused', async () => {
    await interruptedRun(backend);
    await backend.rewrite('r', (data) => data.replace(/"snapshot":.*\}$/, '"snapshot":{"status":"active","context":null}}'));
    const error = await refused(backend, nested);
    assert.is(error.problem, 'corrupt');
    assert.match(error.message, /checkpoint of run 'r' is corrupt \(its snapshot has no run context\)/);
    await (await backend.open()).delete('r');
  });

  test("another workflow's checkpoint is refused", async () => {
    await interruptedRun(backend);
    const error = await refused(backend, makeWorkflow('OtherWorkflow'));
    assert.is(error.problem, 'workflow');
    assert.match(error.message, /checkpoint of run 'r' belongs to workflow 'Nested', not 'OtherWorkflow': resume it with workflow 'Nested'/);
    await (await backend.open()).delete('r');
  });

  test('a checkpoint of an older graph of the workflow is refused', async () => {
    await interruptedRun(backend);
    const changed = makeWorkflow('Nested', true);
    assert.is.not(changed.fingerprint, nested.fingerprint);
    const error = await refused(backend, changed);
    assert.is(error.problem, 'graph');
    assert.match(error.message, /written by another version of workflow 'Nested': its graph \(fingerprint \w+\) differs from this one \(\w+\).*Resume it with the version of the code that started it/);
    await (await backend.open()).delete('r');
  });

  test('the store stays consistent while 100 runs checkpoint at once, through 4 stores', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => backend.open()));
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => nested.execute(undefined, { checkpoint: stores[i % 4]!, runId: `many-${i}` })));
    const expected = normal(results[0]!.state);
    assert.ok(results.every((r) => JSON.stringify(normal(r.state)) === JSON.stringify(expected)));
    for (const store of stores) {
      const completed = (await store.list({ status: 'completed' })).filter((s) => s.runId.startsWith('many-'));
      assert.is(completed.length, 100);
    }
    await backend.closeAll();
    if (backend.integrity) assert.equal(await backend.integrity(), [{ integrity_check: 'ok' }]);
  });

  test.run();
}

for (const make of backends('durable: checkpoint store conformance (PostgreSQL)').map((b) => () => b)) conformance(make);

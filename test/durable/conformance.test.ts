/**
 * One conformance suite for every durable store — memory, SQLite, PostgreSQL — run case for
 * case against each: what is written and when, resuming after a cancellation at every commit
 * (through a subflow and a RunConcurrent), how a run's end is recorded, failed writes, and the
 * checkpoints that are refused with the backing left exactly as it was (the SQLite file byte
 * for byte, every Postgres row), and each run's history with forks from it (fixtures/history-cases.ts). Without Postgres its suite is skipped with a notice (CI fails).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CheckpointError,
  Edge,
  Graph,
  LeaseHeldError,
  LeaseLostError,
  RunParked,
  WorkflowCancelledError,
  Workflow,
  defineStore,
  isLeasing,
  node,
  waitFor,
  type CheckpointRecord,
  type CheckpointStore,
  type LeasingCheckpointStore,
  type StoreOf,
} from '../../src/index.js';
import { backends, type Backend } from './fixtures/backends.js';
import { historyCases } from './fixtures/history-cases.js';
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
    // An asynchronous store coalesces the steps made while a write is under way into the next one.
    assert.ok(written.length >= (backend.syncWrites ? 8 : 2), `${written.length} writes`);
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

  test("the graph a run's checkpoints are written under is kept by its fingerprint, once, and read back by a store opened afresh", async () => {
    const store = await backend.open();
    assert.ok(store.putGraph && store.getGraph, `${backend.name} keeps graphs`);
    await nested.execute(undefined, { checkpoint: store, runId: 'g1' });
    const kept = await store.getGraph!(nested.fingerprint);
    const graph = (nested.machine.config.meta as { junjo: { graph: unknown } }).junjo.graph;
    assert.equal(JSON.parse(kept ?? 'null'), graph, 'the graph, as the machine carries it');
    // Keeping another graph under the same fingerprint changes nothing: a fingerprint names one graph.
    await store.putGraph!(nested.fingerprint, nested.name, '{"other":true}');
    await backend.closeAll();
    const reopened = await backend.open();
    assert.is(await reopened.getGraph!(nested.fingerprint), kept);
    assert.is(await reopened.getGraph!('no-such-fingerprint'), undefined);
    await reopened.delete('g1');
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

  test("a cancel in the same tick as a node's completion keeps that completion: the node does not run again", async () => {
    const store = await backend.open();
    const ran: string[] = [];
    const twoSteps = new Workflow({
      name: 'TwoSteps',
      graph: () => {
        const a = node<Trace>('A', async (s, ctx) => void (ran.push(`A@${ctx.attempt}`), await s.add('A')));
        const b = node<Trace>('B', async (s, ctx) => void (ran.push(`B@${ctx.attempt}`), await s.add('B')));
        return new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: b })] });
      },
      store: () => TraceStore.create(),
    });
    // Writes that take a turn of the event loop: the transition to B has only a write pending
    // (behind the one under way) when the run is cancelled.
    const slow = watched(store, () => {});
    const put = slow.put;
    slow.put = (r) => new Promise<void>((resolve, reject) => setImmediate(() => Promise.resolve(put(r)).then(resolve, reject)));
    const controller = new AbortController();
    let cancelled = false;
    const inspect = (event: { type: string; snapshot?: unknown }) => {
      if (!cancelled && event.type === '@xstate.snapshot' && (event.snapshot as { value?: unknown }).value === 'B') {
        cancelled = true;
        queueMicrotask(() => controller.abort());
      }
    };
    const error = await twoSteps.execute(undefined, { checkpoint: slow, runId: 'tick', signal: controller.signal, inspect }).catch((e) => e);
    assert.is(error.name, 'WorkflowCancelledError');
    ran.length = 0;
    const result = await twoSteps.resume('tick', { checkpoint: store });
    assert.equal(result.state.log, ['A', 'B']);
    assert.equal(ran, ['B@2'], 'A completed before the cancel and did not run again; B was in flight');
    await store.delete('tick');
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

  test('a run parked at its wait (aborted with RunParked) is recorded waiting, listed so, and resumed takes its event; any other abort is cancelled', async () => {
    const approval = new Workflow({
      name: 'Approval',
      graph: () => {
        const a = node<Trace>('A', (s) => s.add('a'));
        const sign = waitFor<Trace, { type: 'sign'; by: string }>('Sign', ['sign'], (s, e) => s.add(`signed ${e.by}`));
        const b = node<Trace>('B', (s) => s.add('b'));
        return new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: sign }), new Edge({ tail: sign, head: b })] });
      },
      store: () => TraceStore.create(),
    });
    /** Calls `then(run)` once the run waits at Sign (on the next turn, out of XState's step). */
    const atWait = (then: (run: { send(e: unknown): void }) => void) => {
      let done = false;
      return (event: { type: string; actorRef: { send(e: unknown): void }; rootId: string; snapshot?: unknown }) => {
        const value = (event.snapshot as { value?: unknown } | undefined)?.value;
        if (done || event.type !== '@xstate.snapshot' || JSON.stringify(value) !== '{"Sign":"waiting"}') return;
        done = true;
        setImmediate(() => then(event.actorRef));
      };
    };
    const store = await backend.open();
    for (const [runId, reason, status] of [['parked', new RunParked(), 'waiting'], ['stopped', new Error('by hand'), 'cancelled']] as const) {
      const controller = new AbortController();
      const error = await approval.execute(undefined, { checkpoint: store, runId, signal: controller.signal, inspect: atWait(() => controller.abort(reason)) }).catch((e) => e);
      assert.instance(error, WorkflowCancelledError);
      assert.is((await store.get(runId))!.status, status);
    }
    assert.equal((await approval.unfinishedRuns(store)).map((r) => [r.runId, r.status]), [['parked', 'waiting'], ['stopped', 'cancelled']]);
    assert.equal((await store.list({ workflow: 'Approval', status: 'waiting' })).map((r) => r.runId), ['parked']);
    const result = await approval.resume('parked', { checkpoint: store, inspect: atWait((run) => run.send({ type: 'sign', by: 'dana' })) });
    assert.equal(result.state.log, ['a', 'signed dana', 'b']);
    assert.equal(result.executionCounts, { A: 1, Sign: 1, B: 1 });
    assert.is((await store.get('parked'))!.status, 'completed');
    for (const id of ['parked', 'stopped']) await store.delete(id);
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

  // --- Leases ------------------------------------------------------------------------------

  /** The store, and a promise of the first write of a checkpoint whose machine state is `value`. */
  const writtenAt = (store: LeasingCheckpointStore, value: string) => {
    let reached!: () => void;
    const written = new Promise<void>((resolve) => (reached = resolve));
    const spy: LeasingCheckpointStore = {
      put: async (r, lease) => {
        await store.put(r, lease);
        if (JSON.parse(r.data).snapshot.value === value) reached();
      },
      get: (id) => store.get(id),
      list: (f) => store.list(f),
      delete: (id) => store.delete(id),
      claim: (r) => store.claim(r),
      renew: (l, ms) => store.renew(l, ms),
      release: (l) => store.release(l),
      ownerName: () => store.ownerName(),
    };
    return { spy, written };
  };

  const leasing = async (): Promise<LeasingCheckpointStore> => {
    const store = await backend.open();
    assert.ok(isLeasing(store), `the ${backend.name} store offers leases`);
    return store as LeasingCheckpointStore;
  };
  const record = (runId: string, data: string): CheckpointRecord => ({ runId, workflow: 'W', status: 'running', createdAt: 1, updatedAt: 2, data });

  test('a lease is refused while another owner holds it, and its fence grows with every claim', async () => {
    const store = await leasing();
    const a = await store.claim({ runId: 'lease-1', owner: 'A', leaseMs: 60_000 });
    assert.is(a.owner, 'A');
    const refusedClaim = await Promise.resolve().then(() => store.claim({ runId: 'lease-1', owner: 'B', leaseMs: 60_000 })).catch((e) => e);
    assert.instance(refusedClaim, LeaseHeldError);
    assert.is(refusedClaim.owner, 'A');
    assert.match(refusedClaim.message, /Run 'lease-1' is owned by 'A' \(its lease expires in (59|60) s unless renewed\): it is running there/);
    await store.release(a);
    const b = await store.claim({ runId: 'lease-1', owner: 'B', leaseMs: 60_000 });
    assert.ok(b.fence > a.fence, `fence ${b.fence} > ${a.fence}`);
    const renewed = await store.renew(b, 60_000);
    assert.is(renewed.fence, b.fence);
    await store.release(b);
  });

  test('an expired lease is taken over; the old owner can then neither write nor renew, and the record stays as it was', async () => {
    const store = await leasing();
    // 0 ms: expired at once, as if its owner had stalled past it.
    const a = await store.claim({ runId: 'lease-2', owner: 'A', leaseMs: 0 });
    await store.put(record('lease-2', '{"by":"A"}'), a);
    const b = await store.claim({ runId: 'lease-2', owner: 'B', leaseMs: 60_000 });
    assert.ok(b.fence > a.fence);
    const lost = await Promise.resolve().then(() => store.put(record('lease-2', '{"by":"A, late"}'), a)).catch((e) => e);
    assert.instance(lost, LeaseLostError);
    assert.is(lost.newOwner, 'B');
    assert.match(lost.message, /Run 'lease-2' was taken over by 'B': this process \('A', lease \d+\) held its lease past the expiry.*wrote nothing more/);
    assert.is((await store.get('lease-2'))!.data, '{"by":"A"}', 'the refused write changed nothing');
    const notRenewed = await Promise.resolve().then(() => store.renew(a, 60_000)).catch((e) => e);
    assert.instance(notRenewed, LeaseLostError);
    await store.put(record('lease-2', '{"by":"B"}'), b);
    assert.is((await store.get('lease-2'))!.data, '{"by":"B"}');
    // A release of a lease that is not current does nothing.
    await store.release(a);
    const stillB = await Promise.resolve().then(() => store.claim({ runId: 'lease-2', owner: 'C', leaseMs: 60_000 })).catch((e) => e);
    assert.instance(stillB, LeaseHeldError);
    assert.is(stillB.owner, 'B');
    await store.release(b);
    await store.delete('lease-2');
  });

  test('an owner known to be dead is taken over at once', async () => {
    const store = await leasing();
    await store.claim({ runId: 'lease-3', owner: 'dead', leaseMs: 60_000 });
    const taken = await store.claim({ runId: 'lease-3', owner: 'B', leaseMs: 60_000, takeOverFrom: 'dead' });
    assert.is(taken.owner, 'B');
    const notFromOthers = await Promise.resolve().then(() => store.claim({ runId: 'lease-3', owner: 'C', leaseMs: 60_000, takeOverFrom: 'dead' })).catch((e) => e);
    assert.instance(notFromOthers, LeaseHeldError, 'takeOverFrom names the owner it may replace, no other');
    await store.release(taken);
  });

  const Gate = defineStore({ name: 'Gate', initial: { done: [] as string[] }, actions: { done: (d, n: string) => void d.done.push(n) } });
  type GateStore = StoreOf<typeof Gate>;
  /**
   * A run that stops at 'Wait' until `open()` is called; 'Wait' reports its signal. With `hold`,
   * its first attempt then commits and stays in flight until its signal aborts.
   */
  function gated(hold = false) {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    let entered!: () => void;
    const waiting = new Promise<void>((resolve) => (entered = resolve));
    const seen: { aborted: boolean }[] = [];
    const workflow = new Workflow({
      name: 'Gated',
      graph: () => {
        const first = node<GateStore>('First', (s) => s.done('First'));
        const wait = node<GateStore>('Wait', async (s, ctx) => {
          const mine = { aborted: false };
          seen.push(mine);
          ctx.signal.addEventListener('abort', () => (mine.aborted = true));
          entered();
          await opened;
          await s.done('Wait');
          if (hold && ctx.attempt === 1) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        });
        const last = node<GateStore>('Last', (s) => s.done('Last'));
        return new Graph({ source: first, sinks: [last], edges: [new Edge({ tail: first, head: wait }), new Edge({ tail: wait, head: last })] });
      },
      store: () => Gate.create(),
    });
    return { workflow, open: () => open(), waiting, seen };
  }

  test('resume() of a run that a live run owns is refused naming the owner, leaving the record as it was', async () => {
    const store = await leasing();
    const { workflow, open, waiting } = gated();
    const { spy, written } = writtenAt(store, 'Wait');
    const running = workflow.execute(undefined, { checkpoint: spy, runId: 'owned' });
    await Promise.all([waiting, written]);
    const before = await store.get('owned');
    const error = await workflow.resume('owned', { checkpoint: store }).catch((e) => e);
    assert.instance(error, LeaseHeldError);
    assert.match(error.message, /Run 'owned' is owned by '.+#\d+'/);
    assert.equal(await store.get('owned'), before);
    const twice = await workflow.execute(undefined, { checkpoint: store, runId: 'owned' }).catch((e) => e);
    assert.instance(twice, CheckpointError, 'execute() of a taken run id is refused');
    open();
    const result = await running;
    assert.equal(result.state.done, ['First', 'Wait', 'Last']);
    await store.delete('owned');
  });

  test('a run whose lease was taken over stops at its next write with a LeaseLostError, aborts its nodes and writes nothing more', async () => {
    const store = await leasing();
    const { workflow, open, waiting, seen } = gated(true);
    const { spy, written } = writtenAt(store, 'Wait');
    const running = workflow.execute(undefined, { checkpoint: spy, runId: 'stolen', lease: { owner: 'zombie' } }).catch((e) => e);
    await Promise.all([waiting, written]);
    const before = await store.get('stolen');
    // Another process takes the run over, as it would once this one had stalled past its lease.
    const thief = await store.claim({ runId: 'stolen', owner: 'thief', leaseMs: 60_000, takeOverFrom: 'zombie' });
    open();
    const error = await running;
    assert.instance(error, LeaseLostError);
    assert.is(error.runId, 'stolen');
    assert.is(error.newOwner, 'thief');
    assert.match(error.message, /Run 'stolen' was taken over by 'thief': this process \('zombie', lease \d+\).*stopped the run, aborted its nodes and wrote nothing more/);
    assert.equal(await store.get('stolen'), before, 'nothing was written after the takeover');
    assert.is(seen.length, 1);
    assert.ok(seen[0]!.aborted, 'the node in flight was aborted');
    // The new owner resumes it from the checkpoint and finishes it.
    await store.release(thief);
    const result = await workflow.resume('stolen', { checkpoint: store });
    assert.equal(result.state.done, ['First', 'Wait', 'Last']);
    await store.delete('stolen');
  });

  historyCases(test, backend);

  test.run();
}

for (const make of backends('durable: checkpoint store conformance (PostgreSQL)').map((b) => () => b)) conformance(make);

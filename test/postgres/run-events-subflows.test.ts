/**
 * Waits inside subflows under a RunQueue, on a real Postgres: runs whose waitFors are one and
 * two subflows deep park (status `waiting` in the run's row and in its checkpoint, no lease, no
 * worker slot) on a worker of concurrency 2, and events sent from another process reach the
 * waits inside the subflows, each applied once, in the order sent — also one a dead worker had
 * handed to a wait in a subflow, checkpointed or not. A RunConcurrent with one
 * branch waiting in a subflow and the other still running does not park until that one is done
 * (its node is never aborted), then parks, and an event finishes it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import type { ActorRefLike, InspectionEvent } from 'xstate';
import { RunQueue } from '../../src/postgres/index.js';
import { waitingOf } from '../../src/postgres/run-events.js';
import { databaseUrl } from '../support/postgres.js';
import { startChild } from '../support/processes.js';
import { mixedApprovals, nestedApprovals, nestedLog, releaseSlow, resetSlow, slowAttempts, slowRunning, twoWaits } from './fixtures/nested-approvals.js';
import { heldLeases, releasedBy, statusCount } from './fixtures/run-rows.js';

const url = databaseUrl('postgres: RunQueue events in subflows');
const test = suite('postgres: RunQueue events in subflows');
const schema = `subwait_${process.pid}`;
// The queue of send-events.ts, which sends each run two `sign` events.
const QUEUE = 'junjo-events';
let admin: pg.Pool;
let queue: RunQueue;

type Result = { state: { log: string[] }; executionCounts: Record<string, number>; subflows: Record<string, Result[]> };

/** The run's status in its row and in its checkpoint record. */
async function statuses(runId: string): Promise<[string | undefined, string | undefined]> {
  return [await queue.status(runId), (await queue.store.get(runId))?.status];
}

test.before(async () => {
  if (!url) return;
  admin = new pg.Pool({ connectionString: url, max: 2 });
  queue = new RunQueue({ connectionString: url, workflows: [nestedApprovals, mixedApprovals, twoWaits], schema, queue: QUEUE, leaseMs: 4000 });
  await queue.start();
});

test.after(async () => {
  if (!url) return;
  await queue.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

if (url) {
  test('runs waiting in subflows, one and two deep, hold no worker; events from another process reach the waits, once each, in order', async () => {
    const RUNS = 30;
    const ids = await Promise.all(Array.from({ length: RUNS }, (_, i) => queue.submit(nestedApprovals, undefined, { runId: `nest-${i}` })));
    const worker = await queue.work({ concurrency: 2 });
    // With 2 slots, 30 runs can all reach their wait only if a run waiting in a subflow lets its slot go.
    await statusCount(admin, schema, 'nest-', 'waiting', RUNS);
    await releasedBy(worker, 'nest-');
    assert.equal(worker.active, [], 'no run is held by the worker');
    assert.equal(await heldLeases(admin, schema, 'nest-'), [], 'no lease is held on a waiting run');
    for (const id of ids) assert.equal(await statuses(id), ['waiting', 'waiting'], `${id}: its checkpoint says waiting too`);
    const unfinished = await nestedApprovals.unfinishedRuns(queue.store);
    assert.equal(unfinished.filter((r) => r.runId.startsWith('nest-')).map((r) => r.status), Array(RUNS).fill('waiting'));

    const sender = startChild('test/postgres/fixtures/send-events.ts', [url!, schema, 'nest-', String(RUNS)]);
    assert.is(await sender.line(/^sent/), `sent ${RUNS * 2}`);
    assert.is((await sender.exited).code, 0);
    const results = await Promise.all(ids.map((id) => queue.result<Result>(id)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.state.log, nestedLog(`a${i}`, `b${i}`), `run ${ids[i]}: both events applied once, in the order sent`);
      assert.equal(r.executionCounts, { Prepare: 1, Review: 1, Ship: 1 });
      const review = r.subflows.Review![0]!;
      assert.equal(review.executionCounts, { Check: 1, FirstSign: 1, CoSign: 1 });
      assert.equal(review.subflows.CoSign![0]!.executionCounts, { SecondSign: 1 });
    }
    const outcomes = await admin.query(`SELECT outcome, count(*)::int AS n FROM "${schema}".junjo_run_events WHERE run_id LIKE 'nest-%' GROUP BY outcome`);
    assert.equal(outcomes.rows, [{ outcome: 'applied', n: RUNS * 2 }]);
    const targets = await admin.query(`SELECT DISTINCT target_node FROM "${schema}".junjo_run_events WHERE run_id LIKE 'nest-%' ORDER BY 1`);
    assert.equal(targets.rows.map((r) => r.target_node), ['Review#1.CoSign#1.SecondSign', 'Review#1.FirstSign']);
    for (const id of ids) assert.equal(await statuses(id), ['completed', 'completed']);
    await worker.stop();
  });

  test('an event handed to a wait in a subflow before a worker died is applied once: again if the checkpoint does not show it, not if it does', async () => {
    const worker = await queue.work({ concurrency: 2 });
    for (const id of ['lost-1', 'kept-1']) await queue.submit(nestedApprovals, undefined, { runId: id });
    await statusCount(admin, schema, 'lost-1', 'waiting', 1);
    await statusCount(admin, schema, 'kept-1', 'waiting', 1);
    // lost-1: a worker recorded event 1 as handed to Review#1.FirstSign, then died before a
    // checkpoint showed it applied: the run still waits there, so it is handed over again.
    await admin.query(`INSERT INTO "${schema}".junjo_run_events (run_id, seq, event, target_node, target_execution) VALUES ('lost-1', 1, $1, 'Review#1.FirstSign', 1)`, [
      JSON.stringify({ type: 'sign', by: 'kim' }),
    ]);
    assert.is(await queue.send('lost-1', { type: 'sign', by: 'lee' }), 2);
    // kept-1: event 1 applied and checkpointed (the run parks again at the next wait, two deep),
    // its row still unsettled: a worker that restores the run must not hand it to that wait.
    await queue.send('kept-1', { type: 'sign', by: 'kim' });
    while (!(await queue.store.get('kept-1'))!.data.includes('first kim') || (await queue.status('kept-1')) !== 'waiting') {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await queue.send('kept-1', { type: 'sign', by: 'lee' });
    for (const id of ['lost-1', 'kept-1']) {
      const result = await queue.result<Result>(id);
      assert.equal(result.state.log, nestedLog('kim', 'lee'), `${id}: each event applied once, in order`);
      assert.equal(result.subflows.Review![0]!.executionCounts, { Check: 1, FirstSign: 1, CoSign: 1 });
    }
    const rows = await admin.query(`SELECT run_id, seq, target_node, outcome FROM "${schema}".junjo_run_events WHERE run_id IN ('lost-1', 'kept-1') ORDER BY run_id, seq`);
    assert.equal(
      rows.rows.map((r) => [r.run_id, r.seq, r.target_node, r.outcome]),
      [
        ['kept-1', 1, 'Review#1.FirstSign', 'applied'],
        ['kept-1', 2, 'Review#1.CoSign#1.SecondSign', 'applied'],
        ['lost-1', 1, 'Review#1.FirstSign', 'applied'],
        ['lost-1', 2, 'Review#1.CoSign#1.SecondSign', 'applied'],
      ],
    );
    await worker.stop();
  });

  test('a RunConcurrent with one branch waiting in a subflow and one still running parks only once that one is done', async () => {
    resetSlow();
    // Every step of the run, while Slow runs: the worker's view of it must not be parked.
    const roots = new Map<string, ActorRefLike>();
    let slowDone = false;
    let subflowWaits: () => void = () => {};
    const waitingWhileSlow = new Promise<void>((resolve) => (subflowWaits = resolve));
    const parkedWhileSlow: unknown[] = [];
    const inspect = (event: InspectionEvent) => {
      if (event.type === '@xstate.actor' && event.actorRef.sessionId === event.rootId) roots.set(event.rootId, event.actorRef);
      if (event.type !== '@xstate.snapshot' || slowDone) return;
      const root = roots.get(event.rootId);
      if (!root) return;
      const { waiting, parked } = waitingOf(root.getSnapshot());
      if (waiting.some((w) => w.node === 'Review#1.Sign')) subflowWaits();
      if (parked) parkedWhileSlow.push((root.getSnapshot() as { value: unknown }).value);
    };
    await queue.submit(mixedApprovals, undefined, { runId: 'mixed-1' });
    const worker = await queue.work({ concurrency: 1, inspect });
    await slowRunning;
    // The subflow reaches its wait while Slow still runs (Slow waits for releaseSlow()).
    await waitingWhileSlow;
    await statusCount(admin, schema, 'mixed-1', 'running', 1);
    assert.equal(await statuses('mixed-1'), ['running', 'running'], 'not parked: a branch is still running');
    assert.equal(await heldLeases(admin, schema, 'mixed-1'), ['mixed-1'], 'the worker holds its lease');
    assert.equal(worker.active, ['mixed-1']);
    slowDone = true;
    releaseSlow();
    await statusCount(admin, schema, 'mixed-1', 'waiting', 1);
    await releasedBy(worker, 'mixed-1');
    assert.equal(parkedWhileSlow, [], 'never parked while Slow ran');
    assert.equal(slowAttempts, ['1'], 'Slow ran once, never aborted');
    assert.equal(await statuses('mixed-1'), ['waiting', 'waiting']);
    assert.equal(await heldLeases(admin, schema, 'mixed-1'), []);
    assert.equal(worker.active, []);

    await queue.send('mixed-1', { type: 'sign', by: 'dana' });
    const result = await queue.result<Result>('mixed-1');
    assert.equal(result.state.log, ['slow done', 'signed dana', 'shipped']);
    assert.equal(result.executionCounts, { Both: 1, Review: 1, Slow: 1, Ship: 1 });
    assert.equal(slowAttempts, ['1'], 'Slow did not run again on resume');
    await worker.stop();
  });

  test('a RunConcurrent whose branches both wait, one in a subflow, parks; each event reaches its own wait, parked again between', async () => {
    await queue.submit(twoWaits, undefined, { runId: 'two-1' });
    const worker = await queue.work({ concurrency: 1 });
    await statusCount(admin, schema, 'two-1', 'waiting', 1);
    assert.equal(await statuses('two-1'), ['waiting', 'waiting']);
    assert.equal(await heldLeases(admin, schema, 'two-1'), []);
    await queue.send('two-1', { type: 'stamp', by: 'kim' });
    // Parked again, with only the subflow's branch still waiting.
    while (!(await queue.store.get('two-1'))!.data.includes('stamped kim') || (await queue.status('two-1')) !== 'waiting') {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await releasedBy(worker, 'two-1');
    assert.equal(worker.active, []);
    await queue.send('two-1', { type: 'sign', by: 'lee' });
    const result = await queue.result<Result>('two-1');
    assert.equal(result.state.log, ['stamped kim', 'signed lee', 'shipped']);
    assert.equal(result.executionCounts, { Both: 1, Review: 1, Stamp: 1, Ship: 1 });
    const targets = await admin.query(`SELECT target_node, outcome FROM "${schema}".junjo_run_events WHERE run_id = 'two-1' ORDER BY seq`);
    assert.equal(targets.rows, [{ target_node: 'Stamp', outcome: 'applied' }, { target_node: 'Review#1.Sign', outcome: 'applied' }]);
    await worker.stop();
  });
}

test.run();

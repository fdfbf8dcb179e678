/**
 * Runs that wait for events under a RunQueue, on a real Postgres: a run parked at a waitFor
 * holds no worker and no lease (100 of them on a worker of concurrency 2), events sent from
 * another process reach them and are applied once each, in the order sent — also an event sent
 * before its run got to the wait, and one handed over before its run was parked again — and an
 * event for an unknown or finished run is refused, naming the run and its status.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { RunQueue } from '../../src/postgres/index.js';
import { databaseUrl } from '../support/postgres.js';
import { startChild } from '../support/processes.js';
import { approvals, expectedLog } from './fixtures/approvals.js';
import { releasedBy, statusCount } from './fixtures/run-rows.js';

const url = databaseUrl('postgres: RunQueue events');
const test = suite('postgres: RunQueue events');
const schema = `events_${process.pid}`;
const QUEUE = 'junjo-events';
const EXPECTED_COUNTS = { Prepare: 1, FirstSign: 1, SecondSign: 1, Ship: 1 };
let admin: pg.Pool;
let queue: RunQueue;

type Result = { state: { log: string[] }; executionCounts: Record<string, number> };

test.before(async () => {
  if (!url) return;
  admin = new pg.Pool({ connectionString: url, max: 2 });
  queue = new RunQueue({ connectionString: url, workflows: [approvals], schema, queue: QUEUE, leaseMs: 4000 });
  await queue.start();
});

test.after(async () => {
  if (!url) return;
  await queue.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

if (url) {
  test('100 runs waiting for approval hold no worker; events sent from another process finish them all, in the order sent', async () => {
    const RUNS = 100;
    const ids = await Promise.all(Array.from({ length: RUNS }, (_, i) => queue.submit(approvals, undefined, { runId: `wait-${i}` })));
    const worker = await queue.work({ concurrency: 2 });
    // With 2 slots, 100 runs can all reach their wait only if a waiting run lets its slot go.
    await statusCount(admin, schema, 'wait-', 'waiting', RUNS);
    await releasedBy(worker, 'wait-');
    assert.equal(worker.active, [], 'no run is held by the worker');
    const held = await admin.query(`SELECT run_id FROM "${schema}".junjo_leases WHERE run_id LIKE 'wait-%' AND expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`);
    assert.equal(held.rows, [], 'no lease is held on a waiting run');

    const sender = startChild('test/postgres/fixtures/send-events.ts', [url!, schema, 'wait-', String(RUNS)]);
    assert.is(await sender.line(/^sent/), `sent ${RUNS * 2}`);
    assert.is((await sender.exited).code, 0);
    const results = await Promise.all(ids.map((id) => queue.result<Result>(id)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.state.log, expectedLog(`a${i}`, `b${i}`), `run ${ids[i]}: both events applied once, in the order sent`);
      assert.equal(r.executionCounts, EXPECTED_COUNTS);
    }
    const outcomes = await admin.query(`SELECT outcome, count(*)::int AS n FROM "${schema}".junjo_run_events WHERE run_id LIKE 'wait-%' GROUP BY outcome`);
    assert.equal(outcomes.rows, [{ outcome: 'applied', n: RUNS * 2 }]);
    await worker.stop();
  });

  test('events sent before the run reaches its wait, and one at a time across parks, are each applied once', async () => {
    // Sent while the run is still queued: it takes them when it gets to its waits.
    await queue.submit(approvals, undefined, { runId: 'early-1' });
    assert.is(await queue.send('early-1', { type: 'sign', by: 'kim' }), 1);
    assert.is(await queue.send('early-1', { type: 'sign', by: 'lee' }), 2);
    // One event, then a park at the second wait, then the next: the first, handed over before
    // that park, must not reach the second wait too.
    await queue.submit(approvals, undefined, { runId: 'apart-1' });
    const worker = await queue.work({ concurrency: 2 });
    await statusCount(admin, schema, 'apart-', 'waiting', 1);
    await queue.send('apart-1', { type: 'sign', by: 'dana' });
    while (!(await queue.store.get('apart-1'))!.data.includes('first dana') || (await queue.status('apart-1')) !== 'waiting') {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await queue.send('apart-1', { type: 'sign', by: 'eve' });
    assert.equal((await queue.result<Result>('early-1')).state.log, expectedLog('kim', 'lee'));
    const apart = await queue.result<Result>('apart-1');
    assert.equal(apart.state.log, expectedLog('dana', 'eve'));
    assert.equal(apart.executionCounts, EXPECTED_COUNTS);
    await worker.stop();
  });

  test('an event for an unknown or finished run is refused, naming the run and its status; other runs are not disturbed', async () => {
    const unknown = await queue.send('no-such-run', { type: 'sign', by: 'x' }).catch((e) => e);
    assert.instance(unknown, TypeError);
    assert.match(unknown.message, /there is no run 'no-such-run' in schema 'events_\d+': submit it first/);
    const finished = await queue.send('early-1', { type: 'sign', by: 'x' }).catch((e) => e);
    assert.match(finished.message, /run 'early-1' of workflow 'Approvals' has completed, so event 'sign' can never be applied/);
    const shapeless = await queue.send('early-1', { by: 'x' } as never).catch((e) => e);
    assert.match(shapeless.message, /the event must be an object with a type/);
    const events = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".junjo_run_events WHERE run_id IN ('early-1', 'no-such-run')`);
    assert.is(events.rows[0].n, 2, 'nothing was stored for the refused events');
  });
}

test.run();

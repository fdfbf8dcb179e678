/**
 * Agent nodes waiting for a person's approval under a RunQueue, on a real Postgres with a real
 * worker process (the `junjo-xstate worker` command) and the ai tests' local stand-in model:
 * runs whose agent asks for approval park like runs at a waitFor (`waiting` in row and
 * checkpoint, no lease held) on a worker of concurrency 2; decisions sent from this process
 * (not the worker's) reach the agents, each once, in the order sent — two per run, in one
 * execution of the node — approved calls run once each, a rejected one is reported to the
 * model; a run waiting at an agent and a waitFor at once parks and takes both kinds of event;
 * and a decision a dead worker had handed over is applied once, whether or not the checkpoint
 * showed it. In-process: a decision handed to an approval is not taken as applied from a
 * snapshot of the agent before that approval (its model request), only from one after it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { createActor } from 'xstate';
import { RunQueue } from '../../src/postgres/index.js';
import { gotPast, waitingOf } from '../../src/postgres/run-events.js';
import { APPROVE_EVENT, REJECT_EVENT } from '../../src/ai/index.js';
import { databaseUrl } from '../support/postgres.js';
import { startChild, type Child } from '../support/processes.js';
import { agentAndWait, agentApprovals, expectedReport, published } from './fixtures/agent-approvals.js';
import { heldLeases, statusCount } from './fixtures/run-rows.js';

const url = databaseUrl('postgres: RunQueue agent approvals');
const test = suite('postgres: RunQueue agent approvals');
const schema = `agentwait_${process.pid}`;
const LEASE_MS = 4000;
let admin: pg.Pool;
let queue: RunQueue;
let worker: Child;

type Result = { state: { report: string; log: string[] }; executionCounts: Record<string, number> };

/** What the model is told of a rejected call (src/ai/agent-loop.ts), as its tool result. */
const rejected = (by: string, reason: string) => JSON.stringify({ type: 'error-text', value: `A person rejected this call (${by}): ${reason}` });

/** The tool's executions, by title, from the ledger the worker's tool writes. */
async function executions(prefix: string): Promise<Record<string, number>> {
  const { rows } = await admin.query(`SELECT title, count(*)::int AS n FROM "${schema}".ledger WHERE title LIKE $1 GROUP BY title ORDER BY title`, [`${prefix}%`]);
  return Object.fromEntries(rows.map((r) => [r.title, r.n]));
}

test.before(async () => {
  if (!url) return;
  admin = new pg.Pool({ connectionString: url, max: 2 });
  await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await admin.query(`CREATE TABLE "${schema}".ledger (id bigserial PRIMARY KEY, title text, call text, pid int)`);
  queue = new RunQueue({ connectionString: url, workflows: [agentApprovals, agentAndWait], schema, leaseMs: LEASE_MS });
  await queue.start();
  worker = startChild(
    'bin/junjo-xstate.ts',
    ['worker', 'test/postgres/fixtures/agent-approvals.ts', '--database-url', url, '--concurrency', '2', '--lease-ms', String(LEASE_MS), '--schema', schema],
    { LEDGER_SCHEMA: schema, LEDGER_URL: url },
    300_000,
  );
});

test.after(async () => {
  if (!url) return;
  worker.proc.kill('SIGTERM');
  await worker.exited;
  await queue.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

test('an approval is got past only once the agent took a decision there: not at its model request before it', async () => {
  const actor = createActor(agentApprovals.machine, { input: { topic: 'unit' } }).start();
  const past = () => {
    const snapshot = actor.getSnapshot();
    return gotPast(snapshot, 'Publish', 1, 0, waitingOf(snapshot).waiting);
  };
  const at = (step: number) =>
    new Promise<void>((resolve) => {
      const check = () => waitingOf(actor.getSnapshot()).waiting.some((w) => w.node === 'Publish' && w.step === step);
      if (check()) return resolve();
      const sub = actor.subscribe(() => check() && (sub.unsubscribe(), resolve()));
    });
  // The first model request is in flight: the execution is reached, the agent does not wait, and took no decision.
  assert.ok(actor.getSnapshot().matches({ Publish: 'modelRequest' }));
  assert.not.ok(past(), 'before the approval: not applied');
  await at(0);
  assert.not.ok(past(), 'waiting at it: not applied');
  actor.send({ type: APPROVE_EVENT, by: 'kim' });
  assert.ok(past(), 'the decision taken (its call runs): applied');
  await at(1);
  assert.ok(past(), 'waiting at the next approval: applied');
  actor.stop();
});

if (url) {
  test('runs whose agent waits for approval hold no worker; decisions from another process finish them, each once, in order', async () => {
    const RUNS = 20;
    const ids = await Promise.all(Array.from({ length: RUNS }, (_, i) => queue.submit(agentApprovals, { topic: `t${i}` }, { runId: `agent-${i}` })));
    // With 2 slots, 20 runs can all reach their approval only if a waiting run lets its slot go.
    await statusCount(admin, schema, 'agent-', 'waiting', RUNS);
    assert.equal(await heldLeases(admin, schema, 'agent-'), [], 'no lease is held on a waiting run');
    for (const id of ids) assert.is((await queue.store.get(id))!.status, 'waiting', `${id}: checkpointed as waiting`);
    assert.equal(await executions('t'), {}, 'no call ran before its decision');

    // Two decisions per run, sent at once: the second must reach the second call, not the first.
    for (const [i, id] of ids.entries()) {
      await queue.send(id, { type: APPROVE_EVENT, by: `a${i}` });
      if (i % 4 === 3) await queue.send(id, { type: REJECT_EVENT, by: `b${i}`, reason: `not ${i}`, node: 'Publish' });
      else await queue.send(id, { type: APPROVE_EVENT, by: `b${i}` });
    }
    const results = await Promise.all(ids.map((id) => queue.result<Result>(id)));
    for (const [i, r] of results.entries()) {
      const second = i % 4 === 3 ? rejected(`b${i}`, `not ${i}`) : published(`t${i} 2`);
      assert.is(r.state.report, expectedReport([published(`t${i} 1`), second]), `run ${ids[i]}`);
      assert.equal(r.executionCounts, { Publish: 1 });
    }
    const ran = await executions('t');
    assert.is(Object.keys(ran).length, RUNS * 2 - RUNS / 4, 'every approved call ran, no rejected one');
    assert.ok(Object.values(ran).every((n) => n === 1), 'each approved call ran once');
    const rows = await admin.query(`SELECT seq, target_node, target_execution, target_step, outcome FROM "${schema}".junjo_run_events WHERE run_id = 'agent-3' ORDER BY seq`);
    assert.equal(rows.rows, [
      { seq: 1, target_node: 'Publish', target_execution: 1, target_step: 0, outcome: 'applied' },
      { seq: 2, target_node: 'Publish', target_execution: 1, target_step: 1, outcome: 'applied' },
    ]);
    const outcomes = await admin.query(`SELECT outcome, count(*)::int AS n FROM "${schema}".junjo_run_events WHERE run_id LIKE 'agent-%' GROUP BY outcome`);
    assert.equal(outcomes.rows, [{ outcome: 'applied', n: RUNS * 2 }]);
  });

  test('a run waiting at an agent and a waitFor at once parks; each event reaches its own wait', async () => {
    await queue.submit(agentAndWait, { topic: 'mixed' }, { runId: 'mixed-1' });
    await statusCount(admin, schema, 'mixed-', 'waiting', 1);
    assert.equal(await heldLeases(admin, schema, 'mixed-'), []);
    await queue.send('mixed-1', { type: 'stamp', by: 'kim' });
    await queue.send('mixed-1', { type: APPROVE_EVENT, node: 'SomeOtherNode' });
    await queue.send('mixed-1', { type: APPROVE_EVENT, by: 'dana' });
    await queue.send('mixed-1', { type: APPROVE_EVENT, by: 'lee' });
    const result = await queue.result<Result>('mixed-1');
    assert.equal(result.state.log, ['stamped kim', 'shipped']);
    assert.is(result.state.report, expectedReport([published('mixed 1'), published('mixed 2')]));
    assert.equal(result.executionCounts, { Publish: 1, Stamp: 1, Both: 1, Ship: 1 });
    const rows = await admin.query(`SELECT seq, target_node, target_step, outcome FROM "${schema}".junjo_run_events WHERE run_id = 'mixed-1' ORDER BY seq`);
    assert.equal(
      rows.rows.map((r) => [r.seq, r.target_node, r.target_step, r.outcome.replace(/ \(at .*/, '')]),
      [
        [1, 'Stamp', null, 'applied'],
        [2, null, null, "ignored: no agent node 'SomeOtherNode' waited for it"],
        [3, 'Publish', 0, 'applied'],
        [4, 'Publish', 1, 'applied'],
      ],
    );
  });

  test('a decision handed to an agent before a worker died is applied once: again if the checkpoint does not show it, not if it does', async () => {
    for (const [id, topic] of [['lost-1', 'lost'], ['kept-1', 'kept']] as const) await queue.submit(agentApprovals, { topic }, { runId: id });
    await statusCount(admin, schema, 'lost-1', 'waiting', 1);
    await statusCount(admin, schema, 'kept-1', 'waiting', 1);
    // lost-1: a worker recorded decision 1 as handed to the first approval, then died before a
    // checkpoint showed it: the agent still waits there, so it is handed over again.
    await admin.query(
      `INSERT INTO "${schema}".junjo_run_events (run_id, seq, event, target_node, target_execution, target_step) VALUES ('lost-1', 1, $1, 'Publish', 1, 0)`,
      [JSON.stringify({ type: APPROVE_EVENT, by: 'kim' })],
    );
    assert.is(await queue.send('lost-1', { type: APPROVE_EVENT, by: 'lee' }), 2);
    // kept-1: decision 1 applied and checkpointed (the agent waits at its second approval, in the
    // same execution), its row still unsettled: it must not be handed to that approval too.
    await queue.send('kept-1', { type: APPROVE_EVENT, by: 'kim' });
    while (!(await queue.store.get('kept-1'))!.data.includes('"decisions":1') || (await queue.status('kept-1')) !== 'waiting') {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.is((await admin.query(`SELECT applied_at FROM "${schema}".junjo_run_events WHERE run_id = 'kept-1' AND seq = 1`)).rows[0].applied_at, null, 'unsettled: the run parked again without being restored');
    await queue.send('kept-1', { type: REJECT_EVENT, by: 'lee', reason: 'enough' });
    assert.is((await queue.result<Result>('lost-1')).state.report, expectedReport([published('lost 1'), published('lost 2')]));
    assert.is((await queue.result<Result>('kept-1')).state.report, expectedReport([published('kept 1'), rejected('lee', 'enough')]));
    assert.equal(await executions('lost'), { 'lost 1': 1, 'lost 2': 1 });
    assert.equal(await executions('kept'), { 'kept 1': 1 });
  });
}

test.run();

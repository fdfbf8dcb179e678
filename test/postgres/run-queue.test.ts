/**
 * RunQueue on pg-boss 10 with a real Postgres and real worker processes (the `junjo-xstate
 * worker` command): runs submitted once and executed once, a duplicate runId making one run,
 * a job for an unknown workflow dead-lettered with a clear error while the others finish, and
 * failover — a worker SIGKILLed mid-run, another SIGTERMed (draining) — after which every run
 * ends in exactly the state of an uninterrupted one and the ledger the nodes write shows that
 * only nodes in flight on a stopped worker ran again, each as the next attempt; and the fault
 * test — three workers, 200 runs of twenty nodes, five SIGKILLs at random points — after which
 * every run is exact and no node whose completion was checkpointed started again; and a zombie
 * worker (SIGSTOP past its lease, SIGCONT after another finished its run) that writes nothing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { Edge, Graph, Workflow, node } from '../../src/index.js';
import { RunFailedError, RunQueue } from '../../src/postgres/index.js';
import { databaseUrl, restartTestCluster } from '../support/postgres.js';
import { startChild, type Child } from '../support/processes.js';
import { EXPECTED, Log, NODES, TWENTY, tenSteps, twentySteps, waitsForever } from './fixtures/ten-steps.js';

const url = databaseUrl('postgres: RunQueue');
const test = suite('postgres: RunQueue');
const schema = `queue_${process.pid}`;
// Long enough that a live worker starved of CPU on a loaded machine keeps its runs: the test
// asserts that only stopped workers lose them.
const LEASE_MS = 4000;
let admin: pg.Pool;

interface LedgerRow {
  run_id: string;
  node: string;
  attempt: number;
  pid: number;
}

const ledger = async (): Promise<LedgerRow[]> => (await admin.query<LedgerRow>(`SELECT run_id, node, attempt, pid FROM "${schema}".ledger ORDER BY id`)).rows;
// Every queue a test opens, so that one whose test failed half-way is closed too: a pg-boss
// left running holds a timer that keeps the test process alive.
const opened = new Set<RunQueue>();
const queueNamed = (name: string, workflows: (typeof tenSteps)[] = [tenSteps]) => {
  const queue = new RunQueue({ connectionString: url!, workflows, schema, queue: name, leaseMs: LEASE_MS });
  opened.add(queue);
  return queue;
};

function workerProcess(): Child {
  return startChild('bin/junjo-xstate.ts', ['worker', 'test/postgres/fixtures/ten-steps.ts', '--database-url', url!, '--concurrency', '4', '--lease-ms', String(LEASE_MS), '--schema', schema], {
    LEDGER_SCHEMA: schema,
  });
}

/** Waits until the ledger holds at least `n` rows: the workers are that far. */
async function ledgerAtLeast(n: number): Promise<void> {
  while ((await ledger()).length < n) await new Promise((resolve) => setTimeout(resolve, 20));
}

test.before(async () => {
  if (!url) return;
  admin = new pg.Pool({ connectionString: url, max: 2 });
  // The restart test drops every connection: an idle one must not crash this process.
  admin.on('error', () => {});
  await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await admin.query(`CREATE TABLE "${schema}".ledger (id bigserial PRIMARY KEY, run_id text, node text, attempt int, pid int)`);
  process.env.LEDGER_SCHEMA = schema;
});

test.after(async () => {
  if (!url) return;
  await Promise.allSettled([...opened].map((queue) => queue.close()));
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

if (url) {
  test('submitted runs are executed once each; submitting a runId twice makes one run', async () => {
    const queue = queueNamed('junjo-runs');
    await queue.start();
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => queue.submit(tenSteps, undefined, { runId: `once-${i}` })));
    assert.is(await queue.submit(tenSteps, undefined, { runId: 'once-0' }), 'once-0');
    const worker = await queue.work({ concurrency: 4 });
    const results = await Promise.all(ids.map((id) => queue.result<{ state: unknown }>(id)));
    for (const r of results) assert.equal(r.state, EXPECTED);
    const rows = (await ledger()).filter((r) => r.run_id.startsWith('once-'));
    assert.is(rows.length, 8 * NODES.length, 'every node of every run ran exactly once');
    assert.ok(rows.every((r) => r.attempt === 1));
    assert.is((await admin.query(`SELECT count(*)::int AS n FROM "${schema}".junjo_runs WHERE run_id = 'once-0'`)).rows[0].n, 1);
    await worker.stop();
    await queue.close();
  });

  test('a job of an unknown workflow is dead-lettered with a clear error; the other runs finish', async () => {
    const Other = new Workflow({
      name: 'Other',
      graph: () => {
        const only = node('Only', async () => {});
        return new Graph({ source: only, sinks: [only], edges: [] as Edge[] });
      },
      store: () => Log.create(),
    });
    const submitter = queueNamed('junjo-runs', [tenSteps, Other]);
    const workerQueue = queueNamed('junjo-runs');
    await Promise.all([submitter.start(), workerQueue.start()]);
    await submitter.submit(Other, undefined, { runId: 'unknown-1' });
    await submitter.submit(tenSteps, undefined, { runId: 'known-1' });
    const worker = await workerQueue.work({ concurrency: 2 });
    const error = await submitter.result('unknown-1').catch((e) => e);
    assert.instance(error, RunFailedError);
    assert.match(error.message, /Run 'unknown-1' of workflow 'Other' failed: Run 'unknown-1' names workflow 'Other', which this worker does not have: start the worker with that workflow/);
    assert.equal(((await submitter.result('known-1')) as { state: unknown }).state, EXPECTED);
    const dead = await workerQueue.boss.fetch<{ runId: string }>(workerQueue.deadLetter);
    assert.equal(dead.map((j) => j.data.runId), ['unknown-1'], 'kept in the dead-letter queue');
    await worker.stop();
    await Promise.all([submitter.close(), workerQueue.close()]);
  });

  test('a run whose checkpoint row is corrupt is failed and dead-lettered, its row left as it was; the others finish', async () => {
    const queue = queueNamed('junjo-runs');
    await queue.start();
    await queue.submit(tenSteps, undefined, { runId: 'corrupt-1' });
    await queue.submit(tenSteps, undefined, { runId: 'fine-1' });
    // A checkpoint changed behind the store's back: its checksum no longer matches.
    await admin.query(
      `INSERT INTO "${schema}".junjo_checkpoints (run_id, workflow, status, created_at, updated_at, checksum, data) VALUES ('corrupt-1', 'TenSteps', 'running', 1, 1, 'not-the-checksum', '{"format":"junjo-xstate/checkpoint"}')`,
    );
    const before = (await admin.query(`SELECT * FROM "${schema}".junjo_checkpoints WHERE run_id = 'corrupt-1'`)).rows;
    const worker = await queue.work({ concurrency: 2 });
    const error = await queue.result('corrupt-1').catch((e) => e);
    assert.instance(error, RunFailedError);
    assert.match(error.message, /Run 'corrupt-1' of workflow 'TenSteps' failed: The checkpoint of run 'corrupt-1' in "queue_\d+".junjo_checkpoints is corrupt \(its data does not match its checksum/);
    assert.equal(((await queue.result('fine-1')) as { state: unknown }).state, EXPECTED);
    assert.equal((await admin.query(`SELECT * FROM "${schema}".junjo_checkpoints WHERE run_id = 'corrupt-1'`)).rows, before, 'the row is left as it was');
    const dead = await queue.boss.fetch<{ runId: string }>(queue.deadLetter);
    assert.equal(dead.map((j) => j.data.runId), ['corrupt-1']);
    await worker.stop();
    await queue.close();
  });

  test('a cancelled run ends as cancelled, queued or running; result() rejects saying so', async () => {
    const queue = queueNamed('junjo-runs', [tenSteps, waitsForever]);
    await queue.start();
    await queue.submit(tenSteps, undefined, { runId: 'cancel-queued' });
    await queue.cancel('cancel-queued');
    const queued = await queue.result('cancel-queued').catch((e) => e);
    assert.instance(queued, RunFailedError);
    assert.is(queued.status, 'cancelled');
    assert.match(queued.message, /Run 'cancel-queued' of workflow 'TenSteps' was cancelled/);

    await queue.submit(waitsForever, undefined, { runId: 'cancel-running' });
    const worker = await queue.work({ concurrency: 1 });
    while ((await queue.status('cancel-running')) !== 'running') await new Promise((resolve) => setTimeout(resolve, 20));
    await queue.cancel('cancel-running');
    const running = await queue.result('cancel-running').catch((e) => e);
    assert.instance(running, RunFailedError);
    assert.is(running.status, 'cancelled');
    assert.is(await queue.status('cancel-queued'), 'cancelled');
    assert.is((await queue.store.get('cancel-running'))!.status, 'cancelled', 'its checkpoint says so too');
    assert.not.ok((await ledger()).some((r) => r.run_id === 'cancel-queued'), 'the queued one never started');
    await worker.stop();
    await queue.close();
  });

  test('PostgreSQL restarted while runs are active: the worker reconnects and every run ends exactly right', async () => {
    const restart = restartTestCluster();
    if (!restart) {
      if (process.env.CI) assert.unreachable('under CI the tests run on the cluster npm test starts');
      console.log('\n  skipping the restart case: DATABASE_URL is a database of your own, which the tests will not restart\n');
      return;
    }
    const queue = queueNamed('junjo-runs');
    await queue.start();
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => queue.submit(tenSteps, undefined, { runId: `restart-${i}` })));
    const worker = workerProcess();
    await worker.line(/ready/);
    while ((await ledger()).filter((r) => r.run_id.startsWith('restart-')).length < 12) await new Promise((resolve) => setTimeout(resolve, 20));
    restart();
    const results = await Promise.all(ids.map((id) => queue.result<{ state: unknown }>(id)));
    for (const [i, r] of results.entries()) assert.equal(r.state, EXPECTED, `run ${ids[i]}: the final state is that of an uninterrupted run`);
    worker.proc.kill('SIGTERM');
    assert.is((await worker.exited).code, 0);
    await queue.close();
  });

  test('worker processes: one SIGKILLed mid-run, one SIGTERMed (draining); every run ends exactly right, only nodes in flight ran again', async () => {
    const queue = queueNamed('junjo-runs');
    await queue.start();
    const RUNS = 24;
    const ids = await Promise.all(Array.from({ length: RUNS }, (_, i) => queue.submit(tenSteps, undefined, { runId: `fail-${i}` })));
    const before = (await ledger()).length;
    const first = workerProcess();
    const second = workerProcess();
    await Promise.all([first.line(/ready/), second.line(/ready/)]);
    // Killed once it is under way itself (not just the other worker): its runs are then in flight.
    while ((await ledger()).filter((r) => r.pid === first.proc.pid).length < 5) await new Promise((resolve) => setTimeout(resolve, 20));
    first.proc.kill('SIGKILL');
    const killed = first.proc.pid!;
    const third = workerProcess();
    await third.line(/ready/);
    await ledgerAtLeast(before + 90);
    second.proc.kill('SIGTERM');
    const drained = await second.exited;
    assert.is(drained.code, 0, `the SIGTERMed worker drained and exited cleanly:\n${drained.stderr}`);
    assert.ok(drained.lines.some((l) => /stopped$/.test(l)));
    const results = await Promise.all(ids.map((id) => queue.result<{ state: unknown; executionCounts: Record<string, number> }>(id)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.state, EXPECTED, `run ${ids[i]}: the final state is that of an uninterrupted run`);
      assert.equal(r.executionCounts, Object.fromEntries(NODES.map((n) => [n, 1])), `run ${ids[i]}: each node counted once`);
    }
    third.proc.kill('SIGTERM');
    await third.exited;

    const rows = (await ledger()).filter((r) => r.run_id.startsWith('fail-'));
    const stopped = new Set([killed, second.proc.pid!]);
    let reruns = 0;
    for (const id of ids) {
      for (const n of NODES) {
        const attempts = rows.filter((r) => r.run_id === id && r.node === n);
        assert.ok(attempts.length >= 1, `${id} ${n} ran`);
        // A node's body starts only once its start is checkpointed, so each run again is a higher
        // attempt (by one per start; an attempt stopped before it wrote its ledger row leaves a gap).
        attempts.forEach((r, i) => i > 0 && assert.ok(r.attempt > attempts[i - 1]!.attempt, `${id} ${n}: each run again is a higher attempt (${attempts.map((a) => a.attempt)})`));
        // Every attempt but the last was cut short by a stopped worker: it was in flight there.
        for (const cut of attempts.slice(0, -1)) assert.ok(stopped.has(cut.pid), `${id} ${n}: attempt ${cut.attempt} ran again though its worker (${cut.pid}) was not stopped`);
        reruns += attempts.length - 1;
      }
    }
    assert.ok(reruns > 0, `some nodes were in flight on a stopped worker (killed ${killed}, drained ${second.proc.pid}; node starts by pid: ${JSON.stringify(rows.reduce<Record<number, number>>((n, r) => ((n[r.pid] = (n[r.pid] ?? 0) + 1), n), {}))})`);
    await queue.close();
  });

  test('a zombie worker: SIGSTOPped past its lease, its run taken over and finished by another; after SIGCONT it starts no node and writes nothing', async () => {
    const queue = queueNamed('junjo-runs');
    await queue.start();
    await queue.submit(tenSteps, undefined, { runId: 'zombie-1' });
    const zombie = workerProcess();
    await zombie.line(/ready/);
    const mine = async () => (await ledger()).filter((r) => r.run_id === 'zombie-1');
    while ((await mine()).length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    zombie.proc.kill('SIGSTOP');
    const other = workerProcess();
    const result = await queue.result<{ state: unknown; executionCounts: Record<string, number> }>('zombie-1');
    assert.equal(result.state, EXPECTED, 'the run taken over ends exactly as an uninterrupted one');
    assert.equal(result.executionCounts, Object.fromEntries(NODES.map((n) => [n, 1])));
    const finished = (await admin.query(`SELECT * FROM "${schema}".junjo_checkpoints WHERE run_id = 'zombie-1'`)).rows;
    const startsBefore = (await mine()).filter((r) => r.pid === zombie.proc.pid).length;
    zombie.proc.kill('SIGCONT');
    // Its in-flight node ends, and its next write (or lease renewal) is refused; then it drains.
    zombie.proc.kill('SIGTERM');
    const exit = await zombie.exited;
    assert.is(exit.code, 0, `the zombie stopped cleanly:\n${exit.stderr}`);
    assert.is((await mine()).filter((r) => r.pid === zombie.proc.pid).length, startsBefore, 'the zombie started no node after it was taken over');
    assert.equal((await admin.query(`SELECT * FROM "${schema}".junjo_checkpoints WHERE run_id = 'zombie-1'`)).rows, finished, 'the finished run’s checkpoint is left as the new owner wrote it');
    assert.is(await queue.status('zombie-1'), 'completed');
    other.proc.kill('SIGTERM');
    assert.is((await other.exited).code, 0);
    await queue.close();
  });

  test('fault test: three workers, 200 runs of 20 nodes, a worker SIGKILLed at a random point five times; every run exact, no completed node ran again', async () => {
    const queue = queueNamed('junjo-runs', [twentySteps]);
    await queue.start();
    // Every committed checkpoint, numbered from the ledger's own sequence: a node start
    // (ledger row n) can be checked against the checkpoints committed before it.
    await admin.query(`CREATE TABLE "${schema}".audit (seq bigint, run_id text, value text)`);
    await admin.query(`CREATE FUNCTION "${schema}".audit_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO "${schema}".audit VALUES (nextval('"${schema}".ledger_id_seq'), NEW.run_id, (NEW.data::jsonb -> 'snapshot' -> 'value')::text);
        RETURN NEW;
      END $$`);
    await admin.query(`CREATE TRIGGER audit AFTER INSERT OR UPDATE ON "${schema}".junjo_checkpoints FOR EACH ROW EXECUTE FUNCTION "${schema}".audit_checkpoint()`);
    const RUNS = 200;
    const ids = await Promise.all(Array.from({ length: RUNS }, (_, i) => queue.submit(twentySteps, undefined, { runId: `fault-${i}` })));
    const seed = Number(process.env.FAULT_SEED ?? Date.now() % 100_000);
    let state = seed;
    const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
    const starts = async () => (await admin.query(`SELECT count(*)::int AS n FROM "${schema}".ledger WHERE run_id LIKE 'fault-%'`)).rows[0].n as number;
    const workers = [workerProcess(), workerProcess(), workerProcess()];
    await Promise.all(workers.map((w) => w.line(/ready/)));
    const killed: number[] = [];
    for (let k = 1; k <= 5; k++) {
      // Somewhere in the k-th seventh of the work (4000 node starts at least).
      const at = Math.floor(((k + random()) * RUNS * TWENTY.length) / 7);
      while ((await starts()) < at) await new Promise((resolve) => setTimeout(resolve, 20));
      const victim = Math.floor(random() * workers.length);
      workers[victim]!.proc.kill('SIGKILL');
      killed.push(workers[victim]!.proc.pid!);
      await workers[victim]!.exited;
      workers[victim] = workerProcess();
      await workers[victim]!.line(/ready/);
    }
    const results = await Promise.all(ids.map((id) => queue.result<{ state: unknown; executionCounts: Record<string, number> }>(id)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.state, { log: TWENTY }, `run ${ids[i]} (seed ${seed}): every update applied once, as in an uninterrupted run`);
      assert.equal(r.executionCounts, Object.fromEntries(TWENTY.map((n) => [n, 1])), `run ${ids[i]}: each node counted once`);
    }
    for (const w of workers) w.proc.kill('SIGTERM');
    for (const w of workers) assert.is((await w.exited).code, 0);

    const rows = (await admin.query<LedgerRow & { id: string }>(`SELECT id, run_id, node, attempt, pid FROM "${schema}".ledger WHERE run_id LIKE 'fault-%' ORDER BY id`)).rows;
    const audit = (await admin.query<{ seq: string; run_id: string; value: string }>(`SELECT seq, run_id, value FROM "${schema}".audit WHERE run_id LIKE 'fault-%'`)).rows;
    // How far each run's committed checkpoints had got, in order: the node a checkpoint is at
    // (1…20), 21 once the run is done.
    const progress = new Map<string, { seq: number; at: number }[]>();
    for (const a of audit) {
      const at = /"S(\d\d)"/.exec(a.value)?.[1];
      progress.set(a.run_id, [...(progress.get(a.run_id) ?? []), { seq: Number(a.seq), at: at ? Number(at) : TWENTY.length + 1 }]);
    }
    let reruns = 0;
    for (const row of rows) {
      const index = TWENTY.indexOf(row.node) + 1;
      const past = (progress.get(row.run_id) ?? []).filter((p) => p.seq < Number(row.id) && p.at > index);
      assert.equal(past, [], `${row.run_id} ${row.node} (attempt ${row.attempt}, pid ${row.pid}, seed ${seed}) started again after a checkpoint recorded its completion`);
    }
    for (const id of ids) {
      for (const n of TWENTY) {
        const attempts = rows.filter((r) => r.run_id === id && r.node === n);
        assert.ok(attempts.length >= 1, `${id} ${n} ran`);
        // Its start was checkpointed before its body ran: each run again is a higher attempt (one
        // higher per start; one killed before it wrote its ledger row leaves a gap).
        attempts.forEach((r, i) => i > 0 && assert.ok(r.attempt > attempts[i - 1]!.attempt, `${id} ${n}: each run again is a higher attempt (${attempts.map((a) => a.attempt)}; seed ${seed})`));
        for (const cut of attempts.slice(0, -1)) assert.ok(killed.includes(cut.pid), `${id} ${n}: attempt ${cut.attempt} ran again though its worker (${cut.pid}) was not killed`);
        reruns += attempts.length - 1;
      }
    }
    assert.ok(reruns > 0, `some nodes were in flight on a killed worker (seed ${seed})`);
    console.log(`\n  fault test: seed ${seed}, killed ${killed.join(', ')}; ${rows.length} node starts for ${RUNS * TWENTY.length} nodes, ${reruns} in flight ran again\n`);
    await queue.close();
  });
}

test.run();

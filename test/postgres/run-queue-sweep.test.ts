/**
 * The sweep of RunQueue workers (`queue.orphans()`): a run queued behind a backlog longer than a
 * lease, whose job still waits in pg-boss, is not sent again (every worker's every sweep did,
 * one transaction each); once its job is gone without a claim (a worker died between taking the
 * job and claiming the run), it is.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RunQueue } from '../../src/postgres/index.js';
import { databaseUrl } from '../support/postgres.js';
import { tenSteps } from './fixtures/ten-steps.js';

const test = suite('postgres: RunQueue sweep');
const url = databaseUrl('postgres: RunQueue sweep');

if (url) {
  test('a queued run whose job waits is no orphan, however old; once its job was taken and no lease claimed, it is', async () => {
    const queue = new RunQueue({ connectionString: url, workflows: [tenSteps], schema: 'sweep_test', queue: 'sweep-test', leaseMs: 1000 });
    try {
      await queue.submit(tenSteps, undefined, { runId: 'backlogged' });
      // Queued an hour ago: older than any lease, as behind a long backlog.
      await queue.store.pool.query(`UPDATE sweep_test.junjo_runs SET updated_at = now() - interval '1 hour'`);
      assert.equal(await queue.orphans(), [], 'its job still waits: nothing to send again');
      // A worker takes the job and completes it (as #handle does), then dies before claiming the run.
      const [job] = await queue.boss.fetch<{ runId: string }>('sweep-test', { batchSize: 1 });
      assert.is(job?.data.runId, 'backlogged');
      await queue.boss.complete('sweep-test', job!.id);
      assert.equal(await queue.orphans(), [{ runId: 'backlogged', workflow: tenSteps.name }]);
    } finally {
      await queue.store.pool.query('DROP SCHEMA IF EXISTS sweep_test CASCADE');
      await queue.close();
    }
  });
}

test.run();

/**
 * `worker.stop()` never hangs when the database is out of reach: a worker with a run in flight
 * on a throwaway PostgreSQL of its own, whose server processes are then SIGSTOPped (every
 * connection open but silent, as with a host lost on the network), still stops and resolves,
 * bounded by the lease time, leaving its run to be taken over once the lease lapses.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunQueue } from '../../src/postgres/index.js';
import { postgresBinaries, startCluster } from '../support/postgres.js';
import { waitsForever } from './fixtures/ten-steps.js';

/** The server's processes: the postmaster (first line of its pid file) and its children. */
function serverPids(dir: string): number[] {
  const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  return [postmaster, ...children];
}

const test = suite('postgres: worker.stop() without a database');

if (postgresBinaries()) {
  test('worker.stop() resolves though the database does not answer, a run still in flight', async () => {
    // A cluster of its own: this test freezes its server.
    const cluster = await startCluster();
    let frozen: number[] = [];
    const queue = new RunQueue({ connectionString: cluster.url, workflows: [waitsForever], leaseMs: 2000 });
    try {
      await queue.submit(waitsForever, undefined, { runId: 'gone-1' });
      const worker = await queue.work({ concurrency: 1 });
      while ((await queue.status('gone-1')) !== 'running') await new Promise((resolve) => setTimeout(resolve, 20));
      frozen = serverPids(cluster.dir);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      // A guard, not a measure: a hang fails here with a message instead of holding the suite.
      const stopped = await Promise.race([
        worker.stop().then(() => 'stopped'),
        new Promise((resolve) => setTimeout(resolve, 60_000, 'still stopping a minute later')).then(String),
      ]);
      assert.is(stopped, 'stopped');
      // Its run could not write its stop: still listed, it is left to lapse like a dead worker's.
      assert.equal(worker.active, ['gone-1']);
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      cluster.stop();
      await queue.close();
    }
  });
} else {
  if (process.env.CI) throw new Error('postgres: worker.stop() without a database: PostgreSQL is not installed');
  console.log('\n  skipping worker.stop() without a database: PostgreSQL is not installed\n');
}

test.run();

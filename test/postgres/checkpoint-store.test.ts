/**
 * PostgresCheckpointStore's writes are named prepared statements (parsed and planned once per
 * connection): stores of two schemas, and stores of one schema with different history limits,
 * share one connection and each still writes its own tables with its own limit.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { PostgresCheckpointStore } from '../../src/postgres/index.js';
import type { CheckpointRecord } from '../../src/index.js';
import { databaseUrl } from '../support/postgres.js';

const test = suite('postgres: checkpoint store statements');
const url = databaseUrl('postgres: checkpoint store statements');

const record = (runId: string, n: number): CheckpointRecord => ({
  runId,
  workflow: 'W',
  status: 'running',
  createdAt: 1,
  updatedAt: 1 + n,
  data: JSON.stringify({ n }),
});

if (url) {
  test('stores of two schemas on one connection write their own tables; one schema, two history limits, each its own', async () => {
    // One connection: every store's statements are prepared on it.
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const a = new PostgresCheckpointStore(pool, { schema: 'stmt_a', historyLimit: 2 });
    const b = new PostgresCheckpointStore(pool, { schema: 'stmt_b' });
    const a5 = new PostgresCheckpointStore(pool, { schema: 'stmt_a', historyLimit: 5 });
    try {
      for (let n = 1; n <= 6; n++) {
        await a.put(record('run-a', n));
        await b.put(record('run-b', n));
        await a5.put(record('run-a5', n));
        const lease = await b.claim({ runId: `run-b-leased-${n}`, owner: 'test', leaseMs: 60_000 });
        await b.put(record(`run-b-leased-${n}`, n), lease);
      }
      assert.equal((await a.get('run-a'))?.data, JSON.stringify({ n: 6 }));
      assert.equal((await a.get('run-b'))?.data, undefined, 'schema stmt_a has no run of stmt_b');
      assert.equal((await b.get('run-b'))?.data, JSON.stringify({ n: 6 }));
      assert.equal((await a.history('run-a')).map((c) => c.seq), [5, 6], 'historyLimit 2');
      assert.equal((await a5.history('run-a5')).map((c) => c.seq), [2, 3, 4, 5, 6], 'historyLimit 5, same schema');
      assert.equal((await b.history('run-b')).length, 6, 'default limit');
      assert.equal((await b.list()).length, 7);
    } finally {
      await pool.query('DROP SCHEMA IF EXISTS stmt_a CASCADE; DROP SCHEMA IF EXISTS stmt_b CASCADE');
      await pool.end();
    }
  });
}

test.run();

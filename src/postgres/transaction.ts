/** One Postgres transaction on a pooled client: committed when `fn` resolves, rolled back when it throws. */
import type * as PG from 'pg';

export async function transaction<T>(pool: PG.Pool, fn: (client: PG.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

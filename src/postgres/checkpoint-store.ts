/**
 * The PostgreSQL checkpoint store (Node only: `import { PostgresCheckpointStore } from
 * 'junjo-xstate/postgres'`, with `pg` installed). One table holds the checkpoints of any number
 * of runs and workflows, one row per run, in a schema of its own (`junjo` unless told), which
 * the store creates and versions itself. Every write is one statement, so one transaction: a
 * crash of the process or of the server leaves a run's previous or new checkpoint, never a mix.
 * Each row carries a SHA-1 of its data, so a record changed or cut short behind the store's back
 * is refused rather than resumed. The data is kept as text, not jsonb, so it is stored exactly
 * as written and its checksum still matches.
 */
import { checksum, summaryOf } from '../durable/record-rows.js';
import type * as PG from 'pg';
// prettier-ignore
import { CheckpointError, LeaseHeldError, LeaseLostError, type ClaimRequest, type Lease, type LeasingStore, type CheckpointFilter, type CheckpointRecord, type CheckpointStore, type CheckpointSummary, type RunStatus } from '../index.js';
import { isNodeOwnerGone, nodeOwnerName } from '../durable/node-owner.js';
import { optionalModule } from '../durable/optional-module.js';
import { transaction } from './transaction.js';

/** The database's clock, in ms: leases of processes on many machines are timed by one clock. */
const NOW = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** The version of the tables this code reads and writes; a database at a newer one is refused. */
export const SCHEMA_VERSION = 1;

export interface PostgresCheckpointStoreOptions {
  /** The schema the store's tables live in (default `junjo`); created if missing. */
  schema?: string;
}

interface Row {
  run_id: string;
  workflow: string;
  status: RunStatus;
  created_at: string;
  updated_at: string;
  error: string | null;
  checksum?: string;
  data?: string;
}

const SUMMARY = 'run_id, workflow, status, created_at, updated_at, error';

export class PostgresCheckpointStore implements CheckpointStore, LeasingStore {
  readonly schema: string;
  /** `schema.junjo_checkpoints`, quoted, for SQL. */
  readonly table: string;
  /** `schema.junjo_leases`: one row per run that was ever claimed, its fence growing with each claim. */
  readonly leases: string;
  readonly #pool: PG.Pool;
  readonly #ownsPool: boolean;
  #ready: Promise<void> | undefined;

  /** `pool`: a `pg.Pool` (left open by `close()`), or a connection string (the store's own pool). */
  constructor(pool: PG.Pool | string, options: PostgresCheckpointStoreOptions = {}) {
    const schema = options.schema ?? 'junjo';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new TypeError(`PostgresCheckpointStore: schema '${schema}' is not a plain SQL name: use letters, digits and _ (e.g. 'junjo')`);
    }
    this.schema = schema;
    this.table = `"${schema}".junjo_checkpoints`;
    this.leases = `"${schema}".junjo_leases`;
    if (typeof pool === 'string') {
      const pg = optionalModule<typeof PG>('pg', 'pg@8', 'junjo-xstate/postgres');
      this.#pool = new pg.Pool({ connectionString: pool });
      this.#ownsPool = true;
    } else {
      this.#pool = pool;
      this.#ownsPool = false;
    }
    // An idle client losing its server (a restart) emits 'error' on the pool; unhandled, it would
    // crash the process. The next query takes a new connection and reports its own error.
    this.#pool.on('error', () => {});
  }

  /** The pool the store queries through (the RunQueue shares it). */
  get pool(): PG.Pool {
    return this.#pool;
  }

  /** Creates the schema and tables if needed (every method does it first; call it to fail early). */
  ready(): Promise<void> {
    this.#ready ??= this.#migrate().catch((err) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async #migrate(): Promise<void> {
    await transaction(this.#pool, async (client) => {
      // Two processes creating the same tables at once would collide on Postgres's catalogs.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`junjo-xstate:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query(`CREATE TABLE IF NOT EXISTS "${this.schema}".junjo_meta (key text PRIMARY KEY, value text NOT NULL)`);
      const { rows } = await client.query<{ value: string }>(`SELECT value FROM "${this.schema}".junjo_meta WHERE key = 'schema_version'`);
      const found = rows[0] ? Number(rows[0].value) : 0;
      if (found > SCHEMA_VERSION) {
        throw new Error(
          `The checkpoint tables in schema '${this.schema}' are at version ${found}, written by a newer junjo-xstate; this one reads version ${SCHEMA_VERSION}. ` +
            `Upgrade junjo-xstate here, or give the store another schema. Nothing was changed.`,
        );
      }
      if (found < 1) {
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
          run_id text PRIMARY KEY,
          workflow text NOT NULL,
          status text NOT NULL,
          created_at bigint NOT NULL,
          updated_at bigint NOT NULL,
          error text,
          checksum text NOT NULL,
          data text NOT NULL
        )`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.leases} (
          run_id text PRIMARY KEY,
          owner text,
          fence bigint NOT NULL,
          expires_at bigint
        )`);
        await client.query(`CREATE INDEX IF NOT EXISTS junjo_checkpoints_by_status ON ${this.table} (status, workflow, created_at)`);
        await client.query(`INSERT INTO "${this.schema}".junjo_meta (key, value) VALUES ('schema_version', $1)
          ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(SCHEMA_VERSION)]);
      }
    });
  }

  async put(record: CheckpointRecord, lease?: Lease): Promise<void> {
    await this.ready();
    const values = [record.runId, record.workflow, record.status, record.createdAt, record.updatedAt, record.error ?? null, checksum(record.data), record.data];
    const upsert = `INSERT INTO ${this.table} (run_id, workflow, status, created_at, updated_at, error, checksum, data)
       %SOURCE%
       ON CONFLICT (run_id) DO UPDATE SET workflow = excluded.workflow, status = excluded.status,
         updated_at = excluded.updated_at, error = excluded.error, checksum = excluded.checksum, data = excluded.data`;
    if (!lease) {
      await this.#pool.query(upsert.replace('%SOURCE%', 'VALUES ($1, $2, $3, $4, $5, $6, $7, $8)'), values);
      return;
    }
    // One statement: the lease row is locked (FOR SHARE) while the checkpoint is written, so a
    // claim waits for this write, and a write after a claim finds another fence and writes nothing.
    const { rowCount } = await this.#pool.query(
      `WITH current AS (SELECT 1 FROM ${this.leases} WHERE run_id = $1 AND fence = $9 AND owner = $10 FOR SHARE) ` +
        upsert.replace('%SOURCE%', 'SELECT $1, $2, $3, $4::bigint, $5::bigint, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM current)'),
      [...values, lease.fence, lease.owner],
    );
    if (!rowCount) throw await this.#lost(lease);
  }

  async claim({ runId, owner, leaseMs, takeOverFrom }: ClaimRequest): Promise<Lease> {
    await this.ready();
    // A lease released between the refusal and the look at its owner: claim again.
    for (let tries = 0; ; tries++) {
      const { rows } = await this.#pool.query<{ fence: string; expires_at: string }>(
        `INSERT INTO ${this.leases} AS l (run_id, owner, fence, expires_at) VALUES ($1, $2, 1, ${NOW} + $3)
         ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, fence = l.fence + 1, expires_at = excluded.expires_at
           WHERE l.expires_at <= ${NOW} OR l.owner = $4
         RETURNING fence, expires_at`,
        [runId, owner, leaseMs, takeOverFrom ?? null],
      );
      if (rows[0]) return { runId, owner, fence: Number(rows[0].fence), expiresAt: Number(rows[0].expires_at) };
      const held = await this.#pool.query<{ owner: string | null; left: string }>(`SELECT owner, expires_at - ${NOW} AS left FROM ${this.leases} WHERE run_id = $1`, [runId]);
      const row = held.rows[0];
      if (row?.owner && Number(row.left) > 0) throw new LeaseHeldError(runId, row.owner, Number(row.left));
      if (tries >= 3) throw new Error(`Run '${runId}': its lease could not be claimed (it kept changing hands); try again`);
    }
  }

  async renew(lease: Lease, leaseMs: number): Promise<Lease> {
    await this.ready();
    const { rows } = await this.#pool.query<{ expires_at: string }>(
      `UPDATE ${this.leases} SET expires_at = ${NOW} + $4 WHERE run_id = $1 AND fence = $2 AND owner = $3 RETURNING expires_at`,
      [lease.runId, lease.fence, lease.owner, leaseMs],
    );
    if (!rows[0]) throw await this.#lost(lease);
    return { ...lease, expiresAt: Number(rows[0].expires_at) };
  }

  async release(lease: Lease): Promise<void> {
    await this.ready();
    // Kept, lapsed: a late write of an older owner is told who had the run last.
    await this.#pool.query(`UPDATE ${this.leases} SET expires_at = 0 WHERE run_id = $1 AND fence = $2 AND owner = $3`, [
      lease.runId,
      lease.fence,
      lease.owner,
    ]);
  }

  ownerName(): string {
    return nodeOwnerName();
  }

  isOwnerGone(owner: string): boolean {
    return isNodeOwnerGone(owner);
  }

  async #lost(lease: Lease): Promise<LeaseLostError> {
    const { rows } = await this.#pool.query<{ owner: string | null }>(`SELECT owner FROM ${this.leases} WHERE run_id = $1`, [lease.runId]);
    return new LeaseLostError(lease.runId, lease.owner, lease.fence, rows[0]?.owner ?? null);
  }

  async get(runId: string): Promise<CheckpointRecord | undefined> {
    await this.ready();
    const { rows } = await this.#pool.query<Row>(`SELECT ${SUMMARY}, checksum, data FROM ${this.table} WHERE run_id = $1`, [runId]);
    const row = rows[0];
    if (!row) return undefined;
    if (typeof row.data !== 'string' || row.checksum !== checksum(row.data)) {
      throw new CheckpointError(
        'corrupt',
        runId,
        `The checkpoint of run '${runId}' in ${this.table} is corrupt (its data does not match its checksum: it was changed or truncated ` +
          `outside junjo-xstate), so the run cannot be resumed. It was left as it is: restore the row from a backup, or delete the ` +
          `checkpoint (checkpoint.delete('${runId}')) and start the run again.`,
      );
    }
    return { ...summaryOf(row), data: row.data };
  }

  async list(filter: CheckpointFilter = {}): Promise<CheckpointSummary[]> {
    await this.ready();
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.workflow !== undefined) {
      params.push(filter.workflow);
      where.push(`workflow = $${params.length}`);
    }
    if (filter.status !== undefined) {
      params.push(typeof filter.status === 'string' ? [filter.status] : [...filter.status]);
      where.push(`status = ANY($${params.length}::text[])`);
    }
    const { rows } = await this.#pool.query<Row>(`SELECT ${SUMMARY} FROM ${this.table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, run_id`, params);
    return rows.map(summaryOf);
  }

  async delete(runId: string): Promise<boolean> {
    await this.ready();
    // A lease nobody holds goes with the record; a held one stays, so its owner is still fenced.
    const { rowCount } = await this.#pool.query(
      `WITH lease AS (DELETE FROM ${this.leases} WHERE run_id = $1 AND expires_at <= ${NOW})
       DELETE FROM ${this.table} WHERE run_id = $1`,
      [runId],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Ends the store's own pool (a pool given to the constructor is left open). */
  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end();
  }
}

/**
 * The PostgreSQL checkpoint store (Node only: `import { PostgresCheckpointStore } from
 * 'junjo-xstate/postgres'`, with `pg` installed). One table holds the checkpoints of any number
 * of runs and workflows, one row per run, and each run's past checkpoints (up to `historyLimit`
 * per run, for forks) in a history table, in a schema of its own (`junjo` unless told), which
 * the store creates and versions itself (version 1 had no history: migrating adds it, each run's
 * current record becoming its checkpoint 1). Every write is one statement, so one transaction: a
 * crash of the process or of the server leaves a run's previous or new checkpoint, never a mix.
 * Each row carries a SHA-1 of its data, so a record changed or cut short behind the store's back
 * is refused rather than resumed. The data is kept as text, not jsonb, so it is stored exactly
 * as written and its checksum still matches.
 */
import { checksum, summaryOf } from '../durable/record-rows.js';
import { historyLimitOf } from '../durable/checkpoint-store.js';
import { createHash } from 'node:crypto';
import type * as PG from 'pg';
// prettier-ignore
import { CheckpointError, LeaseHeldError, LeaseLostError, type ClaimRequest, type Lease, type LeasingStore, type CheckpointCommit, type CheckpointFilter, type CheckpointRecord, type CheckpointStore, type CheckpointSummary, type RunStatus } from '../index.js';
import { isNodeOwnerGone, nodeOwnerName } from '../durable/node-owner.js';
import { optionalModule } from '../durable/optional-module.js';
import { transaction } from './transaction.js';

/** The database's clock, in ms: leases of processes on many machines are timed by one clock. */
const NOW = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** The version of the tables this code reads and writes; a database at a newer one is refused. */
export const SCHEMA_VERSION = 2;

export interface PostgresCheckpointStoreOptions {
  /** The schema the store's tables live in (default `junjo`); created if missing. */
  schema?: string;
  /** How many past checkpoints to keep per run, for forks (default DEFAULT_HISTORY_LIMIT); the oldest go first. */
  historyLimit?: number;
}

interface Row {
  run_id: string;
  workflow: string;
  status: RunStatus;
  created_at: string;
  updated_at: string;
  error: string | null;
  origin_run: string | null;
  origin_seq: string | null;
  checksum?: string;
  data?: string;
  seq?: string;
}

const SUMMARY = 'run_id, workflow, status, created_at, updated_at, error, origin_run, origin_seq';

export class PostgresCheckpointStore implements CheckpointStore, LeasingStore {
  readonly schema: string;
  /** `schema.junjo_checkpoints`, quoted, for SQL. */
  readonly table: string;
  /** `schema.junjo_leases`: one row per run that was ever claimed, its fence growing with each claim. */
  readonly leases: string;
  /** `schema.junjo_checkpoint_history`: each run's past checkpoints, by seq. */
  readonly historyTable: string;
  /** `schema.junjo_graphs`: the graphs checkpoints are written under, by fingerprint (`putGraph`). */
  readonly graphsTable: string;
  readonly #historyLimit: number;
  readonly #pool: PG.Pool;
  readonly #ownsPool: boolean;
  /** The statements of `put`, named: each connection parses and plans them once, not on every write. */
  readonly #put: { free: PG.QueryConfig; fenced: PG.QueryConfig };
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
    this.historyTable = `"${schema}".junjo_checkpoint_history`;
    this.graphsTable = `"${schema}".junjo_graphs`;
    this.#historyLimit = historyLimitOf('PostgresCheckpointStore', options.historyLimit);
    this.#put = putStatements(this.table, this.historyTable, this.leases);
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
      }
      if (found < 2) {
        await client.query(`ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS seq bigint NOT NULL DEFAULT 1,
          ADD COLUMN IF NOT EXISTS origin_run text, ADD COLUMN IF NOT EXISTS origin_seq bigint`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.historyTable} (
          run_id text NOT NULL,
          seq bigint NOT NULL,
          status text NOT NULL,
          updated_at bigint NOT NULL,
          error text,
          checksum text NOT NULL,
          data text NOT NULL,
          PRIMARY KEY (run_id, seq)
        )`);
        await client.query(`INSERT INTO ${this.historyTable} (run_id, seq, status, updated_at, error, checksum, data)
          SELECT run_id, seq, status, updated_at, error, checksum, data FROM ${this.table} ON CONFLICT DO NOTHING`);
      }
      // Beside version 2's tables, which it does not change: older versions go on reading them
      // (they ignore it), so it needs no new version.
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.graphsTable} (fingerprint text PRIMARY KEY, workflow text NOT NULL, graph text NOT NULL)`);
      if (found < SCHEMA_VERSION) {
        await client.query(`INSERT INTO "${this.schema}".junjo_meta (key, value) VALUES ('schema_version', $1)
          ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(SCHEMA_VERSION)]);
      }
    });
  }

  async put(record: CheckpointRecord, lease?: Lease): Promise<void> {
    await this.ready();
    const values = [
      record.runId, record.workflow, record.status, record.createdAt, record.updatedAt, record.error ?? null,
      checksum(record.data), record.data, record.origin?.runId ?? null, record.origin?.seq ?? null, this.#historyLimit,
    ];
    if (!lease) {
      await this.#pool.query({ ...this.#put.free, values });
      return;
    }
    const { rows } = await this.#pool.query<{ written: boolean }>({ ...this.#put.fenced, values: [...values, lease.fence, lease.owner] });
    if (!rows[0]?.written) throw await this.#lost(lease);
  }

  async putGraph(fingerprint: string, workflow: string, graph: string): Promise<void> {
    await this.ready();
    await this.#pool.query(`INSERT INTO ${this.graphsTable} (fingerprint, workflow, graph) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [fingerprint, workflow, graph]);
  }

  async getGraph(fingerprint: string): Promise<string | undefined> {
    await this.ready();
    const { rows } = await this.#pool.query<{ graph: string }>(`SELECT graph FROM ${this.graphsTable} WHERE fingerprint = $1`, [fingerprint]);
    return rows[0]?.graph;
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
    return rows[0] && this.#checked(rows[0], this.table);
  }

  async history(runId: string): Promise<CheckpointCommit[]> {
    await this.ready();
    const { rows } = await this.#pool.query<Row>(
      `SELECT c.run_id, c.workflow, h.status, c.created_at, h.updated_at, h.error, c.origin_run, c.origin_seq, h.checksum, h.data, h.seq
       FROM ${this.historyTable} h JOIN ${this.table} c USING (run_id) WHERE run_id = $1 ORDER BY h.seq`,
      [runId],
    );
    return rows.map((row) => ({ ...this.#checked(row, this.historyTable), seq: Number(row.seq) }));
  }

  /** The row as a record, once its data matches its checksum. */
  #checked(row: Row, table: string): CheckpointRecord {
    const { run_id: runId } = row;
    if (typeof row.data !== 'string' || row.checksum !== checksum(row.data)) {
      const which = row.seq === undefined ? 'The checkpoint' : `Checkpoint ${row.seq}`;
      throw new CheckpointError(
        'corrupt',
        runId,
        `${which} of run '${runId}' in ${table} is corrupt (its data does not match its checksum: it was changed or truncated ` +
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
      `WITH lease AS (DELETE FROM ${this.leases} WHERE run_id = $1 AND expires_at <= ${NOW}),
        past AS (DELETE FROM ${this.historyTable} WHERE run_id = $1)
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

/**
 * The two statements of `put` (without and with a lease), each one statement, so one
 * transaction: the row takes the run's next seq, a copy of it goes to the history, and
 * checkpoints past the history limit go. Named, so that Postgres parses and plans each once per
 * connection (planning this CTE took longer than running it); the name carries a hash of the
 * text, as a connection refuses one name for two texts (two stores in two schemas on one pool).
 */
function putStatements(table: string, history: string, leases: string): { free: PG.QueryConfig; fenced: PG.QueryConfig } {
  const write = (source: string) => `
      up AS (INSERT INTO ${table} AS t (run_id, workflow, status, created_at, updated_at, error, checksum, data, origin_run, origin_seq, seq)
        ${source}
        ON CONFLICT (run_id) DO UPDATE SET workflow = excluded.workflow, status = excluded.status,
          updated_at = excluded.updated_at, error = excluded.error, checksum = excluded.checksum, data = excluded.data,
          origin_run = excluded.origin_run, origin_seq = excluded.origin_seq, seq = t.seq + 1
        RETURNING run_id, seq, status, updated_at, error, checksum, data),
      kept AS (INSERT INTO ${history} (run_id, seq, status, updated_at, error, checksum, data) SELECT * FROM up
        ON CONFLICT (run_id, seq) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, error = excluded.error,
          checksum = excluded.checksum, data = excluded.data),
      pruned AS (DELETE FROM ${history} WHERE run_id = $1 AND seq <= (SELECT seq FROM up) - $11::bigint)
      SELECT EXISTS (SELECT 1 FROM up) AS written`;
  const row = 'SELECT $1, $2, $3, $4::bigint, $5::bigint, $6, $7, $8, $9, $10::bigint, 1::bigint';
  // The lease row is locked (FOR SHARE) while the checkpoint is written, so a claim waits for
  // this write, and a write after a claim finds another fence and writes nothing.
  const fenced =
    `WITH current AS (SELECT 1 FROM ${leases} WHERE run_id = $1 AND fence = $12 AND owner = $13 FOR SHARE), ` +
    write(`${row} WHERE EXISTS (SELECT 1 FROM current)`);
  const named = (text: string): PG.QueryConfig => ({ name: `junjo_put_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text });
  return { free: named(`WITH ${write(row)}`), fenced: named(fenced) };
}

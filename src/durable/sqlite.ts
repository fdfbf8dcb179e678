/**
 * The SQLite checkpoint store (Node only: `import { SqliteCheckpointStore } from
 * 'junjo-xstate/sqlite'`, with `better-sqlite3` installed). One file holds the checkpoints of
 * any number of runs and workflows, one row per run. The file is in WAL mode and each
 * checkpoint is written in its own transaction, so a crash leaves either the previous or the
 * new checkpoint of a run, never a mix. Each row carries a SHA-1 of its data, so a record
 * changed or truncated behind the store's back is refused rather than resumed.
 *
 * `synchronous: 'normal'` (the default) survives the process being killed at any point; a
 * power loss may lose the last checkpoints (not corrupt them). `'full'` survives power loss
 * too, at the cost of an fsync per checkpoint.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import {
  CheckpointError,
  type CheckpointFilter,
  type CheckpointRecord,
  type CheckpointStore,
  type CheckpointSummary,
  type RunStatus,
} from '../index.js';

export interface SqliteCheckpointStoreOptions {
  /** `normal` (default): durable when the process dies; `full`: also when the machine does. */
  synchronous?: 'normal' | 'full';
  /** How long a write waits for another process holding the file's lock (default 5000 ms). */
  busyTimeoutMs?: number;
}

interface Row {
  run_id: string;
  workflow: string;
  status: RunStatus;
  created_at: number;
  updated_at: number;
  error: string | null;
  checksum?: string;
  data?: string;
}

const SUMMARY = 'run_id, workflow, status, created_at, updated_at, error';

export class SqliteCheckpointStore implements CheckpointStore {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #put: (record: CheckpointRecord) => void;
  readonly #get: Database.Statement<[string], Row>;
  readonly #delete: Database.Statement<[string]>;

  constructor(path: string, options: SqliteCheckpointStoreOptions = {}) {
    this.path = path;
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      db.exec(`CREATE TABLE IF NOT EXISTS junjo_checkpoints (
        run_id TEXT PRIMARY KEY,
        workflow TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        error TEXT,
        checksum TEXT NOT NULL,
        data TEXT NOT NULL
      ) STRICT;
      CREATE INDEX IF NOT EXISTS junjo_checkpoints_by_status ON junjo_checkpoints (status, workflow, created_at);`);
    } catch (err) {
      db?.close();
      throw this.#unusable(err, '(any)');
    }
    this.#db = db;
    const upsert = db.prepare<[string, string, string, number, number, string | null, string, string]>(
      `INSERT INTO junjo_checkpoints (run_id, workflow, status, created_at, updated_at, error, checksum, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET workflow = excluded.workflow, status = excluded.status,
         updated_at = excluded.updated_at, error = excluded.error, checksum = excluded.checksum, data = excluded.data`,
    );
    this.#put = db.transaction((r: CheckpointRecord) => {
      upsert.run(r.runId, r.workflow, r.status, r.createdAt, r.updatedAt, r.error ?? null, checksum(r.data), r.data);
    });
    this.#get = db.prepare(`SELECT ${SUMMARY}, checksum, data FROM junjo_checkpoints WHERE run_id = ?`);
    this.#delete = db.prepare('DELETE FROM junjo_checkpoints WHERE run_id = ?');
  }

  put(record: CheckpointRecord): void {
    this.#guard(record.runId, () => this.#put(record));
  }

  get(runId: string): CheckpointRecord | undefined {
    const row = this.#guard(runId, () => this.#get.get(runId));
    if (!row) return undefined;
    if (typeof row.data !== 'string' || row.checksum !== checksum(row.data)) {
      throw new CheckpointError(
        'corrupt',
        runId,
        `The checkpoint of run '${runId}' in '${this.path}' is corrupt (its data does not match its checksum: it was changed or truncated ` +
          `outside junjo-xstate), so the run cannot be resumed. It was left as it is: restore the file from a backup, or delete the ` +
          `checkpoint (checkpoint.delete('${runId}')) and start the run again.`,
      );
    }
    return { ...summaryOf(row), data: row.data };
  }

  list(filter: CheckpointFilter = {}): CheckpointSummary[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.workflow !== undefined) {
      where.push('workflow = ?');
      params.push(filter.workflow);
    }
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === 'string' ? [filter.status] : [...filter.status];
      where.push(`status IN (${statuses.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...statuses);
    }
    const sql = `SELECT ${SUMMARY} FROM junjo_checkpoints ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, rowid`;
    return this.#guard('(any)', () => this.#db.prepare<string[], Row>(sql).all(...params)).map(summaryOf);
  }

  delete(runId: string): boolean {
    return this.#guard(runId, () => this.#delete.run(runId).changes > 0);
  }

  /** Closes the file. */
  close(): void {
    this.#db.close();
  }

  #guard<T>(runId: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) throw this.#unusable(err, runId);
      throw err;
    }
  }

  #unusable(err: unknown, runId: string): CheckpointError {
    return new CheckpointError(
      'corrupt',
      runId,
      `'${this.path}' is not a usable checkpoint database (SQLite says: ${(err as Error)?.message ?? String(err)}). ` +
        `It was left as it is: restore it from a backup, or move it away and give the store another path.`,
      err,
    );
  }
}

function checksum(data: string): string {
  return createHash('sha1').update(data).digest('base64');
}

function summaryOf(row: Row): CheckpointSummary {
  const summary: CheckpointSummary = {
    runId: row.run_id,
    workflow: row.workflow,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.error !== null) summary.error = row.error;
  return summary;
}

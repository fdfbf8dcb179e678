/**
 * The SQLite checkpoint store (Node only: `import { SqliteCheckpointStore } from
 * 'junjo-xstate/sqlite'`, with `better-sqlite3` installed). One file holds the checkpoints of
 * any number of runs and workflows, one row per run, and each run's past checkpoints (up to
 * `historyLimit` per run) in a history table, for forks. The file is in WAL mode and each
 * checkpoint is written in its own transaction, so a crash leaves either the previous or the
 * new checkpoint of a run, never a mix. Each row carries a SHA-1 of its data, so a record
 * changed or truncated behind the store's back is refused rather than resumed.
 *
 * `synchronous: 'normal'` (the default) survives the process being killed at any point; a
 * power loss may lose the last checkpoints (not corrupt them). `'full'` survives power loss
 * too, at the cost of an fsync per checkpoint.
 *
 * The tables are versioned with SQLite's `user_version`: version 1 had no history; opening such
 * a file adds it (each run's current record becomes its checkpoint 1). A file of a newer version
 * is refused. The graphs checkpoints are written under (`putGraph`, for the inspector) are kept
 * in a table of their own, beside them.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { checksum, summaryOf } from './record-rows.js';
import { historyLimitOf } from './checkpoint-store.js';
import {
  CheckpointError,
  LeaseHeldError,
  LeaseLostError,
  type ClaimRequest,
  type Lease,
  type LeasingStore,
  type CheckpointCommit,
  type CheckpointFilter,
  type CheckpointRecord,
  type CheckpointStore,
  type CheckpointSummary,
  type RunStatus,
} from '../index.js';
import { isNodeOwnerGone, nodeOwnerName } from './node-owner.js';
import { optionalModule } from './optional-module.js';

type Database = BetterSqlite3.Database;

export interface SqliteCheckpointStoreOptions {
  /** `normal` (default): durable when the process dies; `full`: also when the machine does. */
  synchronous?: 'normal' | 'full';
  /** How long a write waits for another process holding the file's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** How many past checkpoints to keep per run, for forks (default DEFAULT_HISTORY_LIMIT); the oldest go first. */
  historyLimit?: number;
}

/** The version of the tables this code reads and writes (PRAGMA user_version). */
export const SQLITE_SCHEMA_VERSION = 2;

interface Row {
  run_id: string;
  workflow: string;
  status: RunStatus;
  created_at: number;
  updated_at: number;
  error: string | null;
  origin_run: string | null;
  origin_seq: number | null;
  checksum?: string;
  data?: string;
  seq?: number;
}

const SUMMARY = 'run_id, workflow, status, created_at, updated_at, error, origin_run, origin_seq';

interface LeaseRow {
  owner: string | null;
  fence: number;
  expires_at: number | null;
}

export class SqliteCheckpointStore implements CheckpointStore, LeasingStore {
  readonly path: string;
  readonly #db: Database;
  readonly #put: (record: CheckpointRecord, lease: Lease | undefined) => void;
  readonly #get: BetterSqlite3.Statement<[string], Row>;
  readonly #history: BetterSqlite3.Statement<[string], Row>;
  readonly #delete: (runId: string) => boolean;
  readonly #lease: BetterSqlite3.Statement<[string], LeaseRow>;
  readonly #claim: (request: ClaimRequest) => Lease;
  readonly #renew: BetterSqlite3.Statement<[number, string, number, string]>;
  readonly #release: BetterSqlite3.Statement<[string, number, string]>;
  readonly #putGraph: BetterSqlite3.Statement<[string, string, string]>;
  readonly #getGraph: BetterSqlite3.Statement<[string], { graph: string }>;

  constructor(path: string, options: SqliteCheckpointStoreOptions = {}) {
    this.path = path;
    const historyLimit = historyLimitOf('SqliteCheckpointStore', options.historyLimit);
    const Sqlite = optionalModule<typeof BetterSqlite3>('better-sqlite3', 'better-sqlite3@12', 'junjo-xstate/sqlite');
    let db: Database | undefined;
    try {
      db = new Sqlite(path);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      // The WAL is copied into the file (with a sync) every 32 MiB instead of SQLite's 4 MiB: a
      // run writes a checkpoint per node, and the copies were a fifth of SQLite checkpointing's
      // cost (bench:checkpoint, 100 nodes: 65 → 51 ms). Durability is the same: commits are in the WAL.
      db.pragma('wal_autocheckpoint = 8192');
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
      CREATE INDEX IF NOT EXISTS junjo_checkpoints_by_status ON junjo_checkpoints (status, workflow, created_at);
      CREATE TABLE IF NOT EXISTS junjo_leases (
        run_id TEXT PRIMARY KEY,
        owner TEXT,
        fence INTEGER NOT NULL,
        expires_at INTEGER
      ) STRICT;
      -- Added beside version 2's tables, which it does not change: older versions go on reading
      -- the file (they ignore it), so it needs no new version.
      CREATE TABLE IF NOT EXISTS junjo_graphs (
        fingerprint TEXT PRIMARY KEY,
        workflow TEXT NOT NULL,
        graph TEXT NOT NULL
      ) STRICT;`);
      this.#migrate(db);
    } catch (err) {
      db?.close();
      throw this.#classify(err, '(any)', 'opened');
    }
    this.#db = db;
    type Values = [string, string, string, number, number, string | null, string | null, number | null, string, string];
    // Each write is the run's next checkpoint: its row takes the next seq, and a copy goes to the history.
    const upsert = db.prepare<Values, { seq: number }>(
      `INSERT INTO junjo_checkpoints (run_id, workflow, status, created_at, updated_at, error, origin_run, origin_seq, checksum, data, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
       ON CONFLICT (run_id) DO UPDATE SET workflow = excluded.workflow, status = excluded.status,
         updated_at = excluded.updated_at, error = excluded.error, origin_run = excluded.origin_run, origin_seq = excluded.origin_seq,
         checksum = excluded.checksum, data = excluded.data, seq = junjo_checkpoints.seq + 1
       RETURNING seq`,
    );
    const addHistory = db.prepare<[string, number, string, number, string | null, string, string]>(
      'INSERT OR REPLACE INTO junjo_checkpoint_history (run_id, seq, status, updated_at, error, checksum, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const pruneHistory = db.prepare<[string, number]>('DELETE FROM junjo_checkpoint_history WHERE run_id = ? AND seq <= ?');
    this.#lease = db.prepare('SELECT owner, fence, expires_at FROM junjo_leases WHERE run_id = ?');
    const setLease = db.prepare<[string, string, number, number]>(
      `INSERT INTO junjo_leases (run_id, owner, fence, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, fence = excluded.fence, expires_at = excluded.expires_at`,
    );
    // Immediate transactions take the file's write lock first: the check and the write of a
    // lease (or of a fenced checkpoint) cannot interleave with another process's.
    const current = (lease: Lease) => {
      const row = this.#lease.get(lease.runId);
      if (!row || row.owner !== lease.owner || row.fence !== lease.fence) throw new LeaseLostError(lease.runId, lease.owner, lease.fence, row?.owner ?? null);
    };
    this.#put = db.transaction((r: CheckpointRecord, lease: Lease | undefined) => {
      if (lease) current(lease);
      const sum = checksum(r.data);
      const { seq } = upsert.get(r.runId, r.workflow, r.status, r.createdAt, r.updatedAt, r.error ?? null, r.origin?.runId ?? null, r.origin?.seq ?? null, sum, r.data)!;
      addHistory.run(r.runId, seq, r.status, r.updatedAt, r.error ?? null, sum, r.data);
      if (seq > historyLimit) pruneHistory.run(r.runId, seq - historyLimit);
    }).immediate;
    this.#claim = db.transaction(({ runId, owner, leaseMs, takeOverFrom }: ClaimRequest): Lease => {
      const now = Date.now();
      const row = this.#lease.get(runId);
      if (row?.owner && (row.expires_at ?? 0) > now && row.owner !== takeOverFrom) throw new LeaseHeldError(runId, row.owner, (row.expires_at ?? 0) - now);
      const lease = { runId, owner, fence: (row?.fence ?? 0) + 1, expiresAt: now + leaseMs };
      setLease.run(runId, owner, lease.fence, lease.expiresAt);
      return lease;
    }).immediate;
    this.#renew = db.prepare('UPDATE junjo_leases SET expires_at = ? WHERE run_id = ? AND fence = ? AND owner = ?');
    // Released leases keep their owner, lapsed: a late write of an older owner is told who had the run last.
    this.#release = db.prepare('UPDATE junjo_leases SET expires_at = 0 WHERE run_id = ? AND fence = ? AND owner = ?');
    this.#get = db.prepare(`SELECT ${SUMMARY}, checksum, data FROM junjo_checkpoints WHERE run_id = ?`);
    this.#history = db.prepare(
      `SELECT c.run_id, c.workflow, h.status, c.created_at, h.updated_at, h.error, c.origin_run, c.origin_seq, h.checksum, h.data, h.seq
       FROM junjo_checkpoint_history h JOIN junjo_checkpoints c USING (run_id) WHERE run_id = ? ORDER BY h.seq`,
    );
    this.#putGraph = db.prepare('INSERT OR IGNORE INTO junjo_graphs (fingerprint, workflow, graph) VALUES (?, ?, ?)');
    this.#getGraph = db.prepare('SELECT graph FROM junjo_graphs WHERE fingerprint = ?');
    const deleteRecord = db.prepare<[string]>('DELETE FROM junjo_checkpoints WHERE run_id = ?');
    const deleteHistory = db.prepare<[string]>('DELETE FROM junjo_checkpoint_history WHERE run_id = ?');
    // A lease nobody holds goes with the record; a held one stays, so its owner is still fenced.
    const deleteLease = db.prepare<[string, number]>('DELETE FROM junjo_leases WHERE run_id = ? AND expires_at <= ?');
    this.#delete = db.transaction((runId: string) => {
      deleteLease.run(runId, Date.now());
      deleteHistory.run(runId);
      return deleteRecord.run(runId).changes > 0;
    });
  }

  put(record: CheckpointRecord, lease?: Lease): void {
    this.#guard(record.runId, () => this.#put(record, lease));
  }

  claim(request: ClaimRequest): Lease {
    return this.#guard(request.runId, () => this.#claim(request));
  }

  renew(lease: Lease, leaseMs: number): Lease {
    const expiresAt = Date.now() + leaseMs;
    const changes = this.#guard(lease.runId, () => this.#renew.run(expiresAt, lease.runId, lease.fence, lease.owner).changes);
    if (changes === 0) throw new LeaseLostError(lease.runId, lease.owner, lease.fence, this.#lease.get(lease.runId)?.owner ?? null);
    return { ...lease, expiresAt };
  }

  release(lease: Lease): void {
    this.#guard(lease.runId, () => this.#release.run(lease.runId, lease.fence, lease.owner));
  }

  ownerName(): string {
    return nodeOwnerName();
  }

  isOwnerGone(owner: string): boolean {
    return isNodeOwnerGone(owner);
  }

  get(runId: string): CheckpointRecord | undefined {
    const row = this.#guard(runId, () => this.#get.get(runId));
    return row && this.#checked(row);
  }

  history(runId: string): CheckpointCommit[] {
    return this.#guard(runId, () => this.#history.all(runId)).map((row) => ({ ...this.#checked(row), seq: row.seq! }));
  }

  putGraph(fingerprint: string, workflow: string, graph: string): void {
    this.#guard('(any)', () => this.#putGraph.run(fingerprint, workflow, graph));
  }

  getGraph(fingerprint: string): string | undefined {
    return this.#guard('(any)', () => this.#getGraph.get(fingerprint))?.graph;
  }

  /** The row as a record, once its data matches its checksum. */
  #checked(row: Row): CheckpointRecord {
    const { run_id: runId } = row;
    if (typeof row.data !== 'string' || row.checksum !== checksum(row.data)) {
      const which = row.seq === undefined ? 'The checkpoint' : `Checkpoint ${row.seq}`;
      throw new CheckpointError(
        'corrupt',
        runId,
        `${which} of run '${runId}' in '${this.path}' is corrupt (its data does not match its checksum: it was changed or truncated ` +
          `outside junjo-xstate), so the run cannot be resumed. It was left as it is: restore the file from a backup, or delete the ` +
          `checkpoint (checkpoint.delete('${runId}')) and start the run again.`,
      );
    }
    return { ...summaryOf(row), data: row.data };
  }

  /** Brings the file's tables to SQLITE_SCHEMA_VERSION, in one transaction; a newer file is refused. */
  #migrate(db: Database): void {
    const found = db.pragma('user_version', { simple: true }) as number;
    if (found > SQLITE_SCHEMA_VERSION) {
      throw new CheckpointError(
        'io',
        '(any)',
        `The checkpoint tables in '${this.path}' are at version ${found}, written by a newer junjo-xstate; this one reads version ${SQLITE_SCHEMA_VERSION}. ` +
          `Upgrade junjo-xstate here, or give the store another path. Nothing was changed.`,
      );
    }
    if (found === SQLITE_SCHEMA_VERSION) return;
    db.transaction(() => {
      // Another process may have migrated the file since it was read above.
      if ((db.pragma('user_version', { simple: true }) as number) >= SQLITE_SCHEMA_VERSION) return;
      db.exec(`ALTER TABLE junjo_checkpoints ADD COLUMN seq INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE junjo_checkpoints ADD COLUMN origin_run TEXT;
        ALTER TABLE junjo_checkpoints ADD COLUMN origin_seq INTEGER;
        CREATE TABLE junjo_checkpoint_history (
          run_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          status TEXT NOT NULL,
          updated_at INTEGER NOT NULL,
          error TEXT,
          checksum TEXT NOT NULL,
          data TEXT NOT NULL,
          PRIMARY KEY (run_id, seq)
        ) STRICT;
        INSERT INTO junjo_checkpoint_history (run_id, seq, status, updated_at, error, checksum, data)
          SELECT run_id, seq, status, updated_at, error, checksum, data FROM junjo_checkpoints;
        PRAGMA user_version = ${SQLITE_SCHEMA_VERSION};`);
    }).immediate();
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
    return this.#guard(runId, () => this.#delete(runId));
  }

  /** Closes the file. */
  close(): void {
    this.#db.close();
  }

  #guard<T>(runId: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.#classify(err, runId, 'used');
    }
  }

  /** A corrupt file is named corrupt; a file that cannot be opened or written says why instead. */
  #classify(err: unknown, runId: string, doing: 'opened' | 'used'): unknown {
    const code = (err as { code?: string }).code ?? '';
    if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) return this.#unusable(err, runId);
    const hint = /^SQLITE_CANTOPEN/.test(code)
      ? 'its folder does not exist, is not a folder, or this process may not create files in it: check the path and its permissions'
      : /^SQLITE_(READONLY|PERM|AUTH)/.test(code)
        ? 'the file or its folder is read-only for this process (SQLite also needs to create the -wal and -shm files beside it): make them writable, or give the store another path'
        : /^SQLITE_FULL/.test(code)
          ? 'the disk is full: free some space'
          : /^SQLITE_IOERR/.test(code)
            ? 'the disk or file system reported an I/O error: check it'
            : /^SQLITE_(BUSY|LOCKED)/.test(code)
              ? 'another connection held the file locked for longer than busyTimeoutMs: raise it, or find what holds the lock'
              : undefined;
    if (!hint) return err;
    return new CheckpointError(
      'io',
      runId,
      `The checkpoint database '${this.path}' could not be ${doing} (SQLite says: ${(err as Error).message}, ${code}): ${hint}. The file itself is not damaged.`,
      err,
    );
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

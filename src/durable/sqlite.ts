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
import type BetterSqlite3 from 'better-sqlite3';
import { checksum, summaryOf } from './record-rows.js';
import {
  CheckpointError,
  LeaseHeldError,
  LeaseLostError,
  type ClaimRequest,
  type Lease,
  type LeasingStore,
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
  readonly #delete: (runId: string) => boolean;
  readonly #lease: BetterSqlite3.Statement<[string], LeaseRow>;
  readonly #claim: (request: ClaimRequest) => Lease;
  readonly #renew: BetterSqlite3.Statement<[number, string, number, string]>;
  readonly #release: BetterSqlite3.Statement<[string, number, string]>;

  constructor(path: string, options: SqliteCheckpointStoreOptions = {}) {
    this.path = path;
    const Sqlite = optionalModule<typeof BetterSqlite3>('better-sqlite3', 'better-sqlite3@12', 'junjo-xstate/sqlite');
    let db: Database | undefined;
    try {
      db = new Sqlite(path);
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
      CREATE INDEX IF NOT EXISTS junjo_checkpoints_by_status ON junjo_checkpoints (status, workflow, created_at);
      CREATE TABLE IF NOT EXISTS junjo_leases (
        run_id TEXT PRIMARY KEY,
        owner TEXT,
        fence INTEGER NOT NULL,
        expires_at INTEGER
      ) STRICT;`);
    } catch (err) {
      db?.close();
      throw this.#classify(err, '(any)', 'opened');
    }
    this.#db = db;
    const upsert = db.prepare<[string, string, string, number, number, string | null, string, string]>(
      `INSERT INTO junjo_checkpoints (run_id, workflow, status, created_at, updated_at, error, checksum, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET workflow = excluded.workflow, status = excluded.status,
         updated_at = excluded.updated_at, error = excluded.error, checksum = excluded.checksum, data = excluded.data`,
    );
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
      upsert.run(r.runId, r.workflow, r.status, r.createdAt, r.updatedAt, r.error ?? null, checksum(r.data), r.data);
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
    const deleteRecord = db.prepare<[string]>('DELETE FROM junjo_checkpoints WHERE run_id = ?');
    // A lease nobody holds goes with the record; a held one stays, so its owner is still fenced.
    const deleteLease = db.prepare<[string, number]>('DELETE FROM junjo_leases WHERE run_id = ? AND expires_at <= ?');
    this.#delete = db.transaction((runId: string) => {
      deleteLease.run(runId, Date.now());
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

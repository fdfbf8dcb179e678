/**
 * The inspector's history in one SQLite file (better-sqlite3), so runs outlive the server:
 * every envelope relayed to UI tabs, grouped into runs, replayed to each tab that connects,
 * and kept within a size and an age bound by deleting whole runs, oldest first. The run that
 * was written last is never evicted, so a run is never cut short at its start: a single run
 * larger than the size bound is kept whole, and it evicts everything older.
 *
 * Writes are batched into one transaction per turn of the event loop: a large run sends
 * thousands of events a second, and one transaction per event would spend its time syncing.
 * A row holds the envelopes of one run that came in one message, one per line (protocol.ts):
 * a row per event cost 20 µs each, 1.4 s for a 10,000-item RunMap's 70,000 events.
 * The file also holds the server's token (so open tabs keep working across a restart) and the
 * connection counter (so `app:7` of yesterday is not `app:7` of today).
 */
import type Database from 'better-sqlite3';
import { optionalModule } from '../src/durable/optional-module.js';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** `$XDG_CACHE_HOME/junjo-inspector/history.sqlite`, or `~/.cache/…` without it. */
export function defaultHistoryPath(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'junjo-inspector', 'history.sqlite');
}

export interface RunStoreOptions {
  /** The SQLite file, created if missing; `:memory:` keeps nothing. */
  path: string;
  /** Total bytes of envelopes kept. */
  maxBytes: number;
  /** Runs not written to for longer than this are deleted. */
  maxAgeMs: number;
}

export interface StoredRun {
  key: string;
  source: string;
  root: string;
  name: string | null;
  status: string;
  startedAt: number;
  updatedAt: number;
  events: number;
  bytes: number;
  disconnected: boolean;
}

interface Pending {
  key: string;
  source: string;
  root: string;
  text: string;
  bytes: number;
  count: number;
  name: string | undefined;
  status: string | undefined;
  time: number;
}

export class RunStore {
  readonly #db: Database.Database;
  readonly #pending: Pending[] = [];
  #scheduled = false;
  /** Row ids of runs by key, so an event costs one insert; cleared when runs are deleted. */
  readonly #ids = new Map<string, number>();
  #closed = false;
  readonly #insertRun: Database.Statement;
  readonly #updateRun: Database.Statement;
  readonly #runId: Database.Statement<[string], { id: number }>;
  readonly #insertEvent: Database.Statement;
  readonly #flushAll: () => void;

  constructor(readonly options: RunStoreOptions) {
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      // An optional peer dependency: without it, the error says what to install.
      const Sqlite = optionalModule<typeof Database>('better-sqlite3', 'better-sqlite3@12', 'The inspector\'s history');
      this.#db = new Sqlite(options.path);
    } catch (err) {
      throw new Error(`the inspector could not open its history at ${options.path}: ${(err as Error).message}; pass another path with --history (or historyPath)`);
    }
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    // WAL copied into the file every 32 MiB instead of every 4 MiB (SQLite's default): a large
    // run writes tens of MB in a second, and each copy syncs the file. Measured: 22 MB of
    // history in 95 ms instead of 335 ms.
    this.#db.pragma('wal_autocheckpoint = 8192');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        root TEXT NOT NULL,
        name TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        events INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        disconnected INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS runs_updated ON runs (updated_at);
      CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        text TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_run ON events (run_id);
    `);
    this.#db.pragma('foreign_keys = ON');
    this.#insertRun = this.#db.prepare(
      'INSERT INTO runs (key, source, root, started_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
    );
    this.#updateRun = this.#db.prepare(
      `UPDATE runs SET updated_at = max(updated_at, @time), events = events + @events, bytes = bytes + @bytes,
         name = coalesce(@name, name), status = coalesce(@status, status) WHERE id = @id`,
    );
    this.#runId = this.#db.prepare('SELECT id FROM runs WHERE key = ?');
    this.#insertEvent = this.#db.prepare('INSERT INTO events (run_id, text) VALUES (?, ?)');
    this.#flushAll = this.#db.transaction(() => {
      // One insert per event; each run's row is updated once per batch, not once per event.
      const touched = new Map<number, { time: number; bytes: number; events: number; name: string | null; status: string | null }>();
      for (const p of this.#pending.splice(0)) {
        let id = this.#ids.get(p.key);
        if (id === undefined) {
          this.#insertRun.run(p.key, p.source, p.root, p.time, p.time);
          id = this.#runId.get(p.key)!.id;
          this.#ids.set(p.key, id);
        }
        this.#insertEvent.run(id, p.text);
        const t = touched.get(id) ?? { time: p.time, bytes: 0, events: 0, name: null, status: null };
        t.time = Math.max(t.time, p.time);
        t.bytes += p.bytes;
        t.events += p.count;
        t.name = p.name ?? t.name;
        t.status = p.status ?? t.status;
        touched.set(id, t);
      }
      for (const [id, t] of touched) this.#updateRun.run({ id, ...t });
      this.#evict();
    });
    this.#db.transaction(() => this.#evict())();
  }

  /** A meta value, set to `initial()` the first time it is asked for. */
  meta(key: string, initial: () => string): string {
    const row = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    if (row) return row.value;
    const value = initial();
    this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);
    return value;
  }

  /** The next connection number, unique across restarts and across servers sharing the file. */
  nextConnection(): number {
    const row = this.#db
      .prepare(
        `INSERT INTO meta (key, value) VALUES ('connections', '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value`,
      )
      .get() as { value: string | number };
    return Number(row.value);
  }

  /**
   * Keeps envelopes of run `root` from `source`: `text` is `count` of them, one per line (one
   * by default); `name` and `status` update the run's row.
   */
  add(entry: { source: string; root: string; text: string; bytes: number; count?: number; name?: string; status?: string; time?: number }): void {
    if (this.#closed) return;
    this.#pending.push({
      key: `${entry.source} ${entry.root}`,
      source: entry.source,
      root: entry.root,
      text: entry.text,
      bytes: entry.bytes,
      count: entry.count ?? 1,
      name: entry.name,
      status: entry.status,
      time: entry.time ?? Date.now(),
    });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#closed || this.#pending.length === 0) return;
    this.#flushAll();
  }

  /** Every kept envelope, in the order it was relayed, several to a text (one per line). */
  *envelopes(): Generator<string> {
    if (this.#closed) return;
    this.flush();
    for (const row of this.#db.prepare('SELECT text FROM events ORDER BY id').iterate() as IterableIterator<{ text: string }>) {
      yield row.text;
    }
  }

  /**
   * The first row of each of the newest `limit` runs whose root is named `name`: where a run's
   * root announces itself with its definition (a workflow's graph), for checkpoint-source.ts.
   */
  firstRows(name: string, limit: number): string[] {
    if (this.#closed) return [];
    this.flush();
    const rows = this.#db
      .prepare('SELECT (SELECT text FROM events WHERE run_id = runs.id ORDER BY id LIMIT 1) AS text FROM runs WHERE name = ? ORDER BY updated_at DESC LIMIT ?')
      .all(name, limit) as { text: string | null }[];
    return rows.flatMap((r) => (r.text === null ? [] : [r.text]));
  }

  /** Deletes run `root` of `source` with its envelopes, written or not: it is about to be written again whole. */
  remove(source: string, root: string): void {
    if (this.#closed) return;
    const key = `${source} ${root}`;
    for (let i = this.#pending.length - 1; i >= 0; i--) if (this.#pending[i]!.key === key) this.#pending.splice(i, 1);
    this.#db.prepare('DELETE FROM runs WHERE key = ?').run(key);
    this.#ids.delete(key);
  }

  /** Marks `source`'s runs that never ended as disconnected; returns their roots. */
  disconnect(source: string): string[] {
    // Connections closed by the server's own close() arrive after the file is closed.
    if (this.#closed) return [];
    this.flush();
    const rows = this.#db
      .prepare(`UPDATE runs SET disconnected = 1 WHERE source = ? AND status = 'running' RETURNING root`)
      .all(source) as { root: string }[];
    return rows.map((r) => r.root);
  }

  /** At start: runs left running by a server that stopped are disconnected too; returns them. */
  disconnectAll(): { source: string; root: string }[] {
    this.flush();
    return this.#db
      .prepare(`UPDATE runs SET disconnected = 1 WHERE status = 'running' AND disconnected = 0 RETURNING source, root`)
      .all() as { source: string; root: string }[];
  }

  runs(): StoredRun[] {
    this.flush();
    const rows = this.#db.prepare('SELECT * FROM runs ORDER BY started_at DESC, id DESC').all() as {
      key: string; source: string; root: string; name: string | null; status: string; started_at: number;
      updated_at: number; events: number; bytes: number; disconnected: number;
    }[];
    return rows.map((r) => ({
      key: r.key, source: r.source, root: r.root, name: r.name, status: r.status, startedAt: r.started_at,
      updatedAt: r.updated_at, events: r.events, bytes: r.bytes, disconnected: r.disconnected === 1,
    }));
  }

  get bytes(): number {
    return (this.#db.prepare('SELECT coalesce(sum(bytes), 0) AS n FROM runs').get() as { n: number }).n;
  }

  /** Deletes runs past the age bound, then the oldest runs until under the size bound, sparing the newest. */
  #evict(): void {
    if (this.#db.prepare('DELETE FROM runs WHERE updated_at < ?').run(Date.now() - this.options.maxAgeMs).changes > 0) this.#ids.clear();
    let total = this.bytes;
    if (total <= this.options.maxBytes) return;
    const newest = this.#db.prepare('SELECT id FROM runs ORDER BY updated_at DESC, id DESC LIMIT 1').get() as { id: number } | undefined;
    const oldest = this.#db.prepare('SELECT id, bytes FROM runs WHERE id != ? ORDER BY updated_at, id').iterate(newest?.id ?? -1) as IterableIterator<{ id: number; bytes: number }>;
    const doomed: number[] = [];
    for (const run of oldest) {
      if (total <= this.options.maxBytes) break;
      doomed.push(run.id);
      total -= run.bytes;
    }
    const del = this.#db.prepare('DELETE FROM runs WHERE id = ?');
    for (const id of doomed) del.run(id);
    if (doomed.length) this.#ids.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#db.close();
  }
}

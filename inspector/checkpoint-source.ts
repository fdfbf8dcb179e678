/**
 * Durable runs in the inspector: the checkpoint stores it was pointed at (`--checkpoints
 * sqlite:runs.db`, `--checkpoints postgres://…`), read without the workflows' code. The server
 * lists their runs (forks with their origin) and each run's history as commits — node
 * statuses, the committed state — through `/api/checkpoints`; the UI (ui/forks.ts) draws them
 * and shows the `workflow.fork(…)` call that starts a new run from a commit. Nothing here
 * writes to a store: forking runs the workflow's code, which lives in the app.
 */
import type { CheckpointStore, CheckpointSummary } from '../src/durable/checkpoint-store.js';
import { readCheckpoint } from '../src/durable/checkpoint.js';
import { commitsOf, type RunCommit } from '../src/durable/fork.js';

export interface CheckpointSource {
  /** How the person named it, without a password: `sqlite:runs.db`, `postgres://me@host/db`. */
  name: string;
  store: CheckpointStore;
  close(): void | Promise<void>;
}

/** One store's runs, as `/api/checkpoints` sends them. */
export interface CheckpointListing {
  source: number;
  name: string;
  runs: CheckpointSummary[];
  /** Set when the store could not be read: what went wrong. */
  error?: string;
}

/** A run's history, as `/api/checkpoints/history` sends it. */
export interface CheckpointHistory {
  runId: string;
  workflow: string;
  origin?: CheckpointSummary['origin'];
  commits: RunCommit[];
}

const USAGE = "give sqlite:<file> (a SqliteCheckpointStore's file) or postgres://user@host/db (a PostgresCheckpointStore's database, schema 'junjo')";

/** Opens the store `spec` names; throws saying what to give instead. */
export async function openCheckpointSource(spec: string): Promise<CheckpointSource> {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw new Error(`--checkpoints '${spec}' names no file: ${USAGE}`);
    const { SqliteCheckpointStore } = await import('../src/durable/sqlite.js');
    const store = new SqliteCheckpointStore(path);
    return { name: spec, store, close: () => store.close() };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { PostgresCheckpointStore } = await import('../src/postgres/checkpoint-store.js');
    const store = new PostgresCheckpointStore(spec);
    const url = new URL(spec);
    url.password = '';
    try {
      await store.ready();
    } catch (err) {
      await store.close();
      throw new Error(`--checkpoints ${url.href}: the database could not be read (${(err as Error).message})`);
    }
    return { name: url.href, store, close: () => store.close() };
  }
  throw new Error(`--checkpoints '${spec}' is not a checkpoint store: ${USAGE}`);
}

/** Every source's runs, oldest first; a source that fails says why instead of failing the rest. */
export async function listCheckpointRuns(sources: readonly CheckpointSource[]): Promise<CheckpointListing[]> {
  return Promise.all(
    sources.map(async ({ name, store }, source) => {
      try {
        return { source, name, runs: await store.list() };
      } catch (err) {
        return { source, name, runs: [], error: (err as Error).message };
      }
    }),
  );
}

/** Run `runId`'s history in `source`, or undefined if the store has no such run. */
export async function checkpointHistory(source: CheckpointSource, runId: string): Promise<CheckpointHistory | undefined> {
  const records = (await source.store.history?.(runId)) ?? [];
  const last = records.at(-1);
  if (!last) return undefined;
  const history: CheckpointHistory = { runId, workflow: last.workflow, commits: commitsOf(records, readCheckpoint) };
  if (last.origin) history.origin = last.origin;
  return history;
}

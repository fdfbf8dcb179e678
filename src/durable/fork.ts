/**
 * A run's history as data, and what a fork changes in a checkpoint: `workflow.history()` reads
 * a store's past records of a run (CheckpointStore.history) as commits — when, which nodes were
 * running or done, the committed state — and `workflow.fork()` turns one of them into the start
 * of a new run (a new run id in every context, optionally another store state). Kept apart from
 * workflow.ts so the inspector can read a store's history without the workflow's code.
 */
import { activeNames } from './active-states.js';
import { CheckpointError } from '../errors.js';
import type { CheckpointCommit, CheckpointStore, RunStatus } from './checkpoint-store.js';
import type { PersistedRun } from './checkpoint.js';

/** Where a node stood at a commit: started and not finished, or finished. */
export type NodeStatusAt = 'running' | 'done';

/** One checkpoint of a run, as `workflow.history()` lists it. */
export interface RunCommit<S = unknown> {
  /** The checkpoint's number in its run, from 1: `workflow.fork(runId, { at: seq })`. */
  seq: number;
  /** When it was written, in ms since the epoch. */
  time: number;
  /** The run's status as written with this checkpoint. */
  status: RunStatus;
  /** The run's top-level nodes (by key) that had started by then, and whether each was done. */
  nodes: Record<string, NodeStatusAt>;
  /** The nodes that were done here but not at the previous commit. */
  completed: string[];
  /** The committed store state. */
  state: S;
  /** Failed runs, at their last checkpoint: the error's message. */
  error?: string;
}

export interface HistoryOptions {
  /** The store the run was checkpointed to. */
  checkpoint: CheckpointStore;
}

/** Options of `workflow.fork()`, besides those of `resume()`. */
export interface ForkOptions<S> {
  /** The checkpoint to start from: a `seq` of `workflow.history()`. */
  at: number;
  /** The store state to start from instead of the checkpoint's (checked like the store's initial state). */
  state?: S;
  /** The new run's id (default: a fresh one); it must not have a checkpoint yet. */
  runId?: string;
}


/** The nodes of one persisted snapshot: every node that started, running while its state is active. */
export function nodeStatuses(snapshot: PersistedRun): Record<string, NodeStatusAt> {
  const active = snapshot.status === 'active' ? activeNames(snapshot.value, new Set()) : new Set<string>();
  const nodes: Record<string, NodeStatusAt> = {};
  for (const key of Object.keys(snapshot.context.executionCounts)) nodes[key] = active.has(key) ? 'running' : 'done';
  return nodes;
}

/** A run's commits from its records; `decode` checks each record and gives its snapshot and state. */
export function commitsOf<S>(records: readonly CheckpointCommit[], decode: (record: CheckpointCommit) => { snapshot: PersistedRun; state: S }): RunCommit<S>[] {
  let previous: Record<string, NodeStatusAt> = {};
  return records.map((record) => {
    const { snapshot, state } = decode(record);
    const nodes = nodeStatuses(snapshot);
    const completed = Object.keys(nodes).filter((key) => nodes[key] === 'done' && previous[key] !== 'done');
    previous = nodes;
    const commit: RunCommit<S> = { seq: record.seq, time: record.updatedAt, status: record.status, nodes, completed, state };
    if (record.error !== undefined) commit.error = record.error;
    return commit;
  });
}

/** The store's past records of `runId`; a CheckpointError when there are none, a TypeError for a store without history. */
export async function historyOf(store: CheckpointStore, runId: string, workflow: string): Promise<CheckpointCommit[]> {
  if (typeof store?.history !== 'function') {
    throw new TypeError(
      `Workflow '${workflow}': this checkpoint store keeps no history (it has no history(runId) method), so run '${runId}' cannot be listed or forked: ` +
        `use MemoryCheckpointStore, SqliteCheckpointStore or PostgresCheckpointStore, or add history() to the store`,
    );
  }
  const records = await store.history(runId);
  if (records.length === 0) {
    throw new CheckpointError('missing', runId, `There is no checkpoint of run '${runId}' in this store: list the runs it holds with store.list().`);
  }
  return records;
}

/** The record numbered `at` among `records`, or a CheckpointError saying which numbers there are. */
export function recordAt(records: readonly CheckpointCommit[], runId: string, at: unknown): CheckpointCommit {
  const found = Number.isInteger(at) ? records.find((r) => r.seq === at) : undefined;
  if (found) return found;
  const first = records[0]!.seq;
  const last = records.at(-1)!.seq;
  throw new CheckpointError(
    'missing',
    runId,
    `Run '${runId}' has no checkpoint ${JSON.stringify(at) ?? String(at)} to fork from: its checkpoints are numbered ${first} to ${last} ` +
      `(see workflow.history('${runId}', { checkpoint })); give fork() one of them as \`at\`.`,
  );
}

/**
 * Makes a copy of `snapshot` the start of run `runId`: the run's and its subflows' contexts get
 * the new id (subflow runs are named `<run>/<subflow>#<n>`), and the store state is `state` if given.
 */
export function forkSnapshot(snapshot: PersistedRun, runId: string, state: { value: unknown } | undefined): PersistedRun {
  const copy = JSON.parse(JSON.stringify(snapshot)) as PersistedRun;
  const from = copy.context.runId;
  const rename = (run: { context?: { runId?: unknown }; children?: Record<string, { snapshot?: unknown }> }) => {
    const id = run.context?.runId;
    if (typeof id === 'string' && (id === from || id.startsWith(`${from}/`))) run.context!.runId = runId + id.slice(from.length);
    for (const child of Object.values(run.children ?? {})) {
      const inner = child?.snapshot as typeof run | undefined;
      if (inner && typeof inner === 'object') rename(inner);
    }
  };
  rename(copy as never);
  if (state) copy.children.store!.snapshot.context = JSON.parse(JSON.stringify(state.value));
  return copy;
}

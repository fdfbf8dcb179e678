/**
 * Where checkpoints of durable runs are kept: the `CheckpointStore` interface, and the
 * in-memory store (for tests, and for runs that only need to survive within one process).
 * The SQLite store is a separate, Node-only entry: `junjo-xstate/sqlite`.
 *
 * A store keeps records, one per run, and never looks inside `data`: the runtime encodes and
 * checks it (src/durable/checkpoint.ts). So a store for Postgres or Redis is a table or a hash
 * with these fields, and `put` replaces the run's record as a whole. The stores here also keep
 * each run's past records, numbered by `seq` (1, 2, … per run), so a run can be forked from any
 * of them (`workflow.history`, `workflow.fork`); `get` still answers the latest.
 */
import { LeaseTable, type ClaimRequest, type Lease, type LeasingStore } from './lease.js';

/**
 * Where a run is: `running` until it ends (or it was interrupted, e.g. its process died);
 * `waiting` when it was parked — stopped where every active state waits for an event (a
 * `waitFor`), nothing in flight — so that no process holds it until an event comes.
 */
export type RunStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

/** The statuses of runs that `resume` continues. */
export const UNFINISHED: readonly RunStatus[] = ['running', 'waiting', 'cancelled'];

/**
 * The abort reason that parks a run (`controller.abort(new RunParked())` on the run's
 * `signal`): the run stops as a cancelled one does — its promise rejects with a
 * WorkflowCancelledError — but its record says `waiting`, not `cancelled`. Abort with it only
 * while the run waits with nothing in flight (RunQueue's workers do, src/postgres/run-events.ts).
 */
export class RunParked extends Error {
  override name = 'RunParked';
  constructor(message = 'the run waits for an event: parked') {
    super(message);
  }
}

export interface CheckpointSummary {
  runId: string;
  /** The workflow's name. */
  workflow: string;
  status: RunStatus;
  /** When the run started and when its checkpoint was last written, in ms since the epoch. */
  createdAt: number;
  updatedAt: number;
  /** Failed runs: the error's message. */
  error?: string;
  /** Forks (`workflow.fork`): the run and the checkpoint it was forked from. */
  origin?: CheckpointOrigin;
}

/** Where a fork started: run `runId` at its checkpoint number `seq`. */
export interface CheckpointOrigin {
  runId: string;
  seq: number;
}

export interface CheckpointRecord extends CheckpointSummary {
  /** The checkpoint, as JSON: the run's persisted XState snapshot, versioned (see checkpoint.ts). */
  data: string;
}

/** One past record of a run: `seq` counts the run's writes, from 1. */
export interface CheckpointCommit extends CheckpointRecord {
  seq: number;
}

/** How many past records a store keeps per run unless told (the oldest go first). */
export const DEFAULT_HISTORY_LIMIT = 1000;

export interface CheckpointFilter {
  workflow?: string;
  status?: RunStatus | readonly RunStatus[];
}

type MaybePromise<T> = T | Promise<T>;

/** Persists checkpoints. Methods may answer synchronously or with a promise. */
export interface CheckpointStore {
  /**
   * Writes the run's record, replacing the previous one; done once it is durable. With `lease`
   * (stores that are also a LeasingStore, see lease.ts): only if it is still the run's current
   * lease, else it throws LeaseLostError and writes nothing.
   */
  put(record: CheckpointRecord, lease?: Lease): MaybePromise<void>;
  get(runId: string): MaybePromise<CheckpointRecord | undefined>;
  /** Summaries (no data) of the runs that match, oldest first. */
  list(filter?: CheckpointFilter): MaybePromise<CheckpointSummary[]>;
  /** Removes the run's record (and its history); true if there was one. */
  delete(runId: string): MaybePromise<boolean>;
  /**
   * The run's past records, oldest first, the last one equal to `get(runId)` (up to the store's
   * history limit: older ones are dropped). Stores without it cannot fork runs.
   */
  history?(runId: string): MaybePromise<CheckpointCommit[]>;
  /**
   * Keeps the graph (its `toJSON()`, as JSON) that checkpoints with this fingerprint are written
   * under, once per graph: written with a run's first checkpoint, so a tool that shows
   * checkpoints without the workflow's code (the inspector) can draw them. Keeping it again does
   * nothing.
   */
  putGraph?(fingerprint: string, workflow: string, graph: string): MaybePromise<void>;
  /** The graph kept under `fingerprint`, as JSON, if any. */
  getGraph?(fingerprint: string): MaybePromise<string | undefined>;
}

/** Checks a store's `historyLimit` option: a whole number of records, at least 1. */
export function historyLimitOf(store: string, limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new TypeError(`${store}: historyLimit must be a whole number of checkpoints per run, at least 1 (got ${String(limit)})`);
  }
  return limit;
}

/** Whether `summary` matches `filter`: for stores that filter in memory. */
export function matchesFilter(summary: CheckpointSummary, filter: CheckpointFilter = {}): boolean {
  if (filter.workflow !== undefined && summary.workflow !== filter.workflow) return false;
  if (filter.status === undefined) return true;
  return typeof filter.status === 'string' ? summary.status === filter.status : filter.status.includes(summary.status);
}

let memoryStores = 0;

/**
 * Keeps checkpoints in this process's memory: they survive a run, not the process. Its leases
 * keep two runs of one id in this process from running at once.
 */
export class MemoryCheckpointStore implements CheckpointStore, LeasingStore {
  readonly #records = new Map<string, CheckpointRecord>();
  readonly #history = new Map<string, CheckpointCommit[]>();
  readonly #graphs = new Map<string, string>();
  readonly #leases = new LeaseTable(`memory-store-${++memoryStores}`);
  readonly #historyLimit: number;

  /** `historyLimit`: how many past records to keep per run (default DEFAULT_HISTORY_LIMIT). */
  constructor(options: { historyLimit?: number } = {}) {
    this.#historyLimit = historyLimitOf('MemoryCheckpointStore', options.historyLimit);
  }

  put(record: CheckpointRecord, lease?: Lease): void {
    if (lease) this.#leases.check(lease);
    this.#records.set(record.runId, { ...record });
    const past = this.#history.get(record.runId) ?? [];
    past.push({ ...record, seq: (past.at(-1)?.seq ?? 0) + 1 });
    if (past.length > this.#historyLimit) past.splice(0, past.length - this.#historyLimit);
    this.#history.set(record.runId, past);
  }

  history(runId: string): CheckpointCommit[] {
    return (this.#history.get(runId) ?? []).map((commit) => ({ ...commit }));
  }

  putGraph(fingerprint: string, _workflow: string, graph: string): void {
    if (!this.#graphs.has(fingerprint)) this.#graphs.set(fingerprint, graph);
  }

  getGraph(fingerprint: string): string | undefined {
    return this.#graphs.get(fingerprint);
  }

  claim(request: ClaimRequest): Lease {
    return this.#leases.claim(request);
  }

  renew(lease: Lease, leaseMs: number): Lease {
    return this.#leases.renew(lease, leaseMs);
  }

  release(lease: Lease): void {
    this.#leases.release(lease);
  }

  ownerName(): string {
    return this.#leases.ownerName();
  }

  get(runId: string): CheckpointRecord | undefined {
    const record = this.#records.get(runId);
    return record && { ...record };
  }

  list(filter?: CheckpointFilter): CheckpointSummary[] {
    return [...this.#records.values()]
      .filter((record) => matchesFilter(record, filter))
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(({ data: _, ...summary }) => summary);
  }

  delete(runId: string): boolean {
    this.#leases.forget(runId);
    this.#history.delete(runId);
    return this.#records.delete(runId);
  }
}

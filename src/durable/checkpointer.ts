/**
 * Checkpoints one run while it runs: after every change of any actor in the run (every
 * transition, every commit of its store or of a subflow's store) it writes the run's persisted
 * snapshot to a CheckpointStore, and when the run ends it records how it ended.
 *
 * Writes are serialised (one at a time, in order) and coalesced: changes that happen while a
 * write is under way are written together by the next one, and a write is skipped when the
 * snapshot did not change. Every write is a whole, consistent snapshot of the run, taken
 * between two steps of its actors, so a run can be restored from any of them.
 *
 * With a store that offers leases (lease.ts), the checkpointer owns the run: it claims the
 * run's lease before the run starts, renews it every third of `leaseMs` while the run is
 * active, names it in every write (so a write after another process took the run over is
 * refused and stops this run), and releases it once the run's end is written.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { CheckpointError, LeaseLostError, messageOf } from '../errors.js';
import type { CheckpointOrigin, CheckpointRecord, CheckpointStore, RunStatus } from './checkpoint-store.js';
import { dataPrefix, encodeData } from './checkpoint.js';
import { setStartBarrier } from './start-barrier.js';
import { DEFAULT_LEASE_MS, isLeasing, type Lease, type LeaseOptions } from './lease.js';

export interface CheckpointerOptions {
  store: CheckpointStore;
  runId: string;
  workflow: string;
  fingerprint: string;
  /** When the run first started (kept across resumes). */
  createdAt: number;
  /** States that are not written: the run is failing and is about to end. */
  skip(snapshot: { value: unknown }): boolean;
  /** How the run's lease is kept, with a store that offers leases. */
  lease?: LeaseOptions;
  /** Forks: the run and checkpoint it started from, written with every record. */
  origin?: CheckpointOrigin;
  /** The workflow's graph as JSON, kept with the first checkpoint in stores that keep graphs (`putGraph`). */
  graph?: () => string;
}

/** The fingerprints whose graph each store was given by this process: one write per graph, not per run. */
const graphsKept = new WeakMap<CheckpointStore, Set<string>>();

/** Gives `store` the graph of `fingerprint` unless this process already did. */
async function keepGraph(store: CheckpointStore, options: CheckpointerOptions): Promise<void> {
  if (!store.putGraph || !options.graph) return;
  const kept = graphsKept.get(store) ?? new Set<string>();
  if (kept.has(options.fingerprint)) return;
  await store.putGraph(options.fingerprint, options.workflow, options.graph());
  kept.add(options.fingerprint);
  graphsKept.set(store, kept);
}

/** Why a run stopped because of its checkpoints: a write failed, or another process took it over. */
export type CheckpointWriteError = CheckpointError | LeaseLostError;

/** Resolves on the next turn of the event loop (setImmediate in Node; a timer in browsers). */
const nextTurn = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

export class RunCheckpointer {
  readonly #options: CheckpointerOptions;
  readonly #prefix: string;
  #actor: AnyActorRef | undefined;
  #chain: Promise<void> = Promise.resolve();
  #scheduled = false;
  #ended = false;
  #lastJSON: string | undefined;
  #lastData: string | undefined;
  #writeError: CheckpointWriteError | undefined;
  /** Whether the store has this run's graph (keepGraph), so later writes skip asking. */
  #graphKept = false;
  #lease: Lease | undefined;
  #leaseMs = DEFAULT_LEASE_MS;
  /** When the lease lapses at the latest, by this process's monotonic clock (from when it was asked for). */
  #leaseUntil = 0;
  #renewTimer: ReturnType<typeof setInterval> | undefined;
  /** Called once when a write fails: the run must stop, it is no longer durable (or no longer ours). */
  onWriteError: (error: CheckpointWriteError) => void = () => {};

  constructor(options: CheckpointerOptions) {
    this.#options = options;
    this.#prefix = dataPrefix(options.runId, options.workflow, options.fingerprint);
  }

  /** The run's lease, once claimed. */
  get lease(): Lease | undefined {
    return this.#lease;
  }

  /**
   * Takes the run's lease (stores without leases: does nothing). Throws LeaseHeldError when a
   * live process owns the run; an owner known to be dead (a process of this host that is gone)
   * is taken over at once.
   */
  async claim(): Promise<void> {
    const { store, runId, lease: options = {} } = this.#options;
    if (!isLeasing(store) || this.#lease) return;
    const leaseMs = (this.#leaseMs = options.ms ?? DEFAULT_LEASE_MS);
    const owner = options.owner ?? store.ownerName();
    const asked = performance.now();
    try {
      this.#lease = await store.claim({ runId, owner, leaseMs });
    } catch (err) {
      const held = (err as { name?: string; owner?: string }).name === 'LeaseHeldError' ? (err as { owner: string }).owner : undefined;
      if (!held || !store.isOwnerGone?.(held)) throw err;
      this.#lease = await store.claim({ runId, owner, leaseMs, takeOverFrom: held });
    }
    this.#leaseUntil = asked + leaseMs;
    const every = Math.max(1, Math.floor(leaseMs / 3));
    this.#renewTimer = setInterval(() => void this.#renew(leaseMs), every);
    // A lease must not keep a process alive that has nothing else to do.
    (this.#renewTimer as { unref?: () => void }).unref?.();
  }

  async #renew(leaseMs: number): Promise<void> {
    const { store } = this.#options;
    if (!this.#lease || this.#writeError || !isLeasing(store)) return;
    const asked = performance.now();
    try {
      const renewed = await store.renew(this.#lease, leaseMs);
      if (this.#lease) {
        this.#lease = renewed;
        this.#leaseUntil = asked + leaseMs;
      }
    } catch (err) {
      // Only a lease taken over ends the run; a store out of reach is tried again next time,
      // and the fenced writes keep the run safe if the lease lapses meanwhile.
      if (err instanceof LeaseLostError) this.#failed(err, true);
    }
  }

  /** Lets the run's lease go (after its end is written, or when it never started). */
  async release(): Promise<void> {
    clearInterval(this.#renewTimer);
    const lease = this.#lease;
    this.#lease = undefined;
    const { store } = this.#options;
    if (lease && isLeasing(store) && !(this.#writeError instanceof LeaseLostError)) await store.release(lease);
  }

  /**
   * Starts checkpointing `actor` (the run), with a first write right away; its nodes then start
   * their bodies only once a write shows them in flight (start-barrier.ts).
   */
  attach(actor: AnyActorRef): void {
    this.#actor = actor;
    setStartBarrier(actor, () => this.written());
    this.schedule();
  }

  /** An inspection observer for the run's actor system: any snapshot change schedules a write. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type === '@xstate.snapshot') this.schedule();
  };

  /**
   * Resolves once a write that reads the run's snapshot from now on is done (or was not needed):
   * the barrier of durable starts (start-barrier.ts). A failed write resolves it too; the run is
   * then stopped by `onWriteError`.
   */
  written(): Promise<void> {
    this.schedule();
    return this.#chain.then(() => this.#leaseHeld());
  }

  /**
   * Renews a lease that may have lapsed by this process's own clock before a node starts. A
   * process that stalled past its lease (SIGSTOP, a frozen VM) may find its last write answered
   * — committed before the stall — and would start the next node though another process has
   * taken the run over; the renewal is refused then, which stops the run (onWriteError) before
   * the node's body starts. Renewed on time, the lease is fresh and this costs nothing.
   */
  #leaseHeld(): Promise<void> | void {
    if (!this.#lease || this.#writeError || performance.now() < this.#leaseUntil) return;
    return this.#renew(this.#leaseMs);
  }

  schedule(): void {
    if (this.#scheduled || this.#ended || !this.#actor) return;
    this.#scheduled = true;
    // Read on the next turn of the event loop, not the next microtask: a node's last commit, its
    // completion and the next node's start (all microtasks apart) are then one write, which the
    // next node's durable start waits for (start-barrier.ts) — one round trip per node, not two.
    this.#chain = this.#chain.then(nextTurn).then(() => {
      this.#scheduled = false;
      try {
        return this.#writeCurrent();
      } catch (err) {
        // E.g. a state that is not JSON (a BigInt, a cycle).
        this.#failed(err, true);
      }
    });
  }

  /**
   * Queues a write of the run's snapshot as it is now, before the run is stopped (cancelled):
   * a step made in this very tick (a node that just completed) has only a write scheduled, which
   * would find the actor stopped and write nothing, and the resumed run would redo that step.
   */
  flush(): void {
    if (this.#writeError || this.#ended || !this.#actor) return;
    try {
      const actor = this.#actor;
      const snapshot = actor.getSnapshot();
      if (snapshot.status !== 'active' || this.#options.skip(snapshot)) return;
      const json = JSON.stringify(actor.getPersistedSnapshot());
      const data = encodeData(this.#prefix, json);
      this.#chain = this.#chain.then(() => {
        if (this.#writeError || json === this.#lastJSON) return;
        this.#lastJSON = json;
        this.#lastData = data;
        return this.#put('running');
      });
    } catch (err) {
      this.#failed(err, false);
    }
  }

  #writeCurrent(): void | Promise<void> {
    if (this.#writeError || this.#ended) return;
    const actor = this.#actor!;
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'active' || this.#options.skip(snapshot)) return;
    const json = JSON.stringify(actor.getPersistedSnapshot());
    if (json === this.#lastJSON) return;
    this.#lastJSON = json;
    this.#lastData = encodeData(this.#prefix, json);
    return this.#put('running');
  }

  async #put(status: RunStatus, error?: unknown): Promise<void> {
    const { store, runId, workflow, createdAt, origin } = this.#options;
    try {
      const record: CheckpointRecord = {
        runId,
        workflow,
        status,
        createdAt,
        updatedAt: Date.now(),
        data: this.#lastData!,
        ...(error === undefined ? {} : { error: messageOf(error) }),
        ...(origin ? { origin } : {}),
      };
      if (!this.#graphKept) {
        await keepGraph(store, this.#options);
        this.#graphKept = true;
      }
      await (this.#lease ? store.put(record, this.#lease) : store.put(record));
    } catch (err) {
      this.#failed(err, status === 'running');
    }
  }

  #failed(err: unknown, running: boolean): void {
    if (this.#writeError) return;
    const { runId, workflow } = this.#options;
    if (err instanceof LeaseLostError) {
      // Not ours any more: write nothing else, and let the new owner's lease be.
      this.#writeError = err;
      this.#ended = true;
      clearInterval(this.#renewTimer);
      if (running) this.onWriteError(err);
      return;
    }
    this.#writeError = new CheckpointError(
      'write',
      runId,
      `The checkpoint of run '${runId}' of workflow '${workflow}' could not be written (${messageOf(err)}), so the run was stopped: ` +
        `it would no longer survive a crash. Fix the cause, then resume the run from its last checkpoint.`,
      err,
    );
    if (running) this.onWriteError(this.#writeError);
  }

  /**
   * The run ended: waits for the writes under way, then records `status` (a completed run
   * keeps its final snapshot, with the result; the others keep their last running one) or,
   * with `keep: false`, deletes the checkpoint of a completed run. Rejects if a write failed.
   */
  async finish(status: Exclude<RunStatus, 'running'>, options: { error?: unknown; keep: boolean }): Promise<void> {
    this.#ended = true;
    clearInterval(this.#renewTimer);
    await this.#chain;
    try {
      if (!this.#writeError) await this.#writeEnd(status, options);
    } finally {
      await this.release().catch(() => {});
    }
    if (this.#writeError) throw this.#writeError;
  }

  async #writeEnd(status: Exclude<RunStatus, 'running'>, options: { error?: unknown; keep: boolean }): Promise<void> {
    const actor = this.#actor!;
    const { store, runId } = this.#options;
    // Stopped before its first write: there is nothing to resume.
    if (status === 'cancelled' && this.#lastData === undefined) return;
    if (status === 'completed' || this.#lastData === undefined) {
      this.#lastData = encodeData(this.#prefix, JSON.stringify(actor.getPersistedSnapshot()));
    }
    if (status === 'completed' && !options.keep) {
      // With a lease, the end is first written fenced: a process that lost the run must not
      // delete the new owner's checkpoint.
      if (this.#lease) await this.#put(status);
      if (!this.#writeError) await store.delete(runId);
      return;
    }
    await this.#put(status, options.error);
  }
}

/**
 * Claims the run's lease for `checkpointer`, then reads the run's record again (its last owner
 * may have written since it was first checked) and decodes it with `decode`. Anything refused
 * from here on lets the lease go again, so a refusal leaves the run as it was.
 */
export async function claimRun<C extends { status: RunStatus }>(
  checkpointer: RunCheckpointer,
  store: CheckpointStore,
  runId: string,
  decode: (record: CheckpointRecord) => C,
): Promise<C> {
  await checkpointer.claim();
  try {
    const record = await store.get(runId);
    if (!record) {
      throw new CheckpointError('missing', runId, `The checkpoint of run '${runId}' was deleted while this process claimed the run: start the run again.`);
    }
    const checkpoint = decode(record);
    if (record.status === 'failed') {
      throw new CheckpointError(
        'finished',
        runId,
        `Run '${runId}' failed in another process (${record.error ?? 'no message'}) while this one claimed it, and a failed run is not resumed: start a new run.`,
      );
    }
    if (record.status === 'completed') await checkpointer.release();
    return checkpoint;
  } catch (err) {
    await checkpointer.release().catch(() => {});
    throw err;
  }
}

/**
 * Checkpoints one run while it runs: after every change of any actor in the run (every
 * transition, every commit of its store or of a subflow's store) it writes the run's persisted
 * snapshot to a CheckpointStore, and when the run ends it records how it ended.
 *
 * Writes are serialised (one at a time, in order) and coalesced: changes that happen while a
 * write is under way are written together by the next one, and a write is skipped when the
 * snapshot did not change. Every write is a whole, consistent snapshot of the run, taken
 * between two steps of its actors, so a run can be restored from any of them.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { CheckpointError, messageOf } from '../errors.js';
import type { CheckpointStore, RunStatus } from './checkpoint-store.js';
import { dataPrefix, encodeData } from './checkpoint.js';

export interface CheckpointerOptions {
  store: CheckpointStore;
  runId: string;
  workflow: string;
  fingerprint: string;
  /** When the run first started (kept across resumes). */
  createdAt: number;
  /** States that are not written: the run is failing and is about to end. */
  skip(snapshot: { value: unknown }): boolean;
}

export class RunCheckpointer {
  readonly #options: CheckpointerOptions;
  readonly #prefix: string;
  #actor: AnyActorRef | undefined;
  #chain: Promise<void> = Promise.resolve();
  #scheduled = false;
  #ended = false;
  #lastJSON: string | undefined;
  #lastData: string | undefined;
  #writeError: CheckpointError | undefined;
  /** Called once when a write fails: the run must stop, it is no longer durable. */
  onWriteError: (error: CheckpointError) => void = () => {};

  constructor(options: CheckpointerOptions) {
    this.#options = options;
    this.#prefix = dataPrefix(options.runId, options.workflow, options.fingerprint);
  }

  /** Starts checkpointing `actor` (the run), with a first write right away. */
  attach(actor: AnyActorRef): void {
    this.#actor = actor;
    this.schedule();
  }

  /** An inspection observer for the run's actor system: any snapshot change schedules a write. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type === '@xstate.snapshot') this.schedule();
  };

  schedule(): void {
    if (this.#scheduled || this.#ended || !this.#actor) return;
    this.#scheduled = true;
    this.#chain = this.#chain.then(() => {
      this.#scheduled = false;
      try {
        return this.#writeCurrent();
      } catch (err) {
        // E.g. a state that is not JSON (a BigInt, a cycle).
        this.#failed(err, true);
      }
    });
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
    const { store, runId, workflow, createdAt } = this.#options;
    try {
      await store.put({
        runId,
        workflow,
        status,
        createdAt,
        updatedAt: Date.now(),
        data: this.#lastData!,
        ...(error === undefined ? {} : { error: messageOf(error) }),
      });
    } catch (err) {
      this.#failed(err, status === 'running');
    }
  }

  #failed(err: unknown, running: boolean): void {
    if (this.#writeError) return;
    const { runId, workflow } = this.#options;
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
    await this.#chain;
    if (!this.#writeError) {
      const actor = this.#actor!;
      if (status === 'completed' && !options.keep) {
        await this.#options.store.delete(this.#options.runId);
        return;
      }
      // Stopped before its first write: there is nothing to resume.
      if (status === 'cancelled' && this.#lastData === undefined) return;
      if (status === 'completed' || this.#lastData === undefined) {
        this.#lastData = encodeData(this.#prefix, JSON.stringify(actor.getPersistedSnapshot()));
      }
      await this.#put(status, options.error);
    }
    if (this.#writeError) throw this.#writeError;
  }
}

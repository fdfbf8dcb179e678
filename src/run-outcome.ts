/**
 * How `execute()` and `resume()` wait for a run: start its actor and settle a promise with the
 * outcome — the result, the run's error, or a WorkflowCancelledError — once the run's
 * checkpoint (if any) records it too.
 *
 * ```ts
 * const result = await driveRun(createActor(workflow.machine), { signal }, cancelledError);
 * ```
 */
import { freeze } from 'immer';
import type { AnyActorRef } from 'xstate';
import type { CheckpointWriteError, RunCheckpointer } from './durable/checkpointer.js';
import { RunParked } from './durable/checkpoint-store.js';

export interface DriveOptions {
  signal?: AbortSignal;
  runId?: string;
  /** With a checkpointer: keep the checkpoint of a completed run (default true). */
  keepCompleted?: boolean;
}

/** What freezeResult needs of an ExecutionResult (kept structural to avoid an import cycle). */
interface ResultShape {
  state: unknown;
  executionCounts: Record<string, number>;
  subflows: Record<string, ResultShape[]>;
}

/**
 * Freezes a run's result in place, deeply, and returns it: results are immutable, as Junjo's
 * are, so one handed to several callers (or kept in a checkpoint) cannot be changed by one of
 * them. Its state is usually frozen already (immer); a state restored from a checkpoint is not.
 */
export function freezeResult<R>(result: R): R {
  const shape = result as unknown as ResultShape;
  if (shape === null || typeof shape !== 'object' || Object.isFrozen(shape)) return result;
  freeze(shape.state, true);
  Object.freeze(shape.executionCounts);
  if (shape.subflows && typeof shape.subflows === 'object') {
    for (const runs of Object.values(shape.subflows)) {
      if (Array.isArray(runs)) runs.forEach(freezeResult);
      Object.freeze(runs);
    }
    Object.freeze(shape.subflows);
  }
  return Object.freeze(shape) as R;
}

/** Builds the error a cancelled run rejects with. */
export type CancelledError = (actor: AnyActorRef, runId: string | undefined, reason: unknown) => Error;

/** `waiting`: stopped by a RunParked abort, recorded so; it rejects as a cancelled run does. */
type Status = 'completed' | 'failed' | 'cancelled' | 'waiting';

/** Starts `actor` and settles with its outcome. */
export function driveRun<R>(
  actor: AnyActorRef,
  options: DriveOptions,
  cancelled: CancelledError,
  checkpointer?: RunCheckpointer,
): Promise<R> {
  const { signal } = options;
  if (signal?.aborted) {
    // A lease claimed for this run is let go: the run never started.
    return Promise.resolve(checkpointer?.release()).then(() => Promise.reject(cancelled(actor, options.runId, signal.reason)));
  }
  return new Promise<R>((resolve, reject) => {
    const outcome = new RunOutcome<R>(actor, options, cancelled, resolve, reject, checkpointer);
    signal?.addEventListener('abort', outcome, { once: true });
    actor.subscribe(outcome);
    // Attached first, so its first write comes before anything the run's start queues.
    checkpointer?.attach(actor);
    actor.start();
  });
}

/**
 * The run's observer (`error`, `complete`) and its signal's listener (`handleEvent`) in one
 * object: thousands of runs may wait at once, and a closure per callback would cost each of them.
 */
class RunOutcome<R> {
  #writeError: CheckpointWriteError | undefined;

  constructor(
    readonly actor: AnyActorRef,
    readonly options: DriveOptions,
    readonly cancelled: CancelledError,
    readonly resolve: (result: R) => void,
    readonly reject: (error: unknown) => void,
    readonly checkpointer: RunCheckpointer | undefined,
  ) {
    if (checkpointer) {
      checkpointer.onWriteError = (error) => {
        this.#writeError = error;
        actor.stop();
      };
    }
  }

  /** The signal aborted: stopping the actor cancels the run, once what it did so far is written. */
  handleEvent(): void {
    this.checkpointer?.flush();
    this.actor.stop();
  }

  error(error: unknown): void {
    this.#settle('failed', error);
  }

  /** Follows both reaching the end and being stopped; the snapshot's status tells which. */
  complete(): void {
    if ((this.actor.getSnapshot() as { status: string }).status === 'done') this.#settle('completed');
    else this.#settle(this.options.signal?.reason instanceof RunParked ? 'waiting' : 'cancelled');
  }

  #settle(status: Status, error?: unknown): void {
    const { signal, keepCompleted } = this.options;
    signal?.removeEventListener('abort', this);
    if (!this.checkpointer) return this.#end(status, error);
    this.checkpointer
      .finish(status, { error, keep: keepCompleted !== false })
      .then(() => (this.#writeError ? this.reject(this.#writeError) : this.#end(status, error)), this.reject);
  }

  #end(status: Status, error: unknown): void {
    if (status === 'completed') this.resolve((this.actor.getSnapshot() as { output: R }).output);
    else if (status === 'failed') this.reject(error);
    else this.reject(this.cancelled(this.actor, this.options.runId, this.options.signal?.reason));
  }
}

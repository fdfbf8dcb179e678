/**
 * Durable starts: a node of a checkpointed run starts its body only once a checkpoint that shows
 * it in flight is written. So a process that dies at any moment leaves a checkpoint in which
 * every node that ever started is in flight or done, and the resumed run gives a node cut short
 * `ctx.attempt` one higher — never the same attempt twice. Without this a node could start, the
 * process die before the (asynchronous) write of its start, and the resumed run start it again
 * as the same attempt.
 *
 * The run's checkpointer registers the barrier for the run's actor system (one per run, its
 * subflows included); node runners of runs without a checkpoint find none and start at once.
 */
import type { AnyActorRef } from 'xstate';

const barriers = new WeakMap<object, () => Promise<void>>();

/** Makes `barrier` (resolves once the run's current snapshot is written) the barrier of `actor`'s run. */
export function setStartBarrier(actor: AnyActorRef, barrier: () => Promise<void>): void {
  barriers.set(actor.system, barrier);
}

/** What a node of `actor`'s run waits for before its body starts; undefined when its run has no checkpoint. */
export function startBarrier(actor: AnyActorRef): Promise<void> | undefined {
  return barriers.get(actor.system)?.();
}

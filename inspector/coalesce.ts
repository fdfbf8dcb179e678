/**
 * Snapshots superseded within one batch are not sent, for actors that are not state machines
 * (promise, callback and fan-out actors: no state `value`). Such a snapshot is the actor's
 * whole state and nothing draws a path through them, so when the same actor has a later
 * snapshot in the batch, the earlier one tells a tool nothing the later one does not (the
 * events that caused it are still sent as `@xstate.event`s). A RunMap's fan-out actor takes a
 * snapshot per item that ends; a batch (one turn of the event loop) often holds hundreds of
 * them. A machine's snapshots are all sent (a statechart view shows each state it passed
 * through), and so are a store's: each carries its commit's patches. A store commit is also a
 * barrier: the inspector's time travel shows every actor as it was at each commit, so a
 * snapshot is superseded only by a later one from before the next commit.
 *
 * Browser-safe and pure: it only picks which of the app's inspection events go on.
 */
import type { InspectionEvent } from 'xstate';

function isSupersedable(snapshot: unknown): boolean {
  return !!snapshot && typeof snapshot === 'object' && !('value' in snapshot) && !('commit' in snapshot);
}

function isStoreCommit(snapshot: unknown): boolean {
  return !!snapshot && typeof snapshot === 'object' && !!(snapshot as { commit?: unknown }).commit;
}

/** The batch without the snapshots that a later snapshot of the same actor, before the next store commit, supersedes. */
export function withoutSupersededSnapshots(batch: readonly InspectionEvent[]): InspectionEvent[] {
  const superseded = new Set<number>();
  // Per actor, the index of its latest supersedable snapshot in the current segment.
  let latest = new Map<string, number>();
  for (let i = 0; i < batch.length; i++) {
    const event = batch[i]!;
    if (event.type !== '@xstate.snapshot') continue;
    if (isStoreCommit(event.snapshot)) {
      latest = new Map();
    } else if (isSupersedable(event.snapshot)) {
      const before = latest.get(event.actorRef.sessionId);
      if (before !== undefined) superseded.add(before);
      latest.set(event.actorRef.sessionId, i);
    }
  }
  return superseded.size === 0 ? [...batch] : batch.filter((_, i) => !superseded.has(i));
}

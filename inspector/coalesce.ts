/**
 * Snapshots superseded within one batch are not sent, for actors that are not state machines
 * (promise, callback and fan-out actors: no state `value`). Such a snapshot is the actor's
 * whole state and nothing draws a path through them, so when the same actor has a later
 * snapshot in the batch, the earlier one tells a tool nothing the later one does not (the
 * events that caused it are still sent as `@xstate.event`s). A RunMap's fan-out actor takes a
 * snapshot per item that ends; a batch (one turn of the event loop) often holds hundreds of
 * them. A machine's snapshots are all sent (a statechart view shows each state it passed
 * through), and so are a store's: each carries its commit's patches.
 *
 * Browser-safe and pure: it only picks which of the app's inspection events go on.
 */
import type { InspectionEvent } from 'xstate';

function isSupersedable(snapshot: unknown): boolean {
  return !!snapshot && typeof snapshot === 'object' && !('value' in snapshot) && !('commit' in snapshot);
}

/** The batch without the snapshots a later snapshot of the same actor in it supersedes. */
export function withoutSupersededSnapshots(batch: readonly InspectionEvent[]): InspectionEvent[] {
  const last = new Map<string, number>();
  for (let i = 0; i < batch.length; i++) {
    const event = batch[i]!;
    if (event.type === '@xstate.snapshot' && isSupersedable(event.snapshot)) last.set(event.actorRef.sessionId, i);
  }
  const out: InspectionEvent[] = [];
  for (let i = 0; i < batch.length; i++) {
    const event = batch[i]!;
    if (event.type === '@xstate.snapshot' && last.has(event.actorRef.sessionId) && last.get(event.actorRef.sessionId) !== i) continue;
    out.push(event);
  }
  return out;
}

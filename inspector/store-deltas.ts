/**
 * Store commits as patches, not whole states. A junjo store actor's snapshot carries the whole
 * state and, in `commit.patches`, the immer patches that made it; sending the whole state on
 * every commit makes a 10,000-item run send 10,000 copies of a 10,000-item state. So most
 * commits go out with `context` left out and `"@junjo.delta": true`: the UI rebuilds the state
 * from the previous one and the patches. The first commit, any snapshot that is not `active`
 * (the end), and one commit now and then still go out whole, so a tool that only reads
 * snapshots (any `@statelyai/inspect` consumer) sees the right state now and then and at the
 * end. "Now and then" grows with the run: the next whole one comes as many commits after the
 * last as that one's seq (at least `fullEvery`, at most ten times it), because a large run's
 * state is large too: a 10,000-item RunMap's store snapshot is 245 KB, and one every 200
 * commits was 12.7 MB of its 16.7 MB of store events. Doubling keeps their number logarithmic
 * until the cap (10 instead of 52 in that run).
 *
 * Browser-safe and pure: it only reshapes XState inspection events before they are serialized.
 */
import type { InspectionEvent } from 'xstate';

/** The marker on a snapshot sent without its context. */
export const DELTA_MARKER = '@junjo.delta';

interface StoreLikeSnapshot {
  status?: string;
  context?: unknown;
  commit?: { seq?: unknown; patches?: unknown } | null;
  [key: string]: unknown;
}

function isStoreCommit(snapshot: unknown): snapshot is StoreLikeSnapshot & { commit: { seq: number; patches: unknown[] } } {
  if (!snapshot || typeof snapshot !== 'object') return false;
  const commit = (snapshot as StoreLikeSnapshot).commit;
  return !!commit && typeof commit.seq === 'number' && Array.isArray(commit.patches);
}

export class StoreDeltas {
  /** Per store actor: the seq of the last commit sent whole. */
  readonly #lastFull = new Map<string, number>();

  constructor(readonly fullEvery = 200) {}

  /** The event to serialize: the same one, or a copy whose snapshot leaves out the state. */
  slim(event: InspectionEvent): InspectionEvent {
    if (event.type !== '@xstate.snapshot' || !isStoreCommit(event.snapshot)) return event;
    const snapshot = event.snapshot;
    const id = event.actorRef.sessionId;
    const last = this.#lastFull.get(id);
    const gap = last === undefined ? 0 : Math.min(Math.max(this.fullEvery, last), this.fullEvery * 10);
    if (last === undefined || snapshot.status !== 'active' || snapshot.commit.seq - last >= gap) {
      this.#lastFull.set(id, snapshot.commit.seq);
      return event;
    }
    const slim = { status: snapshot.status, commit: snapshot.commit, [DELTA_MARKER]: true };
    return { ...event, snapshot: slim } as unknown as InspectionEvent;
  }
}

/**
 * XState inspection events in the `@statelyai/inspect` wire format, built here instead of by
 * that package's `createInspector`, which serializes every snapshot twice (once to copy it,
 * once to send it) and converts each event in a timer of its own. A 10,000-item run makes
 * about 100,000 events, so the Node client converts them in batches (one per turn of the event
 * loop) and serializes each once. The fields are the ones `createInspector` sends, but an
 * `@xstate.actor` event carries no snapshot (see below); `_version` and `id` (always null) are
 * left out, as nothing reads them and they were a tenth of a large run's bytes; and `type`,
 * `sessionId` and `rootId` come first: the server files most events under their run by reading
 * just those (protocol.ts, `routeOf`), not by parsing each whole. Events the next one implies
 * are left out too (implied-events.ts).
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';

/** A wire event before it is serialized: its snapshot and event are still the app's objects. */
export type WireObject = Record<string, unknown> & { type: string; sessionId: string; rootId?: string | undefined };

export function toWireEvent(event: InspectionEvent, stringify: (value: unknown) => string | undefined): WireObject | undefined {
  const createdAt = Date.now().toString();
  const actorRef = event.actorRef as AnyActorRef & { logic?: { config?: { id?: string } }; _parent?: AnyActorRef };
  switch (event.type) {
    case '@xstate.actor': {
      const config = actorRef.logic?.config;
      const name = actorRef.id === actorRef.sessionId && config?.id ? config.id : actorRef.id;
      return {
        type: '@xstate.actor',
        sessionId: actorRef.sessionId,
        rootId: event.rootId,
        name,
        definition: stringify(typeof config === 'object' ? config : { id: name }),
        createdAt,
        parentId: actorRef._parent?.sessionId,
        // No snapshot: the actor has none yet when it announces itself (XState reads it only
        // after), and the one it has by the time a batch is converted is from the future, which
        // time travel would show at the actor's start. Its first @xstate.snapshot follows.
      };
    }
    case '@xstate.event':
      return {
        type: '@xstate.event',
        sessionId: actorRef.sessionId,
        rootId: event.rootId,
        event: event.event,
        sourceId: event.sourceRef?.sessionId,
        createdAt,
      };
    case '@xstate.snapshot':
      return {
        type: '@xstate.snapshot',
        sessionId: actorRef.sessionId,
        rootId: event.rootId,
        event: event.event,
        snapshot: event.snapshot,
        createdAt,
      };
    default:
      return undefined;
  }
}

/**
 * Events junjo's clients leave out because the event next to them implies them, and the page
 * puts back as they were. XState reports every event an actor receives (`@xstate.event`) and
 * then every snapshot it takes (`@xstate.snapshot`), which carries that event again; it
 * announces every actor (`@xstate.actor`) and then reports its `xstate.init` event. A
 * 10,000-item RunMap's items and store make 30,000 such pairs: a quarter of its events and a
 * fifth of its bytes said twice, each converted, sent, kept and read on its own.
 *
 * Left out, and marked on the event that implies them:
 * - an actor's `xstate.init` event that came right after its announcement: the announcement
 *   carries it under `@junjo.init` (sent by the actor's parent, or by no one for a root);
 * - an event right before the snapshot that the actor took on it: the snapshot carries it as
 *   its `event`, and says under `@junjo.received` who sent it (a session id, or null);
 * - the done event an actor sent its parent as it ended, right before its last snapshot: the
 *   snapshot names the parent under `@junjo.doneTo` (the event is `xstate.done.actor.<id>`
 *   with the snapshot's output, as XState makes it);
 * - a snapshot's `event`, when it is the last event the actor received: `@junjo.lastEvent`.
 *
 * Only neighbours within one batch are joined, so the order of what is put back is the order
 * XState reported it in. Whoever reads these events through the page sees them all (the page
 * expands them before anything else reads them); a tool reading the server's stored texts
 * itself sees the markers. Browser-safe and pure: no Node.js, no DOM.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { Envelope, WireEvent } from './protocol.js';
import { toWireEvent, type WireObject } from './wire-event.js';

/** On `@xstate.actor`: the `xstate.init` event the actor received right after. */
export const INIT_MARK = '@junjo.init';
/** On `@xstate.snapshot`: the `@xstate.event` of its `event` came right before it; the value is its `sourceId`. */
export const RECEIVED_MARK = '@junjo.received';
/** On `@xstate.snapshot`: its `event` is the last event the actor received. */
export const LAST_EVENT_MARK = '@junjo.lastEvent';
/** On an ending `@xstate.snapshot`: the actor's done event was sent right before it to this session id (its parent). */
export const DONE_TO_MARK = '@junjo.doneTo';

/** What a snapshot says it was taken on when the event it points at was never received here (dropped before the socket opened). */
export const UNKNOWN_EVENT = { type: 'junjo.inspector.unknown' } as const;

type Marked = WireEvent & { [INIT_MARK]?: WireEvent['event']; [RECEIVED_MARK]?: string | null; [LAST_EVENT_MARK]?: true; [DONE_TO_MARK]?: string };

/** How many inspection events a wire event stands for: itself and those it implies. */
export function eventsIn(wire: WireObject): number {
  return 1 + (wire[INIT_MARK] !== undefined ? 1 : 0) + (wire[RECEIVED_MARK] !== undefined ? 1 : 0) + (wire[DONE_TO_MARK] !== undefined ? 1 : 0);
}

/** The client's side: turns a batch of inspection events into wire events, the implied ones left out. */
export class ImpliedEventsWriter {
  /** Per actor, the last event it received, as sent or implied. */
  readonly #last = new WeakMap<object, unknown>();

  constructor(readonly stringify: (value: unknown) => string | undefined) {}

  /** Calls `send` with each wire event of `events` (in order) that is not implied by its neighbour. */
  write(events: readonly InspectionEvent[], send: (wire: WireObject) => void): void {
    /** Set when the event before, a child's done event, was left out: its parent's session id. */
    let leftOutDoneTo: string | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const doneTo = leftOutDoneTo;
      leftOutDoneTo = undefined;
      switch (event.type) {
        case '@xstate.actor': {
          const wire = toWireEvent(event, this.stringify)!;
          const next = events[i + 1];
          const parent = (event.actorRef as AnyActorRef & { _parent?: AnyActorRef })._parent;
          if (next?.type === '@xstate.event' && next.actorRef === event.actorRef && next.event.type === 'xstate.init' && next.sourceRef === parent) {
            wire[INIT_MARK] = next.event;
            this.#last.set(event.actorRef, next.event);
            i++;
          }
          send(wire);
          break;
        }
        case '@xstate.event': {
          this.#last.set(event.actorRef, event.event);
          if (isDoneEventOf(event, events[i + 1])) {
            // Left out: the child's done snapshot, next, says it was sent.
            leftOutDoneTo = event.actorRef.sessionId;
            break;
          }
          // The event, then maybe the done event the actor sent its parent on it, then its snapshot.
          const done = isDoneEventOf(events[i + 1], events[i + 2]) ? (events[i + 1] as InspectionEvent & { type: '@xstate.event' }) : undefined;
          const at = done ? i + 2 : i + 1;
          const next = events[at];
          if (next?.type === '@xstate.snapshot' && next.actorRef === event.actorRef && next.event === event.event) {
            const snapshot = toWireEvent(next, this.stringify)!;
            snapshot[RECEIVED_MARK] = event.sourceRef?.sessionId ?? null;
            if (done) {
              snapshot[DONE_TO_MARK] = done.actorRef.sessionId;
              this.#last.set(done.actorRef, done.event);
            }
            send(snapshot);
            i = at;
            break;
          }
          send(toWireEvent(event, this.stringify)!);
          break;
        }
        case '@xstate.snapshot': {
          const wire = toWireEvent(event, this.stringify)!;
          if (doneTo !== undefined) wire[DONE_TO_MARK] = doneTo;
          if (this.#last.get(event.actorRef) === event.event) {
            // Undefined, not deleted: JSON leaves the key out, and the object keeps its shape.
            wire.event = undefined;
            wire[LAST_EVENT_MARK] = true;
          }
          send(wire);
          break;
        }
      }
    }
  }
}

/**
 * Whether `event` is the done event XState relays to an actor's parent as it ends (just before
 * the snapshot it ends with: `{ type: 'xstate.done.actor.<id>', output, actorId: <id> }`), and
 * `next` is that snapshot, so the event can be rebuilt from it.
 */
function isDoneEventOf(event: InspectionEvent | undefined, next: InspectionEvent | undefined): boolean {
  if (event?.type !== '@xstate.event' || next?.type !== '@xstate.snapshot') return false;
  const child = event.sourceRef as (AnyActorRef & { _parent?: unknown }) | undefined;
  if (!child || child !== next.actorRef || child._parent !== event.actorRef) return false;
  const done = event.event as { type: string; output?: unknown; actorId?: unknown };
  const snapshot = next.snapshot as { status?: unknown; output?: unknown };
  return (
    snapshot.status === 'done' &&
    done.type === `xstate.done.actor.${child.id}` &&
    done.actorId === child.id &&
    done.output === snapshot.output &&
    Object.keys(done).length === 3
  );
}

/** Whether a mark's value can be an event (marks come from any app, so they are checked like events). */
function isEventObject(value: unknown): value is WireEvent['event'] & object {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** The page's side: puts the left-out events back, before the model reads any. */
export class ImpliedEventsReader {
  /** Per actor (`source sessionId`), the last event it received. */
  readonly #last = new Map<string, WireEvent['event']>();
  /** Per child actor, its id (its name on the wire), which its done event is named after. */
  readonly #names = new Map<string, string>();

  /** Calls `take` with the envelope, and with each event it implies in the order they happened. */
  expand(envelope: Envelope, take: (envelope: Envelope) => void): void {
    const { source } = envelope;
    const event = envelope.event as Marked;
    const key = `${source} ${event.sessionId}`;
    const implied = (received: WireEvent['event'], sourceId: string | null | undefined): Envelope => ({
      source,
      event: { type: '@xstate.event', sessionId: event.sessionId, rootId: event.rootId, event: received, sourceId, createdAt: event.createdAt },
    });
    switch (event.type) {
      case '@xstate.actor': {
        if (event.name !== undefined) this.#names.set(key, event.name);
        take(envelope);
        const init = event[INIT_MARK];
        if (isEventObject(init)) {
          this.#last.set(key, init);
          take(implied(init, event.parentId ?? null));
        }
        return;
      }
      case '@xstate.event':
        this.#last.set(key, event.event);
        return take(envelope);
      case '@xstate.snapshot': {
        const sender = event[RECEIVED_MARK];
        if ((sender === null || typeof sender === 'string') && isEventObject(event.event)) {
          this.#last.set(key, event.event);
          take(implied(event.event, sender));
        } else if (event[LAST_EVENT_MARK]) {
          event.event = this.#last.get(key) ?? UNKNOWN_EVENT;
        }
        const parent = event[DONE_TO_MARK];
        if (typeof parent === 'string' && parent !== '') {
          const actorId = this.#names.get(key) ?? event.sessionId;
          const done = { type: `xstate.done.actor.${actorId}`, output: event.snapshot?.output, actorId };
          this.#last.set(`${source} ${parent}`, done);
          take({ source, event: { type: '@xstate.event', sessionId: parent, rootId: event.rootId, event: done, sourceId: event.sessionId, createdAt: event.createdAt } });
        }
        // An actor that ended receives nothing more: its entry goes, so 10,000 items leave none.
        if (event.snapshot?.status !== undefined && event.snapshot.status !== 'active') {
          this.#last.delete(key);
          this.#names.delete(key);
        }
        return take(envelope);
      }
    }
  }

  /** Forgets every actor (the page took in a fresh copy of the history). */
  clear(): void {
    this.#last.clear();
    this.#names.clear();
  }
}

/**
 * WaitForEvent: a node that pauses the run until the run's actor receives one of its events
 * (a person approving, a webhook arriving), then applies that event to the store and carries
 * on along its edges. While it waits nothing is in flight, so a waiting run can be persisted
 * with `actor.getPersistedSnapshot()` and restored later.
 *
 * ```ts
 * const approval = waitFor<OrderStoreHandle, ApprovalEvent>('Approval', ['approve', 'reject'],
 *   (store, event) => store.setDecision(event.type === 'approve', event.by));
 * // later: runActor.send({ type: 'approve', by: 'dana' })
 * ```
 */
import type { ExecutableKind } from './executable.js';
import type { NodeContext, NodeResult } from './node.js';
import { Node } from './node.js';

declare module './executable.js' {
  interface ExecutableKinds {
    waitForEvent: WaitForEvent<any, any>;
  }
}

/** An event a waiting node accepts: `type` plus any JSON-able payload. */
export interface ResumeEvent {
  type: string;
  [key: string]: unknown;
}

export abstract class WaitForEvent<S = unknown, E extends ResumeEvent = ResumeEvent> extends Node<S> {
  override get kind(): ExecutableKind {
    return 'waitForEvent';
  }
  override get noun(): string {
    return 'WaitForEvent';
  }
  /** The event types that resume the run. */
  readonly events: readonly string[];

  constructor(options: { name?: string; events: string | readonly string[] }) {
    super(options);
    const events = typeof options.events === 'string' ? [options.events] : [...(options.events ?? [])];
    if (events.length === 0 || events.some((e) => typeof e !== 'string' || e === '' || e.startsWith('xstate.'))) {
      throw new TypeError(
        `WaitForEvent '${this.name}': events must be one or more event types (non-empty, not starting with 'xstate.')`,
      );
    }
    this.events = events;
  }

  /** Commits what the event means to the store. */
  abstract apply(store: S, event: E, ctx: NodeContext): NodeResult;

  service(store: S, ctx: NodeContext): NodeResult {
    return this.apply(store, ctx.event as E, ctx);
  }
}

class FunctionWaitForEvent<S, E extends ResumeEvent> extends WaitForEvent<S, E> {
  constructor(
    name: string,
    events: string | readonly string[],
    private readonly fn: (store: S, event: E, ctx: NodeContext) => NodeResult,
  ) {
    super({ name, events });
  }
  apply(store: S, event: E, ctx: NodeContext): NodeResult {
    return this.fn(store, event, ctx);
  }
}

/** A WaitForEvent from a function. */
export function waitFor<S = unknown, E extends ResumeEvent = ResumeEvent>(
  name: string,
  events: string | readonly string[],
  apply: (store: S, event: E, ctx: NodeContext) => NodeResult,
): WaitForEvent<S, E> {
  if (typeof apply !== 'function') {
    throw new TypeError(`waitFor('${name}', events, apply): apply must be a function (store, event, ctx) => Promise<void>`);
  }
  return new FunctionWaitForEvent(name, events, apply);
}

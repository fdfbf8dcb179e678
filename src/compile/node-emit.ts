/**
 * Where a value a node sends with `ctx.emit(data)` goes (issue 16): to the run's hooks (and so
 * to `workflow.stream()` and OpenTelemetry), then to the top-level run actor as an XState
 * emitted event of type `junjo.emit`, so `actor.on('junjo.emit', …)` sees every node's values,
 * those of nodes inside subflows and RunMap items included.
 *
 * An emitted value is never state: it goes through no transition, so it changes no snapshot,
 * no inspector sees a state change and no checkpoint is written for it or holds it. An
 * inspector attached to the run gets it as an `@xstate.event` of type `junjo.emit` on the run
 * actor (the inspector UI shows it under its node, inspector/ui/node-activity.ts); a run
 * without inspection observers pays nothing for that.
 */
import type { NodeEmittedEvent } from '../hooks.js';
import type { RunScope } from './run-scope.js';

/** The type of the XState event a run actor emits for every `ctx.emit` in the run. */
export const EMIT_EVENT = 'junjo.emit';

/** What `actor.on('junjo.emit', (event) => …)` receives: a NodeEmittedEvent under another type. */
export interface NodeEmitEvent extends Omit<NodeEmittedEvent, 'type'> {
  type: typeof EMIT_EVENT;
}

/** The top-level run a (sub)run belongs to, and the structural id of the (sub)run. */
function routeOf(scope: RunScope): { root: RunScope; path: string } {
  if (!scope.parent) return { root: scope, path: scope.source.name };
  const parent = routeOf(scope.parent);
  return { root: parent.root, path: `${parent.path}/${scope.key}` };
}

/**
 * The parts of an XState actor this module uses: its own `emit`, as the `emit` action calls it,
 * and its system's inspection channel, as XState reports the events it relays.
 */
interface EmittingActor {
  _actorScope?: { emit?: (event: { type: string }) => void };
  system?: { _sendInspectionEvent?: (event: { type: '@xstate.event'; sourceRef: unknown; actorRef: unknown; event: { type: string } }) => void };
}

/**
 * The emitter of one node execution: sends each of its emitted values out. Made on its first
 * emit; the route to the run actor is found once, since a node may emit thousands of values.
 *
 * `deliverToHooks` hands the hooks' event to the run's lifecycle and says whether it was taken
 * (false once the lifecycle has ended the execution, e.g. as cancelled while its run fails);
 * absent when the run has no hooks.
 *
 * The run actor's emitted events are delivered through the actor's own emit function — the one
 * XState's `emit()` action calls — because going through a transition per value would cost a
 * macrostep each (10,000 tokens …), show every token as an event in inspectors, and make the
 * checkpointer serialise the snapshot for every burst, all for something that is not state.
 */
export class NodeEmitter {
  readonly #id: string;
  readonly #executionId: string;
  readonly #rootRunId: string;
  readonly #emit: (event: NodeEmitEvent) => void;
  readonly #root: EmittingActor;

  constructor(
    scope: RunScope,
    private readonly node: { key: string; name: string; iteration: number },
  ) {
    const { root, path } = routeOf(scope);
    this.#id = `${path}/${node.key}`;
    this.#executionId = `${scope.runId}/${node.key}#${node.iteration}`;
    this.#rootRunId = root.runId;
    this.#root = root.actor as EmittingActor;
    const emit = this.#root._actorScope?.emit;
    if (typeof emit !== 'function') {
      throw new Error(
        'ctx.emit: this version of XState has no actor emit function where junjo-xstate expects it; use the xstate version in package.json peerDependencies',
      );
    }
    this.#emit = emit;
  }

  emit(
    attempt: number,
    seq: number,
    data: unknown,
    deliverToHooks: ((event: NodeEmittedEvent) => boolean) | undefined,
    step?: string,
  ): void {
    const { key, name, iteration } = this.node;
    const event: NodeEmittedEvent = {
      type: 'nodeEmitted',
      kind: 'node',
      status: 'emitted',
      runId: this.#rootRunId,
      name,
      id: this.#id,
      executionId: this.#executionId,
      parentId: null,
      parentExecutionId: null,
      node: key,
      iteration,
      attempt,
      seq,
      data,
      timestamp: Date.now(),
    };
    if (step !== undefined) event.step = step;
    // The lifecycle fills in the node's parents (its RunConcurrent group, if any).
    if (deliverToHooks && !deliverToHooks(event)) return;
    const emitted: NodeEmitEvent = { ...event, type: EMIT_EVENT };
    this.#emit(emitted);
    // A no-op without inspection observers (XState returns at once).
    this.#root.system?._sendInspectionEvent?.({ type: '@xstate.event', sourceRef: this.#root, actorRef: this.#root, event: emitted });
  }
}

/**
 * Where a value a node sends with `ctx.emit(data)` goes (issue 16): to the run's hooks (and so
 * to `workflow.stream()` and OpenTelemetry), then to the top-level run actor as an XState
 * emitted event of type `junjo.emit`, so `actor.on('junjo.emit', …)` sees every node's values,
 * those of nodes inside subflows and RunMap items included.
 *
 * An emitted value is never state: it goes through no transition, so it changes no snapshot,
 * no inspector sees a state change and no checkpoint is written for it or holds it.
 */
import type { AnyActorRef } from 'xstate';
import type { NodeEmittedEvent } from '../hooks.js';
import type { RunContext, RunScope } from './run-scope.js';
import { scopeOf } from './run-registry.js';

/** The type of the XState event a run actor emits for every `ctx.emit` in the run. */
export const EMIT_EVENT = 'junjo.emit';

/** What `actor.on('junjo.emit', (event) => …)` receives: a NodeEmittedEvent under another type. */
export interface NodeEmitEvent extends Omit<NodeEmittedEvent, 'type'> {
  type: typeof EMIT_EVENT;
}

/** Which run actor a node's emits reach, and the structural id of the run the node is in. */
interface Route {
  root: AnyActorRef;
  rootRunId: string;
  /** The structural id of the (sub)run: the workflow's name, then subflow keys. */
  path: string;
}

const routes = new WeakMap<AnyActorRef, Route>();

/** Whether `actor` runs a compiled workflow or subflow (a fan-out actor has no context). */
function isRunActor(actor: AnyActorRef): boolean {
  const context = (actor.getSnapshot() as { context?: Partial<RunContext> } | undefined)?.context;
  return typeof context === 'object' && context !== null && 'runId' in context && 'store' in context;
}

/** The run actor a node runner's parent belongs to: itself, or the fan-out's own parent. */
function runActorOf(runnerParent: AnyActorRef): AnyActorRef {
  let actor: AnyActorRef | undefined = runnerParent;
  while (actor && !isRunActor(actor)) actor = actor._parent;
  if (!actor) throw new Error(`ctx.emit: actor '${runnerParent.id}' is not inside a junjo-xstate run`);
  return actor;
}

function routeOf(runActor: AnyActorRef, scope: RunScope): Route {
  const known = routes.get(runActor);
  if (known) return known;
  let route: Route;
  if (!scope.parent) {
    route = { root: runActor, rootRunId: scope.runId, path: scope.source.name };
  } else {
    // A subflow run (or a RunMap item's subflow run) knows its key in its parent from its input.
    const key = ((runActor.getSnapshot() as { context: RunContext }).context.input as { subflow: string }).subflow;
    const parentActor = runActorOf(runActor._parent!);
    const parent = routeOf(parentActor, scopeOf(parentActor));
    route = { root: parent.root, rootRunId: parent.rootRunId, path: `${parent.path}/${key}` };
  }
  routes.set(runActor, route);
  return route;
}

/** The part of an XState actor this module uses: its own `emit`, as the `emit` action calls it. */
interface EmittingActor {
  _actorScope?: { emit?: (event: { type: string }) => void };
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

  constructor(
    runnerParent: AnyActorRef,
    scope: RunScope,
    private readonly node: { key: string; name: string; iteration: number },
  ) {
    const route = routeOf(runActorOf(runnerParent), scope);
    this.#id = `${route.path}/${node.key}`;
    this.#executionId = `${scope.runId}/${node.key}#${node.iteration}`;
    this.#rootRunId = route.rootRunId;
    const emit = (route.root as EmittingActor)._actorScope?.emit;
    if (typeof emit !== 'function') {
      throw new Error(
        'ctx.emit: this version of XState has no actor emit function where junjo-xstate expects it; use the xstate version in package.json peerDependencies',
      );
    }
    this.#emit = emit;
  }

  emit(attempt: number, seq: number, data: unknown, deliverToHooks: ((event: NodeEmittedEvent) => boolean) | undefined): void {
    const { key, name, iteration } = this.node;
    const timestamp = Date.now();
    let parentId: string | null = null;
    let parentExecutionId: string | null = null;
    if (deliverToHooks) {
      const event: NodeEmittedEvent = {
        type: 'nodeEmitted',
        kind: 'node',
        status: 'emitted',
        runId: this.#rootRunId,
        name,
        id: this.#id,
        executionId: this.#executionId,
        parentId,
        parentExecutionId,
        node: key,
        iteration,
        attempt,
        seq,
        data,
        timestamp,
      };
      if (!deliverToHooks(event)) return;
      // The lifecycle knows the node's parents (its RunConcurrent group, if any).
      ({ parentId, parentExecutionId } = event);
    }
    this.#emit({
      type: EMIT_EVENT,
      kind: 'node',
      status: 'emitted',
      runId: this.#rootRunId,
      name,
      id: this.#id,
      executionId: this.#executionId,
      parentId,
      parentExecutionId,
      node: key,
      iteration,
      attempt,
      seq,
      data,
      timestamp,
    });
  }
}

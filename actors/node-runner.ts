/**
 * The node runner: the actor a node state invokes. It runs one execution of a Node's
 * `service(store, ctx)` and is done when the service's promise settles. Its `ctx.signal`
 * aborts when the actor is stopped: the state was left (a RunConcurrent sibling failed) or
 * the run was stopped.
 *
 * The runner's input is plain data (the node's key and iteration), so a persisted run can
 * restore it; everything live (the node instance, the store handle) comes from `resolve`.
 *
 * @example
 * ```ts
 * setup({ actors: { node: nodeRunner((parent, key) => lookUp(parent, key)) } })
 * ```
 */
import { fromPromise, type AnyActorRef, type PromiseActorLogic } from 'xstate';
import type { NodeContext } from '../src/graph/node.js';

export interface NodeRunnerInput {
  /** The node's key: its unique name in the graph. */
  node: string;
  /** 1 on the node's first execution in the run, then 2, 3 … */
  iteration: number;
  /** The event a waiting node resumed on. */
  event?: { type: string; [key: string]: unknown };
}

/** What a runner needs from its run to execute a node. */
export interface NodeExecution {
  service(store: unknown, ctx: NodeContext): unknown;
  store(signal: AbortSignal): unknown;
  runId: string;
}

export type NodeRunnerLogic = PromiseActorLogic<void, NodeRunnerInput>;

export function nodeRunner(
  resolve: (workflowActor: AnyActorRef, input: NodeRunnerInput) => NodeExecution,
): NodeRunnerLogic {
  return fromPromise<void, NodeRunnerInput>(async ({ input, signal, self }) => {
    const execution = resolve(self._parent!, input);
    const ctx: NodeContext = { signal, runId: execution.runId, node: input.node, iteration: input.iteration };
    await execution.service(execution.store(signal), input.event ? { ...ctx, event: input.event } : ctx);
  });
}

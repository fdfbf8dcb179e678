/**
 * Node: a state that invokes the node runner (actors/node-runner.ts) for one execution of
 * the node's service; done when the service's promise settles. As a fan-out item, the same
 * runner is the item's actor.
 */
import type { Node } from '../../graph/node.js';
import { countExecution } from '../run-actions.js';
import { NODE_ACTOR, type GraphCompiler } from '../compile-graph.js';
import type { RunContext } from '../run-scope.js';
import { stateMeta, type KindCompiler } from './kind.js';

export const nodeKind: KindCompiler<Node<any>> = {
  state: (node, { key, path, done }, graph: GraphCompiler) => ({
    id: key,
    meta: stateMeta(graph.prototype.isSink(node) ? 'sink' : 'node', node.name, key),
    invoke: {
      id: key,
      src: NODE_ACTOR,
      // Counts the execution here rather than in an entry assign (which copies the context
      // and goes through XState's action machinery on every node): XState evaluates an
      // invoke's input exactly once per spawn, and a restored child keeps its persisted input.
      input: ({ context }: { context: RunContext }) => ({ node: key, iteration: countExecution(context, key) }),
      onDone: done([]),
      onError: graph.failTo(path),
    },
  }),
  item: (_node, id, iteration, graph) => ({ id, logic: graph.actor(NODE_ACTOR), input: { node: id, iteration } }),
};

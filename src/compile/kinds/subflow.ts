/**
 * Subflow: a state that invokes the subflow's own compiled machine (a child run with its own
 * store), forwarding to it the events its waiting nodes accept. The child machine frames its
 * graph with `$preRunActions` before the source and `$postRunActions` after the sinks.
 */
import { forwardTo, fromPromise } from 'xstate';
import { MaxIterationsError } from '../../errors.js';
import type { Subflow } from '../../graph/subflow.js';
import { settleUpdates, viewFor } from '../../store/handle.js';
import { DONE_STATE, type GraphCompiler, type MachineRole } from '../compile-graph.js';
import { executionKey } from '../node-execution.js';
import { countExecution } from '../run-actions.js';
import { scopeOf } from '../run-registry.js';
import { executableAt, instantiateRunGraph, instantiateStore, type RunContext } from '../run-scope.js';
import { stateMeta, type KindCompiler } from './kind.js';

/** What the machine of a subflow gets as input from its parent. */
export interface SubflowInput {
  /** The subflow's key in its parent run: a graph entry, or a RunMap item's id. */
  subflow: string;
  iteration: number;
}

const PRE_STATE = '$preRunActions';
const POST_STATE = '$postRunActions';
/** The actor that runs a subflow's pre- or post-run actions. */
export const SUBFLOW_ACTIONS_ACTOR = 'subflowActions';

export const subflowKind: KindCompiler<Subflow> = {
  awaits: (subflow, graph) => graph.subflow(subflow, graph.prototype.keyOf(subflow)).awaited,
  state: (subflow, { key, path, done }, graph) => {
    const child = graph.subflow(subflow, key);
    return {
      id: key,
      meta: stateMeta('subflow', subflow.name, key),
      ...(child.awaited.length ? { on: Object.fromEntries(child.awaited.map((type) => [type, { actions: forwardTo(key) }])) } : {}),
      invoke: {
        id: key,
        src: child.src,
        input: ({ context }: { context: RunContext }): SubflowInput => ({ subflow: key, iteration: countExecution(context, key) }),
        onDone: done([{ type: 'recordSubflowResult', params: { subflow: key } }]),
        onError: graph.failTo(path),
      },
    };
  },
  item: (subflow, id, iteration, graph, shape) => {
    const child = graph.subflow(subflow, shape);
    // A fan-out forwards no events to its items (it checkpoints counters, not items), so such
    // an item would wait forever: refused, failing the fan-out, instead of a run that hangs.
    if (child.awaited.length) {
      throw new TypeError(
        `Subflow '${subflow.name}' (item ${id}) waits for ${child.awaited.map((type) => `'${type}'`).join(', ')} (a waitFor or an agent's approval inside it), ` +
          `so it cannot run as an item of a RunMap or of a RunConcurrent of more than 16 items: their items get no events. ` +
          `Put the wait after the RunMap, or make the items a RunConcurrent of at most 16.`,
      );
    }
    return { id, logic: child.machine, input: { subflow: id, iteration } satisfies SubflowInput };
  },
};

/** How a compiled subflow machine starts its runs, inside a parent run. */
export function subflowRole(subflow: Subflow): MachineRole {
  const owner = `Subflow '${subflow.name}'`;
  return {
    kind: 'subflow',
    name: subflow.name,
    owner,
    begin: (actorInput, self) => {
      const input = actorInput as SubflowInput;
      const parent = scopeOf(self._parent!);
      if (input.iteration > parent.source.maxIterations) throw new MaxIterationsError(input.subflow, parent.source.maxIterations);
      return { runId: `${parent.runId}/${input.subflow}#${input.iteration}`, input, options: {} };
    },
    createScope: (runId, input, actor, _options, graph) => {
      const parent = scopeOf(actor._parent!);
      const { subflow: key, iteration } = input as SubflowInput;
      const instance = executableAt(parent, key) as Subflow;
      const store = instantiateStore(owner, instance.store, graph.definition);
      const lifecycle = parent.lifecycle?.subflow(key, instance.name, iteration, graph.prototype, () => store.getState());
      return {
        runId,
        actor,
        key,
        source: instance,
        graph: instantiateRunGraph(owner, instance.graph, graph.prototype, graph.positions),
        store,
        subflow: instance,
        parentStore: parent.store,
        parent,
        lifecycle,
      };
    },
    frame: (sourceKey, graph) => ({
      initial: PRE_STATE,
      sinkTarget: POST_STATE,
      states: {
        [PRE_STATE]: actionsState('pre', `#${sourceKey}`, graph),
        [POST_STATE]: actionsState('post', `#${DONE_STATE}`, graph),
      },
    }),
  };
}

function actionsState(phase: 'pre' | 'post', then: string, graph: GraphCompiler) {
  const name = phase === 'pre' ? PRE_STATE : POST_STATE;
  return {
    id: name,
    meta: stateMeta('internal', name.slice(1)),
    invoke: { id: name.slice(1), src: SUBFLOW_ACTIONS_ACTOR, input: { phase }, onDone: then, onError: graph.failTo([name.slice(1)]) },
  };
}

/** Runs a subflow's pre- or post-run actions, with views of the parent's store and its own. */
export const subflowActions = fromPromise<void, { phase: 'pre' | 'post' }>(async ({ input, signal, self }) => {
  const scope = scopeOf(self._parent!);
  const { subflow: parentKey, iteration } = (self._parent!.getSnapshot().context as RunContext).input as SubflowInput;
  const phase = input.phase === 'pre' ? 'preRunActions' : 'postRunActions';
  const parentStore = viewFor(scope.parentStore!, parentKey, signal, `${executionKey(parentKey, iteration)}/${phase}`);
  const store = viewFor(scope.store, phase, signal, executionKey(phase, 1));
  const result = input.phase === 'pre' ? scope.subflow!.preRunActions(parentStore, store) : scope.subflow!.postRunActions(parentStore, store);
  // Like a node: done once both views' updates settled, failed by a refused update it did not
  // await (src/store/handle.ts, settleUpdates).
  await settleUpdates(store, settleUpdates(parentStore, result));
});

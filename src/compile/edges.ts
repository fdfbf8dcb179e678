/**
 * How a graph's edges become transitions: each conditional edge gets a guard named after its
 * condition (so an inspector shows which condition was taken), and a vertex's done event
 * tries its edges in declaration order, failing the run, naming the node, if none holds.
 */
import type { AnyEventObject } from 'xstate';
import { kindOf } from '../describe.js';
import { ConditionError } from '../errors.js';
import type { Executable } from '../graph/executable.js';
import type { Graph } from '../graph/graph.js';
import { FAILED_STATE } from './compile-graph.js';
import type { RunAction, RunTransition } from './machine-types.js';
import { scopeOf } from './run-registry.js';
import type { RunContext } from './run-scope.js';

type GuardPredicate = (args: { context: RunContext; event: AnyEventObject }) => boolean;

export interface EdgeGuards {
  /** The guard functions by name, for `setup({ guards })`. */
  readonly predicates: Record<string, GuardPredicate>;
  /** The guard name of each conditional edge, by the edge's position in the graph. */
  readonly names: ReadonlyMap<number, string>;
}

// A condition that throws must not throw inside XState's transition (the actor would error
// without stopping its children), so its guard records the error and this guard, tried right
// after it, fails the run.
const CONDITION_THREW = 'conditionThrew';

export function edgeGuards(graph: Graph): EdgeGuards {
  const predicates: Record<string, GuardPredicate> = {
    [CONDITION_THREW]: ({ context, event }) => scopeOf(context.store).conditionFailure?.event === event,
  };
  const names = new Map<number, string>();
  graph.edges.forEach((edge, i) => {
    if (!edge.condition) return;
    let name = edge.condition.name;
    for (let n = 2; name in predicates; n++) name = `${edge.condition.name}#${n}`;
    names.set(i, name);
    predicates[name] = ({ context, event }) => {
      const scope = scopeOf(context.store);
      const condition = scope.graph.conditions[i] ?? edge.condition!;
      try {
        const holds: unknown = condition.evaluate(context.store.getSnapshot().context);
        if (typeof holds !== 'boolean') {
          // kindOf, not String(): a null-prototype object has no text.
          throw new TypeError(`it returned ${typeof holds === 'object' && holds !== null ? kindOf(holds) : typeof holds}, not a boolean`);
        }
        return holds;
      } catch (error) {
        scope.conditionFailure = { event, error: new ConditionError(edge.toString(), condition.name, error) };
        return false;
      }
    };
  });
  return { predicates, names };
}

/** The transitions on `executable`'s done event; each runs `actions` too. */
export function edgeTransitions(
  graph: Graph,
  executable: Executable,
  sinkTarget: string,
  guards: EdgeGuards,
  actions: readonly RunAction[],
): RunTransition[] {
  const key = graph.keyOf(executable);
  if (graph.isSink(executable)) return [{ target: `#${sinkTarget}`, actions: [...actions] }];
  const out = graph.outgoing(executable);
  const transitions = out.flatMap((edge): RunTransition[] => {
    const take: RunTransition = { target: `#${graph.keyOf(edge.head)}`, reenter: true, actions: [...actions] };
    if (!edge.condition) return [take];
    return [
      { ...take, guard: guards.names.get(graph.edges.indexOf(edge)) },
      {
        guard: CONDITION_THREW,
        target: `#${FAILED_STATE}`,
        actions: [...actions, { type: 'recordConditionFailure', params: { node: key } }],
      },
    ];
  });
  if (out.length === 0 || out[out.length - 1]!.condition) {
    transitions.push({
      target: `#${FAILED_STATE}`,
      actions: [...actions, { type: 'recordNoMatchingEdge', params: { node: key, conditions: out.map((e) => e.condition!.name) } }],
    });
  }
  return transitions;
}

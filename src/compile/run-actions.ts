/**
 * The named actions of every run machine. They find the run's scope through its store actor
 * (guards and actions see only context and event), and change only plain context data, so a
 * persisted snapshot carries what they recorded.
 */
import { assign, type AnyEventObject } from 'xstate';
import type { FanOutOutput } from '../../actors/fan-out.js';
import { EMPTY_RECORD, writable } from '../empty-record.js';
import { FanOutItemError, NoMatchingEdgeError, WorkflowExecutionError } from '../errors.js';
import type { RunActionFunction, RunActionName } from './machine-types.js';
import { scopeOf } from './run-registry.js';
import type { RunContext } from './run-scope.js';

/** Counts one more execution of `node` in place (see RunContext); returns its iteration. */
export function countExecution(context: RunContext, node: string): number {
  return (context.executionCounts[node] = (context.executionCounts[node] ?? 0) + 1);
}

/** What a run's failure records: where it happened (this run's keys) and the original error. */
function failing(context: RunContext, failure: { path: string[]; error: unknown }) {
  scopeOf(context.store).lifecycle?.failing(failure.path, failure.error);
  return failure;
}

export const runActions: { [K in RunActionName]: RunActionFunction<K> } = {
  // An assign, not a plain action: XState resolves assigns in order during the step (so
  // the invoke's input sees the new count), while plain actions of an initial step run later.
  countExecution: assign({
    executionCounts: ({ context }, { node }: { node: string }) => {
      countExecution(context, node);
      return context.executionCounts;
    },
  }),
  // Items of a wide RunConcurrent are counted like those of a parallel state would be.
  countItems: assign({
    executionCounts: ({ context }, { items }: { items: readonly string[] }) => {
      for (const item of items) countExecution(context, item);
      return context.executionCounts;
    },
  }),
  recordAttempt: ({ context, event }) => {
    // In place, like executionCounts: the record is plain data persisted with the context.
    (context.attempts = writable(context.attempts))[event.execution as string] = event.attempt as number;
  },
  recordSubflowResult: ({ context, event }, { subflow }) => {
    ((context.subflows = writable<unknown[]>(context.subflows))[subflow] ??= []).push((event as AnyEventObject).output);
  },
  recordFanOutResults: ({ context, event }) => {
    context.subflows = writable(context.subflows);
    for (const [id, output] of event.output as FanOutOutput) (context.subflows[id] ??= []).push(output);
  },
  recordFailure: assign({
    failure: ({ context, event }, { path }: { path: readonly string[] }) => {
      let error: unknown = (event as { error?: unknown }).error;
      // A fan-out's failing item, like a subflow's failure, says where it happened.
      let at = [...path];
      if (error instanceof FanOutItemError) {
        at = [...at, error.item];
        error = error.error;
      }
      // A subflow's failure already says where inside it; keep the original as the cause.
      const failure =
        error instanceof WorkflowExecutionError ? { path: [...at, ...error.path], error: error.cause } : { path: at, error };
      // Hooks get only this run's part of the path: a subflow's keys may repeat this graph's.
      scopeOf(context.store).lifecycle?.failing(at, failure.error);
      return failure;
    },
  }),
  recordConditionFailure: assign({
    failure: ({ context }, { node }: { node: string }) => {
      const scope = scopeOf(context.store);
      const error = scope.conditionFailure!.error;
      scope.conditionFailure = undefined;
      return failing(context, { path: [node], error });
    },
  }),
  recordNoMatchingEdge: assign({
    failure: ({ context }, { node, conditions }: { node: string; conditions: readonly string[] }) =>
      failing(context, { path: [node], error: new NoMatchingEdgeError(node, [...conditions]) }),
  }),
  reportGroupStarted: ({ context }, { key }) => {
    scopeOf(context.store).lifecycle?.groupStarted(key);
  },
  reportGroupCompleted: ({ context }, { key }) => {
    scopeOf(context.store).lifecycle?.groupCompleted(key);
  },
  reportCompleted: ({ context }) => {
    scopeOf(context.store).lifecycle?.runEnded('completed');
  },
};

/** A run's first context: nothing counted, recorded or failed yet. */
export function initialContext(runId: string, input: unknown, store: RunContext['store']): RunContext {
  return { runId, input, store, executionCounts: {}, attempts: EMPTY_RECORD, subflows: EMPTY_RECORD, failure: null };
}

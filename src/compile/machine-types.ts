/**
 * The XState types of a compiled run machine, in one place: the context, the events, the
 * named actions with their params, and the state config every kind module returns. The
 * compiler passes these to `setup()`, so a state config a kind module builds is checked
 * against the very machine it becomes part of.
 */
import type {
  ActionFunction,
  AnyEventObject,
  EventObject,
  StateNodeConfig,
  TransitionConfigOrTarget,
  UnknownActorLogic,
} from 'xstate';
import type { ExecutableKind } from '../graph/executable.js';
import type { GraphJSON } from '../graph/to-json.js';
import type { RunContext } from './run-scope.js';

/** What each `meta.junjo` of a compiled state holds. */
export interface StateMeta {
  kind: ExecutableKind | 'workflow' | 'subflow' | 'sink' | 'internal';
  name: string;
  key?: string;
  /** WaitForEvent states: the events they wait for, and whether the node is a sink. */
  events?: readonly string[];
  sink?: boolean;
  /** The root state: the graph as JSON. */
  graph?: GraphJSON;
}

export interface RunStateMeta {
  junjo: StateMeta;
}

/** Actors are looked up by name (`src`), from a table the compiler builds per machine. */
export interface RunActor {
  src: string;
  logic: UnknownActorLogic;
  id: string | undefined;
}

/** The params of each named action of a run machine (src/compile/run-actions.ts). */
export interface RunActionParams {
  countExecution: { node: string };
  countItems: { items: readonly string[] };
  recordAttempt: undefined;
  recordSubflowResult: { subflow: string };
  recordFanOutResults: undefined;
  recordFailure: { path: readonly string[] };
  recordConditionFailure: { node: string };
  recordNoMatchingEdge: { node: string; conditions: readonly string[] };
  reportGroupStarted: { key: string };
  reportGroupCompleted: { key: string };
  reportCompleted: undefined;
}

export type RunActionName = keyof RunActionParams;

export type RunAction = { [K in RunActionName]: { type: K; params: RunActionParams[K] } }[RunActionName];

/** Guards are named after edge conditions, so their names are only known per graph. */
export interface RunGuard {
  type: string;
  params: undefined;
}

export type RunActionFunction<K extends RunActionName> = ActionFunction<
  RunContext,
  AnyEventObject,
  AnyEventObject,
  RunActionParams[K],
  RunActor,
  RunAction,
  RunGuard,
  never,
  EventObject
>;

/** The config of one state of a run machine: what a kind module returns. */
export type RunStateConfig = StateNodeConfig<
  RunContext,
  AnyEventObject,
  RunActor,
  RunAction,
  RunGuard,
  never,
  string,
  unknown,
  EventObject,
  RunStateMeta
>;

/** One transition of a run machine (an edge, a done or error transition). */
export type RunTransition = Exclude<
  TransitionConfigOrTarget<RunContext, AnyEventObject, AnyEventObject, RunActor, RunAction, RunGuard, never, EventObject, RunStateMeta>,
  readonly unknown[] | string | undefined
>;

/**
 * A run's live parts: what it uses of its graph instance (fresh from the factory), its store
 * handle and, for a subflow run, the parent's store. Machine context holds only plain data and
 * actor refs (so a run can be persisted); the scope is found from any of the run's actors
 * through the run registry (src/compile/run-registry.ts).
 */
import type { AnyActorRef } from 'xstate';
import type { StoreActorRef } from '../../actors/store.js';
import { kindOf } from '../describe.js';
import { otherCopy, twoCopiesError } from '../graph/brand.js';
import type { Condition } from '../graph/condition.js';
import type { Executable } from '../graph/executable.js';
import type { Graph } from '../graph/graph.js';
import { checkGraph, type Subflow } from '../graph/subflow.js';
import type { AnyStoreDefinition } from '../store/define-store.js';
import { bindStore, definitionOf, isStoreHandle, type AnyStoreHandle } from '../store/handle.js';
import type { RunLifecycle } from './run-lifecycle.js';

/** What a compiled machine runs: a workflow, or a subflow inside a parent run. */
export interface RunSource {
  readonly name: string;
  readonly maxIterations: number;
}

export interface RunScope {
  readonly runId: string;
  /** The actor that runs it: a workflow's machine, or a subflow's inside its parent run. */
  readonly actor: AnyActorRef;
  /** Subflow runs only: the subflow's key in its parent run (a graph entry or a RunMap item). */
  readonly key?: string;
  readonly source: RunSource;
  readonly graph: RunGraph;
  readonly store: AnyStoreHandle;
  /** Subflow runs only: the subflow instance and its parent run's store. */
  readonly subflow?: Subflow;
  readonly parentStore?: AnyStoreHandle;
  /** The parent run's scope, for subflow runs. */
  readonly parent?: RunScope;
  /** Reports lifecycle events to hooks; absent when the run has none. */
  readonly lifecycle?: RunLifecycle;
  /** A condition that threw while the guards of `event` were evaluated. */
  conditionFailure?: { event: object; error: Error };
  /**
   * Executables made while the run goes (RunMap items, by item id): they are not in the
   * graph, and node runners and subflows look them up by key like the graph's.
   */
  items?: Map<string, Executable>;
}

/** The machine context of every run. Plain data and actor refs only: it is persisted. */
// `S`, the store's state, types `context.store` for selectors:
// useSelector(useSelector(run, (s) => s.context.store), (s) => s.context) is the run's state.
export interface RunContext<S = any> {
  runId: string;
  /** What the run was started with, kept so a restored run can rebuild its scope. */
  input: unknown;
  store: StoreActorRef<S>;
  /**
   * How often each node has started in this run. Updated in place by the `countExecution`
   * action: copying a record of n nodes on each of n steps would make long runs quadratic.
   */
  executionCounts: Record<string, number>;
  /** Node executions (`node#iteration`) past their first attempt: the attempt they are at. */
  attempts: Record<string, number>;
  /** Results of each subflow's runs, by subflow key. */
  subflows: Record<string, unknown[]>;
  failure: { path: string[]; error: unknown } | null;
  /** The loop of each agent node in this run, by key (src/compile/kinds/agent.ts); JSON. */
  agents?: Record<string, AgentRecord>;
}

/** Where an agent node's loop is (issue 16): in the context, so a checkpoint holds it. */
export interface AgentRecord {
  iteration: number;
  /** The agent's loop state (opaque JSON); null before its first model request. */
  loop: unknown;
  /** Model requests and tool calls started in this execution: their actors' numbers. */
  requests: number;
  tools: number;
  /**
   * Decisions on tool calls this execution took: which of its approvals it waits at, so a
   * RunQueue's event handed to one approval is known applied once the next one waits
   * (src/postgres/run-events.ts). Absent in checkpoints written before it (none yet, then).
   */
  decisions?: number;
  /** The tool calls in flight, and the results of those done, by call id. */
  batch: { id: string; name: string; n: number }[];
  results: Record<string, unknown>;
}

/** The executable `key` names in a run: a graph entry, or an item made while the run goes. */
export function executableAt(scope: RunScope, key: string): Executable | undefined {
  const i = scope.graph.positions.get(key);
  return i === undefined ? scope.items?.get(key) : scope.graph.executables[i];
}

/** Connects a run's store handle to its store actor, and its hooks to the store's commits. */
export function attachStore(scope: RunScope, store: StoreActorRef<any>): void {
  bindStore(scope.store, store);
  const { lifecycle } = scope;
  if (lifecycle) {
    // The store lives exactly as long as its run, so its end is the run's end.
    let seen = 0;
    store.subscribe({
      next: (snapshot) => {
        if (snapshot.commit && snapshot.commit.seq !== seen) {
          seen = snapshot.commit.seq;
          lifecycle.committed(snapshot.commit, snapshot.context);
        }
      },
      complete: () => lifecycle.storeStopped(),
    });
  }
}

/** Calls a graph factory and checks it returned a Graph. */
export function instantiateGraph(owner: string, factory: () => Graph): Graph {
  return checkGraph(factory(), owner);
}

/**
 * What a run keeps of its graph instance, indexed like the compiled prototype: its executables
 * (in the order of the prototype's entries; `positions` holds each key's place there, shared
 * by every run) and the conditions of its edges (in the prototype's edge order). The Graph and
 * its Edges are not kept: thousands of runs may wait at once, and they need only these.
 */
export interface RunGraph {
  readonly executables: readonly Executable[];
  readonly positions: ReadonlyMap<string, number>;
  readonly conditions: readonly (Condition<any> | undefined)[];
}

/** The positions of `prototype`'s keys, made once per compiled graph. */
export function positionsOf(prototype: Graph): Map<string, number> {
  return new Map(prototype.entries.map((entry, i) => [entry.key, i]));
}

const NO_CONDITIONS: readonly undefined[] = [];

/**
 * Calls a graph factory for one run and checks the graph has the shape the machine was
 * compiled from (`prototype`, whose keys are at `positions`).
 */
export function instantiateRunGraph(
  owner: string,
  factory: () => Graph,
  prototype: Graph,
  positions: ReadonlyMap<string, number>,
): RunGraph {
  const graph = instantiateGraph(owner, factory);
  const executables =
    graph === prototype ? prototype.entries.map((entry) => entry.executable) : graph.executablesShapedAs(prototype);
  if (!executables) {
    throw new Error(
      `${owner}: the graph factory returned a graph of another shape than before; it must build the same nodes and edges on every call (only fresh instances)`,
    );
  }
  // Shapes match, so the run's edges have conditions exactly where the prototype's have.
  const conditions = prototype.edges.some((edge) => edge.condition) ? graph.edges.map((edge) => edge.condition) : NO_CONDITIONS;
  return { executables, positions, conditions };
}

/** Calls a store factory and checks it returned a store handle of the expected definition. */
export function instantiateStore(
  owner: string,
  factory: () => unknown,
  known: AnyStoreDefinition | undefined,
): AnyStoreHandle {
  const handle = factory();
  if (!isStoreHandle(handle)) {
    // Another copy's store: say so (src/graph/brand.ts).
    if (otherCopy(handle)) throw twoCopiesError(`${owner}: the store factory's store`, handle);
    throw new TypeError(
      `${owner}: the store factory must return a store, e.g. () => MyStore.create(), got ${kindOf(handle)}`,
    );
  }
  if (known && definitionOf(handle) !== known) {
    throw new TypeError(
      `${owner}: the store factory returned a '${definitionOf(handle).name}' store, but earlier runs got '${known.name}'; it must always return the same kind of store`,
    );
  }
  return handle;
}

/**
 * A run's live parts: this run's graph instance (fresh from the factory), its store handle
 * and, for a subflow run, the parent's store. Machine context holds only plain data and actor
 * refs (so a run can be persisted); the scope is found from the context's store actor.
 */
import type { AnyActorRef } from 'xstate';
import type { StoreActorRef } from '../../actors/store.js';
import type { Edge } from '../graph/edge.js';
import type { Executable } from '../graph/executable.js';
import { Graph } from '../graph/graph.js';
import type { Subflow } from '../graph/subflow.js';
import type { AnyStoreDefinition } from '../store/define-store.js';
import type { RunLifecycle } from './run-lifecycle.js';
import { bindStore, definitionOf, isStoreHandle, type AnyStoreHandle } from '../store/handle.js';

/** What a compiled machine runs: a workflow, or a subflow inside a parent run. */
export interface RunSource {
  readonly name: string;
  readonly maxIterations: number;
}

export interface RunScope {
  readonly runId: string;
  readonly source: RunSource;
  readonly graph: Graph;
  readonly executables: ReadonlyMap<string, Executable>;
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
}

/** The machine context of every run. Plain data and actor refs only: it is persisted. */
export interface RunContext {
  runId: string;
  /** What the run was started with, kept so a restored run can rebuild its scope. */
  input: unknown;
  store: StoreActorRef<any>;
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
}

const scopes = new WeakMap<AnyActorRef, RunScope>();

export function scopeOfStore(store: AnyActorRef): RunScope | undefined {
  return scopes.get(store);
}

export function registerScope(store: StoreActorRef<any>, scope: RunScope): void {
  bindStore(scope.store, store);
  scopes.set(store, scope);
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

/** Calls a graph factory and checks the result has the shape the machine was compiled from. */
export function instantiateGraph(owner: string, factory: () => Graph, prototype?: Graph): Graph {
  const graph = factory();
  if (!(graph instanceof Graph)) {
    throw new TypeError(`${owner}: the graph factory must return a Graph, got ${describe(graph)}`);
  }
  if (prototype && graph !== prototype && !sameShape(graph, prototype)) {
    throw new Error(
      `${owner}: the graph factory returned a graph of another shape than before; it must build the same nodes and edges on every call (only fresh instances)`,
    );
  }
  return graph;
}

export function executablesOf(graph: Graph): Map<string, Executable> {
  return new Map(graph.entries.map((entry) => [entry.key, entry.executable]));
}

/** Calls a store factory and checks it returned a store handle of the expected definition. */
export function instantiateStore(
  owner: string,
  factory: () => unknown,
  known: AnyStoreDefinition | undefined,
): AnyStoreHandle {
  const handle = factory();
  if (!isStoreHandle(handle)) {
    throw new TypeError(
      `${owner}: the store factory must return a store, e.g. () => MyStore.create(), got ${describe(handle)}`,
    );
  }
  if (known && definitionOf(handle) !== known) {
    throw new TypeError(
      `${owner}: the store factory returned a '${definitionOf(handle).name}' store, but earlier runs got '${known.name}'; it must always return the same kind of store`,
    );
  }
  return handle;
}

function sameShape(a: Graph, b: Graph): boolean {
  if (a.entries.length !== b.entries.length || a.edges.length !== b.edges.length) return false;
  if (a.sinks.length !== b.sinks.length || a.sinks.some((sink, i) => a.keyOf(sink) !== b.keyOf(b.sinks[i]!))) return false;
  for (let i = 0; i < a.entries.length; i++) {
    const x = a.entries[i]!;
    const y = b.entries[i]!;
    if (x.key !== y.key || x.executable.kind !== y.executable.kind || x.parent !== y.parent) return false;
  }
  for (let i = 0; i < a.edges.length; i++) {
    const x = a.edges[i]!;
    const y = b.edges[i]!;
    if (
      a.keyOf(x.tail) !== b.keyOf(y.tail) ||
      a.keyOf(x.head) !== b.keyOf(y.head) ||
      !x.condition !== !y.condition
    ) {
      return false;
    }
  }
  return true;
}

export type EdgeList = readonly Edge[];

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

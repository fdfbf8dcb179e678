/**
 * The interface every executable kind compiles through. A kind module (one file in this
 * folder) says what state runs one execution of its executables, and optionally how they run
 * as fan-out items, what a fan-out of theirs runs, and which events they wait for. The
 * compiler finds a kind's module by `executable.kind` in the table (./index.ts).
 */
import type { FanOutItem, FanOutPlan } from '../../../actors/fan-out.js';
import type { Executable } from '../../graph/executable.js';
import type { GraphCompiler } from '../compile-graph.js';
import type { RunAction, RunStateConfig, RunStateMeta, RunTransition, StateMeta } from '../machine-types.js';
import type { RunScope } from '../run-scope.js';

/** Where a state is being built: its key, its failure path, and how it ends. */
export interface StateSite {
  readonly key: string;
  /** The keys from the graph's top level down to this state (a failure here reports them). */
  readonly path: readonly string[];
  /** The transitions taken when the execution is done; each also runs `actions`. */
  done(actions: readonly RunAction[]): RunTransition[];
}

/** One execution of a fan-out, as its plan is made. */
export interface FanOutRun {
  readonly scope: RunScope;
  /** The key of the executable that fans out, and the how-manieth time it runs. */
  readonly key: string;
  readonly iteration: number;
}

export interface KindCompiler<E extends Executable> {
  /** The state that runs one execution of `executable`. */
  state(executable: E, site: StateSite, graph: GraphCompiler): RunStateConfig;
  /** Event types a run must accept while it is in `executable`: a parent run forwards them. */
  awaits?(executable: E, graph: GraphCompiler): readonly string[];
  /**
   * How `executable` runs as one item of a fan-out (a RunMap item, an item of a wide
   * RunConcurrent); kinds without it cannot be items. Items sharing `shape` have one shape.
   */
  item?(executable: E, id: string, iteration: number, graph: GraphCompiler, shape: string): FanOutItem;
  /** What the fan-out actor runs, for kinds whose state invokes it. */
  plan?(executable: E, run: FanOutRun, graph: GraphCompiler): FanOutPlan;
}

/** `meta` of a compiled state: what the inspector, hooks and renderers read of it. */
export function stateMeta(kind: StateMeta['kind'], name: string, key?: string): RunStateMeta {
  return { junjo: key === undefined ? { kind, name } : { kind, name, key } };
}

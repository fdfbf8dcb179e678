/**
 * Subflow: a workflow nested in a parent graph. It has its own graph and its own store,
 * made fresh for every run, and touches the parent's store only in `preRunActions` (before
 * its graph runs) and `postRunActions` (after it reached a sink). To its parent it is one node.
 *
 * ```ts
 * class JokeAndFact extends Subflow<JokeStoreHandle, SampleStoreHandle> {
 *   async preRunActions(parent: SampleStoreHandle, sub: JokeStoreHandle) {
 *     await sub.setTopic(parent.getState().items.join(', '));
 *   }
 *   async postRunActions(parent: SampleStoreHandle, sub: JokeStoreHandle) {
 *     await parent.setJoke(sub.getState().joke);
 *   }
 * }
 * new JokeAndFact({ name: 'JokeAndFact', graph: () => jokeGraph(), store: () => JokeStore.create() });
 * ```
 */
import { Executable } from './executable.js';
import { kindOf } from '../describe.js';
import { otherCopy, twoCopiesError } from './brand.js';
import { Graph } from './graph.js';

declare module './executable.js' {
  interface ExecutableKinds {
    subflow: Subflow;
  }
}

export interface SubflowOptions<SubStore> {
  name?: string;
  /** Builds the subflow's graph; called once per subflow run, so nodes are fresh each time. */
  graph: () => Graph<SubStore>;
  /** Builds the subflow's store; called once per subflow run. */
  store: () => SubStore;
  /** How often the subflow's own nodes may run in one subflow run (default 100). */
  maxIterations?: number;
}

export class Subflow<SubStore = any, ParentStore = any> extends Executable<ParentStore> {
  get kind(): 'subflow' {
    return 'subflow';
  }
  override get noun(): string {
    return 'subflow';
  }
  /** Builds the subflow's graph, as `Workflow.graph` does a workflow's. */
  readonly graph: () => Graph<SubStore>;
  /** Builds the subflow's store, as `Workflow.store` does a workflow's. */
  readonly store: () => SubStore;
  readonly maxIterations: number;

  constructor(options: SubflowOptions<SubStore>) {
    super(options?.name);
    if (typeof options?.graph !== 'function') {
      throw new TypeError(`Subflow '${this.name}': graph must be a factory function () => Graph`);
    }
    if (typeof options.store !== 'function') {
      throw new TypeError(`Subflow '${this.name}': store must be a factory function () => store`);
    }
    this.graph = options.graph;
    this.store = options.store;
    this.maxIterations = checkMaxIterations(options.maxIterations, `Subflow '${this.name}'`);
  }

  /** A fresh graph from the factory; throws naming the subflow when it returns something else. */
  override innerGraph(): Graph {
    return checkGraph(this.graph(), `Subflow '${this.name}'`);
  }

  /** Runs before the subflow's graph: typically copies what it needs from the parent. */
  preRunActions(_parentStore: ParentStore, _subStore: SubStore): void | Promise<void> {}

  /** Runs after the subflow reached a sink (never after a failure): writes results back. */
  postRunActions(_parentStore: ParentStore, _subStore: SubStore): void | Promise<void> {}
}

export function checkMaxIterations(value: number | undefined, owner: string): number {
  if (value === undefined) return 100;
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`${owner}: maxIterations must be a positive integer, got ${kindOf(value)}`);
  }
  return value;
}

/** Checks what a graph factory returned; `owner` names the factory's owner in the error. */
export function checkGraph(graph: unknown, owner: string): Graph {
  if (!(graph instanceof Graph)) {
    // Another copy's Graph: say so (src/graph/brand.ts).
    if (otherCopy(graph)) throw twoCopiesError(`${owner}: the graph factory's Graph`, graph);
    throw new TypeError(`${owner}: the graph factory must return a Graph, got ${kindOf(graph)}`);
  }
  return graph;
}

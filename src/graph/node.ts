/**
 * Node: the unit of work. Its `service(store, ctx)` reads the store, does its work (an LLM
 * call, a query …) and commits results through the store's actions.
 */
import { Executable } from './executable.js';

/** What a node's service gets besides its store. */
export interface NodeContext {
  /** Aborts when the node is cancelled: the run was stopped, or a RunConcurrent sibling failed. */
  readonly signal: AbortSignal;
  /** The run this execution belongs to. */
  readonly runId: string;
  /** The node's unique name in its graph (the state id in the compiled machine). */
  readonly node: string;
  /** 1 on the node's first execution in this run, 2 on its second (in a loop) … */
  readonly iteration: number;
  /** For a WaitForEvent node: the event that resumed the run. */
  readonly event?: { type: string; [key: string]: unknown };
}

/** Anything a node's service may return. The value is ignored: results go through the store. */
export type NodeResult = void | Promise<void> | unknown;

/**
 * Subclass it and implement `service`:
 *
 * ```ts
 * class IncrementNode extends Node<CounterStoreHandle> {
 *   async service(store: CounterStoreHandle) { await store.increment() }
 * }
 * ```
 */
export abstract class Node<S = unknown> extends Executable {
  readonly kind = 'node' as const;

  constructor(options?: { name?: string }) {
    super(options?.name);
  }

  abstract service(store: S, ctx: NodeContext): NodeResult;
}

class FunctionNode<S> extends Node<S> {
  constructor(
    name: string,
    private readonly fn: (store: S, ctx: NodeContext) => NodeResult,
  ) {
    super({ name });
  }
  service(store: S, ctx: NodeContext): NodeResult {
    return this.fn(store, ctx);
  }
}

/**
 * A node from a function. Call it inside the graph factory so each run gets its own.
 *
 * ```ts
 * const addTen = node<CounterStoreHandle>('AddTen', async (store) => {
 *   await store.setCounter(store.getState().counter + 10);
 * });
 * ```
 */
export function node<S = unknown>(
  name: string,
  service: (store: S, ctx: NodeContext) => NodeResult,
): Node<S> {
  if (typeof service !== 'function') {
    throw new TypeError(`node('${name}', service): service must be a function (store, ctx) => Promise<void>`);
  }
  return new FunctionNode(name, service);
}

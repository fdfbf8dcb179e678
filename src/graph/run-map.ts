/**
 * RunMap: the data-driven fan-out. It reads a list from the committed state when it starts
 * and runs one node (or subflow) per item, all on the run's store, at most `concurrency` at a
 * time; it completes when every item has. One LLM call per document, per row, per chunk.
 *
 * It compiles to one state invoking the fan-out actor (actors/fan-out.ts), which runs each
 * item as its own child actor with id `${key}[${index}]`, so an inspector shows every item's
 * start, completion or failure; thousands of items stay linear.
 *
 * Failure: the first failing item cancels the others (their `ctx.signal` aborts, their later
 * updates are refused) and the run fails with that item's original error. With
 * `collectFailures: true` every item runs to its end and then, if any failed, the RunMap
 * fails with a RunMapError listing each failure with its index. Failing is the only outcome
 * of a failed item: to let the run go on, catch inside the item's node and record the
 * failure in the store.
 *
 * ```ts
 * const summarize = new RunMap({
 *   name: 'Summarize',
 *   items: (state: DocsState) => state.documents,
 *   node: (doc, index) =>
 *     node<DocsStoreHandle>('SummarizeOne', async (store, ctx) => {
 *       const summary = await llm.summarize(doc.text, { signal: ctx.signal });
 *       await store.setSummary(index, summary);
 *     }),
 *   concurrency: 8,
 * });
 * new Graph({ source: load, sinks: [report], edges: [
 *   new Edge({ tail: load, head: summarize }),
 *   new Edge({ tail: summarize, head: report }),
 * ] });
 * ```
 */
import type { Immutable } from 'immer';
import { Executable } from './executable.js';
import type { Node } from './node.js';
import type { Subflow } from './subflow.js';
import { kindOf } from '../describe.js';

declare module './executable.js' {
  interface ExecutableKinds {
    runMap: RunMap<any, any, any>;
  }
}

export interface RunMapOptions<S, T, H> {
  name: string;
  /** Reads the list to map over from the committed state, when the RunMap starts. */
  items: (state: S) => readonly T[];
  /**
   * Builds the node (or subflow) for one item; called as that item starts. All items of
   * one RunMap must be of the same kind (all nodes or all subflows of the same shape).
   */
  node: (item: T, index: number) => Node<H> | Subflow<any, H>;
  /** At most this many items run at once (default: all of them). */
  concurrency?: number;
  /** Run every item even after one failed, then fail listing every failure (default false). */
  collectFailures?: boolean;
}

// (issue 13, branch robust) Its store: the items' store, whose state `items` reads.
export class RunMap<S = unknown, T = unknown, H = unknown> extends Executable<H & { getState(): Immutable<S> }> {
  get kind(): 'runMap' {
    return 'runMap';
  }
  override get noun(): string {
    return 'RunMap';
  }
  readonly concurrency: number;
  readonly collectFailures: boolean;
  readonly #items: (state: S) => readonly T[];
  readonly #node: (item: T, index: number) => Node<H> | Subflow<any, H>;

  constructor(options: RunMapOptions<S, T, H>) {
    super(options?.name);
    const { items, node, concurrency = Infinity, collectFailures = false } = options;
    if (typeof items !== 'function') {
      throw new TypeError(`RunMap '${this.name}': items must be a function (state) => list to map over`);
    }
    if (typeof node !== 'function') {
      throw new TypeError(`RunMap '${this.name}': node must be a function (item, index) => Node or Subflow`);
    }
    if (concurrency !== Infinity && (!Number.isInteger(concurrency) || concurrency < 1)) {
      throw new TypeError(
        `RunMap '${this.name}': concurrency must be a positive integer (or left out for no limit), got ${kindOf(concurrency)}`,
      );
    }
    this.#items = items;
    this.#node = node;
    this.concurrency = concurrency;
    this.collectFailures = collectFailures === true;
  }

  /** The list to map over, read from `state`; throws naming the RunMap if it is not an array. */
  itemsOf(state: S): readonly T[] {
    const list = this.#items(state);
    if (!Array.isArray(list)) {
      throw new TypeError(
        `RunMap '${this.name}': items(state) must return an array, got ${list === null ? 'null' : typeof list}`,
      );
    }
    return list;
  }

  /**
   * What the node factory returns for item `index`, unchecked: which kinds may be items is the
   * compiler's to say (src/compile/kinds/run-map.ts).
   */
  itemAt(item: T, index: number): unknown {
    return this.#node(item, index);
  }
}

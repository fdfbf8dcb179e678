/**
 * Edge: a directed connection from `tail` to `head`, taken when its condition holds (an edge
 * without a condition always holds). A node's edges are tried in declaration order.
 */
import type { Condition } from './condition.js';
import { otherCopy, twoCopiesError } from './brand.js';
import { Executable } from './executable.js';
import { kindOf } from '../describe.js';

// (issue 13, branch robust) Typed by the store `S` of its ends and condition, all checked
// against each other: the condition's '~store' asks for a store whose state it can read.
export interface EdgeOptions<S = any> {
  tail: Executable<S>;
  head: Executable<S>;
  condition?: Condition<any> & { readonly '~store'?: (store: S) => void };
}

export class Edge<S = any> {
  declare readonly '~store'?: (store: S) => void;
  readonly tail: Executable<S>;
  readonly head: Executable<S>;
  readonly condition: Condition<any> | undefined;

  constructor({ tail, head, condition }: EdgeOptions<S>) {
    for (const [field, value] of [['tail', tail], ['head', head]] as const) {
      if (!(value instanceof Executable)) {
        // (issue 13, branch robust) Another copy's Node: say so (src/graph/brand.ts).
        if (otherCopy(value)) throw twoCopiesError(`Edge ${field}`, value);
        throw new TypeError(
          `Edge ${field} must be a Node, RunConcurrent or Subflow, got ${kindOf(value)}`,
        );
      }
    }
    if (condition !== undefined && typeof condition?.evaluate !== 'function') {
      throw new TypeError(
        `Edge '${tail.name}' → '${head.name}': condition must be a Condition (use condition(name, fn)), got ${kindOf(condition)}`,
      );
    }
    this.tail = tail;
    this.head = head;
    this.condition = condition;
    // A graph indexes its edges once: an edge moved after that would disagree with the index.
    Object.freeze(this);
  }

  toString(): string {
    return `'${this.tail.name}' → '${this.head.name}'${this.condition ? ` [${this.condition.name}]` : ''}`;
  }
}

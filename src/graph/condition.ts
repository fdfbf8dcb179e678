/**
 * Condition: a named predicate over the committed store state, used as an edge's guard.
 * Conditions must be synchronous and pure: they are evaluated inside a machine transition.
 */
import type { Immutable } from 'immer';

export abstract class Condition<State = unknown> {
  /**
   * Type checker only (issue 13, branch robust): the store a condition needs, one whose
   * state is at least `State`, so an edge over another store's state does not type-check.
   */
  declare readonly '~store'?: (store: { getState(): Immutable<State> }) => void;
  readonly name: string;

  constructor(options?: { name?: string }) {
    this.name = options?.name ?? this.constructor.name;
  }

  abstract evaluate(state: State): boolean;

  toString(): string {
    return this.name;
  }
}

class FunctionCondition<State> extends Condition<State> {
  constructor(
    name: string,
    private readonly fn: (state: State) => boolean,
  ) {
    super({ name });
  }
  evaluate(state: State): boolean {
    return this.fn(state);
  }
}

/**
 * A condition from a predicate:
 *
 * ```ts
 * const isEven = condition<CounterState>('CounterIsEven', (s) => s.counter % 2 === 0);
 * ```
 */
export function condition<State = unknown>(
  name: string,
  predicate: (state: State) => boolean,
): Condition<State> {
  if (typeof predicate !== 'function') {
    throw new TypeError(`condition('${name}', predicate): predicate must be a function (state) => boolean`);
  }
  return new FunctionCondition(name, predicate);
}

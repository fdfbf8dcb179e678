/**
 * RunConcurrent: runs its items side by side on the run's store and completes when all of
 * them complete. The first failure cancels the items still running.
 */
import { otherCopy, twoCopiesError } from './brand.js';
import { Executable } from './executable.js';

declare module './executable.js' {
  interface ExecutableKinds {
    runConcurrent: RunConcurrent;
  }
}

// (issue 13, branch robust) Typed by the store `S` its items share.
export interface RunConcurrentOptions<S = any> {
  name: string;
  items: readonly Executable<S>[];
}

export class RunConcurrent<S = any> extends Executable<S> {
  get kind(): 'runConcurrent' {
    return 'runConcurrent';
  }
  override get noun(): string {
    return 'RunConcurrent';
  }
  readonly items: readonly Executable[];

  constructor({ name, items }: RunConcurrentOptions<S>) {
    super(name);
    if (!Array.isArray(items)) {
      throw new TypeError(`RunConcurrent '${name}': items must be an array of nodes or subflows`);
    }
    items.forEach((item, i) => {
      if (!(item instanceof Executable)) {
        // (issue 13, branch robust) Another copy's Node: say so (src/graph/brand.ts).
        if (otherCopy(item)) throw twoCopiesError(`RunConcurrent '${name}': item ${i}`, item);
        throw new TypeError(
          `RunConcurrent '${name}': item ${i} is not a Node, RunConcurrent or Subflow`,
        );
      }
    });
    this.items = Object.freeze([...items]);
  }

  override children(): readonly Executable[] {
    return this.items;
  }

  override problems(): string[] {
    return this.items.length === 0 ? [`RunConcurrent '${this.name}' has no items: give it at least one node or subflow`] : [];
  }
}

/**
 * RunConcurrent: runs its items side by side on the run's store and completes when all of
 * them complete. The first failure cancels the items still running.
 */
import { otherCopy, twoCopiesError } from './brand.js';
import { Executable } from './executable.js';

export interface RunConcurrentOptions {
  name: string;
  items: readonly Executable[];
}

export class RunConcurrent extends Executable {
  get kind(): 'runConcurrent' {
    return 'runConcurrent';
  }
  readonly items: readonly Executable[];

  constructor({ name, items }: RunConcurrentOptions) {
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
    this.items = [...items];
  }
}

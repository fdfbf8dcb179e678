/**
 * RunConcurrent: runs its items side by side on the run's store and completes when all of
 * them complete. The first failure cancels the items still running.
 */
import { Executable } from './executable.js';

declare module './executable.js' {
  interface ExecutableKinds {
    runConcurrent: RunConcurrent;
  }
}

export interface RunConcurrentOptions {
  name: string;
  items: readonly Executable[];
}

export class RunConcurrent extends Executable {
  get kind(): 'runConcurrent' {
    return 'runConcurrent';
  }
  override get noun(): string {
    return 'RunConcurrent';
  }
  readonly items: readonly Executable[];

  constructor({ name, items }: RunConcurrentOptions) {
    super(name);
    if (!Array.isArray(items)) {
      throw new TypeError(`RunConcurrent '${name}': items must be an array of nodes or subflows`);
    }
    items.forEach((item, i) => {
      if (!(item instanceof Executable)) {
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

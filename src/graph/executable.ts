/**
 * What a graph is made of. Every vertex of a graph is an Executable: a Node, a RunMap, a
 * RunConcurrent or a Subflow. The compiler switches on `kind`.
 */
import { stamp } from './brand.js';

export type ExecutableKind = 'node' | 'runConcurrent' | 'runMap' | 'subflow';

/**
 * The store an executable works on, for the type checker only (issue 13, branch robust): a
 * function of it, so a Node<S> fits a graph of any store that gives at least what S asks for
 * (contravariance), and a graph of nodes of another store does not type-check. Declared only:
 * no value exists at run time.
 */
export interface StoreBound<S> {
  readonly '~store'?: (store: S) => void;
}

export abstract class Executable<S = any> implements StoreBound<S> {
  declare readonly '~store'?: (store: S) => void;
  /** A getter on each kind's prototype: every run makes fresh instances, so they stay small. */
  abstract readonly kind: ExecutableKind;
  /**
   * The display name: the one given explicitly, else the class name. Give one when a
   * bundler may mangle class names, or when two instances of a class share a graph.
   */
  readonly name: string;

  constructor(name: string | undefined) {
    const resolved = name ?? this.constructor.name;
    if (typeof resolved !== 'string' || resolved.trim() === '') {
      throw new TypeError(
        `A ${this.constructor.name || 'node'} needs a non-empty name: pass { name: '...' } to its constructor`,
      );
    }
    this.name = resolved;
  }

  toString(): string {
    return this.name;
  }
}
// (issue 13, branch robust) So another loaded copy's checks can say "two copies" (brand.ts).
stamp(Executable.prototype);

/**
 * What a graph is made of. Every vertex of a graph is an Executable of some kind: a Node, a
 * WaitForEvent, a RunConcurrent, a RunMap, a Subflow or an agent node (src/graph/agent.ts).
 *
 * The pure model knows a kind only through what its class answers here (the items it holds,
 * the graph it runs, its own problems), so the graph walk, validation and JSON never switch on
 * kinds. How a kind runs is its compile module's business (src/compile/kinds/), found by `kind`
 * in one table (src/compile/kinds/index.ts).
 */
import { stamp } from './brand.js';
import type { Graph } from './graph.js';

/**
 * The executable kinds, by name. Each kind's model file adds itself here by declaration
 * merging (`declare module './executable.js' { interface ExecutableKinds { myKind: MyKind } }`),
 * and the compiler's kind table must then have a row for it, or it does not type-check.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ExecutableKinds {}

export type ExecutableKind = keyof ExecutableKinds;

const NO_ITEMS: readonly Executable[] = Object.freeze([]);

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

  /** How messages name this kind, before the name: "RunConcurrent 'Both'", "subflow 'Inner'". */
  get noun(): string {
    return 'node';
  }

  /**
   * The executables nested in this one that are part of its graph, keyed and drawn as its
   * items (a RunConcurrent's); none for most kinds.
   */
  children(): readonly Executable[] {
    return NO_ITEMS;
  }

  /** A fresh instance of the graph this executable runs of its own (a Subflow's); else none. */
  innerGraph(): Graph | undefined {
    return undefined;
  }

  /** Problems of this executable itself, each naming it and saying what to fix. */
  problems(): string[] {
    return [];
  }

  toString(): string {
    return this.name;
  }
}

/**
 * Where a chain of executables that run graphs of their own (subflows inside subflows) returns
 * to one already in it: the chain from that one on, or undefined. A subflow is known by its
 * class and name, since each run of a graph factory makes fresh instances.
 */
export function nestingCycle(outer: readonly Executable[], executable: Executable): Executable[] | undefined {
  const at = outer.findIndex((o) => o.constructor === executable.constructor && o.name === executable.name);
  return at === -1 ? undefined : [...outer.slice(at), executable];
}

/** The message for a cycle of subflows found by `nestingCycle`. */
export function nestingCycleProblem(cycle: readonly Executable[]): string {
  const first = cycle[0]!;
  return (
    `${first.noun} '${first.name}' contains itself (${cycle.map((e) => `'${e.name}'`).join(' → ')}): ` +
    `a subflow cannot run inside itself; break the cycle (if these are different subflows, give them different names)`
  );
}

// (issue 13, branch robust) So another loaded copy's checks can say "two copies" (brand.ts).
stamp(Executable.prototype);

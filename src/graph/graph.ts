/**
 * Graph: one source, one or more sinks and the edges between them. Cycles are allowed.
 *
 * The graph also assigns every executable (including RunConcurrent items) a unique `key`,
 * derived from names in order of first appearance, so two runs of the same graph shape get
 * the same keys. Keys become state ids in the compiled machine and structural ids in events.
 */
import { GraphValidationError, messageOf } from '../errors.js';
import type { Edge } from './edge.js';
import { toDot, toMermaid } from './render.js';
import { graphToJSON, type GraphJSON } from './to-json.js';
import { Executable, nestingCycle, nestingCycleProblem } from './executable.js';
import { otherCopy, stamp, twoCopiesError } from './brand.js';

// (issue 13, branch robust) Typed by the store `S` its executables and edges work on; a
// workflow's graph factory must return a Graph of its store.
export interface GraphOptions<S = any> {
  source: Executable<S>;
  sinks: readonly Executable<S>[];
  edges: readonly Edge<S>[];
  /** Used in error messages and renderings; defaults to the workflow's name. */
  name?: string;
}

/** One vertex or RunConcurrent item, with the unique key the compiler and renderers use. */
export interface GraphEntry {
  key: string;
  executable: Executable;
  /** Key of the RunConcurrent this entry is an item of; absent for graph vertices. */
  parent?: string;
}

export class Graph<S = any> {
  declare readonly '~store'?: (store: S) => void;
  readonly source: Executable;
  readonly sinks: readonly Executable[];
  readonly edges: readonly Edge[];
  readonly name: string | undefined;
  #entries: GraphEntry[] | undefined;
  #keys: Map<Executable, string> | undefined;
  #outgoing: Map<Executable, Edge[]> | undefined;

  constructor({ source, sinks, edges, name }: GraphOptions<S>) {
    if (!(source instanceof Executable)) {
      // (issue 13, branch robust) Say so when it is another copy's Node (src/graph/brand.ts).
      if (otherCopy(source)) throw twoCopiesError('Graph source', source);
      throw new TypeError('Graph source must be a Node, RunConcurrent or Subflow');
    }
    if (!Array.isArray(sinks)) {
      throw new TypeError(`Graph with source '${source.name}': sinks must be an array of nodes`);
    }
    if (!Array.isArray(edges)) {
      throw new TypeError(`Graph with source '${source.name}': edges must be an array of Edge`);
    }
    this.source = source;
    this.sinks = Object.freeze([...sinks]);
    this.edges = Object.freeze([...edges]);
    this.name = name;
    // Its keys and edge index are cached: a graph changed after that would disagree with them.
    Object.freeze(this);
  }

  /** Every executable with its unique key: vertices first-seen order, RunConcurrent items after their group. */
  get entries(): readonly GraphEntry[] {
    if (!this.#entries) this.#index();
    return this.#entries!;
  }

  keyOf(executable: Executable): string {
    if (!this.#keys) this.#index();
    const key = this.#keys!.get(executable);
    if (key === undefined) throw new Error(`'${executable.name}' is not part of this graph`);
    return key;
  }

  /** A node's outgoing edges, in declaration order. */
  outgoing(executable: Executable): readonly Edge[] {
    if (!this.#outgoing) {
      this.#outgoing = new Map();
      for (const edge of this.edges) {
        const list = this.#outgoing.get(edge.tail);
        if (list) list.push(edge);
        else this.#outgoing.set(edge.tail, [edge]);
      }
    }
    return this.#outgoing.get(executable) ?? [];
  }

  isSink(executable: Executable): boolean {
    return this.sinks.includes(executable);
  }

  /**
   * Every problem found, each naming the node and saying what to fix; empty when valid.
   * Warnings (`isWarning`: they begin with 'warning: ') do not make the graph invalid.
   */
  problems(): string[] {
    return this.#problems([]);
  }

  /** `outer`: the subflows (or other graph-running executables) this graph runs inside. */
  #problems(outer: readonly Executable[]): string[] {
    const problems: string[] = [];
    if (this.sinks.length === 0) {
      problems.push(`the graph has no sinks: list at least one node in 'sinks'`);
    }
    const vertices = new Set<Executable>([this.source, ...this.sinks]);
    for (const edge of this.edges) vertices.add(edge.tail).add(edge.head);

    const reachable = new Set<Executable>([this.source]);
    for (const stack = [this.source]; stack.length; ) {
      for (const edge of this.outgoing(stack.pop()!)) {
        if (!reachable.has(edge.head)) {
          reachable.add(edge.head);
          stack.push(edge.head);
        }
      }
    }
    for (const sink of this.sinks) {
      if (!reachable.has(sink)) {
        problems.push(
          `sink '${sink.name}' cannot be reached from source '${this.source.name}': add edges leading to it, or remove it from 'sinks'`,
        );
      }
      const out = this.outgoing(sink);
      if (out.length) {
        problems.push(
          `sink '${sink.name}' has outgoing edges (to ${out.map((e) => `'${e.head.name}'`).join(', ')}): a sink ends the run; remove the edges or the node from 'sinks'`,
        );
      }
    }
    for (const vertex of vertices) {
      if (!reachable.has(vertex) && !this.isSink(vertex)) {
        problems.push(
          `${WARNING}'${vertex.name}' cannot be reached from source '${this.source.name}', so it never runs: add an edge leading to it, or remove its edges`,
        );
      }
    }
    for (const vertex of reachable) {
      if (!this.isSink(vertex) && this.outgoing(vertex).length === 0) {
        problems.push(
          `'${vertex.name}' has no outgoing edge and is not a sink: the run would stop there; add an edge from it or list it in 'sinks'`,
        );
      }
    }

    const owner = new Map<Executable, string>();
    for (const vertex of vertices) owner.set(vertex, 'the graph');
    const visitItems = (group: Executable) => {
      for (const item of group.children()) {
        const seen = owner.get(item);
        if (seen) {
          problems.push(
            `'${item.name}' is an item of ${group.noun} '${group.name}' and also of ${seen}: use a separate instance for each place`,
          );
          continue;
        }
        owner.set(item, `${group.noun} '${group.name}'`);
        visitItems(item);
      }
    };
    for (const vertex of vertices) visitItems(vertex);

    for (const executable of owner.keys()) {
      problems.push(...executable.problems());
      const cycle = nestingCycle(outer, executable);
      if (cycle) {
        problems.push(nestingCycleProblem(cycle));
        continue;
      }
      let inner: Graph | undefined;
      try {
        inner = executable.innerGraph();
      } catch (err) {
        problems.push(`${executable.noun} '${executable.name}': its graph factory threw: ${messageOf(err)}`);
        continue;
      }
      if (!inner) continue;
      for (const p of inner.#problems([...outer, executable])) {
        const where = `in ${executable.noun} '${executable.name}': `;
        problems.push(isWarning(p) ? WARNING + where + p.slice(WARNING.length) : where + p);
      }
    }
    return problems;
  }

  /** Throws a GraphValidationError listing every problem (warnings aside); returns the graph when valid. */
  validate(name = this.name ?? this.source.name): this {
    const problems = this.problems().filter((p) => !isWarning(p));
    if (problems.length) throw new GraphValidationError(name, problems);
    return this;
  }

  /** The graph as JSON with stable structural ids (what a compiled machine carries in `meta`). */
  toJSON(): GraphJSON {
    return graphToJSON(this);
  }

  /** A Mermaid flowchart of the graph, titled with its name when it has one. */
  toMermaid(): string {
    return toMermaid(graphToJSON(this), this.name === undefined ? {} : { title: this.name });
  }

  /** A Graphviz DOT digraph of the graph, titled with its name when it has one. */
  toDot(): string {
    return toDot(graphToJSON(this), this.name === undefined ? {} : { title: this.name });
  }

  /**
   * This graph's executables in the order of `prototype.entries`, when this graph has the
   * prototype's shape (the same names and kinds in the same places, the same edges and
   * sinks); undefined otherwise. A run's graph is used by position this way, without an index
   * of its own (each run would otherwise build and keep one).
   */
  executablesShapedAs(prototype: Graph): Executable[] | undefined {
    if (this.edges.length !== prototype.edges.length || this.sinks.length !== prototype.sinks.length) return undefined;
    const { list, parents, position } = walk(this);
    const entries = prototype.entries;
    if (list.length !== entries.length) return undefined;
    for (let i = 0; i < list.length; i++) {
      // Keys follow from names in walk order, so equal names mean equal keys.
      const x = list[i]!;
      const y = entries[i]!;
      const parent = parents[i];
      if (x.name !== y.executable.name || x.kind !== y.executable.kind) return undefined;
      if ((parent === undefined ? undefined : entries[parent]!.key) !== y.parent) return undefined;
    }
    const at = (executable: Executable) => entries[position.get(executable)!]!.executable;
    for (let i = 0; i < this.sinks.length; i++) if (at(this.sinks[i]!) !== prototype.sinks[i]) return undefined;
    for (let i = 0; i < this.edges.length; i++) {
      const x = this.edges[i]!;
      const y = prototype.edges[i]!;
      if (at(x.tail) !== y.tail || at(x.head) !== y.head || !x.condition !== !y.condition) return undefined;
    }
    // A run keeps this list for as long as it lives: copy it out of push's spare capacity.
    return list.slice();
  }

  #index(): void {
    const { list, parents } = walk(this);
    const entries: GraphEntry[] = [];
    const keys = new Map<Executable, string>();
    const used = new Set<string>();
    list.forEach((executable, i) => {
      const base = executable.name.replace(/[.#$]/g, '_');
      let key = base;
      for (let n = 2; used.has(key); n++) key = `${base}_${n}`;
      used.add(key);
      keys.set(executable, key);
      const parent = parents[i];
      entries.push(parent === undefined ? { key, executable } : { key, executable, parent: entries[parent]!.key });
    });
    this.#entries = entries;
    this.#keys = keys;
  }
}

/**
 * How problems that do not make a graph invalid begin: Junjo accepts such a graph, and so does
 * validation, but `problems()` lists them.
 */
export const WARNING = 'warning: ';

export function isWarning(problem: string): boolean {
  return problem.startsWith(WARNING);
}

/**
 * Every executable of `graph` once, in key order: the source, then edge ends, then sinks,
 * each RunConcurrent followed by its items; with the position of each one's group.
 */
function walk(graph: Graph): { list: Executable[]; parents: (number | undefined)[]; position: Map<Executable, number> } {
  const list: Executable[] = [];
  const parents: (number | undefined)[] = [];
  const position = new Map<Executable, number>();
  const add = (executable: Executable, parent?: number) => {
    if (position.has(executable)) return;
    const at = list.length;
    position.set(executable, at);
    list.push(executable);
    parents.push(parent);
    for (const item of executable.children()) add(item, at);
  };
  add(graph.source);
  for (const edge of graph.edges) {
    add(edge.tail);
    add(edge.head);
  }
  for (const sink of graph.sinks) add(sink);
  return { list, parents, position };
}

// (issue 13, branch robust) So another loaded copy can tell its Graph apart (brand.ts).
stamp(Graph.prototype);

/**
 * Graph: one source, one or more sinks and the edges between them. Cycles are allowed.
 *
 * The graph also assigns every executable (including RunConcurrent items) a unique `key`,
 * derived from names in order of first appearance, so two runs of the same graph shape get
 * the same keys. Keys become state ids in the compiled machine and structural ids in events.
 */
import { GraphValidationError } from '../errors.js';
import type { Edge } from './edge.js';
import { toDot, toMermaid } from './render.js';
import { graphToJSON, type GraphJSON } from './to-json.js';
import { Executable } from './executable.js';
import { RunConcurrent } from './run-concurrent.js';
import { Subflow } from './subflow.js';

export interface GraphOptions {
  source: Executable;
  sinks: readonly Executable[];
  edges: readonly Edge[];
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

export class Graph {
  readonly source: Executable;
  readonly sinks: readonly Executable[];
  readonly edges: readonly Edge[];
  readonly name: string | undefined;
  #entries: GraphEntry[] | undefined;
  #keys: Map<Executable, string> | undefined;
  #outgoing: Map<Executable, Edge[]> | undefined;

  constructor({ source, sinks, edges, name }: GraphOptions) {
    if (!(source instanceof Executable)) {
      throw new TypeError('Graph source must be a Node, RunConcurrent or Subflow');
    }
    if (!Array.isArray(sinks)) {
      throw new TypeError(`Graph with source '${source.name}': sinks must be an array of nodes`);
    }
    if (!Array.isArray(edges)) {
      throw new TypeError(`Graph with source '${source.name}': edges must be an array of Edge`);
    }
    this.source = source;
    this.sinks = [...sinks];
    this.edges = [...edges];
    this.name = name;
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

  /** Every problem found, each naming the node and saying what to fix; empty when valid. */
  problems(): string[] {
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
    for (const vertex of reachable) {
      if (!this.isSink(vertex) && this.outgoing(vertex).length === 0) {
        problems.push(
          `'${vertex.name}' has no outgoing edge and is not a sink: the run would stop there; add an edge from it or list it in 'sinks'`,
        );
      }
    }

    const owner = new Map<Executable, string>();
    for (const vertex of vertices) owner.set(vertex, 'the graph');
    const visitItems = (group: RunConcurrent) => {
      if (group.items.length === 0) {
        problems.push(`RunConcurrent '${group.name}' has no items: give it at least one node or subflow`);
      }
      for (const item of group.items) {
        const seen = owner.get(item);
        if (seen) {
          problems.push(
            `'${item.name}' is an item of RunConcurrent '${group.name}' and also of ${seen}: use a separate instance for each place`,
          );
          continue;
        }
        owner.set(item, `RunConcurrent '${group.name}'`);
        if (item instanceof RunConcurrent) visitItems(item);
      }
    };
    for (const vertex of vertices) if (vertex instanceof RunConcurrent) visitItems(vertex);

    for (const executable of owner.keys()) {
      if (executable instanceof Subflow) {
        let inner: Graph;
        try {
          inner = executable.graphFactory();
        } catch (err) {
          problems.push(`subflow '${executable.name}': its graph factory threw: ${(err as Error)?.message ?? err}`);
          continue;
        }
        if (!(inner instanceof Graph)) {
          problems.push(`subflow '${executable.name}': its graph factory must return a Graph`);
          continue;
        }
        for (const p of inner.problems()) problems.push(`in subflow '${executable.name}': ${p}`);
      }
    }
    return problems;
  }

  /** Throws a GraphValidationError listing every problem; returns the graph when valid. */
  validate(name = this.name ?? this.source.name): this {
    const problems = this.problems();
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

  #index(): void {
    const entries: GraphEntry[] = [];
    const keys = new Map<Executable, string>();
    const used = new Set<string>();
    const add = (executable: Executable, parent?: string) => {
      if (keys.has(executable)) return;
      const base = executable.name.replace(/[.#$]/g, '_');
      let key = base;
      for (let n = 2; used.has(key); n++) key = `${base}_${n}`;
      used.add(key);
      keys.set(executable, key);
      entries.push(parent === undefined ? { key, executable } : { key, executable, parent });
      if (executable instanceof RunConcurrent) {
        for (const item of executable.items) add(item, key);
      }
    };
    add(this.source);
    for (const edge of this.edges) {
      add(edge.tail);
      add(edge.head);
    }
    for (const sink of this.sinks) add(sink);
    this.#entries = entries;
    this.#keys = keys;
  }
}

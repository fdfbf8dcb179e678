/**
 * A graph as plain JSON with stable structural ids: the same graph shape always yields the
 * same ids (they are the entries' unique keys). The compiled machine carries this in its root
 * state's `meta`, which is how an inspector draws a run's graph from the run itself.
 */
import { nestingCycle, type Executable, type ExecutableKind } from './executable.js';
import type { Graph } from './graph.js';

export interface GraphNodeJSON {
  /** Structural id: the node's unique key in its graph. */
  id: string;
  name: string;
  kind: ExecutableKind;
  /** Kinds that hold items (RunConcurrent): their ids. */
  items?: string[];
  /** Kinds that run a graph of their own (Subflow): that graph. */
  graph?: GraphJSON;
}

export interface GraphEdgeJSON {
  /** `e<index>` in declaration order. */
  id: string;
  tail: string;
  head: string;
  condition: string | null;
}

export interface GraphJSON {
  source: string;
  sinks: string[];
  /** Every vertex and RunConcurrent item; an item's `parent` is its RunConcurrent's id. */
  nodes: (GraphNodeJSON & { parent?: string })[];
  edges: GraphEdgeJSON[];
}

/**
 * `outer`: the subflows this graph runs inside. A subflow that contains itself is given without
 * its `graph` where it returns, so the JSON (and every rendering of it) stays finite.
 */
export function graphToJSON(graph: Graph, outer: readonly Executable[] = []): GraphJSON {
  const key = (e: Executable) => graph.keyOf(e);
  return {
    source: key(graph.source),
    sinks: graph.sinks.map(key),
    nodes: graph.entries.map(({ key: id, executable, parent }) => {
      const json: GraphNodeJSON & { parent?: string } = { id, name: executable.name, kind: executable.kind };
      if (parent !== undefined) json.parent = parent;
      const items = executable.children();
      if (items.length) json.items = items.map(key);
      const inner = nestingCycle(outer, executable) ? undefined : executable.innerGraph();
      if (inner) json.graph = graphToJSON(inner, [...outer, executable]);
      return json;
    }),
    edges: graph.edges.map((edge, i) => ({
      id: `e${i}`,
      tail: key(edge.tail),
      head: key(edge.head),
      condition: edge.condition?.name ?? null,
    })),
  };
}

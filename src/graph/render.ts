/**
 * Static renderings of a graph for docs and diagrams: Mermaid flowchart text and Graphviz DOT.
 * Both work from the graph's JSON (src/graph/to-json.ts), so a graph read back from a
 * compiled machine's `meta` renders the same as the Graph object it came from.
 *
 * RunConcurrent items and subflow graphs are drawn as groups (Mermaid subgraphs, DOT clusters);
 * the source is marked, sinks are drawn as end points, and edges carry their condition's name.
 */
import type { GraphJSON, GraphNodeJSON } from './to-json.js';

export interface RenderOptions {
  /** Shown as the diagram's title (Mermaid front matter, DOT graph label). */
  title?: string;
}

type JSONNode = GraphJSON['nodes'][number];

/** Mermaid ids must be plain identifiers; keys may hold spaces and other characters. */
function mermaidIds() {
  const used = new Set<string>();
  return (path: string): string => {
    const base = path.replace(/[^A-Za-z0-9_]/g, '_') || '_';
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    return id;
  };
}

function mermaidText(text: string): string {
  return `"${text.replace(/"/g, '#quot;')}"`;
}

function dotText(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Nodes of a graph level that are not items of a RunConcurrent (they are drawn inside it). */
function topLevel(graph: GraphJSON): JSONNode[] {
  return graph.nodes.filter((n) => n.parent === undefined);
}

function byId(graph: GraphJSON): Map<string, JSONNode> {
  return new Map(graph.nodes.map((n) => [n.id, n]));
}

/**
 * Renders a graph as a Mermaid flowchart. Node ids are the structural keys made into
 * identifiers; nodes inside a subflow are prefixed with the subflow's id.
 */
export function toMermaid(graph: GraphJSON, options: RenderOptions = {}): string {
  const lines: string[] = [];
  if (options.title !== undefined) lines.push('---', `title: ${mermaidText(options.title)}`, '---');
  lines.push('flowchart TD');
  const idOf = mermaidIds();
  const classes = { source: [] as string[], sink: [] as string[] };

  const level = (g: GraphJSON, prefix: string, indent: string): void => {
    const nodes = byId(g);
    const ids = new Map<string, string>();
    const declare = (node: JSONNode | GraphNodeJSON, depth: string): void => {
      const id = idOf(prefix + node.id);
      ids.set(node.id, id);
      if (node.items?.length) {
        lines.push(`${depth}subgraph ${id}[${mermaidText(`${node.name} (concurrent)`)}]`);
        lines.push(`${depth}  direction LR`);
        for (const item of node.items ?? []) declare(nodes.get(item)!, depth + '  ');
        lines.push(`${depth}end`);
      } else if (node.graph) {
        lines.push(`${depth}subgraph ${id}[${mermaidText(`${node.name} (subflow)`)}]`);
        level(node.graph, `${id}__`, depth + '  ');
        lines.push(`${depth}end`);
      } else if (g.sinks.includes(node.id)) {
        lines.push(`${depth}${id}([${mermaidText(node.name)}])`);
      } else {
        lines.push(`${depth}${id}[${mermaidText(node.name)}]`);
      }
      if (node.id === g.source) classes.source.push(id);
      if (g.sinks.includes(node.id)) classes.sink.push(id);
    };
    for (const node of topLevel(g)) declare(node, indent);
    for (const edge of g.edges) {
      const arrow = edge.condition === null ? '-->' : `-->|${mermaidText(edge.condition)}|`;
      lines.push(`${indent}${ids.get(edge.tail)} ${arrow} ${ids.get(edge.head)}`);
    }
  };
  level(graph, '', '  ');

  lines.push('  classDef source stroke-width:3px');
  lines.push('  classDef sink stroke-width:3px,stroke-dasharray:4 2');
  if (classes.source.length) lines.push(`  class ${classes.source.join(',')} source`);
  if (classes.sink.length) lines.push(`  class ${classes.sink.join(',')} sink`);
  return lines.join('\n') + '\n';
}

/**
 * Renders a graph as Graphviz DOT. Groups are clusters; an edge that ends at a group is drawn
 * to a node inside it and clipped at the cluster's border (`compound=true` with lhead/ltail),
 * because DOT edges can only join nodes.
 */
export function toDot(graph: GraphJSON, options: RenderOptions = {}): string {
  const lines: string[] = [`digraph ${dotText(options.title ?? graph.source)} {`];
  lines.push('  compound=true;');
  lines.push('  rankdir=TB;');
  if (options.title !== undefined) lines.push(`  label=${dotText(options.title)};`, '  labelloc=t;');
  lines.push('  node [shape=box, style=rounded];');

  interface Placed {
    /** The DOT node id an edge attaches to. */
    entry: string;
    exit: string;
    /** The cluster an edge must be clipped at, for groups. */
    cluster?: string;
  }

  const level = (g: GraphJSON, prefix: string, indent: string): Map<string, Placed> => {
    const nodes = byId(g);
    const placed = new Map<string, Placed>();
    const declare = (node: JSONNode | GraphNodeJSON, depth: string): Placed => {
      const id = prefix + node.id;
      let place: Placed;
      if (node.items?.length) {
        const cluster = `cluster_${id}`;
        lines.push(`${depth}subgraph ${dotText(cluster)} {`);
        lines.push(`${depth}  label=${dotText(`${node.name} (concurrent)`)};`);
        lines.push(`${depth}  style=dashed;`);
        const items = (node.items ?? []).map((item) => declare(nodes.get(item)!, depth + '  '));
        lines.push(`${depth}}`);
        place = { entry: items[0]!.entry, exit: items[0]!.exit, cluster };
      } else if (node.graph) {
        const cluster = `cluster_${id}`;
        const inner = node.graph;
        lines.push(`${depth}subgraph ${dotText(cluster)} {`);
        lines.push(`${depth}  label=${dotText(`${node.name} (subflow)`)};`);
        lines.push(`${depth}  style=solid;`);
        const innerPlaced = level(inner, `${id}/`, depth + '  ');
        lines.push(`${depth}}`);
        const entry = innerPlaced.get(inner.source)!;
        const exit = innerPlaced.get(inner.sinks[0] ?? inner.source)!;
        place = { entry: entry.entry, exit: exit.exit, cluster };
      } else {
        const attrs = [`label=${dotText(node.name)}`];
        if (node.id === g.source) attrs.push('penwidth=2');
        if (g.sinks.includes(node.id)) attrs.push('peripheries=2');
        lines.push(`${depth}${dotText(id)} [${attrs.join(', ')}];`);
        place = { entry: id, exit: id };
      }
      placed.set(node.id, place);
      return place;
    };
    for (const node of topLevel(g)) declare(node, indent);
    for (const edge of g.edges) {
      const tail = placed.get(edge.tail)!;
      const head = placed.get(edge.head)!;
      const attrs: string[] = [];
      if (edge.condition !== null) attrs.push(`label=${dotText(edge.condition)}`);
      if (tail.cluster) attrs.push(`ltail=${dotText(tail.cluster)}`);
      if (head.cluster) attrs.push(`lhead=${dotText(head.cluster)}`);
      const suffix = attrs.length ? ` [${attrs.join(', ')}]` : '';
      lines.push(`${indent}${dotText(tail.exit)} -> ${dotText(head.entry)}${suffix};`);
    }
    return placed;
  };
  level(graph, '', '  ');
  lines.push('}');
  return lines.join('\n') + '\n';
}

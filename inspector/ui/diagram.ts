/**
 * The run's picture: a workflow graph (from the machine's `meta.junjo.graph`) or, for any
 * other machine, its statechart (from the machine definition), laid out with dagre and drawn
 * as SVG with each node coloured by status.
 *
 * Groups (RunConcurrent, subflows, compound states) are laid out inside-out: each group's
 * content gets its own dagre layout, and the group then takes part in its parent's layout as
 * one box of that size. dagre does not route edges that end at a compound node, and graph
 * edges only ever join siblings, so this loses nothing.
 */
import dagre from '@dagrejs/dagre';
import { activePaths, type ActorRecord, type GraphJSON, type Model, type StateConfig } from './model.js';

export type NodeStatus = 'pending' | 'running' | 'waiting' | 'done' | 'failed' | 'cancelled';

export interface DiagramNode {
  /** Unique in the whole diagram (used for collapse state and in tests). */
  id: string;
  label: string;
  kind: 'task' | 'sink' | 'start' | 'concurrent' | 'subflow' | 'state' | 'compound' | 'parallel' | 'final';
  status: NodeStatus;
  /** e.g. "×3" for a node that ran three times. */
  badge?: string;
  children?: DiagramLevel;
  collapsible?: boolean;
}

export interface DiagramEdge {
  from: string;
  to: string;
  label?: string;
}

export interface DiagramLevel {
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

// ---------- workflow graphs ----------

function actorStatus(actor: ActorRecord | undefined): NodeStatus | undefined {
  if (!actor) return undefined;
  switch (actor.snapshot?.status) {
    // Announced but not reported on yet (a fan-out reports after starting its items): it runs.
    case undefined:
    case 'active':
      return 'running';
    case 'done':
      return 'done';
    case 'error':
      return 'failed';
    case 'stopped':
      return 'cancelled';
    default:
      return undefined;
  }
}

/** Every state key named in a state value (a WaitForEvent waits with no actor running). */
function keysIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') into.add(value);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysIn(v, into);
    }
  }
  return into;
}

interface RunContextView {
  executionCounts?: Record<string, number>;
  failure?: { path?: string[] } | null;
}

/**
 * The diagram of a workflow (or subflow) actor's graph. Node status comes from the node's
 * own actor (the latest with its key, as a node may run many times); a RunConcurrent's from
 * its items; the failure path marks where the run failed even when no actor errored (no
 * matching edge, too many iterations).
 */
export function workflowDiagram(
  model: Model,
  actor: ActorRecord | undefined,
  graph: GraphJSON,
  prefix: string,
  collapsed: ReadonlySet<string>,
): DiagramLevel {
  const context = (actor?.snapshot?.context ?? {}) as RunContextView;
  const active = keysIn(actor?.snapshot?.value);
  const failedPath = new Set(context.failure?.path ?? []);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const statuses = new Map<string, NodeStatus>();

  // `owner` is the actor whose children run the node: the run, or the fan-out actor that a
  // wide RunConcurrent compiles to (its items are that actor's children).
  const statusOf = (id: string, owner: ActorRecord | undefined = actor): NodeStatus => {
    const known = statuses.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    let status: NodeStatus;
    if (node.items?.length) {
      const fanOut = owner ? model.childNamed(owner, id) : undefined;
      const items = (node.items ?? []).map((item) => statusOf(item, fanOut ?? owner));
      if (items.some((s) => s === 'failed')) status = 'failed';
      else if (items.some((s) => s === 'running' || s === 'waiting')) status = 'running';
      else if (items.length && items.every((s) => s === 'done')) status = 'done';
      else if (items.some((s) => s === 'cancelled')) status = 'cancelled';
      else status = 'pending';
    } else {
      const child = owner ? model.childNamed(owner, id) : undefined;
      status = actorStatus(child) ?? (active.has(id) ? 'waiting' : 'pending');
      if (failedPath.has(id)) status = 'failed';
    }
    statuses.set(id, status);
    return status;
  };

  const toNode = (node: GraphJSON['nodes'][number]): DiagramNode => {
    const id = prefix + node.id;
    const count = context.executionCounts?.[node.id] ?? 0;
    const base = { id, label: node.name, status: statusOf(node.id), ...(count > 1 ? { badge: `×${count}` } : {}) };
    // Kinds that hold items (RunConcurrent) are drawn around them; kinds that run a graph of
    // their own (Subflow), around it: the JSON says which, whatever the kind.
    if (node.items?.length) {
      return {
        ...base,
        kind: 'concurrent',
        children: { nodes: (node.items ?? []).map((item) => toNode(byId.get(item)!)), edges: [] },
      };
    }
    if (node.graph) {
      const subActor = actor ? model.childNamed(actor, node.id) : undefined;
      return {
        ...base,
        kind: 'subflow',
        collapsible: true,
        ...(collapsed.has(id) ? {} : { children: workflowDiagram(model, subActor, node.graph, `${id}/`, collapsed) }),
      };
    }
    return { ...base, kind: graph.sinks.includes(node.id) ? 'sink' : 'task' };
  };

  const start = `${prefix}$start`;
  return {
    nodes: [
      { id: start, label: '', kind: 'start', status: actor ? 'done' : 'pending' },
      ...graph.nodes.filter((n) => n.parent === undefined).map(toNode),
    ],
    edges: [
      { from: start, to: prefix + graph.source },
      ...graph.edges.map((e) => ({
        from: prefix + e.tail,
        to: prefix + e.head,
        ...(e.condition === null ? {} : { label: e.condition }),
      })),
    ],
  };
}

// ---------- statecharts of plain machines ----------

type TransitionConfig = string | { target?: string | string[] } | undefined;

function targetsOf(config: unknown): string[] {
  const list: TransitionConfig[] = Array.isArray(config) ? config : [config as TransitionConfig];
  return list.flatMap((t) => {
    if (typeof t === 'string') return [t];
    const target = t?.target;
    return target === undefined ? [] : Array.isArray(target) ? target : [target];
  });
}

/**
 * The statechart of a machine definition. Transitions are drawn between the siblings that
 * contain their source and target, so one between nested states shows at the level where
 * their branches meet.
 */
export function statechartDiagram(definition: StateConfig, value: unknown, visited: ReadonlySet<string>, finished: boolean): DiagramLevel {
  const machineId = definition.id ?? '(machine)';
  const byId = new Map<string, string[]>();
  const index = (state: StateConfig, path: string[]) => {
    byId.set([machineId, ...path].join('.'), path);
    if (state.id) byId.set(state.id, path);
    for (const [k, child] of Object.entries(state.states ?? {})) index(child, [...path, k]);
  };
  index(definition, []);
  const active = activePaths(value);

  const resolve = (target: string, source: string[]): string[] | undefined => {
    if (target.startsWith('#')) {
      const [id, ...rest] = target.slice(1).split('.');
      const full = byId.get(target.slice(1));
      if (full) return full;
      const base = byId.get(id!);
      return base ? [...base, ...rest] : undefined;
    }
    if (target.startsWith('.')) return [...source, ...target.slice(1).split('.')];
    return [...source.slice(0, -1), ...target.split('.')];
  };

  const levels = new Map<string, DiagramLevel>();
  const levelAt = (path: string[]) => {
    const key = path.join('.');
    let level = levels.get(key);
    if (!level) levels.set(key, (level = { nodes: [], edges: [] }));
    return level;
  };

  const addEdge = (source: string[], target: string[] | undefined, label: string) => {
    if (!target) return;
    let common = 0;
    while (common < source.length - 1 && common < target.length - 1 && source[common] === target[common]) common++;
    const from = source.slice(0, common + 1);
    const to = target.slice(0, common + 1);
    levelAt(source.slice(0, common)).edges.push({ from: `s:${from.join('.')}`, to: `s:${to.join('.')}`, label });
  };

  const build = (state: StateConfig, path: string[]): DiagramLevel => {
    const level = levelAt(path);
    const children = Object.entries(state.states ?? {});
    if (state.type !== 'parallel' && state.initial !== undefined && children.length) {
      const start = `s:${[...path, '$start'].join('.')}`;
      level.nodes.push({ id: start, label: '', kind: 'start', status: 'done' });
      level.edges.push({ from: start, to: `s:${[...path, state.initial].join('.')}` });
    }
    for (const [key, child] of children) {
      const childPath = [...path, key];
      const dotted = childPath.join('.');
      const isActive = active.has(dotted);
      const status: NodeStatus = isActive ? (finished ? 'done' : 'running') : visited.has(dotted) ? 'done' : 'pending';
      const grandChildren = Object.keys(child.states ?? {}).length;
      const node: DiagramNode = {
        id: `s:${dotted}`,
        label: key,
        status,
        kind: grandChildren ? (child.type === 'parallel' ? 'parallel' : 'compound') : child.type === 'final' ? 'final' : 'state',
      };
      if (grandChildren) node.children = build(child, childPath);
      level.nodes.push(node);
      for (const [event, config] of Object.entries(child.on ?? {})) {
        for (const t of targetsOf(config)) addEdge(childPath, resolve(t, childPath), event);
      }
      for (const t of targetsOf(child.always)) addEdge(childPath, resolve(t, childPath), 'always');
      for (const [delay, config] of Object.entries(child.after ?? {})) {
        for (const t of targetsOf(config)) addEdge(childPath, resolve(t, childPath), `after ${delay}ms`);
      }
      for (const t of targetsOf(child.onDone)) addEdge(childPath, resolve(t, childPath), 'done');
      const invokes = Array.isArray(child.invoke) ? child.invoke : child.invoke ? [child.invoke] : [];
      for (const invoke of invokes as { src?: unknown; onDone?: unknown; onError?: unknown }[]) {
        const src = typeof invoke.src === 'string' ? invoke.src : 'invoke';
        for (const t of targetsOf(invoke.onDone)) addEdge(childPath, resolve(t, childPath), `${src} done`);
        for (const t of targetsOf(invoke.onError)) addEdge(childPath, resolve(t, childPath), `${src} error`);
      }
    }
    return level;
  };
  return build(definition, []);
}

// ---------- layout ----------

const FONT = '13px ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif';
const LABEL_FONT = '11px ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif';
const PAD = 14;
const HEADER = 30;
const NODE_H = 38;

let measureContext: CanvasRenderingContext2D | null | undefined;
function textWidth(text: string, font = FONT): number {
  measureContext ??= document.createElement('canvas').getContext('2d');
  if (!measureContext) return text.length * 7.5;
  measureContext.font = font;
  return measureContext.measureText(text).width;
}

interface Box {
  node: DiagramNode;
  x: number;
  y: number;
  w: number;
  h: number;
  inner?: Layout;
}

interface Routed {
  edge: DiagramEdge;
  points: { x: number; y: number }[];
  label?: { x: number; y: number; w: number };
}

interface Layout {
  w: number;
  h: number;
  boxes: Box[];
  edges: Routed[];
}

/** Items with no edges between them (a RunConcurrent's) beyond this many wrap into rows. */
const MAX_ROW = 5;

function layoutLevel(level: DiagramLevel): Layout {
  if (level.edges.length === 0 && level.nodes.length > MAX_ROW) return gridLayout(level);
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 26, ranksep: 40, edgesep: 14, marginx: 6, marginy: 6 });
  const inner = new Map<string, Layout>();
  for (const node of level.nodes) {
    const { w, h, content } = measureNode(node);
    if (content) inner.set(node.id, content);
    g.setNode(node.id, { width: w, height: h });
  }
  level.edges.forEach((edge, i) => {
    const label = edge.label ? { width: textWidth(edge.label, LABEL_FONT) + 14, height: 20, labelpos: 'c' as const } : {};
    g.setEdge(edge.from, edge.to, { ...label, minlen: 1 }, `e${i}`);
  });
  dagre.layout(g);

  const boxes: Box[] = level.nodes.map((node) => {
    const n = g.node(node.id);
    const box: Box = { node, x: n.x! - n.width / 2, y: n.y! - n.height / 2, w: n.width, h: n.height };
    const content = inner.get(node.id);
    if (content) box.inner = content;
    return box;
  });
  const edges: Routed[] = level.edges.map((edge, i) => {
    const e = g.edge({ v: edge.from, w: edge.to, name: `e${i}` });
    const routed: Routed = { edge, points: e.points ?? [] };
    if (edge.label && e.x !== undefined && e.y !== undefined) routed.label = { x: e.x, y: e.y, w: e.width ?? 0 };
    return routed;
  });
  const graph = g.graph();
  return { w: graph.width ?? 0, h: graph.height ?? 0, boxes, edges };
}

/** Size of a node's box, and the layout of its content if it is a group. */
function measureNode(node: DiagramNode): { w: number; h: number; content?: Layout } {
  const badge = node.badge ? textWidth(node.badge, LABEL_FONT) + 16 : 0;
  if (node.kind === 'start') return { w: 14, h: 14 };
  if (node.children) {
    const content = layoutLevel(node.children);
    return { w: Math.max(content.w + 2 * PAD, textWidth(node.label) + badge + 90), h: content.h + HEADER + PAD, content };
  }
  const extra = node.kind === 'subflow' ? 90 : 44;
  return { w: Math.max(110, textWidth(node.label) + badge + extra), h: NODE_H };
}

/**
 * Unconnected items in rows of MAX_ROW, so a wide RunConcurrent stays readable instead of one
 * line as wide as all its items (dagre puts nodes without edges on one rank).
 */
function gridLayout(level: DiagramLevel): Layout {
  const GAP_X = 26;
  const GAP_Y = 20;
  const MARGIN = 6;
  const sized = level.nodes.map((node) => ({ node, ...measureNode(node) }));
  const cellW = Math.max(...sized.map((s) => s.w));
  const boxes: Box[] = [];
  let y = MARGIN;
  for (let row = 0; row * MAX_ROW < sized.length; row++) {
    const cells = sized.slice(row * MAX_ROW, (row + 1) * MAX_ROW);
    const rowH = Math.max(...cells.map((c) => c.h));
    cells.forEach((cell, col) => {
      const box: Box = { node: cell.node, x: MARGIN + col * (cellW + GAP_X), y: y + (rowH - cell.h) / 2, w: cellW, h: cell.h };
      if (cell.content) box.inner = cell.content;
      boxes.push(box);
    });
    y += rowH + GAP_Y;
  }
  const columns = Math.min(MAX_ROW, sized.length);
  return { w: 2 * MARGIN + columns * cellW + (columns - 1) * GAP_X, h: y - GAP_Y + MARGIN, boxes, edges: [] };
}

// ---------- SVG ----------

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A smooth path through dagre's points: straight ends, rounded bends. */
function pathThrough(points: { x: number; y: number }[]): string {
  if (points.length < 2) return '';
  const mid = (a: { x: number; y: number }, b: { x: number; y: number }) => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
  let d = `M${points[0]!.x},${points[0]!.y}`;
  if (points.length === 2) return `${d} L${points[1]!.x},${points[1]!.y}`;
  const first = mid(points[0]!, points[1]!);
  d += ` L${first.x},${first.y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const m = mid(points[i]!, points[i + 1]!);
    d += ` Q${points[i]!.x},${points[i]!.y} ${m.x},${m.y}`;
  }
  const last = points[points.length - 1]!;
  return `${d} L${last.x},${last.y}`;
}

const KIND_NOTE: Partial<Record<DiagramNode['kind'], string>> = {
  concurrent: 'concurrent',
  subflow: 'subflow',
  parallel: 'parallel',
};

function drawLayout(parent: SVGGElement, layout: Layout, dx: number, dy: number, onToggle: (id: string) => void, arrow: string): void {
  for (const box of layout.boxes) {
    if (!box.inner && box.node.kind !== 'subflow') continue;
    const g = el('g', {
      class: `group kind-${box.node.kind} status-${box.node.status}`,
      'data-node-id': box.node.id,
      'data-status': box.node.status,
      transform: `translate(${dx + box.x},${dy + box.y})`,
    });
    g.append(el('rect', { class: 'group-body', width: box.w, height: box.inner ? box.h : NODE_H, rx: 10 }));
    const header = el('g', { class: 'group-header' });
    header.append(el('circle', { class: 'dot', cx: 14, cy: 15, r: 5 }));
    header.append(el('text', { x: 26, y: 19, class: 'label' }, box.node.label));
    const note = KIND_NOTE[box.node.kind];
    if (note) header.append(el('text', { x: box.w - 10, y: 19, class: 'note', 'text-anchor': 'end' }, box.node.collapsible ? `${note} ${box.inner ? '▾' : '▸'}` : note));
    if (box.node.badge) header.append(el('text', { x: 26 + textWidth(box.node.label) + 8, y: 19, class: 'badge' }, box.node.badge));
    if (box.node.collapsible) {
      header.classList.add('toggle');
      header.addEventListener('click', () => onToggle(box.node.id));
      const title = el('title', {}, box.inner ? 'collapse this subflow' : 'expand this subflow');
      header.append(title);
    }
    g.append(header);
    parent.append(g);
    if (box.inner) drawLayout(parent, box.inner, dx + box.x + PAD, dy + box.y + HEADER, onToggle, arrow);
  }
  for (const routed of layout.edges) {
    const g = el('g', { class: 'edge' });
    const points = routed.points.map((p) => ({ x: p.x + dx, y: p.y + dy }));
    g.append(el('path', { d: pathThrough(points), 'marker-end': `url(#${arrow})` }));
    if (routed.label && routed.edge.label) {
      const { x, y, w } = routed.label;
      g.append(el('rect', { class: 'edge-label-bg', x: dx + x - w / 2, y: dy + y - 10, width: w, height: 20, rx: 10 }));
      g.append(el('text', { class: 'edge-label', x: dx + x, y: dy + y + 4, 'text-anchor': 'middle' }, routed.edge.label));
    }
    parent.append(g);
  }
  for (const box of layout.boxes) {
    if (box.inner || box.node.kind === 'subflow') continue;
    const { node } = box;
    const g = el('g', {
      class: `node kind-${node.kind} status-${node.status}`,
      'data-node-id': node.id,
      'data-status': node.status,
      transform: `translate(${dx + box.x},${dy + box.y})`,
    });
    if (node.kind === 'start') {
      g.append(el('circle', { class: 'start', cx: 7, cy: 7, r: 7 }));
    } else {
      g.append(el('rect', { class: 'body', width: box.w, height: box.h, rx: node.kind === 'state' || node.kind === 'final' ? 14 : 8 }));
      if (node.kind === 'sink' || node.kind === 'final') {
        g.append(el('rect', { class: 'inner-border', x: 3, y: 3, width: box.w - 6, height: box.h - 6, rx: node.kind === 'final' ? 11 : 6 }));
      }
      g.append(el('circle', { class: 'dot', cx: 16, cy: box.h / 2, r: 5 }));
      g.append(el('text', { class: 'label', x: 28, y: box.h / 2 + 4.5 }, node.label));
      if (node.badge) g.append(el('text', { class: 'badge', x: box.w - 10, y: box.h / 2 + 4, 'text-anchor': 'end' }, node.badge));
      g.append(el('title', {}, `${node.label}: ${node.status}`));
    }
    parent.append(g);
  }
}

/** Draws a diagram into `svg`, sized to its content. */
export function renderDiagram(svg: SVGSVGElement, level: DiagramLevel, onToggle: (id: string) => void): void {
  const layout = layoutLevel(level);
  svg.replaceChildren();
  const defs = el('defs', {});
  // One marker id per drawing: a page has several (the live graph, a checkpointed run's, an
  // actor's statechart), and url(#id) resolves to the first, which may be in a hidden one.
  const arrow = `arrow-${svg.id || 'diagram'}`;
  const marker = el('marker', { id: arrow, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
  defs.append(marker);
  svg.append(defs);
  const root = el('g', {});
  drawLayout(root, layout, 0, 0, onToggle, arrow);
  svg.append(root);
  svg.setAttribute('viewBox', `0 0 ${Math.ceil(layout.w)} ${Math.ceil(layout.h)}`);
  svg.setAttribute('width', String(Math.ceil(layout.w)));
  svg.setAttribute('height', String(Math.ceil(layout.h)));
}

/**
 * A checkpointed run drawn as its workflow graph at one commit (forks.ts): node statuses come
 * from the commit's run shape (checkpoint-source.ts, RunShape) — its running children, the
 * nodes it started, its finished subflows, its failure — fed as actors into a Model of its
 * own, so the drawing is workflowDiagram's, the same as a live run's. When the inspector has
 * no graph of the run's fingerprint, `graphFromCheckpoints` makes one of what the checkpoints
 * hold: the nodes that ran and the RunConcurrent groups seen in the state value, without edges.
 */
import { activeNames } from '../../src/durable/active-states.js';
import type { RunShape } from '../checkpoint-source.js';
import { workflowDiagram, type DiagramLevel } from './diagram.js';
import { Model, type GraphJSON } from './model.js';
import type { WireEvent } from '../protocol.js';


/**
 * A model of the run at one commit: one actor per (sub)run and per node it started. A
 * RunConcurrent (a key of `groups`) gets none: its items are the run's children, as in a live
 * run, and say how it is.
 */
function modelOf(shape: RunShape, groups: ReadonlySet<string>): Model {
  const model = new Model();
  const send = (event: WireEvent) => model.ingest({ source: 'checkpoint', event: { rootId: 'run', createdAt: '0', ...event } });
  const actor = (sessionId: string, parentId: string | undefined, name: string, status: string) => {
    send({ type: '@xstate.actor', sessionId, ...(parentId ? { parentId } : {}), name });
    send({ type: '@xstate.snapshot', sessionId, snapshot: { status: status as 'active' } });
  };
  const run = (sessionId: string, parentId: string | undefined, name: string, shape: RunShape) => {
    send({ type: '@xstate.actor', sessionId, ...(parentId ? { parentId } : {}), name });
    const context = { executionCounts: shape.executionCounts, failure: shape.failure };
    send({ type: '@xstate.snapshot', sessionId, snapshot: { status: shape.status === 'done' ? 'done' : 'active', value: shape.value, context } });
    const active = activeNames(shape.value);
    for (const key of Object.keys(shape.executionCounts)) {
      if (groups.has(key)) continue;
      const id = `${sessionId}/${key}`;
      const child = shape.children[key];
      const finished = shape.subflows[key]?.at(-1);
      if (child?.run) run(id, sessionId, key, child.run);
      else if (child) actor(id, sessionId, key, child.status);
      else if (finished) run(id, sessionId, key, finished);
      // Started, no actor, still in the state value: waiting (for an event), or a group whose items say how it is.
      else if (!active.has(key)) actor(id, sessionId, key, 'done');
    }
  };
  run('run', undefined, 'run', shape);
  return model;
}

/** The diagram of `graph` as the run stood at a commit of this shape. */
export function checkpointDiagram(graph: GraphJSON, shape: RunShape, collapsed: ReadonlySet<string>): DiagramLevel {
  const groups = new Set<string>();
  const collect = (g: GraphJSON) => {
    for (const node of g.nodes) {
      if (node.items?.length) groups.add(node.id);
      if (node.graph) collect(node.graph);
    }
  };
  collect(graph);
  const model = modelOf(shape, groups);
  return workflowDiagram(model, model.actors.get('checkpoint run'), graph, '', collapsed);
}

/**
 * A graph of what the checkpoints hold, for a run whose graph the inspector was never sent: its
 * top-level nodes in the order they started, RunConcurrent groups with the items seen in the
 * state value, subflows as boxes; no edges (a checkpoint does not say which edge was taken).
 */
export function graphFromCheckpoints(shapes: readonly RunShape[]): GraphJSON {
  const order: string[] = [];
  const items = new Map<string, string[]>();
  const subflows = new Set<string>();
  for (const shape of shapes) {
    for (const key of Object.keys(shape.executionCounts)) if (!order.includes(key)) order.push(key);
    if (shape.value && typeof shape.value === 'object') {
      for (const [group, regions] of Object.entries(shape.value)) {
        if (!regions || typeof regions !== 'object') continue;
        const known = items.get(group) ?? [];
        for (const item of Object.keys(regions)) if (!known.includes(item)) known.push(item);
        items.set(group, known);
      }
    }
    for (const [key, child] of Object.entries(shape.children)) if (child.src.startsWith('subflow:')) subflows.add(key);
    for (const key of Object.keys(shape.subflows)) subflows.add(key);
  }
  const parentOf = new Map([...items].flatMap(([group, list]) => list.map((item) => [item, group] as const)));
  const nodes: GraphJSON['nodes'] = order.map((id) => {
    const node: GraphJSON['nodes'][number] = { id, name: id, kind: (items.has(id) ? 'runConcurrent' : subflows.has(id) ? 'subflow' : 'node') as GraphJSON['nodes'][number]['kind'] };
    const list = items.get(id);
    if (list) node.items = list.filter((item) => order.includes(item));
    const parent = parentOf.get(id);
    if (parent !== undefined) node.parent = parent;
    return node;
  });
  return { source: order.find((id) => !parentOf.has(id)) ?? order[0] ?? '', sinks: [], nodes, edges: [] };
}

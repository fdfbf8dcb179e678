/**
 * Reads a run's progress off its snapshot, for the browser and React examples: every node of
 * the graph with its status. No hooks needed: the compiled machine's active states (their
 * `meta.junjo`), its invoked children and `context.executionCounts` say it all.
 */
import type { GraphJSON } from '../../src/index.js';

/** `skipped`: the run ended without reaching the node. */
export type NodeStatus = 'pending' | 'running' | 'waiting' | 'done' | 'failed' | 'skipped';

export interface NodeProgress {
  key: string;
  name: string;
  kind: string;
  /** The RunConcurrent this node is an item of. */
  parent?: string;
  status: NodeStatus;
  /** How often it has started. */
  runs: number;
}

/** The parts of a run's snapshot that progress reads; every workflow run's snapshot has them. */
export interface RunSnapshotLike {
  status: string;
  context: { executionCounts: Record<string, number>; failure: { path: string[] } | null };
  children: Record<string, unknown>;
  getMeta(): Record<string, unknown>;
}

export function progressOf(graph: GraphJSON, snapshot: RunSnapshotLike): NodeProgress[] {
  // Active graph states by key, with their compiled kind ('waitForEvent', 'node', …).
  const active = new Map<string, string>();
  for (const meta of Object.values(snapshot.getMeta())) {
    const junjo = (meta as { junjo?: { key?: string; kind: string } } | undefined)?.junjo;
    if (junjo?.key !== undefined) active.set(junjo.key, junjo.kind);
  }
  const failed = new Set(snapshot.status === 'error' ? (snapshot.context.failure?.path ?? []) : []);
  return graph.nodes.map(({ id, name, kind, parent }) => {
    const runs = snapshot.context.executionCounts[id] ?? 0;
    let status: NodeStatus = runs > 0 ? 'done' : snapshot.status === 'active' ? 'pending' : 'skipped';
    // A waiting node invokes its child only once its event has arrived.
    if (active.has(id)) status = active.get(id) === 'waitForEvent' && !snapshot.children[id] ? 'waiting' : 'running';
    if (failed.has(id)) status = 'failed';
    const progress: NodeProgress = { key: id, name, kind, status, runs };
    if (parent !== undefined) progress.parent = parent;
    return progress;
  });
}

/**
 * A checkpoint as data: how a run's persisted XState snapshot is encoded into a record's
 * `data`, and how a record is checked before a run is restored from it. A checkpoint is
 * versioned twice: by its format, and by a fingerprint of the workflow's graph (every node,
 * edge and subflow), so a checkpoint of another graph is refused instead of resuming into
 * states that no longer mean the same.
 */
import { writable } from '../empty-record.js';
import { CheckpointError } from '../errors.js';
import type { GraphJSON } from '../graph/to-json.js';
import type { CheckpointRecord, CheckpointSummary } from './checkpoint-store.js';

const FORMAT = 'junjo-xstate/checkpoint';
const VERSION = 1;

/** The parts of a run's persisted snapshot that the runtime reads. */
export interface PersistedRun {
  status: string;
  value: unknown;
  context: { runId: string; executionCounts: Record<string, number>; attempts: Record<string, number> };
  children: Record<string, PersistedChild>;
  output?: unknown;
}

interface PersistedChild {
  src: string;
  snapshot: { status: string; input?: unknown; context?: unknown; children?: unknown };
}

/** A decoded, checked checkpoint. */
export interface Checkpoint<S = unknown> extends CheckpointSummary {
  /** The graph's fingerprint when the checkpoint was written. */
  fingerprint: string;
  /** The run actor's persisted snapshot: `createActor(workflow.machine, { snapshot })`. */
  snapshot: PersistedRun;
  /** The run's committed store state at the checkpoint. */
  state: S;
  /** Node executions (`node#iteration`) past their first attempt, and the attempt they are at. */
  attempts: Record<string, number>;
}

/** A short, stable hash of a workflow's name and graph (with its subflows' graphs). */
export function fingerprintOf(workflow: string, graph: GraphJSON): string {
  const text = JSON.stringify([workflow, graph]);
  return hash(text, 1).toString(16).padStart(14, '0') + hash(text, 2).toString(16).padStart(14, '0');
}

/**
 * The start of every `data` of one run, up to its snapshot: made once per run, so each
 * checkpoint costs one JSON.stringify of the snapshot.
 */
export function dataPrefix(runId: string, workflow: string, fingerprint: string): string {
  return `{"format":"${FORMAT}","version":${VERSION},"runId":${JSON.stringify(runId)},"workflow":${JSON.stringify(workflow)},"fingerprint":"${fingerprint}","snapshot":`;
}

export function encodeData(prefix: string, snapshotJSON: string): string {
  return `${prefix}${snapshotJSON}}`;
}

/**
 * Decodes `record` and checks it belongs to `workflow` at this `fingerprint`; throws a
 * CheckpointError saying what is wrong and what to do. Never changes the record.
 */
export function decodeCheckpoint<S>(record: CheckpointRecord, workflow: string, fingerprint: string): Checkpoint<S> {
  return decode<S>(record, { workflow, fingerprint });
}

/**
 * Decodes `record` of any workflow and graph version, for tools that show checkpoints without
 * the workflow's code (the inspector): only its format and snapshot are checked.
 */
export function readCheckpoint<S = unknown>(record: CheckpointRecord): Checkpoint<S> {
  return decode<S>(record, undefined);
}

function decode<S>(record: CheckpointRecord, expected: { workflow: string; fingerprint: string } | undefined): Checkpoint<S> {
  const { runId } = record;
  const workflow = expected?.workflow ?? record.workflow;
  const corrupt = (detail: string, cause?: unknown) =>
    new CheckpointError(
      'corrupt',
      runId,
      `The checkpoint of run '${runId}' is corrupt (${detail}), so the run cannot be resumed. ` +
        `It was left as it is: restore it from a backup, or delete it (checkpoint.delete('${runId}')) and start the run again.`,
      cause,
    );
  const ofWorkflow = (other: string) =>
    new CheckpointError(
      'workflow',
      runId,
      `The checkpoint of run '${runId}' belongs to workflow '${other}', not '${workflow}': resume it with workflow '${other}'. It was left as it is.`,
    );
  if (typeof record.workflow === 'string' && record.workflow !== workflow) throw ofWorkflow(record.workflow);
  if (typeof record.data !== 'string') throw corrupt('it has no data');

  let data: { format?: unknown; version?: unknown; runId?: unknown; workflow?: unknown; fingerprint?: unknown; snapshot?: unknown };
  try {
    data = JSON.parse(record.data);
  } catch (err) {
    throw corrupt(`its data is not valid JSON: ${(err as Error).message}; it may have been truncated`, err);
  }
  if (data === null || typeof data !== 'object' || data.format !== FORMAT) throw corrupt('its data is not a junjo-xstate checkpoint');
  if (data.version !== VERSION) {
    throw new CheckpointError(
      'graph',
      runId,
      `The checkpoint of run '${runId}' has format version ${String(data.version)}, but this junjo-xstate reads version ${VERSION}: ` +
        `resume it with the junjo-xstate version that wrote it. It was left as it is.`,
    );
  }
  if (data.runId !== runId) throw corrupt(`its data is of run '${String(data.runId)}'`);
  if (typeof data.workflow !== 'string') throw corrupt('it names no workflow');
  if (data.workflow !== workflow) throw ofWorkflow(data.workflow);
  const fingerprint = expected?.fingerprint ?? String(data.fingerprint);
  if (data.fingerprint !== fingerprint) {
    throw new CheckpointError(
      'graph',
      runId,
      `The checkpoint of run '${runId}' was written by another version of workflow '${workflow}': its graph ` +
        `(fingerprint ${String(data.fingerprint)}) differs from this one (${fingerprint}), so resuming it could continue in the wrong state. ` +
        `Resume it with the version of the code that started it, or delete it (checkpoint.delete('${runId}')) and start the run again. It was left as it is.`,
    );
  }
  const snapshot = data.snapshot as PersistedRun;
  const problem = snapshotProblem(snapshot);
  if (problem) throw corrupt(problem);
  const { data: _, ...summary } = record;
  return {
    ...summary,
    fingerprint,
    snapshot,
    state: (snapshot.children.store?.snapshot.context ?? (snapshot.output as { state?: unknown })?.state) as S,
    attempts: snapshot.context.attempts,
  };
}

function snapshotProblem(snapshot: PersistedRun): string | undefined {
  if (snapshot === null || typeof snapshot !== 'object') return 'it holds no snapshot';
  if (!['active', 'done'].includes(snapshot.status)) return `its snapshot's status is '${String(snapshot.status)}'`;
  const { context, children } = snapshot;
  if (context === null || typeof context !== 'object' || typeof context.runId !== 'string') return 'its snapshot has no run context';
  if (typeof context.executionCounts !== 'object' || typeof context.attempts !== 'object') return 'its run context is incomplete';
  if (children === null || typeof children !== 'object') return 'its snapshot has no children';
  if (snapshot.status === 'active' && typeof children.store?.snapshot?.context !== 'object') return 'its snapshot has no store state';
  return undefined;
}

/**
 * Counts one more attempt for every node execution that was in flight in `snapshot` (and in
 * the subflows in it): restoring the snapshot runs those executions again.
 */
export function countResumedAttempts(snapshot: PersistedRun, nodeActor: string, key: (node: string, iteration: number) => string): void {
  for (const child of Object.values(snapshot.children)) {
    const inner = child?.snapshot;
    if (!inner || inner.status !== 'active') continue;
    if (child.src === nodeActor) {
      const { node, iteration } = inner.input as { node: string; iteration: number };
      const execution = key(node, iteration);
      const attempts = (snapshot.context.attempts = writable(snapshot.context.attempts));
      attempts[execution] = (attempts[execution] ?? 1) + 1;
    } else if (inner.children && inner.context) {
      countResumedAttempts(inner as unknown as PersistedRun, nodeActor, key);
    }
  }
}

// cyrb53: a fast 53-bit string hash (public domain); two seeds make a 106-bit fingerprint.
function hash(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

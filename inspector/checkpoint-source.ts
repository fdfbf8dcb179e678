/**
 * Durable runs in the inspector: the checkpoint stores it was pointed at (`--checkpoints
 * sqlite:runs.db`, `--checkpoints postgres://…`), read without the workflows' code. The server
 * lists their runs (forks with their origin) and each run's history as commits — node
 * statuses, the committed state, the shape of the run at that commit — through
 * `/api/checkpoints`; the UI (ui/forks.ts) draws them and shows the `workflow.fork(…)` call
 * that starts a new run from a commit. Nothing here writes to a store: forking runs the
 * workflow's code, which lives in the app.
 *
 * A checkpoint holds no graph, only the fingerprint of the one it was written under
 * (src/durable/checkpoint.ts); stores keep each graph once beside the checkpoints
 * (`putGraph`). The graph drawn is that one, or else one the inspector was sent by a run of
 * that workflow (its machine definition, or an OTLP trace's workflow span) whose fingerprint
 * is the same — either way exactly the graph the checkpoints were written with. When it has
 * neither (a store written before graphs were kept), the UI draws what the checkpoints hold:
 * the nodes that ran, without edges.
 */
import type { CheckpointStore, CheckpointSummary } from '../src/durable/checkpoint-store.js';
import { fingerprintOf, readCheckpoint, type Checkpoint } from '../src/durable/checkpoint.js';
import { commitsOf, type RunCommit } from '../src/durable/fork.js';
import type { GraphJSON } from '../src/graph/to-json.js';
import { EVENT_SEPARATOR, type Envelope } from './protocol.js';

export interface CheckpointSource {
  /** How the person named it, without a password: `sqlite:runs.db`, `postgres://me@host/db`. */
  name: string;
  store: CheckpointStore;
  close(): void | Promise<void>;
}

/** One store's runs, as `/api/checkpoints` sends them. */
export interface CheckpointListing {
  source: number;
  name: string;
  runs: CheckpointSummary[];
  /** Set when the store could not be read: what went wrong. */
  error?: string;
}

/**
 * What drawing a commit needs of a (sub)run's persisted snapshot: where it is, the nodes it
 * started and its running children; no store states (the commit has its own).
 */
export interface RunShape {
  status: string;
  value: unknown;
  executionCounts: Record<string, number>;
  failure: { path?: string[] } | null;
  /** Running children by key: a node's status, a subflow's shape. */
  children: Record<string, { src: string; status: string; run?: RunShape }>;
  /** Finished subflows' runs by key (the last is the latest). */
  subflows: Record<string, RunShape[]>;
}

/** A run's history, as `/api/checkpoints/history` sends it. */
export interface CheckpointHistory {
  runId: string;
  workflow: string;
  origin?: CheckpointSummary['origin'];
  commits: (RunCommit & { run: RunShape })[];
  /** The fingerprint of the graph its last checkpoint was written under. */
  fingerprint: string;
  /** That graph, when the store keeps it or the inspector was sent a run of it; `graphFrom` says where from. */
  graph?: GraphJSON;
  graphFrom?: string;
}

/** Reads the first rows of the newest runs named `name` from the inspector's history (RunStore.firstRows). */
export type FirstRows = (name: string, limit: number) => string[];

const USAGE = "give sqlite:<file> (a SqliteCheckpointStore's file) or postgres://user@host/db (a PostgresCheckpointStore's database, schema 'junjo')";

/** Opens the store `spec` names; throws saying what to give instead. */
export async function openCheckpointSource(spec: string): Promise<CheckpointSource> {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw new Error(`--checkpoints '${spec}' names no file: ${USAGE}`);
    const { SqliteCheckpointStore } = await import('../src/durable/sqlite.js');
    const store = new SqliteCheckpointStore(path);
    return { name: spec, store, close: () => store.close() };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { PostgresCheckpointStore } = await import('../src/postgres/checkpoint-store.js');
    const store = new PostgresCheckpointStore(spec);
    const url = new URL(spec);
    url.password = '';
    try {
      await store.ready();
    } catch (err) {
      await store.close();
      throw new Error(`--checkpoints ${url.href}: the database could not be read (${(err as Error).message})`);
    }
    return { name: url.href, store, close: () => store.close() };
  }
  throw new Error(`--checkpoints '${spec}' is not a checkpoint store: ${USAGE}`);
}

/** Every source's runs, oldest first; a source that fails says why instead of failing the rest. */
export async function listCheckpointRuns(sources: readonly CheckpointSource[]): Promise<CheckpointListing[]> {
  return Promise.all(
    sources.map(async ({ name, store }, source) => {
      try {
        return { source, name, runs: await store.list() };
      } catch (err) {
        return { source, name, runs: [], error: (err as Error).message };
      }
    }),
  );
}

/** Run `runId`'s history in `source`, or undefined if the store has no such run. */
export async function checkpointHistory(source: CheckpointSource, runId: string, rows: FirstRows = () => []): Promise<CheckpointHistory | undefined> {
  const records = (await source.store.history?.(runId)) ?? [];
  const last = records.at(-1);
  if (!last) return undefined;
  const decoded = new Map(records.map((record) => [record, readCheckpoint(record)]));
  const commits = commitsOf(records, (record) => decoded.get(record)!).map((commit, n) => ({ ...commit, run: shapeOf(decoded.get(records[n]!)!.snapshot) }));
  const { fingerprint } = decoded.get(last)!;
  const history: CheckpointHistory = { runId, workflow: last.workflow, commits, fingerprint };
  if (last.origin) history.origin = last.origin;
  const found = (await graphKept(source, last.workflow, fingerprint)) ?? graphOf(rows, last.workflow, fingerprint);
  if (found) Object.assign(history, found);
  return history;
}

/** The graph the store keeps under `fingerprint` (`putGraph`), if it is one: a store older than that keeps none. */
async function graphKept(source: CheckpointSource, workflow: string, fingerprint: string): Promise<{ graph: GraphJSON; graphFrom: string } | undefined> {
  const text = await source.store.getGraph?.(fingerprint);
  if (text === undefined) return undefined;
  try {
    const graph = JSON.parse(text) as GraphJSON;
    if (fingerprintOf(workflow, graph) !== fingerprint) return undefined;
    return { graph, graphFrom: `the graph ${source.name} keeps with the run's checkpoints` };
  } catch {
    return undefined;
  }
}

type Persisted = Checkpoint['snapshot'] & { context: { failure?: unknown; subflows?: unknown } };

/** The shape of a persisted (sub)run snapshot (RunShape). */
export function shapeOf(snapshot: Persisted): RunShape {
  const context = snapshot.context;
  const children: RunShape['children'] = {};
  for (const [key, child] of Object.entries(snapshot.children ?? {})) {
    if (key === 'store' || !child?.snapshot) continue;
    const inner = child.snapshot as unknown as Persisted;
    children[key] = { src: child.src, status: inner.status, ...(inner.context && inner.children ? { run: shapeOf(inner) } : {}) };
  }
  const subflows: RunShape['subflows'] = {};
  for (const [key, runs] of Object.entries((context.subflows ?? {}) as Record<string, { executionCounts?: Record<string, number>; subflows?: unknown }[]>)) {
    subflows[key] = runs.map((run) => shapeOf({ status: 'done', value: '$done', context: { ...run, attempts: {} }, children: {} } as unknown as Persisted));
  }
  return {
    status: snapshot.status,
    value: snapshot.value,
    executionCounts: context.executionCounts ?? {},
    failure: (context.failure as RunShape['failure']) ?? null,
    children,
    subflows,
  };
}

/** Graphs found, by fingerprint: a graph never changes under its fingerprint. */
const graphs = new Map<string, { graph: GraphJSON; graphFrom: string }>();
/** How many of the newest runs of a workflow are looked at for its graph. */
const RUNS_LOOKED_AT = 20;

/**
 * The graph of `workflow` with this fingerprint, from the definition a run of it announced
 * itself with (a live run's machine, or a trace's workflow span) in the inspector's history.
 */
function graphOf(rows: FirstRows, workflow: string, fingerprint: string): { graph: GraphJSON; graphFrom: string } | undefined {
  const known = graphs.get(fingerprint);
  if (known) return known;
  // A compiled machine's id is the workflow's name with '.' and '#' replaced (compile-graph.ts).
  const names = [...new Set([workflow, workflow.replace(/[.#]/g, '_')])];
  for (const text of names.flatMap((name) => rows(name, RUNS_LOOKED_AT))) {
    for (const line of text.split(EVENT_SEPARATOR)) {
      if (!line.includes('"definition"')) continue;
      try {
        const { source, event } = JSON.parse(line) as Envelope;
        if (event.type !== '@xstate.actor' || !event.definition || (event.parentId ?? null) !== null) continue;
        const graph = (JSON.parse(event.definition) as { meta?: { junjo?: { graph?: GraphJSON } } }).meta?.junjo?.graph;
        if (!graph || fingerprintOf(workflow, graph) !== fingerprint) continue;
        const when = new Date(Number(event.createdAt) || 0).toISOString().replace('T', ' ').slice(0, 19);
        const found = { graph, graphFrom: `the graph of a run of ${workflow} from ${source} (${when} UTC), with the same fingerprint` };
        graphs.set(fingerprint, found);
        return found;
      } catch {
        // Not an envelope with a definition the inspector can read: look at the next one.
      }
    }
  }
  return undefined;
}

/**
 * The cost of checkpointing: one run of 100 sequential nodes, each committing one update,
 * without a checkpoint, with the in-memory store and with the SQLite store (a file in the
 * temp dir; `synchronous: 'normal'`, and `'full'` for comparison). Medians over many runs,
 * as ratios to the run without a checkpoint (target: SQLite at most 3×).
 *
 *   npm run bench:checkpoint
 *
 * `runCheckpointBench()` returns the rows, for `npm run bench` to include.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Edge, Graph, MemoryCheckpointStore, Workflow, defineStore, node, type CheckpointStore, type StoreOf } from '../src/index.js';
import { SqliteCheckpointStore } from '../src/durable/sqlite.js';

export interface CheckpointBenchRow {
  case: string;
  /** Median time of one run, in ms. */
  medianMs: number;
  /** Median time relative to the run without a checkpoint. */
  ratio: number;
  /** Checkpoint writes per run. */
  writes: number;
}

const Counter = defineStore({
  name: 'BenchCounter',
  initial: { count: 0 },
  actions: { increment: (d) => void (d.count += 1) },
});
type Handle = StoreOf<typeof Counter>;

function sequential(nodes: number) {
  return new Workflow({
    name: `Sequential${nodes}`,
    graph: () => {
      const chain = Array.from({ length: nodes }, (_, i) => node<Handle>(`N${i}`, (s) => s.increment()));
      return new Graph({
        source: chain[0]!,
        sinks: [chain[nodes - 1]!],
        edges: chain.slice(1).map((head, i) => new Edge({ tail: chain[i]!, head })),
      });
    },
    store: () => Counter.create(),
  });
}

/** Counts the writes that reach `store`. */
function counting(store: CheckpointStore): CheckpointStore & { writes: number } {
  const counted = {
    writes: 0,
    put: (r: Parameters<CheckpointStore['put']>[0]) => {
      counted.writes++;
      return store.put(r);
    },
    get: (id: string) => store.get(id),
    list: (f?: Parameters<CheckpointStore['list']>[0]) => store.list(f),
    delete: (id: string) => store.delete(id),
  };
  return counted;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runCheckpointBench({ nodes = 100, runs = 40 } = {}): Promise<CheckpointBenchRow[]> {
  const workflow = sequential(nodes);
  const dir = mkdtempSync(join(tmpdir(), 'junjo-bench-'));
  const sqlite = new SqliteCheckpointStore(join(dir, 'normal.db'));
  const sqliteFull = new SqliteCheckpointStore(join(dir, 'full.db'), { synchronous: 'full' });
  const cases: [string, (() => CheckpointStore) | undefined][] = [
    ['no checkpoint', undefined],
    ['in-memory store', () => new MemoryCheckpointStore()],
    ['SQLite store', () => sqlite],
    ["SQLite store, synchronous: 'full'", () => sqliteFull],
  ];
  const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  const writes = new Map<string, number>();
  try {
    // Interleaved rounds, so a slow moment of a shared machine hits every case alike.
    for (let round = -5; round < runs; round++) {
      for (const [name, store] of cases) {
        const checkpoint = store && counting(store());
        (globalThis as { gc?: () => void }).gc?.();
        const start = performance.now();
        const result = await workflow.execute(undefined, checkpoint ? { checkpoint } : {});
        const elapsed = performance.now() - start;
        if (result.state.count !== nodes) throw new Error(`the run counted ${result.state.count}, not ${nodes}`);
        if (round < 0) continue; // warm-up
        times.get(name)!.push(elapsed);
        if (checkpoint) writes.set(name, checkpoint.writes);
      }
    }
  } finally {
    sqlite.close();
    sqliteFull.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = median(times.get('no checkpoint')!);
  return cases.map(([name]) => {
    const ms = median(times.get(name)!);
    return { case: `${nodes} sequential nodes, ${name}`, medianMs: round2(ms), ratio: round2(ms / base), writes: writes.get(name) ?? 0 };
  });
}

const round2 = (x: number) => Math.round(x * 100) / 100;

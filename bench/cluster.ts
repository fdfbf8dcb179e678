/**
 * `npm run bench:cluster`: what running on many machines costs, on one PostgreSQL (a throwaway
 * cluster when DATABASE_URL is unset, test/support/postgres.ts), in one run:
 *
 * 1. Checkpointing: one run of 100 sequential nodes (each one update) with no checkpoint, with
 *    SQLite and with Postgres checkpoints, and LangGraph.js without and with its Postgres
 *    checkpointer (`@langchain/langgraph-checkpoint-postgres`) on the same database. Medians of
 *    interleaved rounds; the overhead of a checkpointer is its median minus its framework's run
 *    without one, and the ratio of the two overheads is printed (target: LangGraph's ≥ 3×).
 * 2. Throughput of a 10-node workflow whose nodes each wait 20 ms (an LLM call's shape) with 1,
 *    2 and 4 worker processes (this file, run as `worker`), runs per second and the ratio to one.
 * 3. Failover: a worker SIGKILLed while a node runs; the time from the kill to that node
 *    starting again on another worker, against the lease (target: ≤ lease + 1 s).
 *
 * Not a test: numbers depend on the machine; run it side by side with a baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { Edge, Graph, Workflow, defineStore, node, sleep, type CheckpointStore, type StoreOf } from '../src/index.js';
import { SqliteCheckpointStore } from '../src/durable/sqlite.js';
import { PostgresCheckpointStore, RunQueue } from '../src/postgres/index.js';
import { startCluster, type Cluster } from '../test/support/postgres.js';

const Counter = defineStore({ name: 'ClusterBench', initial: { count: 0 }, actions: { increment: (d) => void (d.count += 1) } });
type Handle = StoreOf<typeof Counter>;

/** `n` nodes in a row, each running `body` and committing one update. */
function chain(name: string, n: number, body: (node: string, signal: AbortSignal) => Promise<void> | void) {
  return new Workflow({
    name,
    graph: () => {
      const nodes = Array.from({ length: n }, (_, i) =>
        node<Handle>(`N${String(i + 1).padStart(3, '0')}`, async (store, ctx) => {
          await body(ctx.node, ctx.signal);
          await store.increment();
        }),
      );
      return new Graph({ source: nodes[0]!, sinks: [nodes.at(-1)!], edges: nodes.slice(1).map((head, i) => new Edge({ tail: nodes[i]!, head })) });
    },
    store: () => Counter.create(),
  });
}

const sequential = chain('Sequential100', 100, () => {});
const llmShaped = chain('LlmShaped10', 10, (_node, signal) => sleep(20, signal));
// Prints each node's start with the time, so the bench sees where a run is and when it moved.
const slow = chain('Slow10', 10, (name, signal) => {
  process.stdout.write(`start ${name} ${Date.now()}\n`);
  return sleep(300, signal);
});
const WORKFLOWS = [sequential, llmShaped, slow];
const LEASE_MS = 2000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

// --- worker mode: `cluster.mjs worker <url> <schema> <concurrency>` ---------------------------

async function workerMode(url: string, schema: string, concurrency: number): Promise<void> {
  const queue = new RunQueue({ connectionString: url, workflows: WORKFLOWS, schema, leaseMs: LEASE_MS });
  const worker = await queue.work({ concurrency });
  process.stdout.write(`ready ${process.pid}\n`);
  process.on('SIGTERM', () => void worker.stop().then(() => queue.close()).then(() => process.exit(0)));
}

function startWorker(url: string, schema: string, concurrency: number) {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), 'worker', url, schema, String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const listeners: ((line: string) => void)[] = [];
  let buffer = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) for (const l of [...listeners]) l(line);
  });
  const line = (match: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const l = (text: string) => match.test(text) && (listeners.splice(listeners.indexOf(l), 1), resolve(text));
      listeners.push(l);
      proc.once('exit', () => reject(new Error(`worker ${proc.pid} exited before printing ${match}`)));
    });
  return { proc, line, ready: line(/^ready/) };
}

const stopWorkers = (procs: ChildProcess[]) =>
  Promise.all(procs.map((p) => new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : (p.once('exit', () => resolve()), p.kill('SIGTERM'))))));

// --- 1. checkpointing ----------------------------------------------------------------------

const LgState = Annotation.Root({ count: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }) });
function langGraph(n: number) {
  // StateGraph's builder types track every node name; a loop over generated names cannot.
  const graph = new StateGraph(LgState) as unknown as StateGraph<typeof LgState.spec, any, any, string>;
  for (let i = 0; i < n; i++) graph.addNode(`N${i}`, () => ({ count: 1 }));
  graph.addEdge(START, 'N0');
  for (let i = 1; i < n; i++) graph.addEdge(`N${i - 1}`, `N${i}`);
  graph.addEdge(`N${n - 1}`, END);
  return graph;
}

async function checkpointCost(url: string, rounds: number) {
  const dir = mkdtempSync(join(tmpdir(), 'junjo-bench-cluster-'));
  const sqlite = new SqliteCheckpointStore(join(dir, 'runs.db'));
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const postgres = new PostgresCheckpointStore(pool, { schema: 'bench_junjo' });
  await postgres.ready();
  const saver = new PostgresSaver(pool, undefined, { schema: 'bench_langgraph' });
  await saver.setup();
  const lgPlain = langGraph(100).compile();
  const lgSaved = langGraph(100).compile({ checkpointer: saver });
  let thread = 0;
  const cases: [string, () => Promise<number>][] = [
    ['junjo, no checkpoint', async () => (await sequential.execute()).state.count],
    ['junjo, SQLite checkpoints', async () => (await sequential.execute(undefined, { checkpoint: sqlite as CheckpointStore })).state.count],
    ['junjo, Postgres checkpoints', async () => (await sequential.execute(undefined, { checkpoint: postgres })).state.count],
    ['LangGraph.js, no checkpointer', async () => (await lgPlain.invoke({}, { recursionLimit: 1000 })).count],
    ['LangGraph.js, PostgresSaver', async () => (await lgSaved.invoke({}, { recursionLimit: 1000, configurable: { thread_id: `t${thread++}` } })).count],
  ];
  const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  try {
    // Interleaved, so a slow moment of the shared machine hits every case alike.
    for (let r = -2; r < rounds; r++) {
      for (const [name, run] of cases) {
        const start = performance.now();
        const count = await run();
        const ms = performance.now() - start;
        if (count !== 100) throw new Error(`${name}: counted ${count}, not 100`);
        if (r >= 0) times.get(name)!.push(ms);
      }
    }
  } finally {
    sqlite.close();
    await pool.query('DROP SCHEMA IF EXISTS bench_junjo CASCADE; DROP SCHEMA IF EXISTS bench_langgraph CASCADE');
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  }
  const m = (name: string) => median(times.get(name)!);
  console.log('\n1. 100 sequential nodes, one run (median of %d)', rounds);
  for (const [name] of cases) console.log(`   ${name.padEnd(34)} ${round(m(name)).toString().padStart(9)} ms`);
  const junjo = m('junjo, Postgres checkpoints') - m('junjo, no checkpoint');
  const lang = m('LangGraph.js, PostgresSaver') - m('LangGraph.js, no checkpointer');
  console.log(`   Postgres checkpointing overhead: junjo ${round(junjo)} ms, LangGraph.js ${round(lang)} ms → LangGraph's is ${round(lang / junjo)}× junjo's (target ≥ 3×)`);
  console.log(`   whole runs with Postgres checkpoints: LangGraph.js / junjo = ${round(m('LangGraph.js, PostgresSaver') / m('junjo, Postgres checkpoints'))}×`);
  return { junjoMs: junjo, langGraphMs: lang };
}

// --- 2. throughput -------------------------------------------------------------------------

async function throughput(url: string, workers: number, runs: number, concurrency: number): Promise<number> {
  const schema = `bench_tp_${workers}`;
  const queue = new RunQueue({ connectionString: url, workflows: WORKFLOWS, schema, leaseMs: LEASE_MS });
  await queue.start();
  const procs = Array.from({ length: workers }, () => startWorker(url, schema, concurrency));
  await Promise.all(procs.map((p) => p.ready));
  const start = performance.now();
  const ids = await Promise.all(Array.from({ length: runs }, (_, i) => queue.submit(llmShaped, undefined, { runId: `tp-${i}` })));
  const results = await Promise.all(ids.map((id) => queue.result<{ state: { count: number } }>(id)));
  const seconds = (performance.now() - start) / 1000;
  if (results.some((r) => r.state.count !== 10)) throw new Error('a run did not count to 10');
  await stopWorkers(procs.map((p) => p.proc));
  await queue.close();
  return runs / seconds;
}

// --- 3. failover ---------------------------------------------------------------------------

async function failover(url: string, samples: number): Promise<number[]> {
  const schema = 'bench_failover';
  const queue = new RunQueue({ connectionString: url, workflows: WORKFLOWS, schema, leaseMs: LEASE_MS });
  await queue.start();
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    // Two idle workers; whichever takes the run is killed as its third node starts, and the
    // other is already up: only the failover is measured.
    const pair = [startWorker(url, schema, 1), startWorker(url, schema, 1)];
    await Promise.all(pair.map((w) => w.ready));
    const runId = `failover-${s}`;
    await queue.submit(slow, undefined, { runId });
    const victim = await Promise.race(pair.map((w) => w.line(/^start N003 /).then(() => w)));
    const other = pair.find((w) => w !== victim)!;
    const rerun = other.line(/^start /);
    const killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    const [, node, at] = (await rerun).split(' ');
    if (node !== 'N003') throw new Error(`the run went on at ${node}, not at N003, the node in flight`);
    times.push(Number(at) - killedAt);
    await queue.result(runId);
    await stopWorkers(pair.map((w) => w.proc));
  }
  await queue.close();
  return times;
}

async function main() {
  if (process.argv[2] === 'worker') return workerMode(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
  let cluster: Cluster | undefined;
  let url = process.env.DATABASE_URL;
  if (!url) {
    cluster = await startCluster();
    url = cluster.url;
    // Interrupted or not, the throwaway cluster goes.
    const stop = cluster.stop;
    process.on('exit', stop);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
    console.log(`(a throwaway PostgreSQL: ${url})`);
  }
  try {
    console.log(`junjo-xstate bench:cluster — Node ${process.version}, lease ${LEASE_MS} ms`);
    await checkpointCost(url, Number(process.env.ROUNDS ?? 10));
    const RUNS = 96;
    const CONCURRENCY = 8;
    console.log(`\n2. throughput: ${RUNS} runs of 10 nodes × 20 ms, ${CONCURRENCY} runs at a time per worker process`);
    let one = 0;
    for (const workers of [1, 2, 4]) {
      const perSecond = await throughput(url, workers, RUNS, CONCURRENCY);
      one ||= perSecond;
      console.log(`   ${workers} worker${workers > 1 ? 's' : ' '}  ${round(perSecond, 1).toString().padStart(7)} runs/s  (${round(perSecond / one)}× one worker)`);
    }
    const failovers = await failover(url, 3);
    console.log(`\n3. failover, SIGKILL → the node in flight starts again on another worker (lease ${LEASE_MS} ms; target ≤ ${LEASE_MS + 1000} ms)`);
    const past = median(failovers) - LEASE_MS;
    console.log(`   ${failovers.map((t) => `${t} ms`).join(', ')}; median ${median(failovers)} ms = lease ${past < 0 ? '−' : '+'} ${Math.abs(past)} ms (a lease lapses at most leaseMs after its last renewal)`);
  } finally {
    cluster?.stop();
  }
}

await main();

/**
 * `npm run bench:cluster`: what running on many machines costs, on one PostgreSQL (a throwaway
 * cluster when DATABASE_URL is unset, test/support/postgres.ts), in one run
 * (`npm run bench:cluster -- 1 3` runs parts 1 and 3 only; ROUNDS=… sets part 1's rounds):
 *
 * 1. Checkpointing: one run of 100 sequential nodes (each one update) with no checkpoint, with
 *    SQLite and with Postgres checkpoints, and LangGraph.js without and with its Postgres
 *    checkpointer (`@langchain/langgraph-checkpoint-postgres`) on the same database and the same
 *    pool. The overhead of a checkpointer is its median minus its framework's run without one;
 *    the ratio of the two overheads is printed (target: LangGraph's ≥ 3×), and the same ratio in
 *    each interleaved round, so its spread shows.
 * 2. Throughput of a 10-node workflow whose nodes each wait 20 ms (an LLM call's shape) with 1,
 *    2 and 4 worker processes (this file, run as `worker`), at 1 and at 8 runs at a time per
 *    worker: runs per second, and where the CPU went meanwhile (the workers, the PostgreSQL
 *    server's processes, this bench, the rest of the machine; bench/proc-cpu.ts) with the
 *    database's transactions per run, so the figure says what limited it.
 * 3. Failover: a worker SIGKILLed while a node runs; the time from the kill to that node
 *    starting again on another worker, against the lease (target: ≤ lease + 1 s).
 *
 * Not a test: numbers depend on the machine; run it side by side with a baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { Edge, Graph, Workflow, defineStore, node, sleep, type CheckpointStore, type StoreOf } from '../src/index.js';
import { SqliteCheckpointStore } from '../src/durable/sqlite.js';
import { PostgresCheckpointStore, RunQueue } from '../src/postgres/index.js';
import { startCluster, type Cluster } from '../test/support/postgres.js';
import { CpuMeter, postgresPids, type CpuReport } from './proc-cpu.js';

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

async function checkpointCost(url: string, rounds: number, perRound: number) {
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
    // Each checkpointed case right after its framework's run without one: a pair's two runs are
    // measured as close together as they can be.
    ['junjo, no checkpoint', async () => (await sequential.execute()).state.count],
    ['junjo, Postgres checkpoints', async () => (await sequential.execute(undefined, { checkpoint: postgres })).state.count],
    ['LangGraph.js, no checkpointer', async () => (await lgPlain.invoke({}, { recursionLimit: 1000 })).count],
    ['LangGraph.js, PostgresSaver', async () => (await lgSaved.invoke({}, { recursionLimit: 1000, configurable: { thread_id: `t${thread++}` } })).count],
    // LangGraph's default durability ('async') lets a step start before the previous step's
    // checkpoint is written; 'sync' waits for it, as junjo's durable node starts do.
    ['LangGraph.js, PostgresSaver, sync', async () => (await lgSaved.invoke({}, { recursionLimit: 1000, durability: 'sync', configurable: { thread_id: `t${thread++}` } })).count],
    ['junjo, SQLite checkpoints', async () => (await sequential.execute(undefined, { checkpoint: sqlite as CheckpointStore })).state.count],
  ];
  // times[case][round]: the runs of one round, each case `perRound` times, interleaved.
  const times = new Map<string, number[][]>(cases.map(([name]) => [name, []]));
  try {
    // Interleaved, so a slow moment of the shared machine hits every case of a round alike.
    for (let r = -1; r < rounds; r++) {
      for (const [, list] of times) if (r >= 0) list.push([]);
      for (let i = 0; i < perRound; i++) {
        for (const [name, run] of cases) {
          (globalThis as { gc?: () => void }).gc?.();
          const start = performance.now();
          const count = await run();
          const ms = performance.now() - start;
          if (count !== 100) throw new Error(`${name}: counted ${count}, not 100`);
          if (r >= 0) times.get(name)!.at(-1)!.push(ms);
        }
      }
    }
  } finally {
    sqlite.close();
    await pool.query('DROP SCHEMA IF EXISTS bench_junjo CASCADE; DROP SCHEMA IF EXISTS bench_langgraph CASCADE');
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  }
  const m = (name: string) => median(times.get(name)!.flat());
  console.log('\n1. 100 sequential nodes, one run (median of %d: %d interleaved rounds of %d runs of each case)', rounds * perRound, rounds, perRound);
  for (const [name] of cases) console.log(`   ${name.padEnd(34)} ${round(m(name)).toString().padStart(9)} ms`);
  // Each round's overheads from its own medians: runs seconds apart, so the ratios' spread shows the noise.
  const overhead = (saved: string, plain: string) => times.get(saved)!.map((runs, r) => median(runs) - median(times.get(plain)![r]!));
  const junjoRounds = overhead('junjo, Postgres checkpoints', 'junjo, no checkpoint');
  const langRounds = overhead('LangGraph.js, PostgresSaver', 'LangGraph.js, no checkpointer');
  const junjo = m('junjo, Postgres checkpoints') - m('junjo, no checkpoint');
  const lang = m('LangGraph.js, PostgresSaver') - m('LangGraph.js, no checkpointer');
  const ratios = langRounds.map((ms, r) => ms / junjoRounds[r]!);
  console.log(`   Postgres checkpointing overhead (medians): junjo ${round(junjo)} ms (${round(junjo / 100)} ms/node), LangGraph.js ${round(lang)} ms → LangGraph's is ${round(lang / junjo)}× junjo's (target ≥ 3×)`);
  console.log(`   the same ratio in each round: ${ratios.map((x) => `${round(x, 1)}×`).join(' ')}; median ${round(median(ratios))}×, lowest ${round(Math.min(...ratios))}×`);
  const sync = m('LangGraph.js, PostgresSaver, sync') - m('LangGraph.js, no checkpointer');
  console.log(`   with durability: 'sync' (each step's checkpoint written before the next step, as in junjo): LangGraph.js ${round(sync)} ms → ${round(sync / junjo)}× junjo's`);
  console.log(`   whole runs with Postgres checkpoints: LangGraph.js / junjo = ${round(m('LangGraph.js, PostgresSaver') / m('junjo, Postgres checkpoints'))}×`);
  return { junjoMs: junjo, langGraphMs: lang, ratios };
}

// --- 2. throughput -------------------------------------------------------------------------

interface Throughput {
  perSecond: number;
  runs: number;
  cpu: CpuReport;
  /** PostgreSQL transactions committed (pg_stat_database) while the runs ran, every process's. */
  transactions: number;
}

/** Transactions committed in this database so far (the server's statistics lag them by up to a second). */
async function committed(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`);
  return Number(rows[0]!.n);
}

async function throughput(url: string, pgData: string | undefined, workers: number, concurrency: number, runs: number): Promise<Throughput> {
  const schema = `bench_tp_${workers}_${concurrency}`;
  const queue = new RunQueue({ connectionString: url, workflows: WORKFLOWS, schema, leaseMs: LEASE_MS });
  await queue.start();
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const procs = Array.from({ length: workers }, () => startWorker(url, schema, concurrency));
  await Promise.all(procs.map((p) => p.ready));
  const meter = new CpuMeter({
    workers: () => procs.map((p) => p.proc.pid!),
    postgres: pgData ? postgresPids(pgData) : undefined,
    bench: () => [process.pid],
  });
  const before = await committed(pool);
  meter.start();
  const start = performance.now();
  await Promise.all(Array.from({ length: runs }, (_, i) => queue.submit(llmShaped, undefined, { runId: `tp-${i}` })));
  // One query polls them all: queue.result() per run would poll four times a second per run,
  // and that load on the database would be measured as the workers'.
  for (;;) {
    const { rows } = await pool.query<{ done: string; ended: string }>(
      `SELECT count(*) FILTER (WHERE status = 'completed') AS done, count(*) FILTER (WHERE status IN ('failed', 'cancelled')) AS ended FROM "${schema}".junjo_runs`,
    );
    if (Number(rows[0]!.ended)) throw new Error(`${rows[0]!.ended} runs failed or were cancelled`);
    if (Number(rows[0]!.done) === runs) break;
    await sleep(20);
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = meter.stop();
  await stopWorkers(procs.map((p) => p.proc));
  const results = await Promise.all(Array.from({ length: runs }, (_, i) => queue.result<{ state: { count: number } }>(`tp-${i}`)));
  if (results.some((r) => r.state.count !== 10)) throw new Error('a run did not count to 10');
  await queue.close();
  // The workers' connections have closed, so their statistics are in; the bench's own come within a second.
  await sleep(1100);
  const transactions = (await committed(pool)) - before;
  await pool.end();
  return { perSecond: runs / seconds, runs, cpu, transactions };
}

async function throughputs(url: string, pgData: string | undefined) {
  const nodeMs = 20;
  console.log(`\n2. throughput: runs of 10 nodes × ${nodeMs} ms; c = runs at a time per worker process (${cpus().length} cores here, shared with PostgreSQL)`);
  console.log('   CPU: cores kept busy, on average, by the workers, PostgreSQL, this bench, and the rest of the machine');
  const rows: { workers: number; concurrency: number; t: Throughput }[] = [];
  for (const concurrency of [1, 8]) {
    let one = 0;
    for (const workers of [1, 2, 4]) {
      // Four waves of runs over the slots (at least 24 runs), so start and end matter little.
      const runs = Math.max(24, 4 * workers * concurrency);
      const t = await throughput(url, pgData, workers, concurrency, runs);
      rows.push({ workers, concurrency, t });
      one ||= t.perSecond;
      const { cpu } = t;
      const cores = (ms: number | undefined) => (ms === undefined ? '  n/a' : round(ms / 1000 / cpu.seconds).toFixed(2).padStart(5));
      const ours = Object.values(cpu.groups).reduce<number>((a, b) => a + (b ?? 0), 0);
      const perRun = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${round(ms / t.runs, 1)}`);
      console.log(
        `   ${workers} worker${workers > 1 ? 's' : ' '} c=${concurrency}  ${round(t.perSecond, 1).toString().padStart(5)} runs/s (${round(t.perSecond / one)}× one worker; ` +
          `${round((workers * concurrency * 1000) / (10 * nodeMs), 1)} if only the nodes' waits counted)  ` +
          `CPU: workers ${cores(cpu.groups.workers)}, PostgreSQL ${cores(cpu.groups.postgres)}, bench ${cores(cpu.groups.bench)}, ` +
          `rest ${cores(cpu.machineMs === undefined ? undefined : cpu.machineMs - ours)}, machine ${cores(cpu.machineMs)} of ${cpu.cores}  ` +
          `per run: workers ${perRun(cpu.groups.workers)} ms, PostgreSQL ${perRun(cpu.groups.postgres)} ms CPU, ${round(t.transactions / t.runs, 1)} transactions`,
      );
    }
  }
  // Where it would stop on machines of their own: each side's CPU per run sets its ceiling.
  const busiest = rows.at(-1)!.t;
  const pgMs = busiest.cpu.groups.postgres;
  const workerMs = busiest.cpu.groups.workers!;
  console.log(
    `   at 4 workers, c=8: a run costs the workers ${round(workerMs / busiest.runs, 1)} ms of CPU and PostgreSQL ` +
      `${pgMs === undefined ? 'n/a' : `${round(pgMs / busiest.runs, 1)} ms`} (${round(busiest.transactions / busiest.runs, 1)} transactions)` +
      (pgMs === undefined ? '' : `: one core of PostgreSQL alone would serve about ${Math.round((1000 * busiest.runs) / pgMs)} runs/s`),
  );
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
  // `npm run bench:cluster -- 1 3` runs parts 1 and 3 only.
  const parts = process.argv.length > 2 ? process.argv.slice(2) : ['1', '2', '3'];
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
    if (parts.includes('1')) await checkpointCost(url, Number(process.env.ROUNDS ?? 8), 3);
    if (parts.includes('2')) await throughputs(url, cluster && join(cluster.dir, 'data'));
    if (parts.includes('3')) await failovers(url);
  } finally {
    cluster?.stop();
  }
}

async function failovers(url: string) {
  const times = await failover(url, 3);
  console.log(`\n3. failover, SIGKILL → the node in flight starts again on another worker (lease ${LEASE_MS} ms; target ≤ ${LEASE_MS + 1000} ms)`);
  const past = median(times) - LEASE_MS;
  console.log(`   ${times.map((t) => `${t} ms`).join(', ')}; median ${median(times)} ms = lease ${past < 0 ? '−' : '+'} ${Math.abs(past)} ms (a lease lapses at most leaseMs after its last renewal)`);
}

await main();

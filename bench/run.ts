/**
 * `npm run bench`: runs every workload of bench/workloads.ts with junjo-xstate and its
 * baselines (hand-written XState, plain async, LangGraph.js) in this one process, and prints
 * the machine, the Node version, the repetitions and a table of medians and ratios.
 *
 * Each implementation gets one untimed warm-up repetition, then its timed repetitions; the
 * implementations of a workload alternate repetition by repetition, so a noisy moment on the
 * machine hurts them all alike.
 */
import os from 'node:os';
import { runCheckpointBench } from './checkpoint.js';
import { emitWorkload, heapPerRun, inspectorWorkload, workloads, type Impl, type Workload } from './workloads.js';

const IMPLS: Impl[] = ['junjo', 'xstate', 'plain', 'langgraph'];
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Row {
  name: string;
  unit: string;
  values: Partial<Record<Impl, number>>;
  reps: string;
  /** Higher is better (a rate) rather than lower (a time or size). */
  higherIsBetter?: boolean;
}

/** One series of a measurement: how to take a sample, how many to take, whether to warm up first. */
interface Series {
  run: () => Promise<number>;
  reps: number;
  warmup: boolean;
}

/**
 * The median of each series, their samples taken in turn, rep by rep, so a noisy moment on the
 * machine hurts them all alike.
 */
async function alternate<K extends string>(series: Record<K, Series>): Promise<Record<K, number>> {
  const keys = Object.keys(series) as K[];
  const samples = {} as Record<K, number[]>;
  for (const key of keys) {
    samples[key] = [];
    if (series[key].warmup) await series[key].run();
  }
  const most = Math.max(...keys.map((key) => series[key].reps));
  for (let rep = 0; rep < most; rep++) {
    for (const key of keys) if (rep < series[key].reps) samples[key].push(await series[key].run());
  }
  const medians = {} as Record<K, number>;
  for (const key of keys) medians[key] = median(samples[key]);
  return medians;
}

async function measure(workload: Workload): Promise<Row> {
  const series: Partial<Record<Impl, Series>> = {};
  for (const impl of IMPLS) {
    const run = workload.impls[impl];
    if (!run) continue;
    series[impl] =
      impl === 'langgraph'
        ? { run, reps: workload.langgraphReps ?? workload.reps, warmup: workload.langgraphWarmup !== false }
        : { run, reps: workload.reps, warmup: true };
  }
  const medians = await alternate(series as Record<Impl, Series>);
  const values: Row['values'] = {};
  for (const [impl, ms] of Object.entries(medians) as [Impl, number][]) values[impl] = workload.report ? workload.report(ms) : ms;
  const langReps = workload.impls.langgraph && workload.langgraphReps ? `, LangGraph ${workload.langgraphReps}` : '';
  return { name: workload.name, unit: workload.unit, values, reps: `${workload.reps}${langReps}`, higherIsBetter: !!workload.report };
}

/**
 * Workload 7, with workload 1 measured again in the same loop (bare, then observed, rep by rep),
 * so the observer's overhead compares runs made at the same moment of a noisy machine.
 */
async function measureInspector(): Promise<{ row: Row; overhead: Record<'junjo' | 'xstate', number> }> {
  const observed = inspectorWorkload();
  const bare = workloads().find((w) => w.name.startsWith('1.'))!;
  const of = (workload: Workload, impl: 'junjo' | 'xstate'): Series => ({ run: workload.impls[impl]!, reps: observed.reps, warmup: true });
  const m = await alternate({
    junjoBare: of(bare, 'junjo'),
    junjoObserved: of(observed, 'junjo'),
    xstateBare: of(bare, 'xstate'),
    xstateObserved: of(observed, 'xstate'),
  });
  return {
    row: { name: observed.name, unit: observed.unit, values: { junjo: m.junjoObserved, xstate: m.xstateObserved }, reps: `${observed.reps}` },
    overhead: { junjo: m.junjoObserved / m.junjoBare, xstate: m.xstateObserved / m.xstateBare },
  };
}

function format(value: number | undefined, unit: string): string {
  if (value === undefined) return '—';
  if (unit === 'updates/s') return `${Math.round(value).toLocaleString('en')}/s`;
  if (unit === 'KiB') return `${value.toFixed(1)} KiB`;
  if (value >= 100) return `${Math.round(value).toLocaleString('en')} ms`;
  if (value >= 1) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(3)} ms`;
}

/** How many times worse junjo-xstate is than `other` (>1: slower/bigger), whatever the unit. */
function cost(row: Row, other: Impl): number | undefined {
  const ours = row.values.junjo;
  const theirs = row.values[other];
  if (ours === undefined || theirs === undefined) return undefined;
  return row.higherIsBetter ? theirs / ours : ours / theirs;
}

/** How many times faster (or smaller) `b` is than `a`: the same comparison as `cost`, between two baselines. */
function times(row: Row, a: Impl, b: Impl): string {
  const x = row.values[a];
  const y = row.values[b];
  if (x === undefined || y === undefined) return '—';
  return `${(row.higherIsBetter ? y / x : x / y).toFixed(1)}×`;
}

const ratio = (value: number | undefined) => (value === undefined ? '—' : `${value.toFixed(2)}×`);

function table(rows: Row[]): string {
  const header = [
    'workload',
    'junjo-xstate',
    'hand-written XState',
    'plain async',
    'LangGraph.js',
    'vs XState',
    'LangGraph.js ÷ junjo',
    'LangGraph.js ÷ XState',
    'reps',
  ];
  const lines = rows.map((row) => {
    const vsLangGraph = cost(row, 'langgraph');
    return [
      row.name,
      format(row.values.junjo, row.unit),
      format(row.values.xstate, row.unit),
      format(row.values.plain, row.unit),
      format(row.values.langgraph, row.unit),
      ratio(cost(row, 'xstate')),
      vsLangGraph === undefined ? '—' : `${(1 / vsLangGraph).toFixed(1)}×`,
      times(row, 'langgraph', 'xstate'),
      row.reps,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...lines.map(line)].join('\n');
}

// LangGraph.js adds an abort listener per concurrent run to a shared signal, and Node warns
// about it once per run; the warning says nothing about this benchmark, so it is not printed.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'MaxListenersExceededWarning') console.warn(warning);
});

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  console.log(`node ${process.version}, ${os.platform()} ${os.arch()}`);
  console.log('medians; reps = timed repetitions per implementation, after one warm-up (none for LangGraph.js where one repetition takes seconds)\n');
  const started = performance.now();
  const rows: Row[] = [];
  for (const workload of workloads()) {
    rows.push(await measure(workload));
    process.stderr.write(`  done: ${workload.name}\n`);
  }

  const HEAP_RUNS = 10_000;
  const LANGGRAPH_HEAP_RUNS = 2_000;
  const heap: Row = { name: `6. heap per in-flight 10-node run (${HEAP_RUNS.toLocaleString('en')} waiting)`, unit: 'KiB', values: {}, reps: '1' };
  for (const impl of IMPLS) {
    const runs = impl === 'langgraph' ? LANGGRAPH_HEAP_RUNS : HEAP_RUNS;
    heap.values[impl] = (await heapPerRun(impl, runs)) / 1024;
  }
  heap.reps = `1 (LangGraph ${LANGGRAPH_HEAP_RUNS.toLocaleString('en')} runs)`;
  rows.push(heap);
  const storeFloor = (await heapPerRun('xstate+store', HEAP_RUNS)) / 1024;
  process.stderr.write('  done: heap\n');

  const { row: inspected, overhead } = await measureInspector();
  rows.push(inspected);
  // Issue 16: ctx.emit against a bare loop, in the same one-node run.
  const emits = await measure(emitWorkload());
  rows.push(emits);
  console.log(table(rows));
  console.log(
    `\ninspector overhead on workload 1 (7 ÷ 1, both measured again rep by rep in turn): junjo-xstate ${overhead.junjo.toFixed(2)}×, hand-written XState ${overhead.xstate.toFixed(2)}×`,
  );
  const { junjo: junjoHeap = NaN, xstate: xstateHeap = NaN } = heap.values;
  console.log(
    `heap floor (workload 6): the hand-written machine with one invoked store actor, as every run here has, holds ` +
      `${storeFloor.toFixed(1)} KiB per run (${(storeFloor / xstateHeap).toFixed(2)}× the machine alone); junjo-xstate holds ${(junjoHeap / storeFloor).toFixed(2)}× that`,
  );

  const { junjo: emitMs = NaN, plain: loopMs = NaN } = emits.values;
  console.log(
    `ctx.emit (workload 8): ${(emitMs / loopMs).toFixed(2)}× the same run calling a bare callback; ` +
      `${(((emitMs - loopMs) / 10_000) * 1000).toFixed(3)} µs more per emitted value`,
  );

  await checkpoints();
  console.log(`\ntotal bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

/** The cost of durability, as ratios to the same run without a checkpoint (issue: ≤3× for SQLite). */
async function checkpoints(): Promise<void> {
  const checkpointRows = await runCheckpointBench();
  process.stderr.write('  done: checkpoints\n');
  console.log('\n8. checkpointing (medians of 40 runs; ratio to no checkpoint)\n');
  console.log('| case | median | ratio | writes per run |');
  console.log('|:--|--:|--:|--:|');
  for (const row of checkpointRows) {
    console.log(`| ${row.case} | ${row.medianMs.toFixed(1)} ms | ${row.ratio.toFixed(2)}× | ${row.writes} |`);
  }
}

// `npm run bench:checkpoint` runs only the checkpoint rows.
await (process.argv[2] === 'checkpoint' ? checkpoints() : main());

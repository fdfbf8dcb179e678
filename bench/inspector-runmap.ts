/**
 * `node bench/main.mjs inspector-runmap [items] [reps]`: the cost of watching a large run. A
 * RunMap of 10,000 items (each a node making one store commit) runs bare and with `inspect()`
 * sending to a real inspector server in its own process (as `npx junjo-inspector` runs),
 * alternating rep by rep. Reported as medians and as ratios to the bare run: the run's own
 * time; the app's CPU time for the run and for converting and sending its events (what
 * watching costs the app); and the time until the server has every event (`inspector.stop()`
 * resolves after the server read the last one), which includes the server's own work in its
 * process.
 *
 * With `parts` after the reps (`… inspector-runmap 10000 5 parts`), each rep also runs the map
 * with three observers short of `inspect()`, to show what each step of watching costs the app:
 * one that does nothing (XState's inspection itself), one that keeps every event until the run
 * is over (as the client holds a turn's events), and one that then converts them as the client
 * does (superseded snapshots and implied events left out, JSON.stringify) without sending.
 *
 * To profile both sides: `JUNJO_BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/s" node
 * bench/main.mjs inspector-runmap 10000 1 -- --cpu-prof --cpu-prof-dir=/tmp/c`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InspectionEvent, Observer } from 'xstate';
import { inspect } from '../inspector/client.js';
import { asObserved } from '../inspector/as-observed.js';
import { withoutSupersededSnapshots } from '../inspector/coalesce.js';
import { ImpliedEventsWriter } from '../inspector/implied-events.js';
import { StoreDeltas } from '../inspector/store-deltas.js';
import { Edge, Graph, RunMap, Workflow, defineStore, node, type StoreOf } from '../src/index.js';

const items = Number(process.argv[2] ?? 10_000);
const reps = Number(process.argv[3] ?? 3);
const parts = process.argv[4] === 'parts';

const Tally = defineStore({
  name: 'Tally',
  initial: { n: 0, items: Array.from({ length: items }, (_, i) => i) },
  actions: { add: (d) => void (d.n += 1) },
});
type Handle = StoreOf<typeof Tally>;
const workflow = new Workflow({
  name: 'BigMap',
  graph: () => {
    const start = node<Handle>('Start', async () => {});
    const map = new RunMap({ name: 'PerItem', items: (s: { items: number[] }) => s.items, node: (_, i) => node<Handle>(`Each${i}`, (s) => s.add()) });
    return new Graph({ source: start, sinks: [map], edges: [new Edge({ tail: start, head: map })] });
  },
  store: () => Tally.create(),
});

/**
 * Starts the inspector CLI in a child process and resolves with its app address. The CLI is
 * bundled as the package ships it (bench/main.mjs says why not through tsx).
 */
async function startServer(): Promise<{ appUrl: string; stop(): void }> {
  const history = join(mkdtempSync(join(tmpdir(), 'junjo-bench-inspector-')), 'history.sqlite');
  // Imported at run time from the checkout: bundled into this bench, it would look for the
  // project beside the bundle.
  const builder = (await import(pathToFileURL(resolve('inspector/build.mjs')).href)) as typeof import('../inspector/build.mjs');
  await Promise.all([builder.buildInspectorUi(), builder.buildInspectorCli()]);
  const cli = 'dist/inspector/cli.js';
  const flags = process.env.JUNJO_BENCH_SERVER_FLAGS ? process.env.JUNJO_BENCH_SERVER_FLAGS.split(' ') : [];
  const child = spawn(process.execPath, [...flags, cli, '--port', '0', '--history', history], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
      const match = out.match(/apps send events to (ws:\/\/\S+)/);
      if (match) resolve({ appUrl: match[1]!, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`the inspector exited with ${code}: ${out}`)));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const server = await startServer();
const bare: number[] = [];
const bareCpu: number[] = [];
const run: number[] = [];
const appCpu: number[] = [];
const delivered: number[] = [];
/** The observers short of inspect() (see the header), each with what to do once the run is over. */
const stages: Record<string, () => { observer: Observer<InspectionEvent>; after?: () => void }> = {
  'does nothing': () => ({ observer: { next: () => {} } }),
  'keeps every event': () => {
    const kept: InspectionEvent[] = [];
    return { observer: { next: (e) => void kept.push(e) }, after: () => void (kept.length = 0) };
  },
  'keeps and converts them, no sending': () => {
    const kept: InspectionEvent[] = [];
    const deltas = new StoreDeltas();
    return {
      observer: { next: (e) => void kept.push(deltas.slim(asObserved(e))) },
      after: () => new ImpliedEventsWriter(JSON.stringify).write(withoutSupersededSnapshots(kept), (wire) => void JSON.stringify(wire)),
    };
  },
};
const stageCpu = new Map<string, number[]>();
/**
 * Each measured run starts from a collected heap (main.mjs runs Node with --expose-gc): the
 * garbage of the run before would otherwise be collected, and counted, in the next one.
 */
const collect = () => (globalThis as { gc?: () => void }).gc?.();
/** The app process's CPU time in ms (all its threads: the run, the conversion, GC). */
const cpuMs = (since?: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};
try {
  await workflow.execute(); // warm-up
  for (let i = 0; i < reps; i++) {
    collect();
    let t = performance.now();
    let cpu = process.cpuUsage();
    const result = await workflow.execute();
    bare.push(performance.now() - t);
    bareCpu.push(cpuMs(cpu));
    if (result.state.n !== items) throw new Error(`expected ${items} commits, got ${result.state.n}`);
    const inspector = inspect({ url: server.appUrl });
    collect();
    t = performance.now();
    cpu = process.cpuUsage();
    await workflow.execute(undefined, { inspect: inspector });
    run.push(performance.now() - t);
    await inspector.stop();
    delivered.push(performance.now() - t);
    appCpu.push(cpuMs(cpu));
    if (!parts) continue;
    for (const [name, make] of Object.entries(stages)) {
      const { observer, after } = make();
      collect();
      cpu = process.cpuUsage();
      await workflow.execute(undefined, { inspect: observer });
      after?.();
      stageCpu.set(name, [...(stageCpu.get(name) ?? []), cpuMs(cpu)]);
    }
  }
} finally {
  server.stop();
}
const b = median(bare);
const fmt = (ms: number) => `${Math.round(ms).toLocaleString('en')} ms`;
const row = (label: string, ms: number, base: number) => console.log(`  ${label.padEnd(44)} ${fmt(ms).padStart(9)}   ${(ms / base).toFixed(2)}×`);
console.log(`RunMap of ${items.toLocaleString('en')} items, medians of ${reps} (inspector server in its own process):`);
row('bare: the run', b, b);
row('inspected: the run', median(run), b);
row('bare: the app\'s CPU time', median(bareCpu), median(bareCpu));
for (const [name, cpu] of stageCpu) row(`an observer that ${name}: the app's CPU time`, median(cpu), median(bareCpu));
row('inspected: the app\'s CPU time, run and sending', median(appCpu), median(bareCpu));
row('inspected: until the server has it all', median(delivered), b);
console.log(`  the server had it all ${fmt(median(delivered.map((d, i) => d - run[i]!)))} after the run's end`);

/**
 * Runs across many processes, in one command (`npm run example:cluster`): starts a throwaway
 * PostgreSQL when DATABASE_URL is not set, submits twelve report runs to a RunQueue, starts two
 * worker processes (`junjo-xstate worker examples/cluster/workflow.ts`), SIGKILLs one of them
 * mid-run, and shows every run finish on the other — each with all six sections exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { RunQueue } from '../../src/postgres/index.js';
import { startCluster, type Cluster } from '../../test/support/postgres.js';
import { STEPS, report } from './workflow.js';

const LEASE_MS = 2000;
let cluster: Cluster | undefined;
let url = process.env.DATABASE_URL;
if (!url) {
  cluster = await startCluster();
  url = cluster.url;
  console.log(`started a throwaway PostgreSQL at ${url}`);
}
process.on('exit', () => cluster?.stop());

const workers: ChildProcess[] = [];
function startWorker(): Promise<ChildProcess> {
  const args = ['--import', 'tsx', 'bin/junjo-xstate.ts', 'worker', 'examples/cluster/workflow.ts', '--database-url', url!, '--concurrency', '4', '--lease-ms', String(LEASE_MS)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  workers.push(child);
  return new Promise((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      if (chunk.toString().includes('ready')) resolve(child);
    });
  });
}

const queue = new RunQueue({ connectionString: url, workflows: [report], leaseMs: LEASE_MS });
try {
  await queue.start();
  const topics = ['tides', 'bees', 'comets', 'glaciers', 'ferns', 'owls', 'deltas', 'moss', 'auroras', 'reefs', 'dunes', 'lichens'];
  const ids = await Promise.all(topics.map((topic) => queue.submit(report, { topic }, { runId: `report-${topic}-${Date.now().toString(36)}` })));
  console.log(`submitted ${ids.length} runs; starting two workers`);
  const [doomed] = await Promise.all([startWorker(), startWorker()]);

  // Kill one worker once the runs are under way: its runs' leases lapse, and the other takes them over.
  await new Promise((resolve) => setTimeout(resolve, 700));
  console.log(`\n*** SIGKILL worker ${doomed!.pid} (its runs continue on the other worker once their ${LEASE_MS} ms leases lapse)\n`);
  doomed!.kill('SIGKILL');

  const results = await Promise.all(ids.map((id) => queue.result<{ state: { topic: string; sections: string[] } }>(id)));
  console.log('\nevery run finished:');
  let exact = 0;
  for (const [i, r] of results.entries()) {
    const ok = JSON.stringify(r.state.sections) === JSON.stringify(STEPS.map((s) => `${s} of ${r.state.topic}`));
    if (ok) exact++;
    console.log(`  ${ids[i]}: ${r.state.sections.length} sections${ok ? ', each exactly once' : ' — NOT as expected'}`);
  }
  console.log(`${exact} of ${results.length} runs ended exactly as an uninterrupted run would`);
  process.exitCode = exact === results.length ? 0 : 1;
} finally {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => (w.exitCode !== null || w.signalCode !== null ? null : new Promise((resolve) => w.once('exit', resolve)))));
  await queue.close();
  cluster?.stop();
}

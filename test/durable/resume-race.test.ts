/**
 * Two real processes racing for one run, with SQLite and with Postgres. A run whose process was
 * SIGKILLed in a node is resumed by two processes at the same moment (both wait for one line
 * on stdin, sent to both at once): exactly one of them runs the remaining nodes — the ledger
 * the nodes append to shows each of them once, in that process — and the other's resume
 * rejects with a LeaseHeldError naming it. And two processes submitting one runId to a
 * RunQueue at the same moment make one run, whose nodes each run once.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { decodeCheckpoint } from '../../src/index.js';
import { RunQueue } from '../../src/postgres/index.js';
import { databaseUrl } from '../support/postgres.js';
import { startChild, type Child } from '../support/processes.js';
import { openStore } from './fixtures/lease-child.js';
import { RACE_QUEUE, raceSteps } from './fixtures/race-child.js';

const CHILD = 'test/durable/fixtures/race-child.ts';
const dir = mkdtempSync(join(tmpdir(), 'junjo-race-'));
const url = databaseUrl('durable: two processes resuming one run (PostgreSQL)');
const schema = `race_${process.pid}`;

const backends: { name: string; spec: string }[] = [
  { name: 'SQLite', spec: `sqlite:${join(dir, 'race.db')}` },
  ...(url ? [{ name: 'PostgreSQL', spec: `pg:${schema}@${url}` }] : []),
];

const ledgerOf = (path: string) => readFileSync(path, 'utf8').trim().split('\n');

/** Waits until the run's checkpoint shows Hold in flight: its body started only once that was written. */
async function checkpointedInHold(spec: string, runId: string): Promise<void> {
  const store = openStore(spec);
  try {
    for (;;) {
      const record = await store.get(runId);
      if (record && decodeCheckpoint(record, raceSteps.name, raceSteps.fingerprint).snapshot.value === 'Hold') return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await store.close();
  }
}

/** Starts `n` children with `args`, waits until each is ready, then releases them all at once. */
async function atOnce(n: number, args: string[]): Promise<Child[]> {
  const children = Array.from({ length: n }, () => startChild(CHILD, args));
  await Promise.all(children.map((c) => c.line(/^ready$/)));
  for (const c of children) c.send('go\n');
  return children;
}

for (const { name, spec } of backends) {
  const test = suite(`durable: two processes resuming one run (${name})`);

  test('resumed by two processes at the same moment: one runs the remaining nodes once, the other is refused, naming it', async () => {
    const ledger = join(dir, `${name}.ledger`);
    const crashed = startChild(CHILD, ['crash', spec, 'race-1', ledger]);
    await crashed.line(/^in Hold$/);
    await checkpointedInHold(spec, 'race-1');
    crashed.proc.kill('SIGKILL');
    await crashed.exited;

    const racers = await atOnce(2, ['race', spec, 'race-1']);
    // Both get past their claim: the winner to Hold (where it holds the lease until told), the other refused.
    const first = await Promise.all(racers.map((r) => r.line(/^(in Hold|error )/)));
    const winner = racers[first.indexOf('in Hold')];
    const loser = racers[first.findIndex((line) => line.startsWith('error '))];
    assert.ok(winner && loser, `one runs, one is refused: ${first.join(' | ')}`);
    const pid = winner!.proc.pid;
    assert.match(first[racers.indexOf(loser!)]!, new RegExp(`^error LeaseHeldError Run 'race-1' is owned by '[^']+:${pid}#\\d+' \\(its lease expires in \\d+ s unless renewed\\): it is running there`));
    assert.is((await loser!.exited).code, 0);
    winner!.send('go\n');
    assert.is(await winner!.line(/^result /), `result ${JSON.stringify(['A', 'Hold', 'C', 'D'])}`);
    await winner!.exited;
    const crashedPid = crashed.proc.pid;
    assert.equal(ledgerOf(ledger), [`A@1 ${crashedPid}`, `Hold@1 ${crashedPid}`, `Hold@2 ${pid}`, `C@1 ${pid}`, `D@1 ${pid}`], 'each remaining node ran once, in the winner');
    const store = openStore(spec);
    assert.is((await store.get('race-1'))!.status, 'completed');
    await store.close();
  });

  test.run();
}

if (url) {
  const test = suite('durable: two processes submitting one runId (PostgreSQL RunQueue)');
  test('submitted by two processes at the same moment: one run, each node run once', async () => {
    const ledger = join(dir, 'submit.ledger');
    const submitters = await atOnce(2, ['submit', url, schema, 'dup-1', ledger]);
    for (const s of submitters) assert.is(await s.line(/^(submitted|error) /), 'submitted dup-1');
    for (const s of submitters) assert.is((await s.exited).code, 0);
    const queue = new RunQueue({ connectionString: url, workflows: [raceSteps], schema, queue: RACE_QUEUE });
    await queue.start();
    const worker = await queue.work({ concurrency: 2 });
    try {
      const result = await queue.result<{ state: { done: string[] }; executionCounts: Record<string, number> }>('dup-1');
      assert.equal(result.state.done, ['A', 'Hold', 'C', 'D']);
      assert.equal(result.executionCounts, { A: 1, Hold: 1, C: 1, D: 1 });
      assert.equal(ledgerOf(ledger), ['A', 'Hold', 'C', 'D'].map((n) => `${n}@1 ${process.pid}`), 'one run: each node ran once');
      const admin = new pg.Pool({ connectionString: url, max: 1 });
      const runs = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".junjo_runs WHERE run_id = 'dup-1'`);
      await admin.end();
      assert.is(runs.rows[0].n, 1);
    } finally {
      await worker.stop();
      await queue.close();
    }
  });
  test.run();
}

const cleanup = suite('durable: two processes resuming one run (cleanup)');
cleanup('the test databases are removed', async () => {
  rmSync(dir, { recursive: true, force: true });
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
});
cleanup.run();

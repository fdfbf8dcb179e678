/**
 * Leases across real processes, with SQLite and with Postgres: two processes resuming one run
 * (one runs it, the other is refused, naming the owner), and a zombie — a process SIGSTOPped
 * past its lease while another takes its run over and finishes it; continued with SIGCONT, its
 * next write is refused, it stops its run and aborts its node, and the finished run's record
 * is left exactly as the new owner wrote it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { decodeCheckpoint } from '../../src/index.js';
import { databaseUrl } from '../support/postgres.js';
import { startChild } from '../support/processes.js';
import { fourSteps, openStore } from './fixtures/lease-child.js';

const CHILD = 'test/durable/fixtures/lease-child.ts';
const EXPECTED = ['A', 'Slow', 'C', 'D'];
const dir = mkdtempSync(join(tmpdir(), 'junjo-lease-'));
const url = databaseUrl('durable: leases across processes (PostgreSQL)');
const schema = `lease_${process.pid}`;

const backends: { name: string; spec: (run: string) => string }[] = [
  { name: 'SQLite', spec: (run) => `sqlite:${join(dir, `${run}.db`)}` },
  ...(url ? [{ name: 'PostgreSQL', spec: () => `pg:${schema}@${url}` }] : []),
];

/** Waits until the run's checkpoint shows `node` in flight: the state a stalled process would leave. */
async function checkpointedIn(spec: string, runId: string, node: string): Promise<void> {
  for (;;) {
    const record = await recordOf(spec, runId);
    if (record && decodeCheckpoint(record, fourSteps.name, fourSteps.fingerprint).snapshot.value === node) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function recordOf(spec: string, runId: string) {
  const store = openStore(spec);
  try {
    return await store.get(runId);
  } finally {
    await store.close();
  }
}

for (const { name, spec } of backends) {
  const test = suite(`durable: leases across processes (${name})`);

  test('two processes resuming one run: one runs it, the other is refused naming the owner', async () => {
    const where = spec('two');
    const owner = startChild(CHILD, ['run', where, 'two', '60000'], { HOLD_SLOW: '1' });
    await owner.line(/^in Slow$/);
    const other = startChild(CHILD, ['resume', where, 'two', '60000']);
    const refused = await other.line(/^error /);
    assert.match(refused, new RegExp(`^error LeaseHeldError Run 'two' is owned by '[^']+:${owner.proc.pid}#\\d+' \\(its lease expires in \\d+ s unless renewed\\): it is running there`));
    assert.is((await other.exited).code, 0);
    owner.send('go\n');
    assert.is(await owner.line(/^result /), `result ${JSON.stringify({ done: EXPECTED })}`);
    await owner.exited;
    const record = await recordOf(where, 'two');
    assert.is(record!.status, 'completed');
  });

  test('a zombie: SIGSTOPped past its lease, taken over and finished elsewhere; after SIGCONT its writes are refused', async () => {
    const where = spec('zombie');
    const leaseMs = '1500';
    const zombie = startChild(CHILD, ['run', where, 'zombie', leaseMs], { HOLD_SLOW: '1' });
    await zombie.line(/^in Slow$/);
    await checkpointedIn(where, 'zombie', 'Slow');
    zombie.proc.kill('SIGSTOP');
    let heirPid = 0;
    try {
      // Refused while the lease lasts (if it starts that soon), until it lapses: the stopped
      // process cannot renew it, and being alive it is not taken over before.
      const heir = startChild(CHILD, ['resume', where, 'zombie', leaseMs, '--wait']);
      heirPid = heir.proc.pid!;
      assert.is(await heir.line(/^result /), `result ${JSON.stringify({ done: EXPECTED })}`);
      for (const held of heir.lines.filter((l) => l.startsWith('held '))) assert.match(held, new RegExp(`^held [^ ]+:${zombie.proc.pid}#\\d+$`));
      assert.ok(heir.lines.includes('started Slow@2'), 'the node in flight ran again, as attempt 2');
      assert.not.ok(heir.lines.some((l) => /^started Slow@1/.test(l)));
      await heir.exited;
    } finally {
      zombie.proc.kill('SIGCONT');
    }
    const finished = await recordOf(where, 'zombie');
    assert.is(finished!.status, 'completed');
    // Woken up, its overdue renewal is refused: that alone must stop the run and abort 'Slow'
    // (which waits for stdin, never sent here, or its signal).
    const lost = await zombie.line(/^(error|result) /);
    assert.match(lost, /^error LeaseLostError Run 'zombie' was taken over by '[^']+:(\d+)#\d+': this process \('[^']+', lease \d+\) held its lease past the expiry/, lost);
    assert.is(Number(/taken over by '[^']+:(\d+)#/.exec(lost)![1]), heirPid, 'the new owner it names is the process that took the run');
    assert.ok(zombie.lines.includes('Slow aborted'), 'its node in flight was aborted');
    assert.not.ok(zombie.lines.some((l) => l.startsWith('result ')), 'the zombie did not finish the run');
    await zombie.exited;
    assert.equal(await recordOf(where, 'zombie'), finished, 'the zombie wrote nothing');
    const checkpoint = decodeCheckpoint<{ done: string[] }>(finished!, fourSteps.name, fourSteps.fingerprint);
    assert.equal((checkpoint.snapshot.output as { state: { done: string[] } }).state.done, EXPECTED);
  });

  test.run();
}

const cleanup = suite('durable: leases across processes (cleanup)');
cleanup('the test databases are removed', async () => {
  rmSync(dir, { recursive: true, force: true });
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
});
cleanup.run();

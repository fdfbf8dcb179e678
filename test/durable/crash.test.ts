/**
 * Crash tests: a child process runs a 20-node workflow checkpointed to a SQLite file and is
 * killed with SIGKILL at a different point each time; a new process resumes the run. Every
 * run must end with exactly the state of an uninterrupted run: each update's id appears in
 * the log once, so one lost or applied twice would show.
 *
 * The kill points come from a seeded RNG (the seed and the point are in every failure
 * message). Half the kills come from inside the child, the instant a given commit is applied
 * and before it can be checkpointed; the other half from this process, after the child
 * reported a given commit, landing wherever the child then is (often mid-write).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { decodeCheckpoint } from '../../src/index.js';
import { SqliteCheckpointStore } from '../../src/durable/sqlite.js';
import { COMMITS, NODES, expectedState, twentyNodes } from './fixtures/twenty.js';

const test = suite('durable: crash and resume');
const SEED = Number(process.env.CRASH_SEED ?? 20240607);
const RUNS = 20;
const dir = mkdtempSync(join(tmpdir(), 'junjo-crash-'));
const child = join(process.cwd(), 'test/artifacts/durable-child.mjs');

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
}

/** Runs the child; `killAfter(lines)` may return true to SIGKILL it from here. */
function runChild(args: string[], killAfter?: (lines: string[]) => boolean): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    let buffer = '';
    const guard = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      lines.push(...parts);
      if (killAfter?.(lines)) proc.kill('SIGKILL');
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(guard);
      if (code !== 0 && signal === null) reject(new Error(`child ${args.join(' ')} exited with ${code}:\n${stderr}`));
      else resolve({ code, signal, lines: buffer ? [...lines, buffer] : lines });
    });
  });
}

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test.before(async () => {
  await build({
    entryPoints: ['test/durable/fixtures/child.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['better-sqlite3'],
    outfile: child,
    logLevel: 'warning',
  });
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('an uninterrupted run ends in the expected state', async () => {
  const result = await twentyNodes.execute();
  assert.equal(result.state, expectedState);
});

test(`${RUNS} runs killed with SIGKILL at seeded points each resume to exactly the uninterrupted state`, async () => {
  const rng = mulberry32(SEED);
  const plans = Array.from({ length: RUNS }, (_, i) => ({
    runId: `crash-${i}`,
    inside: i % 2 === 0,
    commit: 1 + Math.floor(rng() * (COMMITS - 1)),
  }));

  const where = (plan: (typeof plans)[number]) =>
    `seed ${SEED}, run ${plan.runId}, killed ${plan.inside ? 'by itself at' : 'after it reported'} commit ${plan.commit}`;
  const db = (plan: (typeof plans)[number]) => join(dir, `${plan.runId}.db`);
  const kill = async (plan: (typeof plans)[number]) => {
    const first = plan.inside
      ? await runChild(['run', db(plan), plan.runId, String(plan.commit)])
      : await runChild(['run', db(plan), plan.runId], (lines) => lines.length >= plan.commit);
    assert.is(first.signal, 'SIGKILL', `${where(plan)}: the first process was killed`);
  };
  // A few at a time: each child is a short process, mostly waiting on its timers.
  for (let i = 0; i < plans.length; i += 5) await Promise.all(plans.slice(i, i + 5).map(kill));

  // What each checkpoint says before the resume: which nodes completed, which were in flight.
  const before = plans.map((plan) => {
    const store = new SqliteCheckpointStore(db(plan));
    const checkpoint = decodeCheckpoint(store.get(plan.runId)!, twentyNodes.name, twentyNodes.fingerprint);
    store.close();
    const inFlight = Object.values(checkpoint.snapshot.children)
      .filter((c) => c.src === 'node' && c.snapshot.status === 'active')
      .map((c) => (c.snapshot.input as { node: string }).node);
    const completed = Object.keys(checkpoint.snapshot.context.executionCounts).filter((n) => NODES.includes(n) && !inFlight.includes(n));
    return { inFlight, completed };
  });

  // One new process resumes them all.
  const resumed = await runChild(['resume', ...plans.map((plan) => `${db(plan)}:${plan.runId}`)]);
  plans.forEach((plan, i) => {
    const line = resumed.lines.find((l) => l.startsWith(`result ${plan.runId} `));
    assert.ok(line, `${where(plan)}: the resumed run finished`);
    const result = JSON.parse(line!.slice(`result ${plan.runId} `.length));
    assert.equal(result.state, expectedState, `${where(plan)}: the final state is that of an uninterrupted run`);
    assert.equal(result.executionCounts, Object.fromEntries([...NODES, 'Fan'].map((n) => [n, 1])), `${where(plan)}: each node counted once`);
    const started = result.started as string[];
    for (const node of before[i]!.completed) {
      assert.not.ok(started.some((s) => s.startsWith(`${node}@`)), `${where(plan)}: ${node} had completed and did not run again`);
    }
    for (const node of before[i]!.inFlight) {
      assert.ok(started.includes(`${node}@2`), `${where(plan)}: ${node} was in flight and ran again as attempt 2`);
    }
  });
  assert.ok(before.some((b) => b.inFlight.length > 0), 'some kills left nodes in flight');
  assert.ok(before.some((b) => b.completed.length > 0), 'some kills came after nodes completed');
});

test.run();

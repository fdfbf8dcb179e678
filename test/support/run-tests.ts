/**
 * `npm test`: runs the uvu suite (`test "\.test\.ts$"`, or the folder and pattern given as
 * arguments) with a throwaway PostgreSQL when `DATABASE_URL` is not set, and always removes
 * the cluster afterwards — when the tests pass, fail, or this process is interrupted.
 * uvu's output passes through untouched (`.ci/run` sums its Total/Passed lines).
 *
 *   npm test                                   # everything
 *   npm test -- test/durable 'conformance'     # one folder, files matching a pattern
 */
import { spawn } from 'node:child_process';
import { postgresBinaries, startCluster, type Cluster } from './postgres.js';

const args = process.argv.slice(2);
const uvuArgs = args.length ? args : ['test', '\\.test\\.ts$'];

let cluster: Cluster | undefined;
if (!process.env.DATABASE_URL) {
  if (postgresBinaries()) {
    try {
      cluster = await startCluster();
      console.log(`::: PostgreSQL ${cluster.url} (throwaway, in ${cluster.dir})`);
    } catch (err) {
      // The Postgres tests then skip (or fail under CI), saying why; the rest still runs.
      console.log(`::: could not start PostgreSQL: ${(err as Error).message}`);
    }
  } else {
    console.log('::: PostgreSQL is not installed: the Postgres tests are skipped (apt-get install -y postgresql)');
  }
}
// Even a crash of this process removes the cluster.
process.on('exit', () => cluster?.stop());

const env = { ...process.env, ...(cluster ? { DATABASE_URL: cluster.url, JUNJO_TEST_PGDIR: cluster.dir } : {}) };
const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', ...uvuArgs], { stdio: ['inherit', 'pipe', 'inherit'], env });

// uvu ends with its totals; a test process still alive a minute after them is held by something
// a test left open (a server, a pool, a timer). Say so and end it as failed, rather than hang CI.
const LINGER_MS = 60_000;
let lingered = false;
child.stdout!.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  if (/Duration:/.test(chunk.toString())) {
    setTimeout(() => {
      lingered = true;
      console.log(`::: the test process was still running ${LINGER_MS / 1000} s after its last test: a test left a server, pool or timer open. Ended it; counted as a failure.`);
      child.kill('SIGKILL');
    }, LINGER_MS).unref();
  }
});

let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // A second signal stops the tests at once.
    child.kill(++signals > 1 ? 'SIGKILL' : signal);
  });
}

child.on('exit', (code, signal) => {
  cluster?.stop();
  process.exit(lingered ? 1 : code ?? (signal ? 1 : 0));
});

/**
 * A throwaway PostgreSQL cluster for tests and examples: `initdb` into a temporary folder,
 * `pg_ctl` on a free port on 127.0.0.1, and removal of it all afterwards. Postgres refuses to
 * run as root, so as root the server runs as an unprivileged user (`postgres` if the system has
 * one, else `nobody`); the folder is handed to that user.
 *
 * Also `databaseUrl()`, which Postgres test files ask first: the URL to test against, or null
 * (with a notice) when there is no Postgres to test against — an error under `CI=true`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Where Debian's PostgreSQL binaries are, newest version first; undefined if none is installed. */
export function postgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : undefined;
}

export interface Cluster {
  url: string;
  port: number;
  dir: string;
  /** `pg_ctl restart`: the server stops (dropping every connection) and starts again on the same port. */
  restart(): void;
  /** Stops the server at once and removes its folder; safe to call more than once. */
  stop(): void;
}

/** Starts a new cluster; throws, saying what is missing, when it cannot. */
export async function startCluster(): Promise<Cluster> {
  const bin = postgresBinaries();
  if (!bin) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install -y postgresql');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'junjo-pg-'));
  const data = join(dir, 'data');
  const asUser = serverUser();
  if (asUser) {
    chownSync(dir, asUser.uid, asUser.gid);
    chmodSync(dir, 0o700);
  }
  const run = pgRunner(bin, dir, asUser);
  let stopped = false;
  const cluster: Cluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    restart: () => run('pg_ctl', ['restart', '-D', data, '-w', '-m', 'fast', '-l', join(dir, 'server.log')]),
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (existsSync(join(data, 'postmaster.pid'))) {
        try {
          run('pg_ctl', ['stop', '-D', data, '-w', '-m', 'immediate']);
        } catch {
          // Removing the folder below is what matters; a server left behind has lost its files.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    // fsync off: tests kill processes, never the machine, and the OS keeps what Postgres wrote.
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off -c max_connections=200`;
    run('pg_ctl', ['start', '-D', data, '-w', '-l', join(dir, 'server.log'), '-o', options]);
  } catch (err) {
    cluster.stop();
    throw err;
  }
  return cluster;
}

/** Runs one of the PostgreSQL binaries in `dir`, as `asUser` when given. */
function pgRunner(bin: string, dir: string, asUser: { uid: number; gid: number } | undefined) {
  return (cmd: string, args: string[]) => {
    const argv = asUser ? ['setpriv', `--reuid=${asUser.uid}`, `--regid=${asUser.gid}`, '--clear-groups', '--', join(bin, cmd), ...args] : [join(bin, cmd), ...args];
    try {
      execFileSync(argv[0]!, argv.slice(1), { stdio: 'pipe', cwd: dir, env: { ...process.env, LC_ALL: 'C' } });
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
      throw new Error(`${cmd} failed: ${e.stderr?.toString() || e.stdout?.toString() || e.message}`);
    }
  };
}

/**
 * `pg_ctl restart` of the cluster `npm test` started (its folder is in JUNJO_TEST_PGDIR): every
 * connection drops, and the server comes back on the same port. Undefined when the tests run
 * against a database of their own (DATABASE_URL given), which they must not restart.
 */
export function restartTestCluster(): (() => void) | undefined {
  const dir = process.env.JUNJO_TEST_PGDIR;
  const bin = postgresBinaries();
  if (!dir || !bin) return undefined;
  const run = pgRunner(bin, dir, serverUser());
  return () => run('pg_ctl', ['restart', '-D', join(dir, 'data'), '-w', '-m', 'fast', '-l', join(dir, 'server.log')]);
}

/** The user the server runs as, when this process is root (Postgres refuses root). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const out = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (out.status === 0) {
      const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim();
      return { uid: Number(out.stdout.trim()), gid: Number(gid) };
    }
  }
  throw new Error('running as root, and there is no postgres or nobody user to run PostgreSQL as (it refuses root)');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The database Postgres tests run against: `DATABASE_URL` (which `npm test` sets after starting
 * a cluster). Without it, null and a notice, so the caller skips — or, under `CI=true`, an error.
 */
export function databaseUrl(suiteName: string): string | null {
  const url = process.env.DATABASE_URL;
  if (url) return url;
  const why = postgresBinaries()
    ? 'DATABASE_URL is not set (run the tests with npm test, which starts a throwaway PostgreSQL)'
    : 'PostgreSQL is not installed (apt-get install -y postgresql) and DATABASE_URL is not set';
  if (process.env.CI) throw new Error(`${suiteName}: ${why}`);
  console.log(`\n  skipping ${suiteName}: ${why}; CI would fail here\n`);
  return null;
}

/**
 * What the Node stores say when they cannot work: a SQLite path that cannot be opened or
 * written is reported as such (what is wrong and what to do), never as a corrupt file; and an
 * entry whose driver is not installed (better-sqlite3, pg) says which package to install.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { CheckpointError } from '../../src/index.js';
import { SqliteCheckpointStore } from '../../src/durable/sqlite.js';

const test = suite('durable: store errors');
const dir = mkdtempSync(join(tmpdir(), 'junjo-store-errors-'));
test.after(() => {
  // Not even root's rmSync empties a folder it cannot list without first making it writable again.
  if (existsSync(join(dir, 'readonly'))) chmodSync(join(dir, 'readonly'), 0o755);
  rmSync(dir, { recursive: true, force: true });
});

function refusal(path: string): CheckpointError {
  try {
    new SqliteCheckpointStore(path).close();
  } catch (err) {
    assert.instance(err, CheckpointError);
    return err as CheckpointError;
  }
  return assert.unreachable(`opening '${path}' should fail`) as never;
}

test('a path under a file (no folder to create it in) is reported as such, not as a corrupt file', () => {
  writeFileSync(join(dir, 'a-file'), 'x');
  const error = refusal(join(dir, 'a-file', 'runs.db'));
  assert.is(error.problem, 'io');
  assert.match(error.message, /checkpoint database '.*a-file\/runs\.db' could not be opened \(SQLite says: unable to open database file, SQLITE_CANTOPEN\): its folder does not exist, is not a folder/);
  assert.not.match(error.message, /corrupt|backup/);
});

test('a read-only folder is reported as read-only, not as a corrupt file', async () => {
  const folder = join(dir, 'readonly');
  mkdirSync(folder);
  // A file made before the folder turned read-only, and one the store would have to create.
  new SqliteCheckpointStore(join(folder, 'existing.db')).close();
  rmSync(join(folder, 'existing.db-wal'), { force: true });
  rmSync(join(folder, 'existing.db-shm'), { force: true });
  chmodSync(folder, 0o555);
  const script = `
    import { SqliteCheckpointStore } from ${JSON.stringify(resolve('src/durable/sqlite.ts'))};
    for (const name of ['existing.db', 'new.db']) {
      try { new SqliteCheckpointStore(${JSON.stringify(folder)} + '/' + name).close(); console.log(name + ' opened'); }
      catch (e) { console.log(JSON.stringify({ name, problem: e.problem, message: e.message })); }
    }`;
  // Root may write anywhere: the check runs as an unprivileged user, as a real deployment would.
  // That user may not read this checkout (a clone in a private folder), so the script runs as
  // a bundle beside its own copy of the driver, all in the test's world-readable folder.
  // In a folder of its own: the driver copied there must not be seen by the other tests' bundles.
  const run = join(dir, 'as-nobody');
  mkdirSync(run, { mode: 0o755 });
  writeFileSync(join(run, 'open-readonly.mts'), script);
  await build({
    entryPoints: [join(run, 'open-readonly.mts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['better-sqlite3'],
    outfile: join(run, 'open-readonly.mjs'),
    logLevel: 'silent',
  });
  for (const pkg of ['better-sqlite3', 'bindings', 'file-uri-to-path']) {
    cpSync(resolve('node_modules', pkg), join(run, 'node_modules', pkg), { recursive: true });
  }
  chmodSync(dir, 0o755);
  const argv = userInfo().uid === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
  const out = execFileSync(argv[0]!, [...argv.slice(1), join(run, 'open-readonly.mjs')], { encoding: 'utf8', cwd: run });
  const results = out.trim().split('\n').map((l) => JSON.parse(l) as { name: string; problem: string; message: string });
  assert.equal(results.map((r) => [r.name, r.problem]), [['existing.db', 'io'], ['new.db', 'io']]);
  assert.match(results[0]!.message, /'.*readonly\/existing\.db' could not be opened \(SQLite says: attempt to write a readonly database, SQLITE_READONLY\w*\): the file or its folder is read-only for this process/);
  assert.match(results[1]!.message, /'.*readonly\/new\.db' could not be opened \(SQLite says: unable to open database file, SQLITE_CANTOPEN\): .*may not create files in it/);
  for (const r of results) assert.not.match(r.message, /corrupt|backup/);
});

/** Bundles `entry` (with its core) into a folder that has no node_modules, and runs `code` with it. */
async function withoutDriver(entry: string, driver: string, code: string): Promise<string> {
  const folder = mkdtempSync(join(dir, 'no-driver-'));
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: [driver],
    outfile: join(folder, 'entry.mjs'),
    logLevel: 'silent',
  });
  writeFileSync(join(folder, 'main.mjs'), `import * as entry from './entry.mjs';\ntry { ${code} } catch (e) { console.log(e.message); }\n`);
  return execFileSync(process.execPath, [join(folder, 'main.mjs')], { encoding: 'utf8', cwd: folder }).trim();
}

test('junjo-xstate/sqlite without better-sqlite3 says to install better-sqlite3@12', async () => {
  const out = await withoutDriver('src/durable/sqlite.ts', 'better-sqlite3', `new entry.SqliteCheckpointStore('runs.db');`);
  assert.is(out, "junjo-xstate/sqlite needs the package 'better-sqlite3', which is not installed: npm install better-sqlite3@12");
});

test('junjo-xstate/postgres without pg says to install pg@8', async () => {
  const out = await withoutDriver('src/postgres/index.ts', 'pg', `new entry.PostgresCheckpointStore('postgres://localhost/x');`);
  assert.is(out, "junjo-xstate/postgres needs the package 'pg', which is not installed: npm install pg@8");
});

test.run();

// The package as an app consumes it: CommonJS TypeScript users get CommonJS typings (.d.cts),
// and a Node made by one copy of the library (the CommonJS build) in a Graph made by another
// (the ESM build) is refused with an error that says two copies are loaded.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const test = suite('packaging');
const root = resolve('.');
const dir = mkdtempSync(join(tmpdir(), 'junjo-packaging-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Builds the core as the package's ESM and CommonJS builds do (xstate and immer external). */
async function twoCopies() {
  const common = { entryPoints: [join(root, 'src/index.ts')], bundle: true, external: ['xstate', 'immer', '@standard-schema/spec'], logLevel: 'silent' as const };
  await build({ ...common, format: 'esm', platform: 'neutral', outfile: join(root, 'node_modules/.cache/junjo-copies/index.mjs') });
  await build({ ...common, format: 'cjs', platform: 'node', outfile: join(root, 'node_modules/.cache/junjo-copies/index.cjs') });
  const esm = (await import(pathToFileURL(join(root, 'node_modules/.cache/junjo-copies/index.mjs')).href)) as typeof import('../src/index.js');
  const cjs = createRequire(import.meta.url)(join(root, 'node_modules/.cache/junjo-copies/index.cjs')) as typeof import('../src/index.js');
  return { esm, cjs };
}

test('a Node of the CommonJS build in a Graph of the ESM build: the error says two copies are loaded', async () => {
  const { esm, cjs } = await twoCopies();
  assert.is.not(esm.Graph, cjs.Graph);
  const foreign = cjs.node('FromRequire', () => {});
  const own = esm.node('FromImport', () => {});
  const twoCopiesMessage = /'FromRequire' was made by another copy of junjo-xstate\. Two copies are loaded/;
  assert.throws(() => new esm.Graph({ source: foreign, sinks: [foreign], edges: [] }), twoCopiesMessage);
  assert.throws(() => new esm.Edge({ tail: own, head: foreign }), twoCopiesMessage);
  assert.throws(() => new esm.RunConcurrent({ name: 'Both', items: [own, foreign] }), twoCopiesMessage);
  // A wrong value of no copy at all still gets the plain message.
  assert.throws(() => new esm.Graph({ source: {} as never, sinks: [], edges: [] }), /Graph source must be a Node/);
});

test("a store or graph of the other copy, returned by a workflow's factories, is named as such", async () => {
  const { esm, cjs } = await twoCopies();
  const Store = cjs.defineStore({ name: 'S', initial: { n: 0 }, actions: {} });
  const workflow = new esm.Workflow({
    name: 'Mixed',
    graph: () => {
      const a = esm.node('A', () => {});
      return new esm.Graph({ source: a, sinks: [a], edges: [] });
    },
    store: () => Store.create(),
  });
  const err = await workflow.execute().then(() => null, (e: unknown) => e);
  assert.match(String((err as Error)?.message), /store factory's store: it was made by another copy of junjo-xstate/);
  const graphOfOther = new esm.Workflow({
    name: 'MixedGraph',
    graph: () => {
      const a = cjs.node('A', () => {});
      return new cjs.Graph({ source: a, sinks: [a], edges: [] });
    },
    store: () => esm.defineStore({ name: 'T', initial: { n: 0 }, actions: {} }).create(),
  });
  const err2 = await Promise.resolve().then(() => graphOfOther.execute()).then(() => null, (e: unknown) => e);
  assert.match(String((err2 as Error)?.message), /another copy of junjo-xstate/);
});

test('installing from git or a folder builds the package: `prepare` runs build.mjs, and the files shipped are what it makes', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; files: string[]; exports: Record<string, unknown> };
  assert.match(pkg.scripts.prepare ?? '', /node build\.mjs|npm run build/);
  assert.ok(pkg.files.includes('dist'));
  // Every require entry has CommonJS typings; the inspector is ESM-only and says so by having none.
  for (const [entry, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'object' || target === null || !('require' in target)) continue;
    const req = (target as { require: { types?: string } }).require;
    assert.match(req.types ?? '', /\.d\.cts$/, `${entry}: require types`);
  }
  assert.not.ok('require' in (pkg.exports['./inspector'] as object), './inspector is ESM-only');
});

// The typings an app's TypeScript reads come from the build (dist/), which CI makes before the
// tests; without it this test cannot say anything, so it fails under CI and is skipped locally.
const built = existsSync(join(root, 'dist/types/src/index.d.cts'));
if (!built && !process.env.CI) console.log('packaging: no dist/ (run `npm run build`): the typings test is skipped');

(built || process.env.CI ? test : test.skip)('TypeScript with module node16: require from a .cts and import from a .mts both type-check', async () => {
  const app = join(dir, 'app');
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  symlinkSync(root, join(app, 'node_modules/junjo-xstate'), 'dir');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, types: [], skipLibCheck: true }, include: ['*.cts', '*.mts'] }),
  );
  const body = (from: string) => `
const Counter = junjo.defineStore({ name: 'Counter', initial: { n: 0 }, actions: { inc: (d) => { d.n += 1; } } });
const a = junjo.node<ReturnType<typeof Counter.create>>('A', async (s) => { await s.inc(); });
const wf = new junjo.Workflow({ name: 'W', graph: () => new junjo.Graph({ source: a, sinks: [a], edges: [] }), store: () => Counter.create() });
export const n: Promise<number> = wf.execute().then((r) => r.state.n);
export const sqlite: unknown = ${from}.SqliteCheckpointStore;
export const otel: unknown = ${from.replace('sqlite', 'otel')}.otelHooks;
`;
  writeFileSync(
    join(app, 'app.cts'),
    `import junjo = require('junjo-xstate');\nimport sqliteEntry = require('junjo-xstate/sqlite');\nimport otelEntry = require('junjo-xstate/otel');\n${body('sqliteEntry')}`,
  );
  writeFileSync(
    join(app, 'app.mts'),
    `import * as junjo from 'junjo-xstate';\nimport * as sqliteEntry from 'junjo-xstate/sqlite';\nimport * as otelEntry from 'junjo-xstate/otel';\n${body('sqliteEntry')}`,
  );
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const result = await run(process.execPath, [tsc, '-p', app], { cwd: app }).then(
    () => ({ ok: true, out: '' }),
    (e: { stdout?: string }) => ({ ok: false, out: e.stdout ?? '' }),
  );
  assert.ok(result.ok, result.out);
  // The require typings are CommonJS ones: no ESM-only syntax a CommonJS file could not load.
  assert.not.match(readFileSync(join(root, 'dist/types/src/index.d.cts'), 'utf8'), /from '\.[^']*\.js'/);
});

test.run();

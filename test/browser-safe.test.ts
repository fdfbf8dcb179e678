/**
 * The core is browser-safe: bundling src/index.ts for the browser pulls in nothing from Node.js
 * (no `node:` import, no bare builtin such as 'fs' or 'events').
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { builtinModules } from 'node:module';
import { build, type Plugin } from 'esbuild';

const test = suite('browser-safe core');
const builtins = new Set(builtinModules);

/** Bundles an entry (a path, or source text) for the browser; returns every Node import it makes. */
async function nodeImportsOf(entry: { path: string } | { contents: string }): Promise<string[]> {
  const found: string[] = [];
  const catchNode: Plugin = {
    name: 'catch-node-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, ({ path, importer }) => {
        if (path.startsWith('node:') || builtins.has(path) || builtins.has(path.split('/')[0]!)) {
          found.push(`${path} (imported by ${importer || 'the entry'})`);
          return { path, external: true };
        }
        return undefined;
      });
    },
  };
  await build({
    ...('path' in entry ? { entryPoints: [entry.path] } : { stdin: { contents: entry.contents, resolveDir: '.', loader: 'ts' } }),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    external: ['xstate', 'immer'],
    plugins: [catchNode],
    logLevel: 'silent',
  });
  return found;
}

test('src/index.ts bundles for the browser without any Node.js import', async () => {
  assert.equal(await nodeImportsOf({ path: 'src/index.ts' }), []);
});

test('the check does catch Node imports, prefixed or not', async () => {
  const found = await nodeImportsOf({ contents: "import 'node:fs'; import { EventEmitter } from 'events'; import 'fs/promises'; console.log(EventEmitter)" });
  assert.is(found.length, 3, found.join(', '));
});

test.run();

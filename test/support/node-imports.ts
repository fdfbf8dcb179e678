/** What the browser-safety tests share: which Node.js imports a browser bundle of an entry makes. */
import { builtinModules } from 'node:module';
import { build, type Plugin } from 'esbuild';

const builtins = new Set(builtinModules);

/** Bundles an entry (a path, or source text) for the browser; returns every Node import it makes. */
export async function nodeImportsOf(entry: { path: string } | { contents: string }): Promise<string[]> {
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

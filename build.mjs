// Builds the package with esbuild: ESM and CommonJS builds of the library, of its
// OpenTelemetry entry (`junjo-xstate/otel`), its Postgres entry (`junjo-xstate/postgres`) and its
// AI SDK entry (`junjo-xstate/ai`), a minified browser bundle of the core, the `junjo-xstate`
// command line (Node only) and the inspector's UI; then `tsc` emits the .d.ts files, and each
// gets a .d.cts twin for `require` users (see writeCommonJsTypings).
// xstate and immer stay external everywhere: an app and this library must share one XState,
// or the app's machines could not invoke ours.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const external = ['xstate', 'immer', '@standard-schema/spec', '@opentelemetry/api'];
const coreByName = {
  name: 'core-by-name',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: 'junjo-xstate', external: true }));
  },
};
// The Node-only entries load their optional peer dependency with createRequire (to say what to
// install when it is missing); in the CommonJS build that reads __filename, never import.meta.
const nodeOnly = (format) => (format === 'esm' ? {} : { logOverride: { 'empty-import-meta': 'silent' } });
const common = { entryPoints: ['src/index.ts'], bundle: true, external, target: 'es2022', sourcemap: true, logLevel: 'warning' };

rmSync('dist', { recursive: true, force: true });

await Promise.all([
  build({ ...common, format: 'esm', platform: 'neutral', outfile: 'dist/esm/index.js' }),
  build({ ...common, format: 'cjs', platform: 'node', outfile: 'dist/cjs/index.cjs' }),
  // The browser bundle: what an app's bundler would ship, minified, to report its size.
  build({ ...common, format: 'esm', platform: 'browser', minify: true, outfile: 'dist/browser/junjo-xstate.min.js' }),
  // `junjo-xstate/sqlite`: Node only. It imports the core by the package's own name, so an app
  // gets one CheckpointError class whichever entry threw it.
  ...['esm', 'cjs'].map((format) =>
    build({
      ...common,
      entryPoints: ['src/durable/sqlite.ts'],
      external: [...external, 'better-sqlite3'],
      plugins: [coreByName],
      ...nodeOnly(format),
      format,
      platform: 'node',
      outfile: format === 'esm' ? 'dist/esm/sqlite.js' : 'dist/cjs/sqlite.cjs',
    }),
  ),
  // `junjo-xstate/postgres`: Node only, like the SQLite entry; pg and pg-boss stay the app's own.
  ...['esm', 'cjs'].map((format) =>
    build({
      ...common,
      entryPoints: ['src/postgres/index.ts'],
      external: [...external, 'pg', 'pg-boss'],
      plugins: [coreByName],
      ...nodeOnly(format),
      format,
      platform: 'node',
      outfile: format === 'esm' ? 'dist/esm/postgres.js' : 'dist/cjs/postgres.cjs',
    }),
  ),
  // `junjo-xstate/ai`: Node- and browser-safe, so platform neutral; `ai` (a peer dependency)
  // stays external, and the core is imported by the package's own name, as above.
  ...['esm', 'cjs'].map((format) =>
    build({
      ...common,
      entryPoints: ['src/ai/index.ts'],
      external: [...external, 'ai'],
      plugins: [coreByName],
      format,
      platform: format === 'esm' ? 'neutral' : 'node',
      outfile: format === 'esm' ? 'dist/esm/ai.js' : 'dist/cjs/ai.cjs',
    }),
  ),
  // Its own entry, so the core never imports @opentelemetry/api; it imports only types from the core.
  build({ ...common, entryPoints: ['src/otel.ts'], format: 'esm', platform: 'neutral', outfile: 'dist/esm/otel.js' }),
  build({ ...common, entryPoints: ['src/otel.ts'], format: 'cjs', platform: 'node', outfile: 'dist/cjs/otel.cjs' }),
  build({
    ...common,
    entryPoints: ['bin/junjo-xstate.ts'],
    // The worker command's drivers are the app's own, like the postgres entry's.
    external: [...external, 'pg', 'pg-boss', 'better-sqlite3'],
    format: 'esm',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
    outfile: 'dist/cli/junjo-xstate.js',
  }),
]);
chmodSync('dist/cli/junjo-xstate.js', 0o755);

if (existsSync('inspector/build.mjs')) {
  const { buildInspector } = await import('./inspector/build.mjs');
  await buildInspector();
}

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
writeCommonJsTypings('dist/types');

const min = readFileSync('dist/browser/junjo-xstate.min.js');
console.log(
  `browser bundle (core, without xstate and immer): ${(min.length / 1024).toFixed(1)} KiB minified, ${(gzipSync(min).length / 1024).toFixed(1)} KiB gzipped`,
);

/**
 * A .d.cts beside every .d.ts, its relative imports pointing at the other .d.cts files. The
 * package is "type": "module", so TypeScript reads a .d.ts as ESM typings; a CommonJS user
 * resolving `require` to them gets TS1479 ("Masquerading as ESM" in attw). The declarations
 * are the same for both builds: only the module kind the file declares differs.
 */
function writeCommonJsTypings(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) writeCommonJsTypings(path);
    else if (entry.name.endsWith('.d.ts')) {
      const text = readFileSync(path, 'utf8').replace(
        /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*?)\.js\2/g,
        (_, lead, quote, target) => `${lead}${quote}${target}.cjs${quote}`,
      );
      writeFileSync(path.replace(/\.d\.ts$/, '.d.cts'), text);
    }
  }
}

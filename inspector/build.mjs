// Builds the inspector with esbuild into dist/inspector/: the browser UI (ui/), the CLI behind
// `npx junjo-inspector` (cli.js; also what bench/inspector-runmap.ts runs), the client helper apps import (client.js), the server
// (server.js, `junjo-xstate/inspector/server`), and the
// browser-app example page that sends a run to the UI (examples/browser-inspect/dist/), and
// the client's type declarations.
// The root build.mjs calls `buildInspector()`; the server calls `buildInspectorUi()` when it
// starts from a source checkout that was never built.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = (path) => join(root, path);
const quiet = { logLevel: 'warning', absWorkingDir: root };

export async function buildInspectorUi() {
  const out = at('dist/inspector/ui');
  mkdirSync(out, { recursive: true });
  await build({
    ...quiet,
    entryPoints: [at('inspector/ui/main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outfile: join(out, 'app.js'),
  });
  copyFileSync(at('inspector/ui/index.html'), join(out, 'index.html'));
  copyFileSync(at('inspector/ui/style.css'), join(out, 'style.css'));
}

/** The browser-app example: a classic script, not a module, so the page also works from disk. */
export async function buildBrowserInspectExample() {
  await build({
    ...quiet,
    entryPoints: [at('examples/browser-inspect/main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    // The client's Node transport, unreachable in a page.
    external: ['ws'],
    outfile: at('examples/browser-inspect/dist/app.js'),
  });
}

// Runtime dependencies stay external, as in the library build: the app installs them.
const external = ['ws', 'xstate', 'immer', '@statelyai/inspect', 'safe-stable-stringify', '@standard-schema/spec', 'better-sqlite3', 'pg'];

/** `npx junjo-inspector`, as the package ships it (also what bench/inspector-runmap.ts runs). */
export async function buildInspectorCli() {
  await build({
    ...quiet,
    entryPoints: [at('inspector/cli.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    banner: { js: '#!/usr/bin/env node' },
    outfile: at('dist/inspector/cli.js'),
  });
  chmodSync(at('dist/inspector/cli.js'), 0o755);
}

export async function buildInspector() {
  await Promise.all([
    buildInspectorUi(),
    buildInspectorCli(),
    build({
      ...quiet,
      entryPoints: [at('inspector/client.ts')],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      external,
      outfile: at('dist/inspector/client.js'),
    }),
    // `startInspectorServer` for apps and tools that run the inspector from code.
    build({
      ...quiet,
      entryPoints: [at('inspector/server.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external,
      outfile: at('dist/inspector/server.js'),
    }),
    buildBrowserInspectExample(),
  ]);
  // Types for `junjo-xstate/inspector` and `junjo-xstate/inspector/server`.
  execFileSync(process.execPath, [at('node_modules/typescript/bin/tsc'), '-p', at('inspector/tsconfig.build.json')], { stdio: 'inherit' });
}

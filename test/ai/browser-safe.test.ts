/**
 * `junjo-xstate/ai` is browser-safe: bundling src/ai/index.ts for the browser, the AI SDK and
 * the OpenAI-compatible provider bundled in too, pulls in nothing from Node.js.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { builtinModules } from 'node:module';
import { build, type Plugin } from 'esbuild';

const test = suite('ai: browser-safe');
const builtins = new Set(builtinModules);

async function nodeImportsOf(contents: string): Promise<string[]> {
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
    stdin: { contents, resolveDir: '.', loader: 'ts' },
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

test('src/ai/index.ts with ai and @ai-sdk/openai-compatible bundles for the browser without Node.js imports', async () => {
  const found = await nodeImportsOf(
    "export * from './src/ai/index.ts'; export { createOpenAICompatible } from '@ai-sdk/openai-compatible';",
  );
  assert.equal(found, []);
});

test('the check would catch a Node import', async () => {
  assert.is((await nodeImportsOf("import 'node:http'; export * from './src/ai/index.ts';")).length, 1);
});

test.run();

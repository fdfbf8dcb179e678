/**
 * `junjo-xstate/ai` is browser-safe: bundling src/ai/index.ts for the browser, the AI SDK and
 * the OpenAI-compatible provider bundled in too, pulls in nothing from Node.js.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeImportsOf as nodeImportsOfEntry } from '../support/node-imports.js';

const test = suite('ai: browser-safe');

const nodeImportsOf = (contents: string) => nodeImportsOfEntry({ contents });

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

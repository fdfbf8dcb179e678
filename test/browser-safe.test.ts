/**
 * The core is browser-safe: bundling src/index.ts for the browser pulls in nothing from Node.js
 * (no `node:` import, no bare builtin such as 'fs' or 'events').
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeImportsOf } from './support/node-imports.js';

const test = suite('browser-safe core');


test('src/index.ts bundles for the browser without any Node.js import', async () => {
  assert.equal(await nodeImportsOf({ path: 'src/index.ts' }), []);
});

test('the check does catch Node imports, prefixed or not', async () => {
  const found = await nodeImportsOf({ contents: "import 'node:fs'; import { EventEmitter } from 'events'; import 'fs/promises'; console.log(EventEmitter)" });
  assert.is(found.length, 3, found.join(', '));
});

test.run();

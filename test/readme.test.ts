import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const test = suite('README');

test("the model page's example runs as written and ends where its comment says", async () => {
  const readme = readFileSync('README.md', 'utf8');
  const block = readme.match(/## The model in a page\n\n```ts\n([\s\S]*?)```/)?.[1];
  assert.ok(block, 'the README has the model example');
  const dir = mkdtempSync(join(resolve('test'), '.readme-'));
  try {
    const file = join(dir, 'example.ts');
    const source = block.replace("from 'junjo-xstate'", `from '${resolve('src/index.ts')}'`);
    writeFileSync(file, `${source}\nconsole.log(JSON.stringify({ state, executionCounts, runId: typeof runId }));\n`);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { timeout: 60_000 });
    assert.equal(JSON.parse(stdout), {
      state: { items: ['a', 'b', 'c'], counter: 5 },
      executionCounts: { CountItems: 1, Both: 1, Increment: 1, Increment_2: 1, Odd: 1 },
      runId: 'string',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

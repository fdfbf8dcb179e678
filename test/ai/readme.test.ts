/**
 * The README's "LLM nodes and agents" model-node example runs as written (with the AI SDK's
 * mock model it uses): its tokens stream out and the node's completed event carries the
 * OpenInference attributes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const test = suite('ai: README');

test('the llm example of "LLM nodes and agents" runs and prints its tokens and attributes', async () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## LLM nodes and agents'));
  const block = section.match(/```ts\n([\s\S]*?)```/)?.[1];
  assert.ok(block, 'the section has a ts example');
  const dir = mkdtempSync(join(resolve('test'), '.readme-ai-'));
  try {
    const file = join(dir, 'example.ts');
    const source = block
      .replace("from 'junjo-xstate/ai'", `from '${resolve('src/ai/index.ts')}'`)
      .replace("from 'junjo-xstate'", `from '${resolve('src/index.ts')}'`);
    writeFileSync(file, source);
    // Without colours, whatever the test runner's environment forces.
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.FORCE_COLOR;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { timeout: 60_000, env });
    assert.ok(stdout.startsWith('{"title":"Otters","stars":5}'), stdout);
    assert.match(stdout, /'llm\.model_name': 'mock-model-id'/, stdout);
    assert.match(stdout, /'llm\.token_count\.completion': 3/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

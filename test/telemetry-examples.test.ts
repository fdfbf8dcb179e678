import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { research } from '../examples/telemetry/workflow.js';
import { toMermaid } from '../src/graph/render.js';

const run = promisify(execFile);
const test = suite('telemetry examples');
const doc = readFileSync('docs/hooks-stream-otel.md', 'utf8');

/** Runs a command of the doc's "Running the examples" section (`npx tsx` is `node --import tsx`). */
async function command(line: string): Promise<string> {
  const args = line.replace(/^npx tsx /, 'node --import tsx ').split(' ').slice(1);
  const { stdout } = await run(process.execPath, args, { timeout: 60_000 });
  return stdout;
}

const commands = doc
  .split('## Running the examples')[1]!
  .match(/```sh\n([\s\S]*?)```/)![1]!
  .trim()
  .split('\n');

test("every ts excerpt in the doc is in the file its first line names (imports as the package's)", () => {
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.is(blocks.length, 4);
  for (const block of blocks) {
    const [first, ...rest] = block.split('\n');
    const file = first!.match(/^\/\/ (examples\/telemetry\/\S+\.ts)$/)?.[1];
    assert.ok(file, `a ts block starts with the example file it comes from: ${first}`);
    const source = readFileSync(file!, 'utf8')
      .replaceAll("'../../src/index.js'", "'junjo-xstate'")
      .replaceAll("'../../src/otel.js'", "'junjo-xstate/otel'");
    assert.ok(source.includes(rest.join('\n')), `the excerpt of ${file} matches the file:\n${rest.join('\n')}`);
  }
});

test('the doc lists one command per example', () => {
  assert.equal(commands.map((c) => c.match(/examples\/telemetry\/\S+/)![0]), [
    'examples/telemetry/hooks.ts',
    'examples/telemetry/stream.ts',
    'examples/telemetry/otel.ts',
    'examples/telemetry/workflow.ts',
  ]);
});

test('hooks.ts prints every event in order, then the summary', async () => {
  const out = await command(commands[0]!);
  const lines = out.trim().split('\n');
  assert.match(lines[0]!, /^workflowStarted +Research$/);
  assert.match(out, /runConcurrentStarted +Research\/Search\n/);
  assert.match(out, / {2}Research\/Summarize write from Draft: \[\{"op":"replace","path":\["draft"\]/);
  assert.match(lines.at(-3)!, /^workflowCompleted +Research$/);
  assert.is(lines.at(-1), '5 nodes completed; summary: 3 sources: notes on statecharts, a web page, a paper');
  assert.not.match(out, /sk-secret/);
});

test('stream.ts prints the events and the result, then stops a run early', async () => {
  const out = await command(commands[1]!);
  assert.match(out, /^workflowStarted Research\n/);
  assert.match(out, /"apiKey":"\[redacted\]"/);
  assert.not.match(out, /sk-secret/);
  assert.match(out, /workflowCompleted Research\nresult: 3 sources: notes on actors, a web page, a paper\n/);
  assert.match(out, /stopped early: nodeCancelled Research\/SearchPapers, runConcurrentCancelled Research\/Search, workflowCancelled Research\n$/);
});

test('otel.ts prints the span tree the doc shows', async () => {
  const out = await command(commands[2]!);
  const tree = doc.split('prints the tree it recorded:')[1]!.match(/```\n([\s\S]*?)```/)![1]!;
  assert.ok(out.startsWith(tree), out);
  assert.match(out, /the workflow span's final state: \{"topic":"tracing","apiKey":"\[redacted\]"/);
});

test('the CLI prints the graph the doc shows, and DOT with --format dot', async () => {
  const mermaid = await command(commands[3]!.replace(' --format dot', ''));
  const shown = doc.split('bin/junjo-xstate.ts graph examples/telemetry/workflow.ts\n```\n\nprints')[1]!.match(/```\n([\s\S]*?)```/)![1]!;
  assert.is(mermaid, shown);
  assert.is(mermaid.trimEnd(), toMermaid(research.graph().toJSON(), { title: 'Research' }).trimEnd());
  const dot = await command(commands[3]!);
  assert.match(dot, /^digraph "Research" \{/);
  assert.match(dot, /"Summarize\/Draft" -> "Done" \[ltail="cluster_Summarize"\];/);
});

test.run();

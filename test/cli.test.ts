import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { sampleWorkflow } from '../examples/sample-with-subflow/workflow.js';
import { toDot, toMermaid } from '../src/graph/render.js';

const run = promisify(execFile);
const test = suite('cli');
const dir = 'test/artifacts/cli';
const example = 'examples/sample-with-subflow/workflow.ts';

/** Runs the CLI from its TypeScript source, as the docs show for .ts modules. */
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'bin/junjo-xstate.ts', ...args], { timeout: 60_000 });

/** Runs `node <file> ...args`; resolves with stdout, stderr and the exit code. */
async function node(file: string, args: string[], loader = false) {
  try {
    const { stdout, stderr } = await run(process.execPath, [...(loader ? ['--import', 'tsx'] : []), file, ...args], { timeout: 60_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const { stdout, stderr, code } = err as { stdout: string; stderr: string; code: number };
    return { stdout, stderr, code };
  }
}

/** What the CLI prints for `text`: one trailing newline. */
const line = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);
const expectedJSON = () => line(JSON.stringify(sampleWorkflow.graph().toJSON(), null, 2));

test('setup: bundle the CLI and the example the way build.mjs and a user would, as plain .js', async () => {
  mkdirSync(dir, { recursive: true });
  const external = ['xstate', 'immer', '@standard-schema/spec', '@opentelemetry/api'];
  await build({ entryPoints: ['bin/junjo-xstate.ts'], bundle: true, external, format: 'esm', platform: 'node', outfile: `${dir}/junjo-xstate.mjs`, logLevel: 'warning' });
  // The example's own copy of the library: the CLI must not rely on `instanceof`.
  await build({ entryPoints: [example], bundle: true, external, format: 'esm', platform: 'node', outfile: `${dir}/sample.mjs`, logLevel: 'warning' });
  writeFileSync(`${dir}/empty.mjs`, 'export const answer = 42;\n');
});

test('a built .js module with plain node: json, mermaid and dot', async () => {
  const json = await node(`${dir}/junjo-xstate.mjs`, ['graph', `${dir}/sample.mjs`, '--format', 'json']);
  assert.is(json.code, 0, json.stderr);
  assert.is(json.stdout, expectedJSON());
  const graph = JSON.parse(json.stdout);
  assert.is(graph.source, 'CountItems');
  assert.equal(graph.sinks, ['Final']);

  const mermaid = await node(`${dir}/junjo-xstate.mjs`, ['graph', `${dir}/sample.mjs`]);
  assert.is(mermaid.stdout, line(toMermaid(sampleWorkflow.graph().toJSON(), { title: 'SampleWithSubflow' })), 'mermaid is the default');
  assert.match(mermaid.stdout, /JokeAndFact -->\|"CounterIs15"\| CounterIs15Node/);

  const dot = await node(`${dir}/junjo-xstate.mjs`, ['graph', `${dir}/sample.mjs`, '-f', 'dot', '--export', 'sampleWorkflow']);
  assert.is(dot.stdout, line(toDot(sampleWorkflow.graph().toJSON(), { title: 'SampleWithSubflow' })));
  assert.match(dot.stdout, /^digraph "SampleWithSubflow" \{/);
});

test('a .ts module through a TypeScript loader; a graph factory by --export', async () => {
  assert.is((await cli('graph', example, '--format', 'json')).stdout, expectedJSON());
  const factory = await cli('graph', example, '--export', 'jokeAndFactGraph', '--format', 'json');
  assert.equal(JSON.parse(factory.stdout).nodes.map((n: { id: string }) => n.id), ['JokeAndFactTogether', 'MakeJoke', 'MakeFact', 'JokeAndFactDone']);
});

test('bad input: a clear message on stderr and exit code 1', async () => {
  const cases: [string[], RegExp][] = [
    [['graph', `${dir}/sample.mjs`, '--format', 'svg'], /unknown --format 'svg': use mermaid, dot, json/],
    [['graph', `${dir}/sample.mjs`, '--export', 'nope'], /'test\/artifacts\/cli\/sample.mjs' has no export 'nope' \(its exports: .*sampleWorkflow/],
    [['graph', `${dir}/sample.mjs`, '--export', 'SampleStore'], /export 'SampleStore' is not a Workflow, a Graph or a graph factory/],
    [['graph', `${dir}/empty.mjs`], /exports no Workflow or Graph; for a graph factory, name it with --export <name>/],
    [['graph', `${dir}/missing.mjs`], /cannot find the module 'test\/artifacts\/cli\/missing.mjs'/],
    [['graph', example], /cannot load 'examples\/sample-with-subflow\/workflow.ts': node needs a TypeScript loader, e.g. node --import tsx/],
    [['draw', 'x.js'], /unknown command 'draw'/],
    [[], /Usage: junjo-xstate graph <module>/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr, stdout } = await node(`${dir}/junjo-xstate.mjs`, args);
    assert.is(code, 1, `${args.join(' ')} fails`);
    assert.is(stdout, '');
    assert.match(stderr, message);
    assert.not.match(stderr, /\n\s+at /, 'no stack trace for bad input');
  }
  assert.match((await node(`${dir}/junjo-xstate.mjs`, ['--help'])).stdout, /--format, -f +mermaid \(default\), dot or json/);
});

test.run();

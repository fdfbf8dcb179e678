// Every TypeScript snippet in README.md and docs/*.md type-checks against the library as it is
// (strict, like the project). A snippet that is a fragment of a larger program says what it
// assumes in an HTML comment right above it, invisible on the rendered page:
//
//   <!-- snippet-context: declare const llm: { summarize(text: string, o: { signal: AbortSignal }): Promise<string> }; -->
//
// or names shared contexts from PRELUDES below (the repository's own examples, mostly):
//
//   <!-- snippet-uses: research react -->
//
// and `<!-- snippet-skip: why -->` leaves one out (say why). Also checks the sizes quoted in
// the docs against the build when dist/ exists.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { promisify } from 'node:util';

const run = promisify(execFile);
const test = suite('doc snippets');
const root = resolve('.');
const docs = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

// Snippet files live in test/.snippets-*/, so the examples are two folders up.
const PRELUDES: Record<string, string> = {
  research: `import { research } from '../../examples/telemetry/workflow.js'; declare const apiKey: string; declare const input: { topic: string; apiKey: string };`,
  order: `import { orderWorkflow, type OrderInput, type OrderStoreHandle } from '../../examples/app-actors/workflow.js'; declare const order: OrderInput;`,
  xstate: `import { assertEvent, assign, createActor, sendTo, setup, spawnChild } from 'xstate';`,
  // A workflow of the repository's, under the name the docs use for "your workflow".
  workflow: `import { orderWorkflow as workflow, type OrderInput } from '../../examples/app-actors/workflow.js'; declare const input: OrderInput;`,
  run: `import { type ActorRefFrom } from 'xstate'; declare const run: ActorRefFrom<typeof workflow.machine>;`,
  react: `import { useActorRef, useSelector } from '@xstate/react';`,
  joke: `import { Subflow } from 'junjo-xstate'; import { JokeStore, jokeAndFactGraph, type JokeStoreHandle, type SampleStoreHandle } from '../../examples/sample-with-subflow/workflow.js';`,
  docs: `import { RunMap, node, defineStore, type StateOf, type StoreOf } from 'junjo-xstate';
const Docs = defineStore({ name: 'Docs', initial: { documents: [] as { text: string }[], summaries: [] as string[] }, actions: { setSummary: (d, i: number, s: string) => { d.summaries[i] = s; } } });
type DocsState = StateOf<typeof Docs>; type DocsStore = StoreOf<typeof Docs>;
declare const llm: { summarize(text: string, options: { signal: AbortSignal }): Promise<string> };`,
  otel: `import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'; import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'; import { trace } from '@opentelemetry/api'; import { otelHooks } from 'junjo-xstate/otel';`,
  events: `import type { WorkflowEvent } from 'junjo-xstate';`,
};

interface Snippet {
  file: string;
  line: number;
  lang: 'ts' | 'tsx';
  code: string;
  context: string;
  skip?: string;
}

function snippetsOf(file: string): Snippet[] {
  const text = readFileSync(file, 'utf8');
  const found: Snippet[] = [];
  const fence = /^```(ts|tsx)\n([\s\S]*?)^```/gm;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const before = text.slice(0, m.index);
    const line = before.split('\n').length;
    // The comments directly above the fence (blank lines allowed between).
    const above = /((?:<!--(?:(?!-->|<!--|```)[\s\S])*-->\s*)*)$/.exec(before)?.[1] ?? '';
    const uses = [...above.matchAll(/<!-- snippet-uses:([\s\S]*?)-->/g)].flatMap((u) => u[1]!.trim().split(/\s+/));
    for (const name of uses) if (!(name in PRELUDES)) throw new Error(`${file}:${line}: no prelude named '${name}' (see PRELUDES)`);
    const context = [
      ...uses.map((name) => PRELUDES[name]!),
      ...[...above.matchAll(/<!-- snippet-context:([\s\S]*?)-->/g)].map((c) => c[1]!.trim()),
    ].join('\n');
    const skip = /<!-- snippet-skip:([\s\S]*?)-->/.exec(above)?.[1]?.trim();
    found.push({ file, line, lang: m[1] as 'ts' | 'tsx', code: m[2]!, context, ...(skip ? { skip } : {}) });
  }
  return found;
}

test('every ts/tsx snippet in README.md and docs/ type-checks', async () => {
  const snippets = docs.flatMap(snippetsOf);
  assert.ok(snippets.length >= 20, `found ${snippets.length} snippets`);
  const dir = mkdtempSync(join(root, 'test', '.snippets-'));
  try {
    const names = new Map<string, Snippet>();
    snippets.forEach((snippet, i) => {
      if (snippet.skip) return;
      const name = `snippet-${i}.${snippet.lang}`;
      names.set(name, snippet);
      // Each snippet is a module of its own; its context comes first, then the snippet as written.
      writeFileSync(join(dir, name), `${snippet.context}\n${snippet.code}\nexport {};\n`);
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], jsx: 'react-jsx',
          strict: true, noEmit: true, skipLibCheck: true, types: ['node'], allowImportingTsExtensions: true,
          paths: {
            'junjo-xstate': [join(root, 'src/index.ts')],
            'junjo-xstate/sqlite': [join(root, 'src/durable/sqlite.ts')],
            'junjo-xstate/otel': [join(root, 'src/otel.ts')],
            'junjo-xstate/ai': [join(root, 'src/ai/index.ts')],
            'junjo-xstate/postgres': [join(root, 'src/postgres/index.ts')],
            'junjo-xstate/inspector': [join(root, 'inspector/client.ts')],
          },
        },
        include: ['*.ts', '*.tsx'],
      }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const out = await run(process.execPath, [tsc, '-p', dir], { cwd: dir, maxBuffer: 16 << 20 }).then(
      () => '',
      (e: { stdout?: string }) => e.stdout ?? String(e),
    );
    // Name each error by the doc and line it comes from.
    const located = out.replace(/^(snippet-\d+\.tsx?)\((\d+),(\d+)\)/gm, (whole, name: string, l: string) => {
      const s = names.get(name);
      if (!s) return whole;
      const contextLines = s.context ? s.context.split('\n').length : 1;
      return `${s.file}:${s.line + Number(l) - contextLines}`;
    });
    assert.is(located, '', `snippets that do not type-check:\n${located}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every skipped snippet says why', () => {
  for (const s of docs.flatMap(snippetsOf)) if (s.skip !== undefined) assert.ok(s.skip.length > 10, `${s.file}:${s.line}`);
});

// Sizes are quoted as "about N KiB": each must be within 5% of what the build makes, so the docs
// stay true without being rewritten for every byte a change adds.
function assertAbout(text: string, pattern: RegExp, bytes: number, what: string) {
  const quoted = pattern.exec(text)?.[1];
  assert.ok(quoted, `${what}: the docs should quote it (${pattern})`);
  const actual = bytes / 1024;
  assert.ok(Math.abs(Number(quoted) - actual) / actual <= 0.05, `${what}: the docs say about ${quoted} KiB, the build makes ${actual.toFixed(1)} KiB`);
}

// The core bundle's size comes from the build; without dist/ there is nothing to compare it with.
const built = existsSync(join(root, 'dist/browser/junjo-xstate.min.js'));
(built || process.env.CI ? test : test.skip)("the browser bundle sizes quoted in the docs are the build's", () => {
  const min = readFileSync(join(root, 'dist/browser/junjo-xstate.min.js'));
  const readme = readFileSync('README.md', 'utf8').replace(/\s+/g, ' ');
  const apps = readFileSync('docs/apps.md', 'utf8');
  assertAbout(readme, /is about ([\d.]+) KiB minified/, min.length, 'README, minified');
  assertAbout(readme, /minified, ([\d.]+) KiB gzipped/, gzipSync(min).length, 'README, gzipped');
  assertAbout(apps, /\| `dist\/browser\/junjo-xstate\.min\.js`[^|]*\| about ([\d.]+) KiB \|/, min.length, 'docs/apps.md, minified');
  assertAbout(apps, /\| `dist\/browser\/junjo-xstate\.min\.js`[^|]*\| about [\d.]+ KiB \| about ([\d.]+) KiB \|/, gzipSync(min).length, 'docs/apps.md, gzipped');
});

test('the example page sizes quoted in docs/apps.md are what their pages bundle to', async () => {
  const { servePage } = await import('../examples/shared/serve-page.js');
  const apps = readFileSync('docs/apps.md', 'utf8').replace(/\s+/g, ' ');
  for (const [dir, entry, label] of [['examples/browser', 'main.ts', 'the browser page'], ['examples/react', 'main.tsx', 'the React page']] as const) {
    const page = await servePage({ dir: join(root, dir), entry });
    try {
      assertAbout(apps, new RegExp(`${label} about ([\\d.]+) KiB`), page.scriptBytes, label);
    } finally {
      await page.close();
    }
  }
});

test.run();

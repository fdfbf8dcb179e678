/**
 * The `junjo-xstate` command line:
 *
 *   junjo-xstate graph <module> [--export name] [--format mermaid|dot|json]
 *
 * prints the graph of a Workflow (or a Graph, or a graph factory) that a module exports;
 *
 *   junjo-xstate worker <module> --database-url postgres://… [--concurrency N] [--lease-ms N] [--schema s]
 *
 * executes runs of its workflows from a RunQueue (src/postgres/worker-command.ts).
 * The module is loaded with `import()`, so it is a built `.js` file; a `.ts` file loads when
 * node has a TypeScript loader: `node --import tsx node_modules/junjo-xstate/dist/cli/junjo-xstate.js graph src/flow.ts`.
 *
 * The graph is read through its own `toJSON()` (never `instanceof`), so a module bundled with
 * its own copy of junjo-xstate renders the same; Mermaid and DOT are rendered from that JSON.
 * Node-only: built apart from the browser-safe core.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { toDot, toMermaid } from '../src/graph/render.js';
import type { GraphJSON } from '../src/graph/to-json.js';

const USAGE = `Usage: junjo-xstate graph <module> [--export name] [--format mermaid|dot|json]
       junjo-xstate worker <module> --database-url postgres://… [--concurrency N] [--lease-ms N] [--schema s]

Prints the graph of a Workflow, Graph or graph factory exported by <module> (a .js file;
for a .ts file run node with a TypeScript loader, e.g. node --import tsx ...).

  --export, -e   the export to draw (default: the one Workflow or Graph the module exports)
  --format, -f   mermaid (default), dot or json

worker: executes the runs of the workflows <module> exports, taken from the RunQueue in
that database (pg and pg-boss@10 installed), until SIGTERM (drains) or a second SIGTERM.`;

const FORMATS = ['mermaid', 'dot', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** A user-facing failure: printed without a stack trace. */
class CliError extends Error {}

interface GraphLike {
  name?: string;
  toJSON(): GraphJSON;
}

const isGraph = (value: unknown): value is GraphLike =>
  typeof value === 'object' && value !== null && typeof (value as GraphLike).toJSON === 'function' && Array.isArray((value as { entries?: unknown }).entries);

const isWorkflow = (value: unknown): value is { name: string; graph: () => unknown } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { name?: unknown }).name === 'string' &&
  typeof (value as { graph?: unknown }).graph === 'function' &&
  typeof (value as { store?: unknown }).store === 'function';

/** The graph (and a title) of one export: a Workflow, a Graph or a graph factory. */
function graphOf(name: string, value: unknown): { json: GraphJSON; title: string | undefined } {
  if (isWorkflow(value)) {
    const graph = value.graph();
    if (!isGraph(graph)) throw new CliError(`export '${name}': the workflow's graph factory did not return a Graph`);
    return { json: graph.toJSON(), title: value.name };
  }
  if (isGraph(value)) return { json: value.toJSON(), title: value.name };
  if (typeof value === 'function') {
    const graph = (value as () => unknown)();
    if (!isGraph(graph)) throw new CliError(`export '${name}' is a function but did not return a Graph when called with no arguments`);
    return { json: graph.toJSON(), title: graph.name ?? name };
  }
  throw new CliError(`export '${name}' is not a Workflow, a Graph or a graph factory`);
}

async function load(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(path)).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (err as Error).message.includes(resolve(path))) {
      throw new CliError(`cannot find the module '${path}'`);
    }
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[mc]?tsx?$/.test(path)) {
      throw new CliError(
        `cannot load '${path}': node needs a TypeScript loader, e.g. node --import tsx <this cli> graph ${path} (or build it to .js first)`,
      );
    }
    throw err;
  }
}

function pick(module: Record<string, unknown>, path: string, exportName: string | undefined): [string, unknown] {
  if (exportName !== undefined) {
    if (!(exportName in module)) {
      throw new CliError(`'${path}' has no export '${exportName}' (its exports: ${Object.keys(module).join(', ') || 'none'})`);
    }
    return [exportName, module[exportName]];
  }
  const candidates = Object.entries(module).filter(([, value]) => isWorkflow(value) || isGraph(value));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new CliError(`'${path}' exports no Workflow or Graph; for a graph factory, name it with --export <name>`);
  }
  throw new CliError(`'${path}' exports several graphs (${candidates.map(([name]) => name).join(', ')}); choose one with --export <name>`);
}

async function main(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      export: { type: 'string', short: 'e' },
      format: { type: 'string', short: 'f', default: 'mermaid' },
      help: { type: 'boolean', short: 'h' },
      'database-url': { type: 'string' },
      concurrency: { type: 'string' },
      'lease-ms': { type: 'string' },
      schema: { type: 'string' },
    },
  });
  if (values.help) return USAGE;
  const [command, path, ...rest] = positionals;
  if (command === 'worker' && path !== undefined && rest.length === 0) {
    const { workerCommand } = await import('../src/postgres/worker-command.js');
    const options = { databaseUrl: values['database-url'], concurrency: values.concurrency, leaseMs: values['lease-ms'], schema: values.schema };
    return workerCommand(await load(path), path, options, (message) => new CliError(message));
  }
  if (command !== 'graph') throw new CliError(command === undefined ? USAGE : `unknown command '${command}'\n\n${USAGE}`);
  if (path === undefined || rest.length > 0) throw new CliError(USAGE);
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new CliError(`unknown --format '${values.format}': use ${FORMATS.join(', ')}`);

  const [name, value] = pick(await load(path), path, values.export);
  const { json, title } = graphOf(name, value);
  const options = title === undefined ? {} : { title };
  if (format === 'json') return JSON.stringify(json, null, 2);
  return format === 'dot' ? toDot(json, options) : toMermaid(json, options);
}

main(process.argv.slice(2)).then(
  (output) => {
    process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
  },
  (err: unknown) => {
    process.stderr.write(`junjo-xstate: ${err instanceof CliError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? (err as Error).message : (err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);

/**
 * Graphs built to break the runtime: a subflow inside itself, an empty RunConcurrent run
 * without validation, a graph changed after construction, a node nothing leads to. Each must
 * end in a clear answer — never a stack overflow, a hang or a silently stale graph.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Edge, Graph, GraphValidationError, RunConcurrent, Subflow, Workflow, isWarning, node } from '../../src/index.js';
import { InertStore, LogStore } from '../fixtures/stores.js';

const test = suite('hostile graphs');

const noop = (name: string) => node(name, async () => {});

/** Subflow A runs B, which runs A again: each factory makes fresh instances, as real ones do. */
function cyclicGraph(ran: string[]): Graph {
  const a = (): Subflow =>
    new Subflow({
      name: 'A',
      store: () => InertStore.create(),
      graph: () => {
        const start = node('InA', () => void ran.push('InA'));
        const b = new Subflow({
          name: 'B',
          store: () => InertStore.create(),
          graph: () => {
            const inner = a();
            return new Graph({ source: inner, sinks: [inner], edges: [] });
          },
        });
        return new Graph({ source: start, sinks: [b], edges: [new Edge({ tail: start, head: b })] });
      },
    });
  const first = node('First', () => void ran.push('First'));
  const outer = a();
  return new Graph({ source: first, sinks: [outer], edges: [new Edge({ tail: first, head: outer })] });
}

test('a subflow that contains itself (A → B → A) is named in problems(), and toJSON and rendering terminate', () => {
  const graph = cyclicGraph([]);
  const problems = graph.problems();
  assert.ok(
    problems.some((p) => p.includes("subflow 'A' contains itself ('A' → 'B' → 'A')")),
    problems.join('\n'),
  );
  const json = graph.toJSON();
  const a = json.nodes.find((n) => n.name === 'A')!;
  const b = a.graph!.nodes.find((n) => n.name === 'B')!;
  const again = b.graph!.nodes.find((n) => n.name === 'A')!;
  assert.is(again.graph, undefined, 'the JSON stops where the cycle returns');
  assert.match(graph.toMermaid(), /flowchart TD/);
  assert.match(graph.toDot(), /digraph/);
});

test('a workflow whose subflows contain themselves rejects with a GraphValidationError before anything runs', async () => {
  const ran: string[] = [];
  let stores = 0;
  const workflow = new Workflow({
    name: 'Cyclic',
    graph: () => cyclicGraph(ran),
    store: () => (stores++, LogStore.create()),
  });
  const run = workflow.execute();
  assert.instance(run, Promise);
  const error = await run.then(
    () => assert.unreachable('the run should have been refused'),
    (err: unknown) => err,
  );
  assert.instance(error, GraphValidationError);
  assert.match((error as Error).message, /subflow 'A' contains itself \('A' → 'B' → 'A'\)/);
  assert.equal(ran, []);
  assert.is(stores, 0);
});

test('the store factory is not called for a run whose graph is refused', async () => {
  let stores = 0;
  const workflow = new Workflow({
    name: 'NoSinks',
    graph: () => {
      const only = noop('Only');
      return new Graph({ source: only, sinks: [], edges: [] });
    },
    store: () => (stores++, LogStore.create()),
  });
  const error = await workflow.execute().catch((err: unknown) => err);
  assert.instance(error, GraphValidationError);
  assert.is(stores, 0);
});

test('an empty RunConcurrent run without validation completes at once, and its edges are taken', async () => {
  const workflow = new Workflow({
    name: 'EmptyGroup',
    graph: () => {
      const group = new RunConcurrent({ name: 'Nothing', items: [] });
      const end = node<ReturnType<typeof LogStore.create>>('End', (store) => store.log('end'));
      return new Graph({ source: group, sinks: [end], edges: [new Edge({ tail: group, head: end })] });
    },
    store: () => LogStore.create(),
  });
  assert.ok(workflow.graph().problems().some((p) => p.startsWith("RunConcurrent 'Nothing' has no items")));
  const result = await workflow.execute(undefined, { validate: false });
  assert.equal(result.state.log, ['end']);
  assert.is(result.executionCounts.Nothing, 1);
});

test('graphs and edges cannot be changed after construction', () => {
  const a = noop('A');
  const b = noop('B');
  const edge = new Edge({ tail: a, head: b });
  const graph = new Graph({ source: a, sinks: [b], edges: [edge] });
  assert.throws(() => (graph.edges as Edge[]).push(new Edge({ tail: b, head: a })), TypeError);
  assert.throws(() => (graph.sinks as unknown[]).push(a), TypeError);
  assert.throws(() => ((edge as { head: unknown }).head = a), TypeError);
  assert.throws(() => ((graph as { source: unknown }).source = b), TypeError);
  const group = new RunConcurrent({ name: 'G', items: [noop('X')] });
  assert.throws(() => (group.items as unknown[]).push(noop('Y')), TypeError);
  assert.is(graph.keyOf(b), 'B');
});

test('a node nothing leads to, with an edge to a sink, is a warning in problems(), not an error', async () => {
  const graphOf = () => {
    const start = noop('Start');
    const orphan = noop('Orphan');
    const end = noop('End');
    return new Graph({
      source: start,
      sinks: [end],
      edges: [new Edge({ tail: start, head: end }), new Edge({ tail: orphan, head: end })],
    });
  };
  const problems = graphOf().problems();
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.ok(isWarning(problems[0]!));
  assert.match(problems[0]!, /^warning: 'Orphan' cannot be reached from source 'Start', so it never runs/);
  const graph = graphOf();
  assert.is(graph.validate(), graph);
  const result = await new Workflow({ name: 'WithOrphan', graph: graphOf, store: () => InertStore.create() }).execute();
  assert.equal(result.executionCounts, { Start: 1, End: 1 });
});

test.run();

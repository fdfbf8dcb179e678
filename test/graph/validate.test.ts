import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Edge, Graph, GraphValidationError, RunConcurrent, Subflow, Workflow, condition, node } from '../../src/index.js';
import { InertStore } from '../fixtures/stores.js';

const noop = (name: string) => node(name, async () => {});

const test = suite('graph validation');

function problemsOf(build: () => Graph): string[] {
  return build().problems();
}

test('a valid graph with a cycle has no problems', () => {
  const a = noop('A');
  const b = noop('B');
  const end = noop('End');
  const g = new Graph({
    source: a,
    sinks: [end],
    edges: [
      new Edge({ tail: a, head: b }),
      new Edge({ tail: b, head: a, condition: condition('Again', () => false) }),
      new Edge({ tail: b, head: end }),
    ],
  });
  assert.equal(g.problems(), []);
  assert.is(g.validate(), g);
});

test('an unreachable sink is named', () => {
  const problems = problemsOf(() => {
    const a = noop('A');
    const b = noop('B');
    const lonely = noop('Lonely');
    return new Graph({ source: a, sinks: [b, lonely], edges: [new Edge({ tail: a, head: b })] });
  });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /sink 'Lonely' cannot be reached from source 'A'/);
});

test('a sink with outgoing edges is named with its heads', () => {
  const problems = problemsOf(() => {
    const a = noop('A');
    const b = noop('B');
    const c = noop('C');
    return new Graph({
      source: a,
      sinks: [b, c],
      edges: [new Edge({ tail: a, head: b }), new Edge({ tail: b, head: c })],
    });
  });
  assert.equal(problems, [
    "sink 'B' has outgoing edges (to 'C'): a sink ends the run; remove the edges or the node from 'sinks'",
  ]);
});

test('a reachable dead end is named', () => {
  const problems = problemsOf(() => {
    const a = noop('A');
    const dead = noop('DeadEnd');
    const end = noop('End');
    return new Graph({
      source: a,
      sinks: [end],
      edges: [new Edge({ tail: a, head: dead }), new Edge({ tail: a, head: end })],
    });
  });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /'DeadEnd' has no outgoing edge and is not a sink/);
});

test('empty sinks', () => {
  const problems = problemsOf(() => {
    const a = noop('A');
    return new Graph({ source: a, sinks: [], edges: [] });
  });
  assert.ok(problems.some((p) => /has no sinks/.test(p)));
  assert.ok(problems.some((p) => /'A' has no outgoing edge/.test(p)));
});

test('RunConcurrent: empty, and an item used twice', () => {
  const problems = problemsOf(() => {
    const shared = noop('Shared');
    const empty = new RunConcurrent({ name: 'Empty', items: [] });
    const group = new RunConcurrent({ name: 'Group', items: [shared] });
    const end = noop('End');
    return new Graph({
      source: empty,
      sinks: [end],
      edges: [
        new Edge({ tail: empty, head: group }),
        new Edge({ tail: group, head: shared }),
        new Edge({ tail: shared, head: end }),
      ],
    });
  });
  assert.ok(problems.some((p) => p.startsWith("RunConcurrent 'Empty' has no items")));
  assert.ok(problems.some((p) => p.startsWith("'Shared' is an item of RunConcurrent 'Group' and also of the graph")));
});

test('problems inside a subflow are named with the subflow', () => {
  const problems = problemsOf(() => {
    const inner = () => {
      const x = noop('X');
      return new Graph({ source: x, sinks: [], edges: [] });
    };
    const sub = new Subflow({ name: 'Inner', graph: inner, store: () => InertStore.create() });
    const end = noop('End');
    return new Graph({ source: sub, sinks: [end], edges: [new Edge({ tail: sub, head: end })] });
  });
  assert.ok(problems.some((p) => p.startsWith("in subflow 'Inner': the graph has no sinks")));
  assert.ok(problems.some((p) => p.startsWith("in subflow 'Inner': 'X' has no outgoing edge")));
});

test('execute validates before any node runs, and validate:false skips it', async () => {
  let ran = 0;
  const workflow = new Workflow({
    name: 'Invalid',
    graph: () => {
      const a = node('A', async () => {
        ran++;
      });
      const dead = node('Dead', async () => {
        ran++;
      });
      const end = noop('End');
      return new Graph({
        source: a,
        sinks: [end],
        edges: [new Edge({ tail: a, head: dead, condition: condition('Never', () => false) }), new Edge({ tail: a, head: end })],
      });
    },
    store: () => InertStore.create(),
  });
  try {
    await workflow.execute();
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, GraphValidationError);
    assert.match((err as Error).message, /Graph 'Invalid' is invalid/);
    assert.match((err as Error).message, /'Dead' has no outgoing edge and is not a sink/);
  }
  assert.is(ran, 0);
  const result = await workflow.execute(undefined, { validate: false });
  assert.is(ran, 1);
  assert.equal(result.executionCounts, { A: 1, End: 1 });
});

test('keys are unique names, stable across builds', () => {
  const build = () => {
    const a = noop('Step');
    const b = noop('Step');
    const c = noop('a.b#c');
    return new Graph({ source: a, sinks: [c], edges: [new Edge({ tail: a, head: b }), new Edge({ tail: b, head: c })] });
  };
  assert.equal(build().entries.map((e) => e.key), ['Step', 'Step_2', 'a_b_c']);
  assert.equal(build().entries.map((e) => e.key), build().entries.map((e) => e.key));
});

test('bad constructor input gets a clear error', () => {
  assert.throws(() => new Edge({ tail: {} as never, head: noop('B') }), /Edge tail must be a Node, RunConcurrent or Subflow, got an object/);
  assert.throws(() => node('', async () => {}), /needs a non-empty name/);
  assert.throws(() => new RunConcurrent({ name: 'G', items: [1 as never] }), /RunConcurrent 'G': item 0 is not a Node/);
});

test.run();

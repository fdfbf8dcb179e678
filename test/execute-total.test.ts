// execute() is total: whatever the factories throw, it returns a promise that rejects (never a
// synchronous throw, which would escape `.then/.catch` and can crash the process), and graph
// validation lists an unprintable throw instead of throwing a TypeError of its own.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Graph, Subflow, Workflow, defineStore } from '../src/index.js';

const test = suite('execute() under throwing factories');
const S = defineStore({ name: 'S', initial: { n: 0 }, actions: {} });

for (const [label, make] of [
  ['an Error', () => new Error('factory broke')],
  ['a null-prototype object', () => Object.create(null) as object],
] as const) {
  test(`a graph factory throwing ${label}: execute() returns a promise that rejects with it`, async () => {
    const thrown = make();
    const workflow = new Workflow({
      name: 'Throws',
      graph: (): Graph => {
        throw thrown;
      },
      store: () => S.create(),
    });
    let promise: Promise<unknown> | undefined;
    assert.not.throws(() => {
      promise = workflow.execute();
    });
    const err = await promise!.then(() => null, (e: unknown) => e);
    assert.is(err, thrown);
  });

  test(`a subflow's graph factory throwing ${label}: problems() lists it, execute() rejects`, async () => {
    const thrown = make();
    const graph = () => {
      const sub = new Subflow({
        name: 'Sub',
        graph: (): Graph => {
          throw thrown;
        },
        store: () => S.create(),
      });
      return new Graph({ source: sub, sinks: [sub], edges: [] });
    };
    const problems = graph().problems();
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /subflow 'Sub': its graph factory threw: /);
    const workflow = new Workflow({ name: 'SubThrows', graph, store: () => S.create() });
    const err = await Promise.resolve()
      .then(() => workflow.execute())
      .then(() => null, (e: unknown) => e);
    assert.ok(err !== null, 'the run failed');
  });
}

test.run();

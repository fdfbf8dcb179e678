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

test('a redact that throws does not fail the run; hooks get a placeholder, never the unredacted state', async () => {
  const Secret = defineStore({ name: 'Secret', initial: { apiKey: 'sk-secret', n: 0 }, actions: { inc: (d) => void (d.n += 1) } });
  const seen: unknown[] = [];
  const original = console.error;
  const errors: string[] = [];
  console.error = (...args: unknown[]) => void errors.push(args.join(' '));
  try {
    const workflow = new Workflow({
      name: 'BadRedact',
      graph: () => {
        const a = Secret.node('A', (s) => s.inc());
        return new Graph({ source: a, sinks: [a], edges: [] });
      },
      store: () => Secret.create(),
      redact: () => {
        throw new Error('redact broke');
      },
      hooks: { onEvent: (e) => void ('state' in e && seen.push(e.state)) },
    });
    const { state } = await workflow.execute();
    assert.equal(state, { apiKey: 'sk-secret', n: 1 });
    assert.ok(seen.length > 0);
    assert.ok(seen.every((s) => s === undefined || s === '[hidden: redact threw]'), JSON.stringify(seen));
    assert.not.match(JSON.stringify(seen), /sk-secret/);
    assert.match(errors.join('\n'), /redact threw.*redact broke/);
  } finally {
    console.error = original;
  }
});

test.run();

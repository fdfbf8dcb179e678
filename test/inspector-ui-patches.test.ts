/**
 * The page's patch applier (inspector/ui/patches.ts) against immer, whose patches a store's
 * commits carry: for every kind of change a store action makes to plain data, the state it
 * rebuilds equals immer's, shares the parts the patches do not touch, and leaves the previous
 * state as it was.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { enablePatches, produceWithPatches, type Draft } from 'immer';
import { applyPatches } from '../inspector/ui/patches.js';

enablePatches();
const test = suite('inspector page patches');

interface State {
  n: number;
  name?: string;
  list: number[];
  rows: { id: number; tags: string[] }[];
  nested: { a: { b: { c: number } }; other: { untouched: boolean } };
  map: Record<string, number>;
}
const initial = (): State => ({
  n: 0,
  name: 'x',
  list: [0, 1, 2, 3, 4, 5],
  rows: [{ id: 1, tags: ['a'] }, { id: 2, tags: [] }],
  nested: { a: { b: { c: 1 } }, other: { untouched: true } },
  map: { one: 1, two: 2 },
});

const changes: [string, (d: Draft<State>) => void][] = [
  ['a number replaced', (d) => void (d.n += 1)],
  ['a key removed', (d) => void delete d.name],
  ['a key added', (d) => void (d.map.three = 3)],
  ['a deep value replaced', (d) => void (d.nested.a.b.c = 2)],
  ['pushed onto an array', (d) => void d.list.push(6, 7)],
  ['an array cut shorter', (d) => void (d.list.length = 2)],
  ['spliced out of an array', (d) => void d.list.splice(1, 2)],
  ['spliced into an array', (d) => void d.list.splice(2, 0, 9, 9)],
  ['unshifted onto an array', (d) => void d.list.unshift(-1)],
  ['an array filtered', (d) => void (d.list = d.list.filter((x) => x % 2 === 0))],
  ['an item of an array of objects changed', (d) => void d.rows[1]!.tags.push('b')],
  ['an object in an array replaced', (d) => void (d.rows[0] = { id: 3, tags: [] })],
  ['several changes at once', (d) => {
    d.n = 10;
    d.rows.push({ id: 4, tags: ['c'] });
    d.rows[0]!.tags.pop();
    delete d.map.one;
  }],
];

for (const [what, change] of changes) {
  test(what, () => {
    const before = initial();
    const snapshot = JSON.stringify(before);
    const [expected, patches] = produceWithPatches(before, change);
    const after = applyPatches(before, patches) as State;
    assert.equal(after, JSON.parse(JSON.stringify(expected)));
    assert.is(JSON.stringify(before), snapshot, 'the previous state is left as it was');
    // What the patches did not touch is shared, not copied.
    if (!patches.some((p) => p.path[0] === 'nested')) assert.is(after.nested, before.nested);
    assert.is(after.nested.other, before.nested.other);
  });
}

test('a patch of the whole state replaces it', () => {
  assert.equal(applyPatches({ a: 1 }, [{ op: 'replace', path: [], value: { b: 2 } }]), { b: 2 });
});

test('a path that leads nowhere throws (the page then shows the state as unknown)', () => {
  assert.throws(() => applyPatches({ a: 1 }, [{ op: 'replace', path: ['missing', 'deeper'], value: 1 }]));
  assert.throws(() => applyPatches(undefined, [{ op: 'replace', path: ['n'], value: 1 }]));
});

test.run();

/**
 * The client's send queue on its own: its budget in events and bytes, which events it never
 * drops, and the lost-events notices it ends with.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SendQueue, lostNotice, utf8Bytes } from '../inspector/send-queue.js';

const test = suite('inspector send queue');
const notice = (root: string, count: number) => `lost ${root} ${count}`;

test('within budget it holds everything, in order, and adds no notice', () => {
  const queue = new SendQueue({ maxEvents: 10, maxBytes: 1000 });
  for (let i = 0; i < 5; i++) queue.push(`e${i}`, { type: '@xstate.event', sessionId: 'x:1', rootId: 'x:0' });
  assert.equal(queue.drain(notice), ['e0', 'e1', 'e2', 'e3', 'e4']);
  assert.is(queue.size, 0);
});

test('over its event budget it drops the oldest spare events, never definitions or first snapshots', () => {
  const queue = new SendQueue({ maxEvents: 5, maxBytes: 1_000_000 });
  queue.push('actor-root', { type: '@xstate.actor', sessionId: 'x:0', rootId: 'x:0' });
  queue.push('snap-root-1', { type: '@xstate.snapshot', sessionId: 'x:0', rootId: 'x:0' });
  queue.push('actor-child', { type: '@xstate.actor', sessionId: 'x:1', rootId: 'x:0' });
  for (let i = 0; i < 10; i++) queue.push(`event-${i}`, { type: '@xstate.event', sessionId: 'x:1', rootId: 'x:0' });
  queue.push('snap-child-1', { type: '@xstate.snapshot', sessionId: 'x:1', rootId: 'x:0' });
  queue.push('snap-root-2', { type: '@xstate.snapshot', sessionId: 'x:0', rootId: 'x:0' });
  const out = queue.drain(notice);
  assert.equal(out.slice(0, 4), ['actor-root', 'snap-root-1', 'actor-child', 'snap-child-1']);
  // 15 pushed, the 4 protected ones and the newest kept, 10 counted as lost on run x:0.
  assert.equal(out.slice(4), ['snap-root-2', 'lost x:0 10']);
});

test('when protected events fill the budget, newer spare events are the ones dropped', () => {
  const queue = new SendQueue({ maxEvents: 2, maxBytes: 1_000_000 });
  queue.push('actor', { type: '@xstate.actor', sessionId: 'x:0', rootId: 'x:0' });
  queue.push('first-snapshot', { type: '@xstate.snapshot', sessionId: 'x:0', rootId: 'x:0' });
  queue.push('later', { type: '@xstate.snapshot', sessionId: 'x:0', rootId: 'x:0' });
  queue.push('child', { type: '@xstate.actor', sessionId: 'x:1', rootId: 'x:0' });
  assert.equal(queue.drain(notice), ['actor', 'first-snapshot', 'child', 'lost x:0 1']);
});

test('its byte budget counts UTF-8 bytes', () => {
  assert.is(utf8Bytes('aé€😀'), 1 + 2 + 3 + 4);
  assert.is(utf8Bytes('😀'), Buffer.byteLength('😀'));
  const queue = new SendQueue({ maxEvents: 1000, maxBytes: 10 });
  queue.push('€€€', { type: '@xstate.event', sessionId: 'a' });
  queue.push('€€€', { type: '@xstate.event', sessionId: 'a' });
  assert.equal(queue.drain(notice), ['€€€', 'lost a 1']);
});

test('losses are counted per run, and "anonymous" roots count on the session', () => {
  const queue = new SendQueue({ maxEvents: 1, maxBytes: 1000 });
  queue.push('a1', { type: '@xstate.event', sessionId: 'x:0', rootId: 'x:0' });
  queue.push('b1', { type: '@xstate.event', sessionId: 'x:5', rootId: 'anonymous' });
  queue.push('a2', { type: '@xstate.event', sessionId: 'x:0', rootId: 'x:0' });
  assert.equal(queue.drain(notice), ['a2', 'lost x:0 1', 'lost x:5 1']);
});

test('a lost notice is an @statelyai/inspect event on the run root', () => {
  const parsed = JSON.parse(lostNotice('x:0', 7, 'why'));
  assert.equal(
    { type: parsed.type, sessionId: parsed.sessionId, rootId: parsed.rootId, event: parsed.event },
    { type: '@xstate.event', sessionId: 'x:0', rootId: 'x:0', event: { type: 'junjo.inspector.lost', count: 7, reason: 'why' } },
  );
});

test.run();

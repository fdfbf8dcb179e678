import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import { sleep } from '../src/index.js';
import { activeTimers } from './helpers.js';

const test = suite('sleep');

test('waits at least ms, and removes its abort listener when done', async () => {
  const controller = new AbortController();
  const start = performance.now();
  await sleep(20, controller.signal);
  assert.ok(performance.now() - start >= 19, 'it waited');
  assert.is(getEventListeners(controller.signal, 'abort').length, 0);
});

test('an abort rejects at once with the reason and leaves no timer', async () => {
  const timers = activeTimers();
  const controller = new AbortController();
  const waiting = sleep(60_000, controller.signal);
  assert.is(activeTimers(), timers + 1);
  const reason = new Error('run stopped');
  controller.abort(reason);
  const error = await waiting.then(() => 'resolved', (e: unknown) => e);
  assert.is(error, reason);
  assert.is(activeTimers(), timers);
});

test('an already aborted signal rejects without starting a timer', async () => {
  const timers = activeTimers();
  const error = await sleep(10, AbortSignal.abort('gone')).then(() => 'resolved', (e: unknown) => e);
  assert.is(error, 'gone');
  assert.is(activeTimers(), timers);
});

test.run();

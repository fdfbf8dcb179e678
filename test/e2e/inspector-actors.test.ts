/**
 * A plain XState app in the inspector, in headless Chromium: the order app of
 * examples/app-actors (its root machine spawns one workflow run per order, and forwards a
 * reviewer's approval to the run waiting for it) shows its actor tree — the app, each run under
 * it, each run's store and nodes under that — and picking a child draws that child's own
 * statechart; the sequence view shows the app's `approve` going to run A-2, and each run's store
 * updates coming from the nodes that made them. Screenshots: docs/inspector-actor-tree.png, docs/inspector-sequence.png.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, waitFor as until } from 'xstate';
import type { Browser } from 'playwright-core';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import { inspect } from '../../inspector/client.js';
import { orderApp, runOf } from '../../examples/app-actors/app.js';
import { launchChromium } from '../chromium.js';

const test = suite('inspector actor tree and sequence view');
let server: InspectorServer;
let browser: Browser | null;

test.before(async () => {
  await buildInspectorUi();
  server = await startInspectorServer({ port: 0, historyPath: ':memory:', log: () => {} });
  browser = await launchChromium('inspector actor tree and sequence view');
});

test.after(async () => {
  await browser?.close();
  await server?.close();
});

test("a plain XState app's actor tree, each child's statechart, and the events between actors in order", async () => {
  const inspector = inspect({ url: server.appUrl, log: () => {} });
  const app = createActor(orderApp, { inspect: inspector }).start();
  app.send({ type: 'order.received', order: { orderId: 'A-1', item: 'book', quantity: 3 } });
  app.send({ type: 'order.received', order: { orderId: 'A-2', item: 'desk', quantity: 1 } });
  // The app's own snapshot does not change while a child moves on: wait on the run itself.
  await until(runOf(app.getSnapshot(), 'A-2')!, (s) => s.matches({ Approval: 'waiting' }));
  app.send({ type: 'order.approve', orderId: 'A-2', by: 'dana' });
  const { context } = await until(app, (s) => Object.values(s.context.orders).every((o) => o.status !== 'processing'));
  assert.equal(Object.values(context.orders).map((o) => [o.orderId, o.status]), [['A-1', 'shipped'], ['A-2', 'shipped']]);
  await inspector.stop();
  if (!browser) return;

  const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
  await page.goto(server.url);
  await page.locator('#runs .run', { hasText: 'orderApp' }).first().click();
  const tree = page.locator('#actor-tree');
  await tree.locator('.actor-row[data-actor="orderApp"]').waitFor();
  // The runs are children of the app, and each run's store is a child of its run.
  for (const order of ['A-1', 'A-2']) {
    const run = tree.locator('.actor-node', { has: page.locator(`> .actor-row[data-actor="${order}"]`) });
    await run.locator('> .actor-row[data-status="done"]').waitFor();
    assert.is(await run.locator('> .actor-tree .actor-row[data-actor="store"]').count(), 1, `${order} has its store under it`);
    // Stopped as its run ended, which is not a cancellation.
    assert.is(await run.locator('> .actor-tree .actor-row[data-actor="store"]').getAttribute('data-status'), 'stopped');
  }
  assert.is(await tree.locator('> .actor-node > .actor-tree > .actor-node > .actor-row[data-actor="A-2"]').count(), 1, 'A-2 is a child of the app');

  // Picking a child draws its own statechart.
  await tree.locator('.actor-row[data-actor="A-2"]').click();
  await page.locator('#actor-chart-title', { hasText: 'A-2 · statechart' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#actor-chart [data-node-id]').length > 3);
  assert.ok(await page.locator('#actor-chart [data-node-id]', { hasText: 'Approval' }).count(), "the run's own states");

  // The sequence: the app sent approve to A-2 (XState's own xstate.* events are left out).
  const messages = await page.locator('#sequence .seq-message').evaluateAll((all) =>
    all.map((m) => `${m.getAttribute('data-from')}→${m.getAttribute('data-to')}:${m.getAttribute('data-type')}`),
  );
  const approve = messages.indexOf('orderApp→A-2:approve');
  assert.ok(approve >= 0, messages.join(' '));
  // Each run's store updates come from the node that made them (the page reads the node the
  // update names: XState knows no sender for a call from inside a node's promise); A-2's
  // decision and shipping come after the approval.
  assert.equal(messages.filter((m) => m.endsWith('→store:setTotal')), ['Price→store:setTotal', 'Price→store:setTotal']);
  assert.equal(messages.filter((m) => m.endsWith('→store:finish')).length, 2);
  const decide = messages.indexOf('Approval→store:decide');
  assert.ok(decide > approve && messages.lastIndexOf('Ship→store:finish') > decide, messages.join(' '));
  assert.is(messages.length, 6, messages.join(' '));
  // One lifeline per actor that took part: the app, run A-2, and each run's nodes and store,
  // those of one name told apart by their run.
  const lanes = await page.locator('#sequence .seq-actor').allTextContents();
  assert.equal([...lanes].sort(), ['A-1/Price', 'A-1/Ship', 'A-1/store', 'A-2', 'A-2/Price', 'A-2/Ship', 'A-2/store', 'Approval', 'orderApp'], lanes.join(' '));
  await page.locator('#actors-card').screenshot({ path: 'docs/inspector-actor-tree.png' });
  await page.locator('#sequence-card').screenshot({ path: 'docs/inspector-sequence.png' });
  await page.close();
});

test.run();

/**
 * The inspector's access rules in headless Chromium: a page on another origin can neither
 * frame the UI nor talk to the server (even knowing the token), a tab without the token is
 * told so and sees no runs, and the token leaves the address bar but survives a reload.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { createActor, createMachine } from 'xstate';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import { inspect } from '../../inspector/client.js';
import { ARTIFACTS, launchChromium } from '../chromium.js';

const test = suite('inspector access in a browser');
let server: InspectorServer;
let browser: Browser | null;
let foreign: Server;
let foreignUrl: string;

/** Sends one small run named `id` from a Node app and waits until `page` lists it. */
async function sendRun(page: Page, id: string): Promise<void> {
  const inspector = inspect({ url: server.appUrl, log: () => {} });
  createActor(createMachine({ id, initial: 'a', states: { a: {} } }), { inspect: inspector }).start().stop();
  await inspector.stop();
  await page.locator('.run', { hasText: id }).first().waitFor();
}

test.before(async () => {
  await buildInspectorUi();
  // A history of its own: the tests must not read or fill the user's.
  server = await startInspectorServer({ port: 0, historyPath: ':memory:', log: () => {} });
  browser = await launchChromium('inspector access in a browser');
  // Another local origin: it knows the UI's full URL, token included, and tries everything.
  const ui = new URL(server.url);
  const page = `<!doctype html><title>foreign</title>
<iframe id="frame" src="${server.url}" width="800" height="400"></iframe>
<script>
  window.results = {};
  const attempt = (name, url) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: '@xstate.actor', sessionId: 'x:0', rootId: 'x:0', name: 'fake-run', definition: '{}' }));
      resolve('open');
    };
    ws.onerror = () => resolve('refused');
  }).then((r) => { window.results[name] = r; });
  attempt('app', 'ws://${ui.host}/');
  attempt('ui', 'ws://${ui.host}/ui?token=${server.token}');
  fetch('http://${ui.host}/api/session', { headers: { authorization: 'Bearer ${server.token}' } })
    .then((r) => r.text()).then(() => { window.results.api = 'read'; }, () => { window.results.api = 'refused'; });
</script>`;
  foreign = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  // localhost, not 127.0.0.1: a different origin on the same machine.
  foreignUrl = `http://localhost:${(foreign.address() as AddressInfo).port}/`;
});

test.after(async () => {
  await browser?.close();
  await server?.close();
  await new Promise<void>((resolve) => (foreign ? foreign.close(() => resolve()) : resolve()));
});

test('a page on another origin cannot frame the UI, nor send or read runs, even with the token', async () => {
  const watcher = await browser!.newPage();
  await watcher.goto(server.url);
  await watcher.waitForSelector('#conn[data-state="live"]');

  const page = await browser!.newPage();
  await page.goto(foreignUrl);
  await page.waitForFunction(() => {
    const r = (window as unknown as { results: Record<string, string> }).results;
    return r.app && r.ui && r.api;
  });
  const results = await page.evaluate(() => (window as unknown as { results: Record<string, string> }).results);
  assert.equal(results, { app: 'refused', ui: 'refused', api: 'refused' });
  // The frame was blocked (frame-ancestors 'none'): no inspector document inside it.
  const frame = page.frames().find((f) => f !== page.mainFrame())!;
  assert.ok(frame, 'the iframe exists');
  const framed = await frame.evaluate(() => document.querySelector('#conn') !== null).catch(() => false);
  assert.is(framed, false);
  await page.screenshot({ path: `${ARTIFACTS}/inspector-foreign-frame.png` });

  // A real run arrives after the attempts; the fake one never does.
  await sendRun(watcher, 'real-run');
  assert.is(await watcher.locator('.run', { hasText: 'fake-run' }).count(), 0);
  await Promise.all([page.close(), watcher.close()]);
});

test('a tab without the token is told so and sees no runs; with it, the token leaves the URL and survives a reload', async () => {
  const withToken = await browser!.newPage();
  await withToken.goto(server.url);
  await withToken.waitForSelector('#conn[data-state="live"]');
  await sendRun(withToken, 'secret-run');
  assert.not.match(withToken.url(), /token/);
  await withToken.reload();
  await withToken.waitForSelector('#conn[data-state="live"]');
  await withToken.locator('.run', { hasText: 'secret-run' }).first().waitFor();

  const without = await browser!.newPage();
  await without.goto(`http://127.0.0.1:${server.port}/`);
  await without.waitForSelector('#conn[data-state="denied"]');
  assert.match((await without.locator('#conn').textContent()) ?? '', /open the URL the inspector printed/);
  assert.is(await without.locator('.run').count(), 0);
  await without.screenshot({ path: `${ARTIFACTS}/inspector-no-token.png` });
  await Promise.all([withToken.close(), without.close()]);
});

test.run();

/**
 * The inspector's history in headless Chromium: runs kept in SQLite are there after the
 * server restarts (in the tab left open and in a new one), runs of one workflow are told
 * apart by their run ids, the list can be searched and filtered, a run whose app went away is
 * shown disconnected, and an event filter typed for one run does not carry over to the next.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import { inspect } from '../../inspector/client.js';
import { Edge, Graph, Workflow, defineStore, node, type StoreOf } from '../../src/index.js';
import { ARTIFACTS, launchChromium } from '../chromium.js';

const test = suite('inspector history in a browser');
const historyPath = join(mkdtempSync(join(tmpdir(), 'junjo-inspector-e2e-')), 'history.sqlite');
let server: InspectorServer;
let browser: Browser | null;

const Counter = defineStore({ name: 'Counter', initial: { n: 0 }, actions: { add: (d) => void (d.n += 1) } });
type CounterHandle = StoreOf<typeof Counter>;
const counting = new Workflow({
  name: 'Counting',
  graph: () => {
    const one = node<CounterHandle>('One', (s) => s.add());
    const two = node<CounterHandle>('Two', (s) => s.add());
    return new Graph({ source: one, sinks: [two], edges: [new Edge({ tail: one, head: two })] });
  },
  // The input only labels the run: the list shows a summary of it.
  store: (_input: { label: string }) => Counter.create(),
});

async function runCounting(label: string): Promise<string> {
  const inspector = inspect({ url: server.appUrl, log: () => {} });
  const result = await counting.execute({ label }, { inspect: inspector });
  await inspector.stop();
  return result.runId;
}

/** A plain machine's run whose app leaves before it ends. */
async function abandonedRun(): Promise<void> {
  const ws = new WebSocket(server.appUrl);
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: '@xstate.actor', sessionId: 'x:0', rootId: 'x:0', name: 'Abandoned', definition: '{"id":"Abandoned","initial":"waiting","states":{"waiting":{}}}', _version: 'test' }));
  ws.send(JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:0', rootId: 'x:0', snapshot: { status: 'active', value: 'waiting' }, event: { type: 'xstate.init' }, _version: 'test' }));
  await new Promise((resolve) => {
    ws.once('close', resolve);
    ws.close();
  });
}

async function runsShown(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('#runs .run').length === n, count);
}

test.before(async () => {
  await buildInspectorUi();
  server = await startInspectorServer({ port: 0, historyPath, log: () => {} });
  browser = await launchChromium('inspector history in a browser');
});

test.after(async () => {
  await browser?.close();
  await server?.close();
});

test('runs survive a restart; the list tells runs apart, searches and filters; disconnected runs say so', async () => {
  const page = await browser!.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(server.url);
  await page.waitForSelector('#conn[data-state="live"]');
  const first = await runCounting('first batch');
  const second = await runCounting('second batch');
  assert.is.not(first, second);
  await abandonedRun();
  await runsShown(page, 3);
  await page.locator('.run[data-status="disconnected"]', { hasText: 'Abandoned' }).waitFor();

  // Restart on the same port and file: the open tab reconnects with the token it kept.
  const port = server.port;
  await server.close();
  await page.waitForSelector('#conn[data-state="offline"]');
  server = await startInspectorServer({ port, historyPath, log: () => {} });
  await page.waitForSelector('#conn[data-state="live"]');
  await runsShown(page, 3);
  const fresh = await browser!.newPage({ viewport: { width: 1440, height: 1000 } });
  await fresh.goto(server.url);
  await fresh.waitForSelector('#conn[data-state="live"]');
  await runsShown(fresh, 3);

  // Both Counting runs are listed, each with its own run id.
  const ids = await fresh.locator('.run', { hasText: 'Counting' }).locator('.run-id').allTextContents();
  assert.equal(ids.sort(), [first, second].sort());
  // …and a summary of its input.
  const inputs = await fresh.locator('.run', { hasText: 'Counting' }).locator('.run-input').allTextContents();
  assert.equal(inputs.sort(), ['input {"label":"first batch"}', 'input {"label":"second batch"}']);
  assert.is(await fresh.locator('.run[data-status="disconnected"]', { hasText: 'Abandoned' }).count(), 1);

  await fresh.fill('#run-search', first.slice(0, 12));
  await runsShown(fresh, 1);
  assert.equal(await fresh.locator('.run .run-id').allTextContents(), [first]);
  await fresh.fill('#run-search', 'counting');
  await runsShown(fresh, 2);
  await fresh.fill('#run-search', '');
  await fresh.selectOption('#run-status', 'disconnected');
  await runsShown(fresh, 1);
  assert.match((await fresh.locator('#stats').textContent()) ?? '', /^1 of 3 runs/);
  await fresh.selectOption('#run-status', 'done');
  await runsShown(fresh, 2);
  await fresh.screenshot({ path: `${ARTIFACTS}/inspector-history.png` });

  // An event filter typed for one run is cleared when another is opened.
  const counted = fresh.locator('.run', { hasText: 'Counting' });
  await counted.nth(0).click();
  await fresh.fill('#event-filter', 'no-such-event');
  await fresh.waitForFunction(() => document.querySelectorAll('#events-body tr[data-index]').length === 0);
  await counted.nth(1).click();
  assert.is(await fresh.inputValue('#event-filter'), '');
  await fresh.waitForFunction(() => document.querySelectorAll('#events-body tr[data-index]').length > 0);
  await Promise.all([page.close(), fresh.close()]);
});

test.run();

/**
 * Defects of the inspector UI, each fixed and checked in headless Chromium: a failure shows
 * once in the errors card; a payload longer than a row shows whole when its row is clicked;
 * the page does not scroll itself while a run streams in; and a browser app whose events
 * overflow its budget before the inspector window connects shows the run with its definition
 * (its graph drawn) and a count of the events lost.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildBrowserInspectExample, buildInspectorUi } from '../../inspector/build.mjs';
import { inspect } from '../../inspector/client.js';
import { Edge, Graph, Workflow, defineStore, node, type StoreOf } from '../../src/index.js';
import { ARTIFACTS, launchChromium } from '../chromium.js';

const test = suite('inspector UI defects');
let server: InspectorServer;
let browser: Browser | null;

const LONG = `a note of ${'many words '.repeat(40)}end`;
const Notes = defineStore({
  name: 'Notes',
  initial: { notes: [] as string[] },
  actions: { note: (d, text: string) => void d.notes.push(text) },
});
type Handle = StoreOf<typeof Notes>;
const failing = new Workflow({
  name: 'Failing',
  graph: () => {
    const write = node<Handle>('Write', async (s) => {
      for (let i = 0; i < 30; i++) {
        await s.note(i === 3 ? LONG : `note ${i}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    const boom = node<Handle>('Boom', () => {
      throw new Error('the boom node failed on purpose');
    });
    return new Graph({ source: write, sinks: [boom], edges: [new Edge({ tail: write, head: boom })] });
  },
  store: () => Notes.create(),
});

test.before(async () => {
  await buildInspectorUi();
  server = await startInspectorServer({ port: 0, historyPath: ':memory:', log: () => {} });
  browser = await launchChromium('inspector UI defects');
});

test.after(async () => {
  await browser?.close();
  await server?.close();
});

test('an error shows once, a long payload shows whole on a click, and the page keeps its scroll', async () => {
  if (!browser) return;
  const page = await browser.newPage({ viewport: { width: 1200, height: 500 } });
  page.on('pageerror', (err) => console.error(`inspector page error: ${err.message}`));
  await page.goto(server.url);
  await page.waitForSelector('#conn[data-state="live"]');
  const inspector = inspect({ url: server.appUrl });
  const running = failing.execute(undefined, { inspect: inspector }).then(
    () => undefined,
    (err: Error) => err,
  );
  // While the run streams in, the person scrolls the page down a little; renders must not move it.
  await page.waitForFunction(() => Number(document.querySelector('#timeline-card')?.getAttribute('data-commit-count')) >= 3);
  // The run's pane (<main>) is what scrolls; the window itself is one screen.
  assert.is(await page.evaluate(() => (document.querySelector('main')!.scrollTop = 120, document.querySelector('main')!.scrollTop)), 120);
  const error = await running;
  await inspector.stop();
  assert.match(String(error), /the boom node failed on purpose/);
  await page.locator('.run[data-status="failed"]', { hasText: 'Failing' }).waitFor();
  await page.waitForSelector('#timeline-card[data-commit-count="30"]');
  assert.is(await page.evaluate(() => document.querySelector('main')!.scrollTop), 120);

  // One failure, shown once.
  await page.waitForSelector('#errors .error');
  assert.is(await page.locator('#errors .error').count(), 1);
  assert.match((await page.locator('#errors .error').textContent()) ?? '', /the boom node failed on purpose/);

  // The note event's payload is longer than its row; a click shows all of it.
  await page.fill('#event-filter', 'note');
  const row = page.locator('#events-body tr[data-index]').filter({ hasText: 'many words' });
  await row.first().click();
  await page.waitForSelector('#event-detail:not([hidden])');
  const whole = (await page.locator('#event-detail .event-payload').textContent()) ?? '';
  assert.ok(whole.includes(LONG), 'the whole payload is shown');
  await page.locator('#event-detail').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${ARTIFACTS}/inspector-payload.png` });
  await page.screenshot({ path: 'docs/inspector-payload.png' });
  await page.close();
});

test('a browser app over its budget before the window connects: the run is drawn and says how many events were lost', async () => {
  if (!browser) return;
  await buildBrowserInspectExample();
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const app = await context.newPage();
  app.on('pageerror', (err) => console.error(`browser app page error: ${err.message}`));
  const url = pathToFileURL('examples/browser-inspect/index.html');
  url.searchParams.set('inspector', server.url);
  url.searchParams.set('maxQueuedEvents', '10');
  await app.goto(url.href);
  const [popup] = await Promise.all([context.waitForEvent('page'), app.click('#run')]);
  await app.waitForSelector('#status[data-status="done"]');
  const item = popup.locator('.run').filter({ hasText: /browser:\d+/ });
  await item.first().click();
  await popup.waitForSelector('#run-lost');
  const lost = Number(await popup.locator('#run-lost').getAttribute('data-lost'));
  assert.ok(lost > 0, `${lost} events lost`);
  // Its definition was kept: the workflow's graph is drawn, all five nodes. (Which of the
  // later events survived depends on the budget: the newest spare ones are kept.)
  await popup.waitForFunction(() => document.querySelectorAll('#graph [data-node-id]:not([data-node-id$="$start"])').length === 5);
  assert.is(await popup.locator('#graph-title').textContent(), 'Workflow graph');
  await popup.screenshot({ path: `${ARTIFACTS}/inspector-browser-lost.png` });
  await context.close();
});

test.run();

/**
 * A large RunMap watched in headless Chromium (2,000 items; JUNJO_SCALE_ITEMS sets another
 * size): the page shows the run done with its final store state, the item counts add up (all
 * done), an item can be opened, a middle commit can be stepped to and shows the state as it
 * was then, and the DOM stays bounded (the commit list holds a window, not every row).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser } from 'playwright-core';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import { inspect } from '../../inspector/client.js';
import { Edge, Graph, RunMap, Workflow, defineStore, node, type StoreOf } from '../../src/index.js';
import { ARTIFACTS, launchChromium } from '../chromium.js';

// 2,000 by default: at 10,000 the page still takes minutes to take a run in (see the README);
// JUNJO_SCALE_ITEMS=10000 runs the size the inspector is meant for.
const ITEMS = Number(process.env.JUNJO_SCALE_ITEMS ?? 2_000);
const test = suite(`inspector with a ${ITEMS}-item RunMap`);
let server: InspectorServer;
let browser: Browser | null;

const Tally = defineStore({
  name: 'Tally',
  initial: { n: 0, items: Array.from({ length: ITEMS }, (_, i) => i) },
  actions: { add: (d) => void (d.n += 1) },
});
type Handle = StoreOf<typeof Tally>;
const bigMap = new Workflow({
  name: 'BigMap',
  graph: () => {
    const start = node<Handle>('Start', async () => {});
    const map = new RunMap({ name: 'PerItem', items: (s: { items: number[] }) => s.items, node: (_, i) => node<Handle>(`Each${i}`, (s) => s.add()) });
    return new Graph({ source: start, sinks: [map], edges: [new Edge({ tail: start, head: map })] });
  },
  store: () => Tally.create(),
});

test.before(async () => {
  await buildInspectorUi();
  server = await startInspectorServer({ port: 0, historyPath: ':memory:', log: () => {} });
  browser = await launchChromium(`inspector with a ${ITEMS}-item RunMap`);
});

test.after(async () => {
  await browser?.close();
  await server?.close();
});

test('the final state, the item counts, an item and a middle commit', async () => {
  const page = await browser!.newPage({ viewport: { width: 1440, height: 1400 } });
  page.setDefaultTimeout(180_000);
  page.on('pageerror', (err) => console.error(`inspector page error: ${err.message}`));
  await page.goto(server.url);
  await page.waitForSelector('#conn[data-state="live"]');
  const inspector = inspect({ url: server.appUrl });
  const result = await bigMap.execute(undefined, { inspect: inspector });
  await inspector.stop();
  assert.is(result.state.n, ITEMS);

  await page.locator('.run[data-status="done"]', { hasText: 'BigMap' }).waitFor();
  await page.waitForSelector(`#timeline-card[data-commit-count="${ITEMS}"]`);
  await page.waitForFunction(
    (n) => (document.querySelector('#store-state')?.textContent ?? '').includes(`n: ${n}`) && document.querySelector(`.fan-out[data-done="${n}"]`) !== null,
    ITEMS,
  );
  const counts = await page.locator('.fan-out[data-fan-out="PerItem"]').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
  assert.equal(
    { total: counts.total, done: counts.done, running: counts.running, failed: counts.failed, cancelled: counts.cancelled, waiting: counts.waiting },
    { total: String(ITEMS), done: String(ITEMS), running: '0', failed: '0', cancelled: '0', waiting: '0' },
  );
  // The DOM holds a window of the commits, not all of them.
  assert.ok((await page.locator('#commits li').count()) < 300);

  const item = Math.floor(ITEMS * 0.4321);
  await page.fill('.fan-out[data-fan-out="PerItem"] input', String(item));
  await page.click('.fan-out[data-fan-out="PerItem"] button');
  await page.waitForSelector('#item-title');
  assert.is(await page.locator('#item-title').textContent(), `PerItem[${item}]: done`);
  await page.screenshot({ path: `${ARTIFACTS}/inspector-runmap.png` });

  // Step to the middle: commit k of the run's commits added the k-th item.
  const middle = ITEMS / 2;
  await page.locator('#slider').fill(String(middle));
  await page.waitForSelector(`#store-state[data-position="${middle}"]`);
  assert.match((await page.locator('#store-state').textContent()) ?? '', new RegExp(`n: ${middle}\\b`));
  assert.match((await page.locator('#commit-label').textContent()) ?? '', new RegExp(`^commit ${middle} of ${ITEMS} · add`));
  await page.close();
});

test.run();

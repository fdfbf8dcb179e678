/**
 * A 10,000-item RunMap watched in headless Chromium (JUNJO_SCALE_ITEMS sets another size): the
 * page shows the run done with its final store state and the item counts right, an item can
 * be opened, a middle commit can be stepped to and shows the graph's items, the state and the
 * events as they were then, every event is reachable through the virtualised event list, and
 * the DOM stays bounded. How long the page took to show the end and the long tasks seen while
 * stepping are performance, measured and printed, not asserted (the machine is shared).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import { inspect } from '../../inspector/client.js';
import { Edge, Graph, RunMap, Workflow, defineStore, node, type StoreOf } from '../../src/index.js';
import { ARTIFACTS, launchChromium } from '../chromium.js';

const ITEMS = Number(process.env.JUNJO_SCALE_ITEMS ?? 10_000);
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

/** Long tasks (over 50 ms, as the browser reports them) seen since the page loaded or since `reset`. */
async function longTasks(page: Page, reset = false): Promise<number[]> {
  return page.evaluate((clear) => {
    const w = window as unknown as { longTasks: number[] };
    const seen = [...w.longTasks];
    if (clear) w.longTasks.length = 0;
    return seen;
  }, reset);
}

const domSize = (page: Page) => page.evaluate(() => document.getElementsByTagName('*').length);

test('the final state, the item counts, an item, a middle commit and every event', async () => {
  if (!browser) return;
  const page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
  page.setDefaultTimeout(180_000);
  page.on('pageerror', (err) => console.error(`inspector page error: ${err.message}`));
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longTasks.push(Math.round(entry.duration));
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(server.url);
  await page.waitForSelector('#conn[data-state="live"]');
  const inspector = inspect({ url: server.appUrl });
  const result = await bigMap.execute(undefined, { inspect: inspector });
  const ended = Date.now();
  await inspector.stop();
  assert.is(result.state.n, ITEMS);

  await page.waitForFunction(
    (n) =>
      document.querySelector('.run[data-status="done"]') !== null &&
      document.querySelector(`#timeline-card[data-commit-count="${n}"]`) !== null &&
      (document.querySelector('#store-state')?.textContent ?? '').includes(`n: ${n}`) &&
      document.querySelector(`.fan-out[data-done="${n}"]`) !== null,
    ITEMS,
    { polling: 50 },
  );
  const shownAfter = Date.now() - ended;
  const takingIn = await longTasks(page, true);
  const counts = await page.locator('.fan-out[data-fan-out="PerItem"]').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
  assert.equal(
    { total: counts.total, done: counts.done, running: counts.running, failed: counts.failed, cancelled: counts.cancelled, waiting: counts.waiting },
    { total: String(ITEMS), done: String(ITEMS), running: '0', failed: '0', cancelled: '0', waiting: '0' },
  );
  // Virtualised: a window of commits and of events is in the DOM, not every row.
  assert.ok((await page.locator('#commits li').count()) < 300);
  const events = Number(await page.locator('#events-card').getAttribute('data-event-count'));
  assert.ok(events > 3 * ITEMS, `the run has ${events} events`);
  assert.ok((await page.locator('#events-body tr').count()) < 200);
  assert.ok((await page.locator('#events-body tr[data-index]').count()) > 0);
  const finalDom = await domSize(page);
  assert.ok(finalDom < 4000, `${finalDom} DOM nodes`);

  const item = Math.floor(ITEMS * 0.4321);
  await page.fill('.fan-out[data-fan-out="PerItem"] input', String(item));
  await page.click('.fan-out[data-fan-out="PerItem"] button');
  await page.waitForSelector('#item-title');
  assert.is(await page.locator('#item-title').textContent(), `PerItem[${item}]: done`);
  await page.screenshot({ path: `${ARTIFACTS}/inspector-runmap.png` });

  // Step to the middle: commit k of the run's commits added the k-th item. The item counts
  // are those of that moment: before the fan-out's first report (XState sends it after the
  // items' commits) they are counted from the items started so far: at least k of them, at
  // most k done, each one in exactly one state.
  const middle = ITEMS / 2;
  await page.locator('#slider').fill(String(middle));
  await page.waitForSelector(`#store-state[data-position="${middle}"]`);
  await page.waitForSelector('#main:not([data-as-of="latest"]):not([data-replaying])');
  assert.match((await page.locator('#store-state').textContent()) ?? '', new RegExp(`n: ${middle}\\b`));
  assert.match((await page.locator('#commit-label').textContent()) ?? '', new RegExp(`^commit ${middle} of ${ITEMS} · add`));
  const then = await page.locator('.fan-out[data-fan-out="PerItem"]').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
  assert.ok(Number(then.done) <= middle, `done at commit ${middle}: ${then.done}`);
  assert.ok(Number(then.total) >= middle && Number(then.total) <= ITEMS, `items at commit ${middle}: ${then.total}`);
  assert.is(Number(then.done) + Number(then.running) + Number(then.failed) + Number(then.cancelled) + Number(then.waiting), Number(then.total));
  // The event list as it was then: fewer events than the whole run.
  assert.ok(Number(await page.locator('#events-card').getAttribute('data-event-count')) < events);

  // Step by step with the keyboard, forward and back: each step lands, the DOM stays bounded.
  await longTasks(page, true);
  await page.locator('#commit-label').click();
  for (const [key, at] of [['ArrowRight', middle + 1], ['ArrowRight', middle + 2], ['ArrowLeft', middle + 1], ['ArrowLeft', middle], ['ArrowLeft', middle - 1]] as const) {
    await page.keyboard.press(key);
    await page.waitForSelector(`#store-state[data-position="${at}"]`);
    await page.waitForSelector('#main:not([data-replaying])');
  }
  const stepping = await longTasks(page);
  const steppingDom = await domSize(page);
  assert.ok(steppingDom < 4000, `${steppingDom} DOM nodes while stepping`);
  await page.screenshot({ path: `${ARTIFACTS}/inspector-10k.png` });
  await page.screenshot({ path: 'docs/inspector-10k.png' });

  // Back to the end: the first event of the run is reachable by scrolling the list to the top.
  await page.keyboard.press('End');
  await page.waitForSelector('#main[data-as-of="latest"]');
  await page.locator('#events-scroll').evaluate((el) => (el.scrollTop = 0));
  await page.waitForFunction(() => document.querySelector('#events-body tr[data-index="0"]') !== null);

  console.log(
    `  ${ITEMS} items: the page showed the end ${shownAfter} ms after the run ended; ` +
      `long tasks while taking it in: ${takingIn.length} (worst ${Math.max(0, ...takingIn)} ms); ` +
      `while stepping: ${stepping.length} (worst ${Math.max(0, ...stepping)} ms); DOM ${finalDom} nodes at the end, ${steppingDom} stepping`,
  );
  await page.close();
});

test.run();

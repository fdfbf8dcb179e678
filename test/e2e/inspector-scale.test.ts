/**
 * A 10,000-item RunMap watched in headless Chromium (JUNJO_SCALE_ITEMS sets another size): the
 * page shows the run done with its final store state and the item counts right, an item can
 * be opened, a middle commit can be stepped to and shows the graph's items (each counted in
 * the state its own events gave it by then, checked against the run's own inspection events),
 * the state and the events as they were then (the root machine mid-transition into the RunMap,
 * as XState reports its next state only after the fan-out started every item), every event is
 * reachable through the virtualised event list, and the DOM stays bounded. How long the page
 * took to show the end (split into delivery, until the page's last WebSocket message, and the
 * page's own work after it), how long its main thread was busy until then, and the long tasks
 * seen while stepping are performance, measured and printed, not asserted (the machine is
 * shared). The server runs as users run it, `junjo-inspector` in its own process.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import type { InspectionEvent } from 'xstate';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, type Child } from '../support/processes.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import { inspect } from '../../inspector/client.js';
import { Edge, Graph, RunMap, Workflow, defineStore, node, type StoreOf } from '../../src/index.js';
import { ARTIFACTS, launchChromium } from '../chromium.js';

const ITEMS = Number(process.env.JUNJO_SCALE_ITEMS ?? 10_000);
const test = suite(`inspector with a ${ITEMS}-item RunMap`);
let cli: Child;
/** The CLI's addresses, as it prints them: the page's (with its token) and the apps'. */
const server = { url: '', appUrl: '' };
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
  const history = join(mkdtempSync(join(tmpdir(), 'junjo-scale-')), 'history.sqlite');
  cli = startChild('inspector/cli.ts', ['--port', '0', '--history', history], {}, 600_000);
  server.url = (await cli.line(/open http/)).match(/open (http\S+)/)![1]!;
  server.appUrl = (await cli.line(/apps send events to/)).match(/to (ws:\/\/\S+)/)![1]!;
  browser = await launchChromium(`inspector with a ${ITEMS}-item RunMap`);
});

test.after(async () => {
  await browser?.close();
  cli?.proc.kill('SIGTERM');
  await cli?.exited;
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

type Counts = Record<'total' | 'done' | 'running' | 'failed' | 'cancelled' | 'waiting', number>;

/**
 * The items' counts at the store commit `seq`, from the run's own inspection events: each
 * item started so far in the state its events gave it before that commit (its last snapshot,
 * or its end: its own `xstate.promise.resolve`, or the fan-out's `xstate.done.actor.<item>`,
 * both of which XState sends before the item's last snapshot), the rest waiting.
 */
function countsAtCommit(events: readonly InspectionEvent[], fanOut: string, total: number, seq: number): Counts | undefined {
  const states = new Map<string, keyof Counts>();
  const name = (e: InspectionEvent) => (e.actorRef as { id?: string }).id ?? '';
  const STATE = { active: 'running', done: 'done', error: 'failed', stopped: 'cancelled' } as const;
  for (const e of events) {
    const id = name(e);
    if (id.startsWith(`${fanOut}[`)) {
      if (e.type === '@xstate.actor') states.set(id, 'running');
      else if (e.type === '@xstate.snapshot') states.set(id, STATE[(e.snapshot as { status: keyof typeof STATE }).status]);
      else if (e.type === '@xstate.event' && e.event.type === 'xstate.promise.resolve') states.set(id, 'done');
      else if (e.type === '@xstate.event' && e.event.type === 'xstate.promise.reject') states.set(id, 'failed');
    } else if (id === fanOut && e.type === '@xstate.event' && e.event.type.startsWith(`xstate.done.actor.${fanOut}[`)) {
      states.set(e.event.type.slice('xstate.done.actor.'.length), 'done');
    } else if (e.type === '@xstate.snapshot' && (e.snapshot as { commit?: { seq?: number } | null }).commit?.seq === seq) {
      const counts: Counts = { total, done: 0, running: 0, failed: 0, cancelled: 0, waiting: total - states.size };
      for (const state of states.values()) counts[state]++;
      return counts;
    }
  }
  return undefined;
}

/**
 * The run's root machine at the store commit `seq`, from its own inspection events: the state
 * it last reported, and the event it received since, if any (it is then mid-transition).
 */
function rootAtCommit(events: readonly InspectionEvent[], seq: number): { value: unknown; since: string | undefined } | undefined {
  let value: unknown;
  let since: string | undefined;
  for (const e of events) {
    const isRoot = e.actorRef.sessionId === e.rootId;
    if (isRoot && e.type === '@xstate.snapshot') [value, since] = [(e.snapshot as { value?: unknown }).value, undefined];
    else if (isRoot && e.type === '@xstate.event') since = e.event.type;
    else if (e.type === '@xstate.snapshot' && (e.snapshot as { commit?: { seq?: number } | null }).commit?.seq === seq) return { value, since };
  }
  return undefined;
}

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
  // When the page's main thread took in its last WebSocket message (Chromium reports it as it
  // dispatches the message): what is left after it is the page's own work.
  const cdp = await page.context().newCDPSession(page);
  const messages: number[] = [];
  cdp.on('Network.webSocketFrameReceived', () => messages.push(Date.now()));
  await cdp.send('Network.enable');
  await page.goto(server.url);
  await page.waitForSelector('#conn[data-state="live"]');
  // How long the page's main thread was busy (its tasks, of which script and layout) from the
  // run's start until it showed the end: the page is idle while the run itself runs.
  await cdp.send('Performance.enable');
  const metrics = async () => new Map((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const before = await metrics();
  const inspector = inspect({ url: server.appUrl });
  // The run's own inspection events, as XState reports them, to check the page's counts against.
  const seen: InspectionEvent[] = [];
  const result = await bigMap.execute(undefined, { inspect: { next: (e: InspectionEvent) => (seen.push(e), inspector.next(e)) } });
  const ended = Date.now();
  await inspector.stop();
  assert.is(result.state.n, ITEMS);

  const shown = await page.waitForFunction(
    (n) =>
      document.querySelector('.run[data-status="done"]') !== null &&
      document.querySelector(`#timeline-card[data-commit-count="${n}"]`) !== null &&
      (document.querySelector('#store-state')?.textContent ?? '').includes(`n: ${n}`) &&
      document.querySelector(`.fan-out[data-done="${n}"]`) !== null &&
      Date.now(),
    ITEMS,
    { polling: 50 },
  );
  const shownAt = (await shown.jsonValue()) as number;
  const after = await metrics();
  const busy = (name: string) => Math.round(1000 * ((after.get(name) ?? 0) - (before.get(name) ?? 0)));
  const shownAfter = shownAt - ended;
  // The last message before the end showed (the server may send more after it: the app's disconnect).
  const lastMessage = Math.max(...messages.filter((t) => t <= shownAt));
  const pageSide = shownAt - lastMessage;
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
  // The root's state at the end, as it reported it, no transition in progress.
  assert.is(await page.locator('#state-value').textContent(), '"$done"');
  assert.is(await page.locator('#state-card').getAttribute('data-transition'), null);
  const finalDom = await domSize(page);
  assert.ok(finalDom < 4000, `${finalDom} DOM nodes`);

  const item = Math.floor(ITEMS * 0.4321);
  await page.fill('.fan-out[data-fan-out="PerItem"] input', String(item));
  await page.click('.fan-out[data-fan-out="PerItem"] button');
  await page.waitForSelector('#item-title');
  assert.is(await page.locator('#item-title').textContent(), `PerItem[${item}]: done`);
  await page.screenshot({ path: `${ARTIFACTS}/inspector-runmap.png` });

  // Step to the middle: commit k of the run's commits added the k-th item. The item counts
  // are those of that moment, each item in the state its own events gave it by then (XState
  // sends the fan-out's own counters only after its items' commits), the rest waiting.
  const middle = ITEMS / 2;
  await page.locator('#slider').fill(String(middle));
  await page.waitForSelector(`#store-state[data-position="${middle}"]`);
  await page.waitForSelector('#main:not([data-as-of="latest"]):not([data-replaying])');
  assert.match((await page.locator('#store-state').textContent()) ?? '', new RegExp(`n: ${middle}\\b`));
  assert.match((await page.locator('#commit-label').textContent()) ?? '', new RegExp(`^commit ${middle} of ${ITEMS} · add`));
  const then = await page.locator('.fan-out[data-fan-out="PerItem"]').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
  const expected = countsAtCommit(seen, 'PerItem', ITEMS, middle);
  assert.ok(expected, `the run's events have a store commit ${middle}`);
  assert.equal(
    { total: Number(then.total), done: Number(then.done), running: Number(then.running), failed: Number(then.failed), cancelled: Number(then.cancelled), waiting: Number(then.waiting) },
    expected,
  );
  // Waiting items are the ones not started by then, not zero.
  assert.ok(expected!.waiting > 0 && expected!.done < middle, `at commit ${middle}: ${JSON.stringify(expected)}`);
  // The root reports its next state only after the fan-out started every item, so at this
  // commit it is mid-transition: the State card says so, on which event, and that it is
  // entering PerItem (whose fan-out has started), instead of claiming it is still in Start.
  const root = rootAtCommit(seen, middle);
  assert.equal(root, { value: 'Start', since: 'xstate.done.actor.Start' });
  assert.is(await page.locator('#state-card').getAttribute('data-transition'), root!.since);
  assert.is(await page.locator('#state-tree li.active').count(), 0, 'no state is claimed active');
  assert.equal(await page.locator('#state-tree li.entering > .state-name').allTextContents(), ['PerItem']);
  assert.is(await page.locator('#state-tree li.reported > .state-name').textContent(), 'Start');
  assert.is(await page.locator('#state-value').textContent(), '"Start" → PerItem');
  // The event list as it was then: fewer events than the whole run.
  assert.ok(Number(await page.locator('#events-card').getAttribute('data-event-count')) < events);

  // Step by step with the keyboard, forward and back, then jump with the slider far back and
  // far forward: each step lands, the DOM stays bounded.
  await longTasks(page, true);
  await page.locator('#commit-label').click();
  for (const [key, at] of [['ArrowRight', middle + 1], ['ArrowRight', middle + 2], ['ArrowLeft', middle + 1], ['ArrowLeft', middle], ['ArrowLeft', middle - 1]] as const) {
    await page.keyboard.press(key);
    await page.waitForSelector(`#store-state[data-position="${at}"]`);
    await page.waitForSelector('#main:not([data-replaying])');
  }
  for (const at of [Math.floor(ITEMS * 0.01), Math.floor(ITEMS * 0.9), Math.floor(ITEMS * 0.25), middle - 1]) {
    await page.locator('#slider').fill(String(at));
    await page.waitForSelector(`#store-state[data-position="${at}"]`);
    await page.waitForSelector('#main:not([data-replaying])');
  }
  const thenAgain = await page.locator('.fan-out[data-fan-out="PerItem"]').evaluate((el) => Number((el as HTMLElement).dataset.waiting));
  assert.is(thenAgain, countsAtCommit(seen, 'PerItem', ITEMS, middle - 1)!.waiting);
  // The selected commit is scrolled into view in its list (the page itself does not scroll).
  await page.waitForFunction(() => {
    const list = document.querySelector('#commits')!.getBoundingClientRect();
    const selected = document.querySelector('#commits .selected')?.getBoundingClientRect();
    return selected !== undefined && selected.top >= list.top - 1 && selected.bottom <= list.bottom + 1;
  });
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
    `  ${ITEMS} items: the page showed the end ${shownAfter} ms after the run ended (its last message came ${lastMessage - ended} ms after the end, ` +
      `the page's own work after it ${pageSide} ms); ` +
      `its main thread busy ${busy('TaskDuration')} ms until then (script ${busy('ScriptDuration')}, layout ${busy('LayoutDuration')}, style ${busy('RecalcStyleDuration')}); ` +
      `long tasks while taking it in: ${takingIn.length} (worst ${Math.max(0, ...takingIn)} ms); ` +
      `while stepping: ${stepping.length} (worst ${Math.max(0, ...stepping)} ms); DOM ${finalDom} nodes at the end, ${steppingDom} stepping`,
  );
  await page.close();
});

test.run();

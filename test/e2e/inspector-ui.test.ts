/**
 * The inspector end to end in headless Chromium: the flagship example run with `--inspect`
 * shows in the UI with every node done and its whole store timeline, stepping back shows the
 * earlier state, and a workflow run inside a browser page (createBrowserInspector) shows up
 * too. Screenshots go to test/artifacts/.
 *
 * Needs Debian's chromium at /usr/bin/chromium; without it these tests fail under CI and are
 * skipped (with a line saying so) elsewhere.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildBrowserInspectExample, buildInspectorUi } from '../../inspector/build.mjs';
import { inspect } from '../../inspector/client.js';
import { Edge, Graph, RunConcurrent, RunMap, Workflow, defineStore, node, type StoreOf } from '../../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = `${root}test/artifacts`;
const run = promisify(execFile);
const test = suite('inspector in a browser');

let server: InspectorServer;
let browser: Browser;

test.before(async () => {
  mkdirSync(artifacts, { recursive: true });
  // The UI under test is the one in this checkout, not an older build left in dist/.
  await buildInspectorUi();
  // A history of its own: the tests must not read or fill the user's.
  server = await startInspectorServer({ port: 0, historyPath: ':memory:', log: () => {} });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

test.after(async () => {
  await browser?.close();
  await server?.close();
});

async function openUi(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
  page.on('pageerror', (err) => console.error(`inspector page error: ${err.message}`));
  await page.goto(server.url);
  await page.waitForSelector('#conn[data-state="live"]');
  return page;
}

test('the flagship run shows every node done, each commit, and earlier states', async () => {
  const page = await openUi();
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'examples/record-workout-activity/main.ts', '--inspect'],
    { cwd: root, env: { ...process.env, JUNJO_INSPECTOR_URL: server.appUrl } },
  );
  // The run's own account of its commits: the example prints one `state` line per commit.
  const commits = stdout.split('\n').filter((line) => /^\s*\d+ ms\s+state\s/.test(line));
  assert.ok(commits.length > 0, stdout);

  const runItem = page.locator('.run[data-status="done"]').filter({ hasText: 'RecordWorkoutActivity' });
  await runItem.first().waitFor();
  await runItem.first().click();

  const nodes = page.locator('#graph [data-node-id]:not([data-node-id$="$start"])');
  await page.waitForFunction(
    () => {
      const all = Array.from(document.querySelectorAll('#graph [data-node-id]:not([data-node-id$="$start"])'));
      return all.length > 0 && all.every((n) => n.getAttribute('data-status') === 'done');
    },
  );
  const ids = await nodes.evaluateAll((all) => all.map((n) => `${n.getAttribute('data-node-id')}=${n.getAttribute('data-status')}`));
  assert.equal(ids.sort(), [
    'ActivityQuerySplitter=done',
    'CountActivities=done',
    'DetermineWhen=done',
    'Final=done',
    'Initial Analysis=done',
  ]);
  for (const label of ['IsMultipleActivities']) assert.ok(await page.locator('#graph .edge-label', { hasText: label }).count());

  const card = page.locator('#timeline-card');
  assert.is(await card.getAttribute('data-commit-count'), String(commits.length));
  assert.is(await page.locator('#commits .commit[data-seq]').count(), commits.length);
  assert.match((await page.locator('#store-state').textContent()) ?? '', /summary: "Recorded 3 activities/);
  // The diff shows what the last commit replaced, not only what it wrote.
  const summaryPatch = page.locator('#patch .patch-op', { hasText: 'summary' });
  assert.is(await summaryPatch.locator('.old-value').textContent(), 'null');
  assert.match((await summaryPatch.locator('.value').textContent()) ?? '', /^"Recorded 3 activities/);
  assert.match((await page.locator('#store-state [data-changed="replace"] .j-was').textContent()) ?? '', /^was null$/);
  await page.screenshot({ path: `${artifacts}/inspector-flagship.png` });

  // One step back: the last commit (the summary) is undone, the one before it is marked.
  await page.locator('body').click({ position: { x: 5, y: 300 } });
  await page.keyboard.press('ArrowLeft');
  await page.waitForSelector(`#store-state[data-position="${commits.length - 1}"]`);
  const earlier = (await page.locator('#store-state').textContent()) ?? '';
  assert.match(earlier, /summary: null/);
  assert.match(earlier, /"log activity: yoga"/);
  assert.is(await page.locator('#store-state [data-changed]').count(), 1);
  assert.match((await page.locator('#commit-label').textContent()) ?? '', new RegExp(`commit ${commits.length - 1} of ${commits.length} · addQuery from ActivityQuerySplitter`));
  // The graph shows that moment too: the splitter was still running, Final had not started.
  const statusOf = (id: string) => page.locator(`#graph [data-node-id="${id}"]`).getAttribute('data-status');
  await page.waitForSelector('#graph [data-node-id="ActivityQuerySplitter"][data-status="running"]');
  assert.is(await statusOf('Final'), 'pending');
  assert.is(await statusOf('CountActivities'), 'done');

  // All the way back: the state the run started with.
  await page.keyboard.press('Home');
  await page.waitForSelector('#store-state[data-position="0"]');
  assert.match((await page.locator('#store-state').textContent()) ?? '', /activityCount: null/);
  await page.waitForSelector('#graph [data-node-id="ActivityQuerySplitter"][data-status="pending"]');
  assert.is(await statusOf('Final'), 'pending');
  // Back at the end, the graph shows the end again.
  await page.keyboard.press('End');
  await page.waitForSelector('#graph [data-node-id="Final"][data-status="done"]');
  await page.keyboard.press('Home');
  await page.waitForSelector('#store-state[data-position="0"]');
  await page.screenshot({ path: `${artifacts}/inspector-flagship-stepped-back.png` });
  await page.close();
});

test('a wide RunConcurrent and a RunMap (fan-out actors) show every item done', async () => {
  const page = await openUi();
  const Tally = defineStore({ name: 'Tally', initial: { n: 0, items: [1, 2, 3] }, actions: { add: (d) => void (d.n += 1) } });
  type TallyHandle = StoreOf<typeof Tally>;
  const wide = new Workflow({
    name: 'WideFanOut',
    graph: () => {
      const group = new RunConcurrent({
        name: 'Wide',
        items: Array.from({ length: 20 }, (_, i) => node<TallyHandle>(`Item${i}`, (s) => s.add())),
      });
      const map = new RunMap({ name: 'PerItem', items: (s: { items: number[] }) => s.items, node: (_, i) => node<TallyHandle>(`Each${i}`, (s) => s.add()) });
      return new Graph({ source: group, sinks: [map], edges: [new Edge({ tail: group, head: map })] });
    },
    store: () => Tally.create(),
  });
  const inspector = inspect({ url: server.appUrl });
  const result = await wide.execute(undefined, { inspect: inspector });
  await inspector.stop();
  assert.is(result.state.n, 23);

  const runItem = page.locator('.run[data-status="done"]').filter({ hasText: 'WideFanOut' });
  await runItem.first().waitFor();
  await runItem.first().click();
  await page.waitForFunction(() => {
    const all = Array.from(document.querySelectorAll('#graph [data-node-id]:not([data-node-id$="$start"])'));
    return all.length === 22 && all.every((n) => n.getAttribute('data-status') === 'done');
  });
  await page.screenshot({ path: `${artifacts}/inspector-fan-out.png`, fullPage: true });
  await page.close();
});

test('a workflow run in a browser page with createBrowserInspector shows up in the UI', async () => {
  await buildBrowserInspectExample();
  const watcher = await openUi();
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const app = await context.newPage();
  app.on('pageerror', (err) => console.error(`browser app page error: ${err.message}`));
  const page = pathToFileURL(`${root}examples/browser-inspect/index.html`);
  page.searchParams.set('inspector', server.url);
  await app.goto(page.href);
  const [popup] = await Promise.all([context.waitForEvent('page'), app.click('#run')]);
  await app.waitForSelector('#status[data-status="done"]');
  assert.match((await app.locator('#status').textContent()) ?? '', /Recorded 3 activities/);

  // The window the app opened shows the run, and so does a tab that was already open.
  await popup.setViewportSize({ width: 1440, height: 1500 });
  for (const ui of [popup, watcher]) {
    const item = ui.locator('.run[data-status="done"]').filter({ hasText: /browser:\d+/ });
    await item.first().waitFor();
    await item.first().click();
    await ui.waitForFunction(() => {
      const all = Array.from(document.querySelectorAll('#graph [data-node-id]:not([data-node-id$="$start"])'));
      return all.length === 5 && all.every((n) => n.getAttribute('data-status') === 'done');
    });
  }
  await popup.screenshot({ path: `${artifacts}/inspector-browser-app.png` });
  await context.close();
  await watcher.close();
});

if (existsSync(CHROMIUM)) {
  test.run();
} else if (process.env.CI) {
  const missing = suite('inspector in a browser');
  missing('chromium is installed', () => {
    assert.unreachable(`${CHROMIUM} is missing: CI must install it (apt-get install -y chromium)`);
  });
  missing.run();
} else {
  console.log(`skipping the inspector's browser tests: ${CHROMIUM} not found (apt-get install -y chromium)`);
}

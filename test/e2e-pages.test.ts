/**
 * End to end in headless Chromium: the browser example and the React example run their
 * workflows to the final state on screen (the React one after its Approve button is clicked),
 * and the core's browser bundle from build.mjs loads in a page as an ES module.
 * Screenshots go to test/artifacts/.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { servePage, type ServedPage } from '../examples/shared/serve-page.js';
import { ARTIFACTS, launchChromium } from './chromium.js';

const test = suite('example pages in Chromium');
const exampleDir = (name: string) => fileURLToPath(new URL(`../examples/${name}/`, import.meta.url));
let browser: Browser | null = null;
const servers: ServedPage[] = [];

test.before(async () => {
  browser = await launchChromium('example pages in Chromium');
});
test.after(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** Opens `url` in a new page that fails the test on any page error or failed request. */
async function open(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  await page.goto(url);
  return { page, problems };
}

const statuses = (page: Page) =>
  page.$$eval('#nodes li', (items) => Object.fromEntries(items.map((li) => [li.getAttribute('data-node'), li.getAttribute('data-status')])));

test('examples/browser runs record-workout-activity to its final state on screen', async () => {
  if (!browser) return;
  const served = await servePage({ dir: exampleDir('browser'), entry: 'main.ts' });
  servers.push(served);
  const { page, problems } = await open(served.url);
  assert.equal(await statuses(page), {
    'Initial Analysis': 'pending', CountActivities: 'pending', DetermineWhen: 'pending', ActivityQuerySplitter: 'pending', Final: 'pending',
  });
  await page.fill('#message', 'Rode 20k and swam 1k yesterday');
  await page.click('#run');
  await page.waitForSelector('body[data-run-status="done"]', { timeout: 15_000 });
  await page.screenshot({ path: `${ARTIFACTS}/browser-example.png`, fullPage: true });
  assert.is(await page.textContent('#summary'), 'Recorded 2 activities for yesterday (2 queries)');
  assert.equal(await statuses(page), {
    'Initial Analysis': 'done', CountActivities: 'done', DetermineWhen: 'done', ActivityQuerySplitter: 'done', Final: 'done',
  });
  const state = JSON.parse((await page.textContent('#state'))!);
  assert.equal(state.queries, ['log activity: Rode 20k', 'log activity: swam 1k yesterday']);
  // The page rendered the run as it went: each node's start and end, each commit, in order.
  const timeline = await page.$$eval('#timeline li', (items) => items.map((li) => li.textContent!.replace(/^\s*\d+ ms/, '')));
  const at = (line: string) => timeline.indexOf(line);
  const order = [
    'workflow RecordWorkoutActivity: started',
    'node CountActivities: started',
    'store: setActivityCount from CountActivities',
    'node CountActivities: completed',
    'runConcurrent Initial Analysis: completed',
    'node ActivityQuerySplitter: started',
    'store: addQuery from ActivityQuerySplitter',
    'node ActivityQuerySplitter: completed',
    'node Final: started',
    'store: setSummary from Final',
    'node Final: completed',
    'workflow RecordWorkoutActivity: completed',
  ];
  const seen = order.map(at);
  assert.ok(seen.every((i, n) => i >= 0 && (n === 0 || i > seen[n - 1]!)), `timeline in order:\n${timeline.join('\n')}`);
  assert.equal(problems, []);
  await page.close();
});

test('examples/react: the run waits at Approval; clicking Approve finishes it', async () => {
  if (!browser) return;
  const served = await servePage({ dir: exampleDir('react'), entry: 'main.tsx' });
  servers.push(served);
  const { page, problems } = await open(served.url);
  await page.selectOption('#item', 'chair');
  await page.fill('#quantity', '2');
  await page.click('#run');
  await page.waitForSelector('#approve', { timeout: 15_000 });
  assert.equal(await statuses(page), { Price: 'done', Approval: 'waiting', Ship: 'pending', Reject: 'pending' });
  assert.is(await page.textContent('#run-status'), 'waiting for review');
  await page.screenshot({ path: `${ARTIFACTS}/react-example-waiting.png`, fullPage: true });

  await page.fill('#reviewer', 'robin');
  await page.click('#approve');
  await page.waitForSelector('[data-run-status="done"]', { timeout: 15_000 });
  await page.screenshot({ path: `${ARTIFACTS}/react-example-done.png`, fullPage: true });
  assert.is(await page.textContent('#summary'), 'Order shipped (reviewed by robin): total 170');
  assert.equal(await statuses(page), { Price: 'done', Approval: 'done', Ship: 'done', Reject: 'skipped' });
  assert.is(await page.$('#approve'), null, 'the review buttons are gone');
  assert.equal(JSON.parse((await page.textContent('#state'))!).decision, 'approved');
  assert.equal(problems, []);
  await page.close();
});

test('the core browser bundle from build.mjs loads as an ES module and runs a workflow', async () => {
  if (!browser) return;
  if (!existsSync('dist/browser/junjo-xstate.min.js')) execFileSync(process.execPath, ['build.mjs'], { stdio: 'ignore' });
  const served = await servePage({
    dir: exampleDir('browser'),
    entry: 'main.ts',
    folders: { '/dist/': 'dist', '/xstate/': 'node_modules/xstate/dist', '/immer/': 'node_modules/immer/dist' },
  });
  servers.push(served);
  const { page, problems } = await open(served.url);
  // A blank page on the same origin, whose import map points the bundle's bare imports at the
  // app's own xstate and immer: the bundle leaves them out.
  await page.route('**/core.html', (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><script type="importmap">{"imports":{"xstate":"/xstate/xstate.esm.js","immer":"/immer/immer.production.mjs"}}</script>`,
    }),
  );
  await page.goto(`${served.url}core.html`);
  // A string, not a function: it runs in the page exactly as written.
  const result = await page.evaluate(`(async () => {
    const { Edge, Graph, Workflow, defineStore, node } = await import('/dist/browser/junjo-xstate.min.js');
    const Store = defineStore({ name: 'S', initial: { n: 1 }, actions: { double: (d) => { d.n *= 2; } } });
    const workflow = new Workflow({
      name: 'InPage',
      graph: () => {
        const a = node('A', (s) => s.double());
        const b = node('B', (s) => s.double());
        return new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: b })] });
      },
      store: () => Store.create(),
    });
    const { state, executionCounts } = await workflow.execute();
    return { state, executionCounts };
  })()`);
  assert.equal(result, { state: { n: 4 }, executionCounts: { A: 1, B: 1 } });
  assert.equal(problems, []);
  await page.close();
});

test.run();
